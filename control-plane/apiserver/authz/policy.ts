/**
 * The default RBAC policy a fresh cluster starts with, and its reconciliation at every control-plane
 * start (upstream's bootstrap policy, the part a knode cluster uses):
 *
 *   cluster-admin        everything; bound to group system:masters (the admin kubeconfig's group)
 *   admin / edit / view  the user-facing roles, for RoleBindings in a namespace; aggregated (as
 *                        upstream) from system:aggregate-to-admin / -edit / -view and any ClusterRole
 *                        labelled rbac.authorization.k8s.io/aggregate-to-<role>: "true"
 *                        (controllers/clusterrole-aggregation.ts)
 *   system:discovery     discovery and OpenAPI paths, for every authenticated user
 *   system:public-info-viewer  /healthz /livez /readyz /version, for everyone (anonymous too)
 *   system:basic-user    the self reviews (`kubectl auth whoami`, `kubectl auth can-i`)
 *   system:monitoring    /metrics and the health paths, for group system:monitoring
 *   system:node-bootstrapper  node CSRs, for bootstrap tokens' default group
 *   ...:nodeclient / ...:selfnodeclient  auto-approval of kubelet client certificates (the CSR
 *                        approver asks), for that group and for system:nodes (kubeadm's bindings)
 *   system:node, system:node-proxier  the node's and kube-proxy's rules (not bound: the Node
 *                        authorizer grants them to nodes; bind them to your own kube-proxy identity)
 *   kube-public Role kubeadm:bootstrap-signer-clusterinfo  read cluster-info, for bootstrap tokens and anonymous
 *
 * Objects carry `rbac.authorization.kubernetes.io/autoupdate: "true"`. At start, a missing object is
 * created; an existing one with autoupdate not "false" gets the rules (or subjects) it lacks added,
 * and keeps what a user added. Setting the annotation to "false" leaves an object alone.
 */
import type { KubeObject } from '../../../api/meta.js';
import { ApiError } from '../errors.js';
import type { Registry } from '../registry.js';
import type { ResourceIndex } from '../resource-table.js';
import { DEFAULT_NODE_TOKEN_GROUP } from '../auth/bootstrap-token.js';
import { NODE_RULES } from './node.js';
import { uncoveredRules } from './rules.js';
import { RBAC_GROUP } from './rbac.js';
import type { Rule } from './types.js';
import type { SubjectRef } from './rules.js';

export const AUTOUPDATE_ANNOTATION = 'rbac.authorization.kubernetes.io/autoupdate';
const BOOTSTRAP_LABELS = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };

export const AGGREGATE_TO_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
export const AGGREGATE_TO_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
export const AGGREGATE_TO_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'patch', 'update'];

