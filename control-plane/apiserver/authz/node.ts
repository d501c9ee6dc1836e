/**
 * The Node authorizer (upstream's `--authorization-mode Node`): what a kubelet, authenticated as
 * `system:node:<name>` in group `system:nodes`, may do.
 *
 * - Secrets and ConfigMaps: only `get` (or a list/watch narrowed to one name) of those a pod bound to
 *   that node refers to (volumes, projected sources, env, envFrom, imagePullSecrets). The pod graph
 *   below follows every pod's spec.nodeName and references.
 * - Leases: only its own heartbeat Lease in `kube-node-lease`.
 * - serviceaccounts/token: create, for the service accounts its pods run as.
 * - Everything else: the fixed rules of upstream's `system:node` role (NodeRules), plus those of
 *   `system:node-proxier`, because knode's kube-proxy runs inside the agent with the node's identity.
 *   Which Node or Pod a kubelet may write is NodeRestriction's business (admission.ts), as upstream.
 *
 * Anything else gets "no opinion", so RBAC may still grant it.
 */
import type { UserInfo } from '../auth/types.js';
import type { MirrorConsumer } from './store-mirror.js';
import { ruleAllows } from './rules.js';
import { allow, noOpinion } from './types.js';
import type { Attributes, Authorizer, Decision, Rule } from './types.js';

export const NODES_GROUP = 'system:nodes';
export const NODE_USER_PREFIX = 'system:node:';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node a user is, if it is one (`system:node:<name>` in `system:nodes`). */
export function nodeNameOf(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP) || !user.name.startsWith(NODE_USER_PREFIX)) return undefined;
  const name = user.name.slice(NODE_USER_PREFIX.length);
  return name !== '' ? name : undefined;
}

