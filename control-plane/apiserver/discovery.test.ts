import { describe, expect, it } from 'vitest';
import type { KindDefinition } from '../../api/kind.js';
import { obj, str } from '../../api/schema.js';
import type { ServedResource } from './discovery.js';
import {
  buildAggregatedDiscovery,
  buildAPIGroup,
  buildAPIGroupList,
  buildAPIResourceList,
  buildCoreAPIVersions,
  buildVersionInfo,
  compareVersions,
  servedGroupVersions,
} from './discovery.js';

function kind(k: Partial<KindDefinition> & Pick<KindDefinition, 'group' | 'version' | 'kind' | 'plural'>): KindDefinition {
  return {
    singular: k.kind.toLowerCase(),
    namespaced: true,
    shortNames: [],
    categories: [],
    schema: obj({ apiVersion: str(), kind: str() }),
    hasStatusSubresource: false,
    default: (o) => o,
    validate: () => [],
    validateUpdate: () => [],
    ...k,
  };
}

const pod = kind({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', shortNames: ['po'], categories: ['all'] });
const namespace = kind({ group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', namespaced: false, shortNames: ['ns'] });
const event = kind({ group: '', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'] });
const deployment = kind({ group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', shortNames: ['deploy'], categories: ['all'] });
const slice = kind({ group: 'discovery.k8s.io', version: 'v1', kind: 'EndpointSlice', plural: 'endpointslices' });
const lease = kind({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease', plural: 'leases' });
const eventsV1 = kind({ group: 'events.k8s.io', version: 'v1', kind: 'Event', plural: 'events', shortNames: ['ev'] });
const widgetBeta = kind({ group: 'example.com', version: 'v1beta1', kind: 'Widget', plural: 'widgets' });
const widget = kind({ group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets' });

const resources: ServedResource[] = [
  { def: pod, subresources: ['status', 'log', 'exec', 'binding', 'eviction', 'ephemeralcontainers', 'proxy'] },
  { def: namespace, subresources: ['status', 'finalize'] },
  { def: event, subresources: [] },
  { def: widgetBeta, subresources: [] },
  { def: slice, subresources: [] },
  { def: lease, subresources: [] },
  { def: deployment, subresources: ['status', 'scale'] },
  { def: eventsV1, subresources: [] },
  { def: widget, subresources: [] },
];

const CRUD = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

describe('legacy discovery', () => {
  it('GET /api lists v1 with the server address', () => {
    expect(buildCoreAPIVersions('10.0.0.1:6443')).toEqual({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '10.0.0.1:6443' }],
    });
  });

  it('GET /apis lists non-core groups in upstream priority order, preferred version first', () => {
    const list = buildAPIGroupList(resources);
    expect(list.kind).toBe('APIGroupList');
    expect(list.groups.map((g) => g.name)).toEqual(['apps', 'events.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'example.com']);
    const example = list.groups.find((g) => g.name === 'example.com');
    expect(example?.versions).toEqual([
      { groupVersion: 'example.com/v1', version: 'v1' },
      { groupVersion: 'example.com/v1beta1', version: 'v1beta1' },
    ]);
    expect(example?.preferredVersion).toEqual({ groupVersion: 'example.com/v1', version: 'v1' });
  });

  it('GET /apis/<group> describes one group, and nothing for unknown or core groups', () => {
    expect(buildAPIGroup(resources, 'apps')).toEqual({
      kind: 'APIGroup',
      apiVersion: 'v1',
      name: 'apps',
      versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
      preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
    });
    expect(buildAPIGroup(resources, 'batch')).toBeUndefined();
    expect(buildAPIGroup(resources, '')).toBeUndefined();
  });

  it('GET /api/v1 lists resources and subresources sorted by name', () => {
    const list = buildAPIResourceList(resources, '', 'v1');
    expect(list?.groupVersion).toBe('v1');
    expect(list?.resources.map((r) => r.name)).toEqual([
      'events',
      'namespaces',
      'namespaces/finalize',
      'namespaces/status',
      'pods',
      'pods/binding',
      'pods/ephemeralcontainers',
      'pods/eviction',
      'pods/exec',
      'pods/log',
      'pods/proxy',
      'pods/status',
    ]);
  });

  it('describes a resource with verbs, short names, categories and the upstream storage version hash', () => {
    const pods = buildAPIResourceList(resources, '', 'v1')?.resources.find((r) => r.name === 'pods');
    expect(pods).toEqual({
      name: 'pods',
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      verbs: CRUD,
      shortNames: ['po'],
      categories: ['all'],
      storageVersionHash: 'xPOwRZ+Yhw8=',
    });
  });

  it('namespaces cannot be deleted as a collection; events have the full verb set', () => {
    const byName = new Map(buildAPIResourceList(resources, '', 'v1')?.resources.map((r) => [r.name, r]));
    expect(byName.get('namespaces')?.verbs).toEqual(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
    expect(byName.get('namespaces')?.namespaced).toBe(false);
    expect(byName.get('events')?.verbs).toEqual(CRUD);
    expect(byName.get('events')?.shortNames).toEqual(['ev']);
    expect(byName.get('events')).not.toHaveProperty('categories');
  });

  it.each<[string, string, string, Record<string, unknown>]>([
    ['pods/status reads and writes a Pod', '', 'pods/status', { kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
    ['pods/binding creates a Binding', '', 'pods/binding', { kind: 'Binding', verbs: ['create'] }],
    ['pods/ephemeralcontainers reads and writes a Pod', '', 'pods/ephemeralcontainers', { kind: 'Pod', verbs: ['get', 'patch', 'update'] }],
    ['pods/eviction creates a policy/v1 Eviction', '', 'pods/eviction', { group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] }],
    ['pods/log reads a Pod log', '', 'pods/log', { kind: 'Pod', verbs: ['get'] }],
    ['pods/exec connects with PodExecOptions', '', 'pods/exec', { kind: 'PodExecOptions', verbs: ['create', 'get'] }],
    ['pods/proxy takes every method', '', 'pods/proxy', { kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
    ['namespaces/finalize is update only and cluster-scoped', '', 'namespaces/finalize', { namespaced: false, kind: 'Namespace', verbs: ['update'] }],
    ['deployments/scale speaks autoscaling/v1 Scale', 'apps', 'deployments/scale', { group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] }],
  ])('subresource: %s', (_name, group, name, expected) => {
    const entry = buildAPIResourceList(resources, group, 'v1')?.resources.find((r) => r.name === name);
    expect(entry).toEqual({ name, singularName: '', namespaced: true, ...expected });
    expect(Object.keys(entry ?? {})).toEqual(Object.keys({ name, singularName: '', namespaced: true, ...expected }));
  });

  it('has nothing for a group-version that is not served', () => {
    expect(buildAPIResourceList(resources, 'apps', 'v1beta1')).toBeUndefined();
  });
});

describe('aggregated discovery (apidiscovery.k8s.io/v2)', () => {
  it('GET /api holds the core group alone, without a name', () => {
    const list = buildAggregatedDiscovery(resources, 'core');
    expect(list.kind).toBe('APIGroupDiscoveryList');
    expect(list.apiVersion).toBe('apidiscovery.k8s.io/v2');
    expect(list.items).toHaveLength(1);
    expect(list.items[0]?.metadata).toEqual({});
    expect(list.items[0]?.versions.map((v) => [v.version, v.freshness])).toEqual([['v1', 'Current']]);
  });

  it('describes resources with scope, response kind relative to the group and their subresources', () => {
    const core = buildAggregatedDiscovery(resources, 'core').items[0]?.versions[0]?.resources ?? [];
    expect(core.map((r) => r.resource)).toEqual(['events', 'namespaces', 'pods']);
    const pods = core.find((r) => r.resource === 'pods');
    expect(pods).toMatchObject({
      responseKind: { group: '', version: '', kind: 'Pod' },
      scope: 'Namespaced',
      singularResource: 'pod',
      verbs: CRUD,
      shortNames: ['po'],
      categories: ['all'],
    });
    expect(pods?.subresources?.map((s) => s.subresource)).toEqual(['binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'proxy', 'status']);
    expect(pods?.subresources?.find((s) => s.subresource === 'exec')).toEqual({
      subresource: 'exec',
      responseKind: { group: '', version: '', kind: 'PodExecOptions' },
      verbs: ['create', 'get'],
    });
    expect(pods?.subresources?.find((s) => s.subresource === 'eviction')?.responseKind).toEqual({ group: 'policy', version: 'v1', kind: 'Eviction' });
    expect(core.find((r) => r.resource === 'namespaces')?.scope).toBe('Cluster');
    expect(core.find((r) => r.resource === 'events')).not.toHaveProperty('subresources');
  });

  it('GET /apis holds every other group by name, versions in preference order', () => {
    const list = buildAggregatedDiscovery(resources, 'apis');
    expect(list.items.map((g) => g.metadata.name)).toEqual(['apps', 'events.k8s.io', 'coordination.k8s.io', 'discovery.k8s.io', 'example.com']);
    expect(list.items.at(-1)?.versions.map((v) => v.version)).toEqual(['v1', 'v1beta1']);
    const deployments = list.items[0]?.versions[0]?.resources[0];
    expect(deployments?.subresources?.find((s) => s.subresource === 'scale')).toEqual({
      subresource: 'scale',
      responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      verbs: ['get', 'patch', 'update'],
    });
  });

  it('can be labelled v2beta1 for clients that ask for it', () => {
    expect(buildAggregatedDiscovery(resources, 'apis', 'v2beta1').apiVersion).toBe('apidiscovery.k8s.io/v2beta1');
  });

  it('is empty when nothing is served', () => {
    expect(buildAggregatedDiscovery([], 'core').items).toEqual([]);
  });
});

describe('ordering helpers', () => {
  it('orders versions GA, then beta, then alpha, newest first', () => {
    expect(['v1alpha1', 'v1beta1', 'v2', 'v1', 'v1beta2', 'foo'].sort(compareVersions)).toEqual(['v2', 'v1', 'v1beta2', 'v1beta1', 'v1alpha1', 'foo']);
  });

  it('lists served group-versions core first', () => {
    expect(servedGroupVersions(resources).slice(0, 2)).toEqual([
      { group: '', version: 'v1' },
      { group: 'apps', version: 'v1' },
    ]);
  });
});

describe('version', () => {
  it('reports Kubernetes 1.32 as knode', () => {
    const v = buildVersionInfo({ gitCommit: 'abc123', buildDate: '2026-01-01T00:00:00Z' });
    expect(v).toMatchObject({
      major: '1',
      minor: '32',
      gitVersion: 'v1.32.0-knode',
      gitCommit: 'abc123',
      gitTreeState: 'clean',
      buildDate: '2026-01-01T00:00:00Z',
      compiler: 'node',
    });
    expect(v.goVersion).toMatch(/^node\d+\.\d+\.\d+$/);
    expect(v.platform).toMatch(/^linux\//);
  });
});