/** What `view` may read: no Secrets, no roles (as upstream). */
const VIEW_RULES: readonly Rule[] = [
  {
    verbs: READ,
    apiGroups: [''],
    resources: [
      'configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'pods/log', 'pods/status',
      'replicationcontrollers', 'replicationcontrollers/scale', 'replicationcontrollers/status', 'serviceaccounts', 'services',
      'services/status', 'bindings', 'events', 'limitranges', 'namespaces', 'namespaces/status', 'resourcequotas', 'resourcequotas/status',
    ],
  },
  {
    verbs: READ,
    apiGroups: ['apps'],
    resources: [
      'controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status',
      'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status',
    ],
  },
  { verbs: READ, apiGroups: ['batch'], resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'] },
  { verbs: READ, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
  { verbs: READ, apiGroups: ['events.k8s.io'], resources: ['events'] },
  { verbs: READ, apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { verbs: READ, apiGroups: ['policy'], resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'] },
];

/** What `edit` adds to `view`. */
const EDIT_RULES: readonly Rule[] = [
  { verbs: ['impersonate'], apiGroups: [''], resources: ['serviceaccounts'] },
  { verbs: ['create', 'delete', 'deletecollection', 'patch', 'update', 'get', 'list', 'watch'], apiGroups: [''], resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'] },
  { verbs: ['create'], apiGroups: [''], resources: ['pods/eviction'] },
  {
    verbs: [...WRITE, ...READ],
    apiGroups: [''],
    resources: ['configmaps', 'endpoints', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'],
  },
  { verbs: ['create'], apiGroups: [''], resources: ['serviceaccounts/token'] },
  {
    verbs: WRITE,
    apiGroups: ['apps'],
    resources: ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'],
  },
  { verbs: WRITE, apiGroups: ['batch'], resources: ['cronjobs', 'jobs'] },
  { verbs: WRITE, apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
  { verbs: WRITE, apiGroups: ['coordination.k8s.io'], resources: ['leases'] },
  { verbs: WRITE, apiGroups: ['policy'], resources: ['poddisruptionbudgets'] },
];

/** What `admin` adds to `edit`. */
const ADMIN_RULES: readonly Rule[] = [
  { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'] },
  { verbs: [...WRITE, ...READ], apiGroups: [RBAC_GROUP], resources: ['rolebindings', 'roles'] },
];

const DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'];
const PUBLIC_INFO_URLS = ['/healthz', '/livez', '/readyz', '/version', '/version/'];

interface RoleSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly rules: readonly Rule[];
  readonly labels?: Readonly<Record<string, string>>;
  /** Aggregated from the ClusterRoles carrying this label with value "true". */
  readonly aggregateLabel?: string;
}
interface BindingSpec {
  readonly name: string;
  readonly namespace?: string;
  readonly role: { readonly kind: 'ClusterRole' | 'Role'; readonly name: string };
  readonly subjects: readonly SubjectRef[];
}

const group = (name: string): SubjectRef & { apiGroup: string } => ({ kind: 'Group', apiGroup: RBAC_GROUP, name });
const user = (name: string): SubjectRef & { apiGroup: string } => ({ kind: 'User', apiGroup: RBAC_GROUP, name });

export const DEFAULT_CLUSTER_ROLES: readonly RoleSpec[] = [
  { name: 'cluster-admin', rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }, { verbs: ['*'], nonResourceURLs: ['*'] }] },
  { name: 'admin', rules: [], aggregateLabel: AGGREGATE_TO_ADMIN },
  { name: 'edit', rules: [], aggregateLabel: AGGREGATE_TO_EDIT, labels: { [AGGREGATE_TO_ADMIN]: 'true' } },
  { name: 'view', rules: [], aggregateLabel: AGGREGATE_TO_VIEW, labels: { [AGGREGATE_TO_EDIT]: 'true' } },
  { name: 'system:aggregate-to-admin', rules: ADMIN_RULES, labels: { [AGGREGATE_TO_ADMIN]: 'true' } },
  { name: 'system:aggregate-to-edit', rules: EDIT_RULES, labels: { [AGGREGATE_TO_EDIT]: 'true' } },
  { name: 'system:aggregate-to-view', rules: VIEW_RULES, labels: { [AGGREGATE_TO_VIEW]: 'true' } },
  { name: 'system:discovery', rules: [{ verbs: ['get'], nonResourceURLs: DISCOVERY_URLS }] },
  { name: 'system:public-info-viewer', rules: [{ verbs: ['get'], nonResourceURLs: PUBLIC_INFO_URLS }] },
  {
    name: 'system:basic-user',
    rules: [
      { verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] },
      { verbs: ['create'], apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'] },
    ],
  },
  { name: 'system:monitoring', rules: [{ verbs: ['get'], nonResourceURLs: ['/healthz', '/healthz/*', '/livez', '/livez/*', '/readyz', '/readyz/*', '/metrics'] }] },
  { name: 'system:node-bootstrapper', rules: [{ verbs: ['create', 'get', 'list', 'watch'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'] }] },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient',
    rules: [{ verbs: ['create'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/nodeclient'] }],
  },
  {
    name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient',
    rules: [{ verbs: ['create'], apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests/selfnodeclient'] }],
  },
  { name: 'system:node', rules: NODE_RULES },
  {
    name: 'system:node-proxier',
    rules: [
      { verbs: ['list', 'watch'], apiGroups: [''], resources: ['endpoints', 'services'] },
      { verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['nodes'] },
      { verbs: ['create', 'patch', 'update'], apiGroups: ['', 'events.k8s.io'], resources: ['events'] },
      { verbs: ['list', 'watch'], apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] },
    ],
  },
];

export const DEFAULT_CLUSTER_ROLE_BINDINGS: readonly BindingSpec[] = [
  { name: 'cluster-admin', role: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [group('system:masters')] },
  { name: 'system:discovery', role: { kind: 'ClusterRole', name: 'system:discovery' }, subjects: [group('system:authenticated')] },
  { name: 'system:public-info-viewer', role: { kind: 'ClusterRole', name: 'system:public-info-viewer' }, subjects: [group('system:authenticated'), group('system:unauthenticated')] },
  { name: 'system:basic-user', role: { kind: 'ClusterRole', name: 'system:basic-user' }, subjects: [group('system:authenticated')] },
  { name: 'system:monitoring', role: { kind: 'ClusterRole', name: 'system:monitoring' }, subjects: [group('system:monitoring')] },
  { name: 'kubeadm:kubelet-bootstrap', role: { kind: 'ClusterRole', name: 'system:node-bootstrapper' }, subjects: [group(DEFAULT_NODE_TOKEN_GROUP)] },
  // the CSR approver asks these before approving a kubelet client certificate (kubeadm's bindings)
  {
    name: 'kubeadm:node-autoapprove-bootstrap',
    role: { kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:nodeclient' },
    subjects: [group(DEFAULT_NODE_TOKEN_GROUP)],
  },
  {
    name: 'kubeadm:node-autoapprove-certificate-rotation',
    role: { kind: 'ClusterRole', name: 'system:certificates.k8s.io:certificatesigningrequests:selfnodeclient' },
    subjects: [group('system:nodes')],
  },
];

export const CLUSTER_INFO_ROLE = 'kubeadm:bootstrap-signer-clusterinfo';
export const DEFAULT_ROLES: readonly RoleSpec[] = [
  { name: CLUSTER_INFO_ROLE, namespace: 'kube-public', rules: [{ verbs: ['get'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['cluster-info'] }] },
];
export const DEFAULT_ROLE_BINDINGS: readonly BindingSpec[] = [
  // kubeadm binds it to system:anonymous (token discovery reads cluster-info before it has credentials)
  { name: CLUSTER_INFO_ROLE, namespace: 'kube-public', role: { kind: 'Role', name: CLUSTER_INFO_ROLE }, subjects: [group('system:bootstrappers'), user('system:anonymous')] },
];

function meta(name: string, namespace: string | undefined, labels: Readonly<Record<string, string>> = {}): KubeObject['metadata'] {
  return { name, ...(namespace !== undefined ? { namespace } : {}), labels: { ...BOOTSTRAP_LABELS, ...labels }, annotations: { [AUTOUPDATE_ANNOTATION]: 'true' } };
}

function roleObject(kind: 'ClusterRole' | 'Role', r: RoleSpec): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind,
    metadata: meta(r.name, r.namespace, r.labels),
    rules: r.rules.map((x) => ({ ...x })),
    ...(r.aggregateLabel !== undefined ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [r.aggregateLabel]: 'true' } }] } } : {}),
  } as KubeObject;
}

function bindingObject(kind: 'ClusterRoleBinding' | 'RoleBinding', b: BindingSpec): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind,
    metadata: meta(b.name, b.namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: b.role.kind, name: b.role.name },
    subjects: b.subjects.map((s) => ({ ...s })),
  } as KubeObject;
}

/** The default policy as objects, each with its resource's plural: roles first, then bindings. */
export function defaultPolicyObjects(): Array<[plural: 'clusterroles' | 'roles' | 'clusterrolebindings' | 'rolebindings', obj: KubeObject]> {
  return [
    ...DEFAULT_CLUSTER_ROLES.map((r): ['clusterroles', KubeObject] => ['clusterroles', roleObject('ClusterRole', r)]),
    ...DEFAULT_ROLES.map((r): ['roles', KubeObject] => ['roles', roleObject('Role', r)]),
    ...DEFAULT_CLUSTER_ROLE_BINDINGS.map((b): ['clusterrolebindings', KubeObject] => ['clusterrolebindings', bindingObject('ClusterRoleBinding', b)]),
    ...DEFAULT_ROLE_BINDINGS.map((b): ['rolebindings', KubeObject] => ['rolebindings', bindingObject('RoleBinding', b)]),
  ];
}

export interface PolicyLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

/** What reconciliation did, for the log and the tests. */
export interface PolicyAction {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
  readonly action: 'created' | 'updated';
}

/** Creates the default policy where missing, adds what autoupdate objects lack. */
export async function reconcileDefaultPolicy(registry: Registry, index: ResourceIndex, log: PolicyLog): Promise<PolicyAction[]> {
  const entryOf = (plural: string): NonNullable<ReturnType<ResourceIndex['find']>> => {
    const e = index.find(RBAC_GROUP, 'v1', plural);
    if (e === undefined) throw new Error(`${plural}.${RBAC_GROUP} are not served`);
    return e;
  };
  const actions: PolicyAction[] = [];
  for (const [plural, desired] of defaultPolicyObjects()) {
    const e = entryOf(plural);
    const ns = desired.metadata.namespace;
    const name = desired.metadata.name ?? '';
    const where = { kind: desired.kind ?? '', name, ...(ns !== undefined ? { namespace: ns } : {}) };
    let current: KubeObject | undefined;
    try {
      current = await registry.get(e, ns, name);
    } catch (err) {
      if (!(err instanceof ApiError && err.httpCode === 404)) throw err;
    }
    if (current === undefined) {
      await registry.create(e, ns, desired, { trusted: true });
      actions.push({ ...where, action: 'created' });
      continue;
    }
    if (current.metadata.annotations?.[AUTOUPDATE_ANNOTATION] === 'false') continue;
    const merged = plural.endsWith('bindings') ? mergeBinding(current, desired, log) : mergeRole(current, desired);
    if (merged === undefined) continue;
    const { [LABELS]: labels, ...fields } = merged;
    await registry.update(
      e,
      ns,
      name,
      (cur) => ({ ...cur, ...fields, ...(labels !== undefined ? { metadata: { ...cur.metadata, labels: { ...cur.metadata.labels, ...(labels as Record<string, string>) } } } : {}) }),
      { trusted: true },
    );
    actions.push({ ...where, action: 'updated' });
  }
  for (const a of actions) log.info(a, `default RBAC policy: ${a.action}`);
  return actions;
}

/** The key under which mergeRole hands over labels to add (not a field of the object). */
const LABELS = ' labels';

/**
 * What to store when `current` lacks some of `desired`: missing labels, rules (added; a user's extra
 * rules stay) or, for an aggregated role, its aggregationRule (its rules are the aggregation
 * controller's). Undefined when nothing is missing.
 */
function mergeRole(current: KubeObject, desired: KubeObject): Record<string, unknown> | undefined {
  const patch: Record<string, unknown> = {};
  const labels = current.metadata.labels ?? {};
  const wantLabels = desired.metadata.labels ?? {};
  if (Object.entries(wantLabels).some(([k, v]) => labels[k] !== v)) patch[LABELS] = wantLabels;
  const aggregation = (desired as { aggregationRule?: unknown }).aggregationRule;
  if (aggregation !== undefined) {
    if ((current as { aggregationRule?: unknown }).aggregationRule === undefined) patch['aggregationRule'] = aggregation;
  } else {
    const have = ((current as { rules?: Rule[] }).rules ?? []) as Rule[];
    const missing = uncoveredRules(have, ((desired as { rules?: Rule[] }).rules ?? []) as Rule[]);
    if (missing.length > 0) patch['rules'] = [...have, ...missing];
  }
  return Object.keys(patch).length > 0 ? patch : undefined;
}

function mergeBinding(current: KubeObject, desired: KubeObject, log: PolicyLog): Record<string, unknown> | undefined {
  const cur = current as unknown as { roleRef?: { kind?: string; name?: string }; subjects?: SubjectRef[] };
  const want = desired as unknown as { roleRef: { kind: string; name: string }; subjects: SubjectRef[] };
  if (cur.roleRef?.kind !== want.roleRef.kind || cur.roleRef?.name !== want.roleRef.name) {
    log.warn({ kind: desired.kind, name: desired.metadata.name, roleRef: cur.roleRef }, 'default RBAC binding points at another role; left as it is');
    return undefined;
  }
  const have = cur.subjects ?? [];
  const missing = want.subjects.filter((s) => !have.some((h) => h.kind === s.kind && h.name === s.name && (h.namespace ?? '') === (s.namespace ?? '')));
  if (missing.length === 0) return undefined;
  return { subjects: [...have, ...missing] };
}
