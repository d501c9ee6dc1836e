/**
 * Discovery documents: what kubectl reads to learn which resources exist before it touches any object.
 *
 *  GET /api                 -> APIVersions (legacy) or APIGroupDiscoveryList (aggregated, v2)
 *  GET /apis                -> APIGroupList (legacy) or APIGroupDiscoveryList (aggregated, v2)
 *  GET /apis/<g>            -> APIGroup
 *  GET /api/v1, /apis/<g>/<v> -> APIResourceList
 *  GET /version             -> version.Info
 *
 * kubectl 1.32 asks for the aggregated form first (one request instead of one per group-version); the
 * legacy forms remain for older clients and for client libraries that never learnt v2. Both are built
 * from the same `ServedResource` list so they cannot disagree.
 *
 * Cost model: pure functions, linear in the number of served resources (a few dozen). The caller may
 * cache the results; they only change when the served resource set does.
 */
import { createHash } from 'node:crypto';
import type { KindDefinition } from '../../api/kind.js';

export interface ServedResource {
  readonly def: KindDefinition;
  /** Subresources served under the resource, e.g. ['status', 'scale'] or ['binding', 'log', 'status'] for pods. */
  readonly subresources: readonly string[];
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** The Kubernetes release whose API and client behaviour knode follows. */
export const KUBERNETES_MAJOR = '1';
export const KUBERNETES_MINOR = '32';
export const KNODE_GIT_VERSION = 'v1.32.0-knode';

// ---------------------------------------------------------------------------------------------------
// Verbs and subresources

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] as const;

/**
 * Resources whose verb set differs from the full CRUD set, keyed `<group>/<plural>`. Upstream namespaces
 * lack deletecollection (deleting every namespace at once is too dangerous to offer); review-style
 * resources are create-only.
 */
const VERB_EXCEPTIONS: Readonly<Record<string, readonly string[]>> = {
  '/namespaces': ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  '/bindings': ['create'],
  '/componentstatuses': ['get', 'list'],
  'authentication.k8s.io/tokenreviews': ['create'],
  'authentication.k8s.io/selfsubjectreviews': ['create'],
  'authorization.k8s.io/subjectaccessreviews': ['create'],
  'authorization.k8s.io/selfsubjectaccessreviews': ['create'],
  'authorization.k8s.io/selfsubjectrulesreviews': ['create'],
  'authorization.k8s.io/localsubjectaccessreviews': ['create'],
};

/** Verbs of a resource's main endpoint, sorted as upstream lists them. */
export function resourceVerbs(def: Pick<KindDefinition, 'group' | 'plural'>): readonly string[] {
  return VERB_EXCEPTIONS[`${def.group}/${def.plural}`] ?? ALL_VERBS;
}

interface SubresourceShape {
  readonly verbs: readonly string[];
  /** The kind the subresource speaks; absent means the parent's own kind. */
  readonly kind?: (parent: KindDefinition) => GroupVersionKind;
}

const core = (kind: string): GroupVersionKind => ({ group: '', version: 'v1', kind });
const READ_WRITE = ['get', 'patch', 'update'] as const;
const CONNECT = ['create', 'get'] as const;