/** What every node may do regardless of the graph (upstream NodeRules + node-proxier's rules). */
export const NODE_RULES: readonly Rule[] = [
  { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'] },
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews', 'localsubjectaccessreviews'] },
  { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['services'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes/status'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['nodes'] },
  { verbs: ['create', 'update', 'patch'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] },
  { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['create', 'delete'], apiGroups: [''], resources: ['pods'] },
  { verbs: ['update', 'patch'], apiGroups: [''], resources: ['pods/status'] },
  { verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] },
  { verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] },
  // system:node-proxier: kube-proxy inside the agent
  { verbs: ['list', 'watch'], apiGroups: [''], resources: ['endpoints'] },
  { verbs: ['list', 'watch'], apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
];

/** Graph-checked kinds: resource -> the reference kind pods name. */
const GRAPH_RESOURCES: Readonly<Record<string, 'secret' | 'configmap'>> = { secrets: 'secret', configmaps: 'configmap' };

interface PodLike {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly spec?: {
    readonly nodeName?: string;
    readonly volumes?: readonly VolumeLike[];
    readonly containers?: readonly ContainerLike[];
    readonly initContainers?: readonly ContainerLike[];
    readonly ephemeralContainers?: readonly ContainerLike[];
    readonly imagePullSecrets?: readonly { readonly name?: string }[];
    readonly serviceAccountName?: string;
  };
}
interface Named {
  readonly name?: string;
}
interface VolumeLike {
  readonly secret?: { readonly secretName?: string };
  readonly configMap?: Named;
  readonly projected?: { readonly sources?: readonly { readonly secret?: Named; readonly configMap?: Named }[] };
}
interface ContainerLike {
  readonly env?: readonly { readonly valueFrom?: { readonly secretKeyRef?: Named; readonly configMapKeyRef?: Named } }[];
  readonly envFrom?: readonly { readonly secretRef?: Named; readonly configMapRef?: Named }[];
}

/** `secret:<ns>/<name>`, `configmap:<ns>/<name>` and `serviceaccount:<ns>/<name>` for everything `pod` refers to. */
export function podReferences(pod: PodLike): string[] {
  const ns = pod.metadata?.namespace ?? '';
  const refs = new Set<string>();
  const add = (kind: 'secret' | 'configmap' | 'serviceaccount', name: string | undefined): void => {
    if (name !== undefined && name !== '') refs.add(`${kind}:${ns}/${name}`);
  };
  const spec = pod.spec ?? {};
  for (const v of spec.volumes ?? []) {
    add('secret', v.secret?.secretName);
    add('configmap', v.configMap?.name);
    for (const s of v.projected?.sources ?? []) {
      add('secret', s.secret?.name);
      add('configmap', s.configMap?.name);
    }
  }
  for (const c of [...(spec.containers ?? []), ...(spec.initContainers ?? []), ...(spec.ephemeralContainers ?? [])]) {
    for (const e of c.env ?? []) {
      add('secret', e.valueFrom?.secretKeyRef?.name);
      add('configmap', e.valueFrom?.configMapKeyRef?.name);
    }
    for (const f of c.envFrom ?? []) {
      add('secret', f.secretRef?.name);
      add('configmap', f.configMapRef?.name);
    }
  }
  for (const s of spec.imagePullSecrets ?? []) add('secret', s.name);
  // a mirror pod (a kubelet's static pod) gets no token: it gives its node no service account
  if (pod.metadata?.annotations?.['kubernetes.io/config.mirror'] === undefined) add('serviceaccount', spec.serviceAccountName || 'default');
  return [...refs];
}

/** Where pods are stored (resource-table.ts storagePrefixFor). */
export const POD_PREFIX = '/registry/pods/';

interface PodEntry {
  readonly node: string;
  readonly refs: readonly string[];
}

/**
 * Which node each pod is bound to and what it refers to, kept per node as reference counts. Fed by a
 * StoreMirror of /registry/pods/; each change costs O(references of that pod).
 */
export class PodGraph implements MirrorConsumer<PodLike> {
  private readonly pods = new Map<string, PodEntry>();
  private readonly byNode = new Map<string, Map<string, number>>();

  reset(): void {
    this.pods.clear();
    this.byNode.clear();
  }

  apply(key: string, value: PodLike | undefined): void {
    this.remove(key);
    if (value === undefined) return;
    const node = value.spec?.nodeName ?? '';
    const entry: PodEntry = { node, refs: node !== '' ? podReferences(value) : [] };
    this.pods.set(key, entry);
    if (node === '') return;
    let counts = this.byNode.get(node);
    if (counts === undefined) this.byNode.set(node, (counts = new Map()));
    for (const r of entry.refs) counts.set(r, (counts.get(r) ?? 0) + 1);
  }

  /** The node pod `namespace/name` is bound to ('' when unbound or unknown). */
  nodeOfPod(namespace: string, name: string): string {
    return this.pods.get(`${POD_PREFIX}${namespace}/${name}`)?.node ?? '';
  }

  /** True when some pod bound to `node` refers to `ref` (`secret:<ns>/<name>`). */
  references(node: string, ref: string): boolean {
    return (this.byNode.get(node)?.get(ref) ?? 0) > 0;
  }

  private remove(key: string): void {
    const old = this.pods.get(key);
    if (old === undefined) return;
    this.pods.delete(key);
    const counts = this.byNode.get(old.node);
    if (counts === undefined) return;
    for (const r of old.refs) {
      const n = (counts.get(r) ?? 0) - 1;
      if (n > 0) counts.set(r, n);
      else counts.delete(r);
    }
    if (counts.size === 0) this.byNode.delete(old.node);
  }
}

export class NodeAuthorizer implements Authorizer {
  constructor(private readonly graph: PodGraph) {}

  authorize(attrs: Attributes): Decision {
    const node = nodeNameOf(attrs.user);
    if (node === undefined) return noOpinion();
    if (!attrs.resourceRequest) return noOpinion();
    const graphKind = attrs.apiGroup === '' && attrs.subresource === '' ? GRAPH_RESOURCES[attrs.resource] : undefined;
    if (graphKind !== undefined) {
      const reading = attrs.verb === 'get' || attrs.verb === 'list' || attrs.verb === 'watch';
      if (!reading || attrs.name === '') return noOpinion(`node '${node}' can only get individual ${attrs.resource}`);
      if (this.graph.references(node, `${graphKind}:${attrs.namespace}/${attrs.name}`)) return allow('');
      return noOpinion(`no relationship found between node '${node}' and this object`);
    }
    if (attrs.apiGroup === '' && attrs.resource === 'serviceaccounts' && attrs.subresource === 'token') {
      // tokens for the service accounts its pods run as (which pod: the token request handler checks)
      if (attrs.verb === 'create' && this.graph.references(node, `serviceaccount:${attrs.namespace}/${attrs.name}`)) return allow('');
      return noOpinion(`no relationship found between node '${node}' and this object`);
    }
    if (attrs.apiGroup === 'coordination.k8s.io' && attrs.resource === 'leases') {
      const verbs = ['get', 'create', 'update', 'patch', 'delete'];
      const own = attrs.namespace === NODE_LEASE_NAMESPACE && (attrs.name === node || (attrs.verb === 'create' && attrs.name === ''));
      if (own && attrs.subresource === '' && verbs.includes(attrs.verb)) return allow('');
      return noOpinion(`node '${node}' can only access its own lease in ${NODE_LEASE_NAMESPACE}`);
    }
    if (NODE_RULES.some((r) => ruleAllows(attrs, r))) return allow('');
    return noOpinion();
  }
}
