/**
 * Two admission plugins that need to know who writes:
 *
 * NodeRestriction (upstream's plugin of that name): a kubelet (`system:node:<name>`) may
 *   - create only mirror pods (annotation kubernetes.io/config.mirror) bound to itself, referring to
 *     no Secret, ConfigMap, persistent volume claim or service account token,
 *   - update the status of, delete or evict only pods bound to itself,
 *   - create, update or delete only its own Node, never changing its taints after registration nor
 *     setting node-restriction.kubernetes.io/ or node-role.kubernetes.io/ labels.
 *
 * RBAC escalation prevention (upstream's rbac registry): writing a Role or ClusterRole needs every
 * permission it grants, or the `escalate` verb on it; writing a binding needs every permission of
 * the role it binds (in the binding's namespace), or the `bind` verb on that role. Writes by the
 * control plane itself (no user) and by system:masters are not checked.
 */
import type { KubeObject } from '../../../api/meta.js';
import { deepEqual } from '../../../lib/json.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';
import { forbidden } from '../errors.js';
import type { UserInfo } from '../auth/types.js';
import { GROUP_MASTERS } from '../auth/types.js';
import { NODE_LEASE_NAMESPACE, nodeNameOf, podReferences } from './node.js';
import type { AuthorizerChain } from './index.js';
import type { RbacAuthorizer } from './rbac.js';
import { RBAC_GROUP } from './rbac.js';
import { formatRule, uncoveredRules } from './rules.js';
import type { Attributes, Rule } from './types.js';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

interface PodShape {
  readonly metadata: KubeObject['metadata'];
  readonly spec?: { readonly nodeName?: string };
}