/** Upstream's subresources: their verbs and the kind each one accepts or returns. */
const SUBRESOURCES: Readonly<Record<string, SubresourceShape>> = {
  status: { verbs: READ_WRITE },
  scale: { verbs: READ_WRITE, kind: () => ({ group: 'autoscaling', version: 'v1', kind: 'Scale' }) },
  binding: { verbs: ['create'], kind: () => core('Binding') },
  eviction: { verbs: ['create'], kind: () => ({ group: 'policy', version: 'v1', kind: 'Eviction' }) },
  log: { verbs: ['get'] },
  exec: { verbs: CONNECT, kind: () => core('PodExecOptions') },
  attach: { verbs: CONNECT, kind: () => core('PodAttachOptions') },
  portforward: { verbs: CONNECT, kind: () => core('PodPortForwardOptions') },
  proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'], kind: (p) => core(`${p.kind}ProxyOptions`) },
  ephemeralcontainers: { verbs: READ_WRITE },
  resize: { verbs: READ_WRITE },
  finalize: { verbs: ['update'] },
  approval: { verbs: READ_WRITE },
  token: { verbs: ['create'], kind: () => ({ group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' }) },
};

export interface SubresourceInfo {
  readonly name: string;
  readonly verbs: readonly string[];
  readonly kind: GroupVersionKind;
}

/** Verbs and kind of one subresource; unknown names are treated like `status` (read and write the parent). */
export function subresourceInfo(parent: KindDefinition, name: string): SubresourceInfo {
  const shape = SUBRESOURCES[name];
  const kind = shape?.kind?.(parent) ?? { group: parent.group, version: parent.version, kind: parent.kind };
  return { name, verbs: shape?.verbs ?? READ_WRITE, kind };
}

/**
 * upstream's storage version hash: base64 of the first 8 bytes of sha256("<group>/<version>/<kind>").
 * Clients only compare it for equality, to notice that a resource's storage version changed.
 */
export function storageVersionHash(def: Pick<KindDefinition, 'group' | 'version' | 'kind'>): string {
  return createHash('sha256').update(`${def.group}/${def.version}/${def.kind}`).digest().subarray(0, 8).toString('base64');
}

// ---------------------------------------------------------------------------------------------------
// Ordering

/**
 * Upstream's group priority (the APIService priority of each built-in group). Order matters: kubectl
 * resolves an ambiguous resource name (`events`) to the first group that serves it.
 */
const GROUP_PRIORITY = [
  'apiregistration.k8s.io',
  'apps',
  'events.k8s.io',
  'authentication.k8s.io',
  'authorization.k8s.io',
  'autoscaling',
  'batch',
  'certificates.k8s.io',
  'networking.k8s.io',
  'policy',
  'rbac.authorization.k8s.io',
  'storage.k8s.io',
  'admissionregistration.k8s.io',
  'apiextensions.k8s.io',
  'scheduling.k8s.io',
  'coordination.k8s.io',
  'node.k8s.io',
  'discovery.k8s.io',
  'flowcontrol.apiserver.k8s.io',
  'resource.k8s.io',
];

function compareGroups(a: string, b: string): number {
  const rank = (g: string): number => {
    const i = GROUP_PRIORITY.indexOf(g);
    return i < 0 ? GROUP_PRIORITY.length : i;
  };
  return rank(a) - rank(b) || a.localeCompare(b);
}

/** Kubernetes version priority: v2 > v1 > v1beta2 > v1beta1 > v1alpha1 > anything not of that form. */
export function compareVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    const stability = m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return pa ? -1 : pb ? 1 : a.localeCompare(b);
  return pb[0] - pa[0] || pb[1] - pa[1] || pb[2] - pa[2];
}

/** Groups (core first when present) mapped to their versions in preference order. */
function groupVersions(resources: readonly ServedResource[]): Map<string, string[]> {
  const byGroup = new Map<string, Set<string>>();
  for (const r of resources) {
    const set = byGroup.get(r.def.group) ?? new Set<string>();
    set.add(r.def.version);
    byGroup.set(r.def.group, set);
  }
  const groups = [...byGroup.keys()].sort((a, b) => (a === '' ? -1 : b === '' ? 1 : compareGroups(a, b)));
  return new Map(groups.map((g) => [g, [...(byGroup.get(g) ?? [])].sort(compareVersions)]));
}

/** Every served group-version: core first, then groups in priority order, versions most preferred first. */
export function servedGroupVersions(resources: readonly ServedResource[]): Array<{ group: string; version: string }> {
  const out: Array<{ group: string; version: string }> = [];
  for (const [group, versions] of groupVersions(resources)) for (const version of versions) out.push({ group, version });
  return out;
}

function resourcesOf(resources: readonly ServedResource[], group: string, version: string): ServedResource[] {
  return resources
    .filter((r) => r.def.group === group && r.def.version === version)
    .sort((a, b) => a.def.plural.localeCompare(b.def.plural));
}

// ---------------------------------------------------------------------------------------------------
// Legacy discovery (meta/v1)

export interface GroupVersionForDiscovery {
  readonly groupVersion: string;
  readonly version: string;
}

export interface APIGroup {
  readonly kind?: 'APIGroup';
  readonly apiVersion?: 'v1';
  readonly name: string;
  readonly versions: readonly GroupVersionForDiscovery[];
  readonly preferredVersion: GroupVersionForDiscovery;
}

export interface APIGroupList {
  readonly kind: 'APIGroupList';
  readonly apiVersion: 'v1';
  readonly groups: readonly APIGroup[];
}

export interface APIResource {
  readonly name: string;
  readonly singularName: string;
  readonly namespaced: boolean;
  readonly group?: string;
  readonly version?: string;
  readonly kind: string;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly storageVersionHash?: string;
}

export interface APIResourceList {
  readonly kind: 'APIResourceList';
  readonly apiVersion: 'v1';
  readonly groupVersion: string;
  readonly resources: readonly APIResource[];
}

export interface APIVersions {
  readonly kind: 'APIVersions';
  readonly versions: readonly string[];
  readonly serverAddressByClientCIDRs: ReadonlyArray<{ readonly clientCIDR: string; readonly serverAddress: string }>;
}

/** GET /api. `serverAddress` is host:port as clients should reach the apiserver. */
export function buildCoreAPIVersions(serverAddress: string): APIVersions {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function discoveryGroup(name: string, versions: readonly string[]): APIGroup {
  const gvs = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  // versions is never empty: a group exists only because some resource is served in it.
  const preferred = gvs[0] ?? { groupVersion: name, version: '' };
  return { name, versions: gvs, preferredVersion: preferred };
}

/** GET /apis: every non-core group, in upstream's priority order. */
export function buildAPIGroupList(resources: readonly ServedResource[]): APIGroupList {
  const groups: APIGroup[] = [];
  for (const [group, versions] of groupVersions(resources)) {
    if (group !== '') groups.push(discoveryGroup(group, versions));
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

/** GET /apis/<group>; undefined when nothing is served in that group (the caller answers 404). */
export function buildAPIGroup(resources: readonly ServedResource[], group: string): APIGroup | undefined {
  const versions = groupVersions(resources).get(group);
  if (group === '' || !versions) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...discoveryGroup(group, versions) };
}

/** A kind relative to the group-version document it appears in: same group-version is left implicit. */
function relative(kind: GroupVersionKind, group: string, version: string): GroupVersionKind {
  return kind.group === group && kind.version === version ? { group: '', version: '', kind: kind.kind } : kind;
}

/** GET /api/v1 or /apis/<group>/<version>; undefined when nothing is served there. */
export function buildAPIResourceList(
  resources: readonly ServedResource[],
  group: string,
  version: string,
): APIResourceList | undefined {
  const served = resourcesOf(resources, group, version);
  if (served.length === 0) return undefined;
  const entries: APIResource[] = [];
  for (const { def, subresources } of served) {
    entries.push({
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: resourceVerbs(def),
      ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
      ...(def.categories.length > 0 ? { categories: def.categories } : {}),
      storageVersionHash: storageVersionHash(def),
    });
    for (const sub of subresources) {
      const info = subresourceInfo(def, sub);
      const k = relative(info.kind, group, version);
      entries.push({
        name: `${def.plural}/${sub}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(k.group !== '' || k.version !== '' ? { group: k.group, version: k.version } : {}),
        kind: k.kind,
        verbs: info.verbs,
      });
    }
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group === '' ? version : `${group}/${version}`, resources: entries };
}

// ---------------------------------------------------------------------------------------------------
// Aggregated discovery (apidiscovery.k8s.io/v2)

export interface APISubresourceDiscovery {
  readonly subresource: string;
  readonly responseKind: GroupVersionKind;
  readonly verbs: readonly string[];
}

export interface APIResourceDiscovery {
  readonly resource: string;
  readonly responseKind: GroupVersionKind;
  readonly scope: 'Namespaced' | 'Cluster';
  readonly singularResource: string;
  readonly verbs: readonly string[];
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  readonly subresources?: readonly APISubresourceDiscovery[];
}

export interface APIVersionDiscovery {
  readonly version: string;
  readonly resources: readonly APIResourceDiscovery[];
  readonly freshness: 'Current' | 'Stale';
}

export interface APIGroupDiscovery {
  readonly metadata: { readonly name?: string };
  readonly versions: readonly APIVersionDiscovery[];
}

export interface APIGroupDiscoveryList {
  readonly kind: 'APIGroupDiscoveryList';
  readonly apiVersion: 'apidiscovery.k8s.io/v2' | 'apidiscovery.k8s.io/v2beta1';
  readonly metadata: Record<string, never>;
  readonly items: readonly APIGroupDiscovery[];
}

function versionDiscovery(resources: readonly ServedResource[], group: string, version: string): APIVersionDiscovery {
  const out: APIResourceDiscovery[] = [];
  for (const { def, subresources } of resourcesOf(resources, group, version)) {
    const subs = [...subresources]
      .sort()
      .map((sub): APISubresourceDiscovery => {
        const info = subresourceInfo(def, sub);
        return { subresource: sub, responseKind: relative(info.kind, group, version), verbs: info.verbs };
      });
    out.push({
      resource: def.plural,
      responseKind: { group: '', version: '', kind: def.kind },
      scope: def.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: def.singular,
      verbs: resourceVerbs(def),
      ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
      ...(def.categories.length > 0 ? { categories: def.categories } : {}),
      ...(subs.length > 0 ? { subresources: subs } : {}),
    });
  }
  return { version, resources: out, freshness: 'Current' };
}

/**
 * GET /api or /apis with `Accept: application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`.
 * `scope` picks the core group alone (/api) or every other group (/apis). v2beta1 has the same shape and
 * differs only in apiVersion, for clients that ask for it.
 */
export function buildAggregatedDiscovery(
  resources: readonly ServedResource[],
  scope: 'core' | 'apis',
  apiVersion: 'v2' | 'v2beta1' = 'v2',
): APIGroupDiscoveryList {
  const items: APIGroupDiscovery[] = [];
  for (const [group, versions] of groupVersions(resources)) {
    if ((scope === 'core') !== (group === '')) continue;
    items.push({
      metadata: group === '' ? {} : { name: group },
      versions: versions.map((v) => versionDiscovery(resources, group, v)),
    });
  }
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${apiVersion}`, metadata: {}, items };
}

// ---------------------------------------------------------------------------------------------------
// Version

export interface VersionInfo {
  readonly major: string;
  readonly minor: string;
  readonly gitVersion: string;
  readonly gitCommit: string;
  readonly gitTreeState: string;
  readonly buildDate: string;
  readonly goVersion: string;
  readonly compiler: string;
  readonly platform: string;
}

/** GET /version. `gitCommit` and `buildDate` come from the build when it knows them. */
export function buildVersionInfo(build: { readonly gitCommit?: string; readonly buildDate?: string } = {}): VersionInfo {
  return {
    major: KUBERNETES_MAJOR,
    minor: KUBERNETES_MINOR,
    gitVersion: KNODE_GIT_VERSION,
    gitCommit: build.gitCommit ?? '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: build.buildDate ?? '1970-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    // kubectl only prints this; upstream reports the GOOS/GOARCH the server was built for.
    platform: `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
