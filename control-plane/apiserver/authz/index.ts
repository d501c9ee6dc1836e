/**
 * The authorizer chain of `knode server --authorization-mode` (default `Node,RBAC`, kubeadm's):
 * the members of group system:masters may do anything (upstream's privileged group, so the admin
 * kubeconfig works even with the default policy deleted); then each mode in order; the first allow or
 * deny decides; when every mode has no opinion the request is refused.
 */
import type { Clock } from '../../../lib/clock.js';
import type { Store } from '../../storage/store.js';
import type { UserInfo } from '../auth/types.js';
import { GROUP_MASTERS } from '../auth/types.js';
import { storagePrefixFor } from '../resource-table.js';
import { NodeAuthorizer, PodGraph } from './node.js';
import { RBAC_GROUP, RbacAuthorizer } from './rbac.js';
import { StoreMirror } from './store-mirror.js';
import type { MirrorLog } from './store-mirror.js';
import { allow, deny, noOpinion } from './types.js';
import type { Attributes, Authorizer, Decision, RuleList, RuleResolver } from './types.js';

export type AuthorizationMode = 'AlwaysAllow' | 'AlwaysDeny' | 'Node' | 'RBAC';
export const AUTHORIZATION_MODES: readonly AuthorizationMode[] = ['AlwaysAllow', 'AlwaysDeny', 'Node', 'RBAC'];
export const DEFAULT_AUTHORIZATION_MODES: readonly AuthorizationMode[] = ['Node', 'RBAC'];

/** `Node,RBAC` -> modes; a clear error for an unknown, empty or repeated one. */
export function parseAuthorizationModes(text: string): AuthorizationMode[] {
  const parts = text.split(',').map((s) => s.trim());
  const out: AuthorizationMode[] = [];
  for (const p of parts) {
    const mode = AUTHORIZATION_MODES.find((m) => m === p);
    if (mode === undefined) {
      throw new Error(`unknown authorization mode ${JSON.stringify(p)} in ${JSON.stringify(text)}; known: ${AUTHORIZATION_MODES.join(', ')}`);
    }
    if (out.includes(mode)) throw new Error(`authorization mode ${mode} is listed twice in ${JSON.stringify(text)}`);
    out.push(mode);
  }
  return out;
}

const EVERYTHING: RuleList = {
  resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
  nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
  incomplete: false,
};

const alwaysAllow: Authorizer = { authorize: () => allow('') };
const alwaysDeny: Authorizer = { authorize: () => deny('Everything is forbidden.') };

export class AuthorizerChain implements Authorizer, RuleResolver {
  constructor(
    readonly modes: readonly AuthorizationMode[],
    private readonly members: readonly Authorizer[],
    readonly rbac?: RbacAuthorizer,
  ) {}

  authorize(attrs: Attributes): Decision {
    if (attrs.user.groups.includes(GROUP_MASTERS)) return allow('');
    const reasons: string[] = [];
    for (const a of this.members) {
      const d = a.authorize(attrs);
      if (d.verdict !== 'no-opinion') return d;
      if (d.reason !== '') reasons.push(d.reason);
    }
    return noOpinion(reasons.join(', '));
  }

  allowed(attrs: Attributes): boolean {
    return this.authorize(attrs).verdict === 'allow';
  }

  rulesFor(user: UserInfo, namespace: string): RuleList {
    if (user.groups.includes(GROUP_MASTERS)) return EVERYTHING;
    const lists: RuleList[] = [];
    let incomplete = false;
    const errors: string[] = [];
    for (const mode of this.modes) {
      if (mode === 'AlwaysAllow') return EVERYTHING;
      if (mode === 'AlwaysDeny') break;
      if (mode === 'RBAC' && this.rbac !== undefined) lists.push(this.rbac.rulesFor(user, namespace));
      if (mode === 'Node' && user.groups.includes('system:nodes')) {
        incomplete = true;
        errors.push('the Node authorizer grants access by relationships between objects, which rules cannot list');
      }
    }
    return {
      resourceRules: lists.flatMap((l) => l.resourceRules),
      nonResourceRules: lists.flatMap((l) => l.nonResourceRules),
      incomplete,
      ...(errors.length > 0 ? { evaluationError: errors.join('; ') } : {}),
    };
  }
}

/** The chain of `--authorization-mode AlwaysAllow` (an ApiServer built without an authorizer). */
export function alwaysAllowChain(): AuthorizerChain {
  return new AuthorizerChain(['AlwaysAllow'], [alwaysAllow]);
}

export interface AuthorizationDeps {
  readonly store: Store;
  readonly clock: Clock;
  readonly log: MirrorLog;
}

/** The chain for `modes`, with its caches listed (resolves once every cache holds the store's state). */
export async function startAuthorization(modes: readonly AuthorizationMode[], deps: AuthorizationDeps, signal: AbortSignal): Promise<AuthorizerChain> {
  const members: Authorizer[] = [];
  const starts: Promise<void>[] = [];
  let rbac: RbacAuthorizer | undefined;
  const mirror = <T>(prefix: string, consumer: ConstructorParameters<typeof StoreMirror<T>>[2]): void => {
    starts.push(new StoreMirror<T>(deps.store, prefix, consumer, deps).start(signal));
  };
  for (const mode of modes) {
    switch (mode) {
      case 'AlwaysAllow':
        members.push(alwaysAllow);
        break;
      case 'AlwaysDeny':
        members.push(alwaysDeny);
        break;
      case 'Node': {
        const graph = new PodGraph();
        mirror(storagePrefixFor({ group: '', plural: 'pods' }), graph);
        members.push(new NodeAuthorizer(graph));
        break;
      }
      case 'RBAC': {
        const r = new RbacAuthorizer();
        mirror(storagePrefixFor({ group: RBAC_GROUP, plural: 'roles' }), r.roles);
        mirror(storagePrefixFor({ group: RBAC_GROUP, plural: 'clusterroles' }), r.clusterRoles);
        mirror(storagePrefixFor({ group: RBAC_GROUP, plural: 'rolebindings' }), r.roleBindings);
        mirror(storagePrefixFor({ group: RBAC_GROUP, plural: 'clusterrolebindings' }), r.clusterRoleBindings);
        members.push(r);
        rbac = r;
        break;
      }
    }
  }
  await Promise.all(starts);
  return new AuthorizerChain(modes, members, rbac);
}