export class NodeRestriction implements AdmissionPlugin {
  readonly name = 'NodeRestriction';

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    const node = nodeOf(ctx);
    if (node === undefined) return undefined;
    const resource = resourceOf(ctx);
    if (resource === 'pods') {
      const pod = obj as PodShape;
      if (pod.metadata.annotations?.[MIRROR_ANNOTATION] === undefined) {
        throw forbidden(`pod does not have "${MIRROR_ANNOTATION}" annotation, node "${node}" can only create mirror pods`);
      }
      if (pod.spec?.nodeName !== node) throw forbidden(`node "${node}" can only create pods with spec.nodeName set to itself`);
      // as upstream: a mirror pod may not reach objects through the Node authorizer's graph
      const refs = podReferences(obj as Parameters<typeof podReferences>[0]).filter((r) => !r.startsWith('serviceaccount:'));
      if (refs.length > 0) throw forbidden(`node "${node}" can not create pods that reference secrets or configmaps (${refs.map((r) => r.replace(':', ' ')).join(', ')})`);
      if ((pod.spec as { volumes?: ReadonlyArray<{ persistentVolumeClaim?: unknown; projected?: { sources?: ReadonlyArray<{ serviceAccountToken?: unknown }> } }> } | undefined)?.volumes?.some((v) => v.persistentVolumeClaim !== undefined || (v.projected?.sources ?? []).some((src) => src.serviceAccountToken !== undefined))) {
        throw forbidden(`node "${node}" can not create pods that use persistent volume claims or service account tokens`);
      }
    }
    if (resource === 'nodes') {
      if (obj.metadata.name !== node) throw forbidden(`node "${node}" is not allowed to modify node "${obj.metadata.name ?? ''}"`);
      const bad = restrictedLabels(obj, undefined);
      if (bad.length > 0) throw forbidden(`node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
    }
    checkLease(ctx, node, obj);
    return undefined;
  }

  async admitUpdate(ctx: AdmissionContext, obj: KubeObject, old: KubeObject): Promise<AdmitResult | undefined> {
    const node = nodeOf(ctx);
    if (node === undefined) return undefined;
    const resource = resourceOf(ctx);
    if (resource === 'pods' && (old as PodShape).spec?.nodeName !== node) {
      throw forbidden(`node "${node}" can only update pod status for pods with spec.nodeName set to itself`);
    }
    if (resource === 'nodes') {
      if (old.metadata.name !== node) throw forbidden(`node "${node}" is not allowed to modify node "${old.metadata.name ?? ''}"`);
      const bad = restrictedLabels(obj, old);
      if (bad.length > 0) throw forbidden(`node "${node}" is not allowed to modify labels: ${bad.join(', ')}`);
      if (!deepEqual((obj as NodeShape).spec?.taints ?? [], (old as NodeShape).spec?.taints ?? [])) throw forbidden(`node "${node}" is not allowed to modify taints`);
    }
    checkLease(ctx, node, old);
    return undefined;
  }

  async admitDelete(ctx: AdmissionContext, obj: KubeObject): Promise<void> {
    const node = nodeOf(ctx);
    if (node === undefined) return;
    const resource = resourceOf(ctx);
    if (resource === 'pods' && (obj as PodShape).spec?.nodeName !== node) throw forbidden(`node "${node}" can only delete pods with spec.nodeName set to itself`);
    if (resource === 'nodes' && obj.metadata.name !== node) throw forbidden(`node "${node}" is not allowed to modify node "${obj.metadata.name ?? ''}"`);
  }
}

interface NodeShape {
  readonly spec?: { readonly taints?: readonly unknown[] };
}

/** Label prefixes only an administrator may set on a Node (upstream: isolation labels and roles). */
const RESTRICTED_LABEL_PREFIXES = ['node-restriction.kubernetes.io/', 'node-role.kubernetes.io/'];

/** Restricted labels that `obj` adds or changes compared with `old`. */
function restrictedLabels(obj: KubeObject, old: KubeObject | undefined): string[] {
  const before = old?.metadata.labels ?? {};
  return Object.entries(obj.metadata.labels ?? {})
    .filter(([k, v]) => RESTRICTED_LABEL_PREFIXES.some((p) => k.startsWith(p)) && before[k] !== v)
    .map(([k]) => k)
    .sort();
}

/** A node's heartbeat Lease is its own (the authorizer checks the name it asked for; a create names it only in the body). */
function checkLease(ctx: AdmissionContext, node: string, obj: KubeObject): void {
  if (ctx.entry.def.group !== 'coordination.k8s.io' || ctx.entry.def.plural !== 'leases') return;
  if (obj.metadata.name !== node || obj.metadata.namespace !== NODE_LEASE_NAMESPACE) {
    throw forbidden(`node "${node}" can only access node lease with the same name as the requesting node`);
  }
}

function nodeOf(ctx: AdmissionContext): string | undefined {
  return ctx.user !== undefined ? nodeNameOf({ name: ctx.user.name, groups: ctx.user.groups }) : undefined;
}

function resourceOf(ctx: AdmissionContext): string {
  return ctx.entry.def.group === '' ? ctx.entry.def.plural : '';
}

interface RoleShape {
  readonly metadata: KubeObject['metadata'];
  readonly rules?: readonly Rule[];
  readonly aggregationRule?: unknown;
}

const FULL_AUTHORITY: readonly Rule[] = [
  { verbs: ['*'], apiGroups: ['*'], resources: ['*'] },
  { verbs: ['*'], nonResourceURLs: ['*'] },
];
interface BindingShape {
  readonly metadata: KubeObject['metadata'];
  readonly roleRef?: { readonly kind?: string; readonly name?: string };
}

const ROLE_PLURALS = new Set(['roles', 'clusterroles']);
const BINDING_PLURALS = new Set(['rolebindings', 'clusterrolebindings']);

export class RbacEscalationCheck implements AdmissionPlugin {
  readonly name = 'RBACEscalation';

  /** `chain()` is undefined until the authorizers started, and when RBAC is not among the modes. */
  constructor(private readonly chain: () => AuthorizerChain | undefined, private readonly rbac: () => RbacAuthorizer | undefined) {}

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    this.check(ctx, obj);
    return undefined;
  }

  async admitUpdate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    this.check(ctx, obj);
    return undefined;
  }

  private check(ctx: AdmissionContext, obj: KubeObject): void {
    const def = ctx.entry.def;
    if (def.group !== RBAC_GROUP || ctx.user === undefined) return;
    const user: UserInfo = { name: ctx.user.name, groups: ctx.user.groups };
    if (user.groups.includes(GROUP_MASTERS)) return;
    const chain = this.chain();
    const rbac = this.rbac();
    if (chain === undefined || rbac === undefined) return;
    const namespace = def.namespaced ? (obj.metadata.namespace ?? '') : '';
    const name = obj.metadata.name ?? '';
    const label = `${def.plural}.${RBAC_GROUP} "${name}"`;
    if (ROLE_PLURALS.has(def.plural)) {
      if (chain.allowed(attrs(user, 'escalate', def.plural, namespace, name))) return;
      const held = chain.rulesFor(user, namespace);
      // an aggregationRule can pull in any ClusterRole's rules: setting one needs full authority (as upstream)
      const wanted = (obj as RoleShape).aggregationRule !== undefined ? FULL_AUTHORITY : ((obj as RoleShape).rules ?? []);
      const missing = uncoveredRules([...held.resourceRules, ...held.nonResourceRules], wanted);
      if (missing.length > 0) throw forbidden(escalationMessage(label, user, missing));
      return;
    }
    if (!BINDING_PLURALS.has(def.plural)) return;
    const ref = (obj as BindingShape).roleRef ?? {};
    const refPlural = ref.kind === 'Role' ? 'roles' : 'clusterroles';
    if (chain.allowed(attrs(user, 'bind', refPlural, namespace, ref.name ?? ''))) return;
    const roleRules = rbac.roleRulesOf(ref.kind ?? '', namespace, ref.name ?? '');
    if (roleRules === undefined) {
      throw forbidden(`${label} is forbidden: user "${user.name}" cannot bind ${ref.kind ?? ''} "${ref.name ?? ''}": it does not exist, and binding it needs the bind verb on it`);
    }
    const held = chain.rulesFor(user, namespace);
    const missing = uncoveredRules([...held.resourceRules, ...held.nonResourceRules], roleRules);
    if (missing.length > 0) throw forbidden(escalationMessage(label, user, missing));
  }
}

function attrs(user: UserInfo, verb: string, resource: string, namespace: string, name: string): Attributes {
  return { user, verb, resourceRequest: true, apiGroup: RBAC_GROUP, resource, subresource: '', namespace, name, path: '' };
}

function escalationMessage(label: string, user: UserInfo, missing: readonly Rule[]): string {
  const groups = user.groups.map((g) => JSON.stringify(g)).join(' ');
  return `${label} is forbidden: user "${user.name}" (groups=[${groups}]) is attempting to grant RBAC permissions not currently held:\n${missing.map(formatRule).join('\n')}`;
}
