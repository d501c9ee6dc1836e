/**
 * Which REST resource a call addresses, and the URL paths and query strings built from it (pure).
 * A ResourceRef is plain data (group, version, plural, namespaced) so any kind, served by knode or by
 * another apiserver, can be addressed without code generation; the common ones are predefined below.
 */
import { ClientConfigError } from './errors.js';

export interface ResourceRef {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  /** The resource name in URLs: `pods`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** The kind, filled into objects sent without one. */
  readonly kind?: string;
}

const ref = (group: string, version: string, plural: string, namespaced: boolean, kind: string): ResourceRef => ({
  group,
  version,
  plural,
  namespaced,
  kind,
});

export const resources = {
  namespaces: ref('', 'v1', 'namespaces', false, 'Namespace'),
  nodes: ref('', 'v1', 'nodes', false, 'Node'),
  pods: ref('', 'v1', 'pods', true, 'Pod'),
  services: ref('', 'v1', 'services', true, 'Service'),
  endpoints: ref('', 'v1', 'endpoints', true, 'Endpoints'),
  configMaps: ref('', 'v1', 'configmaps', true, 'ConfigMap'),
  secrets: ref('', 'v1', 'secrets', true, 'Secret'),
  serviceAccounts: ref('', 'v1', 'serviceaccounts', true, 'ServiceAccount'),
  events: ref('', 'v1', 'events', true, 'Event'),
  endpointSlices: ref('discovery.k8s.io', 'v1', 'endpointslices', true, 'EndpointSlice'),
  leases: ref('coordination.k8s.io', 'v1', 'leases', true, 'Lease'),
  podDisruptionBudgets: ref('policy', 'v1', 'poddisruptionbudgets', true, 'PodDisruptionBudget'),
  certificateSigningRequests: ref('certificates.k8s.io', 'v1', 'certificatesigningrequests', false, 'CertificateSigningRequest'),
  deployments: ref('apps', 'v1', 'deployments', true, 'Deployment'),
  replicaSets: ref('apps', 'v1', 'replicasets', true, 'ReplicaSet'),
  daemonSets: ref('apps', 'v1', 'daemonsets', true, 'DaemonSet'),
  statefulSets: ref('apps', 'v1', 'statefulsets', true, 'StatefulSet'),
  controllerRevisions: ref('apps', 'v1', 'controllerrevisions', true, 'ControllerRevision'),
  jobs: ref('batch', 'v1', 'jobs', true, 'Job'),
  cronJobs: ref('batch', 'v1', 'cronjobs', true, 'CronJob'),
} as const satisfies Readonly<Record<string, ResourceRef>>;

/** `v1` or `apps/v1`. */
export function apiVersionOfRef(r: Pick<ResourceRef, 'group' | 'version'>): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

const SEGMENT = /^[^/?#]+$/;

function segment(what: string, value: string): string {
  if (!SEGMENT.test(value) || value === '.' || value === '..') {
    throw new ClientConfigError(`${what} ${JSON.stringify(value)} cannot be used in a URL path`);
  }
  return encodeURIComponent(value);
}

/**
 * `/api/v1/namespaces/default/pods/web/status`. A namespaced resource without a namespace addresses
 * all namespaces (lists and watches only); a cluster-scoped one given a namespace is a caller bug.
 */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  if (!r.namespaced && namespace !== undefined) {
    throw new ClientConfigError(`${r.plural} are cluster-scoped; no namespace may be given (got ${JSON.stringify(namespace)})`);
  }
  if (r.namespaced && namespace === undefined && name !== undefined) {
    throw new ClientConfigError(`${r.plural} are namespaced; a namespace is required to address ${JSON.stringify(name)}`);
  }
  if (subresource !== undefined && name === undefined) throw new ClientConfigError(`subresource ${subresource} needs an object name`);
  const parts = [r.group === '' ? '/api' : `/apis/${segment('group', r.group)}`, segment('version', r.version)];
  if (namespace !== undefined) parts.push('namespaces', segment('namespace', namespace));
  parts.push(segment('resource', r.plural));
  if (name !== undefined) parts.push(segment('name', name));
  if (subresource !== undefined) parts.push(segment('subresource', subresource));
  return parts.join('/');
}

export type QueryValue = string | number | boolean | undefined;

/** `?a=1&b=x`, skipping undefined values; '' when nothing is left. Keys keep their order. */
export function buildQuery(params: Readonly<Record<string, QueryValue>>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) q.append(k, String(v));
  const s = q.toString();
  return s === '' ? '' : `?${s}`;
}
