import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../api/meta.js';
import { buildTable, tableFor } from './table.js';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const meta = (name: string, extra: Record<string, unknown> = {}): KubeObject['metadata'] => ({
  name,
  creationTimestamp: ago(3 * 86400 + 4 * 3600),
  ...extra,
});
const AGE = '3d4h';

const podTemplate = {
  spec: {
    containers: [
      { name: 'app', image: 'nginx:1.27' },
      { name: 'sidecar', image: 'busybox' },
    ],
    nodeSelector: { 'kubernetes.io/os': 'linux' },
  },
};

interface Case {
  readonly plural: string;
  readonly object: KubeObject;
  /** Column names as kubectl upper-cases them; `*` marks priority-1 (wide) columns. */
  readonly columns: string;
  readonly cells: readonly unknown[];
}

const cases: Array<[string, Case]> = [
  [
    'nodes',
    {
      plural: 'nodes',
      object: {
        metadata: meta('node-a', { labels: { 'node-role.kubernetes.io/control-plane': '', 'node-role.kubernetes.io/worker': '' } }),
        spec: { unschedulable: true },
        status: {
          conditions: [{ type: 'Ready', status: 'True' }],
          addresses: [
            { type: 'Hostname', address: 'node-a' },
            { type: 'InternalIP', address: '192.168.56.10' },
          ],
          nodeInfo: { kubeletVersion: 'v1.32.0-knode', osImage: 'Debian 12', kernelVersion: '6.1.0', containerRuntimeVersion: 'containerd://1.7.24' },
        },
      },
      columns: 'NAME STATUS ROLES AGE VERSION *INTERNAL-IP *EXTERNAL-IP *OS-IMAGE *KERNEL-VERSION *CONTAINER-RUNTIME',
      cells: ['node-a', 'Ready,SchedulingDisabled', 'control-plane,worker', AGE, 'v1.32.0-knode', '192.168.56.10', '<none>', 'Debian 12', '6.1.0', 'containerd://1.7.24'],
    },
  ],
  [
    'services (NodePort)',
    {
      plural: 'services',
      object: {
        metadata: meta('web'),
        spec: {
          type: 'NodePort',
          clusterIPs: ['10.96.0.10'],
          ports: [
            { port: 80, protocol: 'TCP', nodePort: 30080 },
            { port: 53, protocol: 'UDP' },
          ],
          selector: { tier: 'web', app: 'shop' },
        },
      },
      columns: 'NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE *SELECTOR',
      cells: ['web', 'NodePort', '10.96.0.10', '<none>', '80:30080/TCP,53/UDP', AGE, 'app=shop,tier=web'],
    },
  ],
  [
    'endpoints',
    {
      plural: 'endpoints',
      object: {
        metadata: meta('web'),
        subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }],
      },
      columns: 'NAME ENDPOINTS AGE',
      cells: ['web', '10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...', AGE],
    },
  ],
  [
    'endpointslices',
    {
      plural: 'endpointslices',
      object: {
        metadata: meta('web-abc12'),
        addressType: 'IPv4',
        ports: [{ name: 'http', port: 80 }, { name: 'metrics' }, {}],
        endpoints: [{ addresses: ['10.0.0.1'] }, { addresses: ['10.0.0.2'] }],
      },
      columns: 'NAME ADDRESSTYPE PORTS ENDPOINTS AGE',
      cells: ['web-abc12', 'IPv4', '80,metrics,*', '10.0.0.1,10.0.0.2', AGE],
    },
  ],
  [
    'deployments',
    {
      plural: 'deployments',
      object: {
        metadata: meta('web'),
        spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: podTemplate },
        status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
      },
      columns: 'NAME READY UP-TO-DATE AVAILABLE AGE *CONTAINERS *IMAGES *SELECTOR',
      cells: ['web', '2/3', 3, 2, AGE, 'app,sidecar', 'nginx:1.27,busybox', 'app=web'],
    },
  ],
  [
    'replicasets',
    {
      plural: 'replicasets',
      object: {
        metadata: meta('web-5d8f'),
        spec: {
          replicas: 3,
          selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod', 'dev'] }] },
          template: podTemplate,
        },
        status: { replicas: 3, readyReplicas: 1 },
      },
      columns: 'NAME DESIRED CURRENT READY AGE *CONTAINERS *IMAGES *SELECTOR',
      cells: ['web-5d8f', 3, 3, 1, AGE, 'app,sidecar', 'nginx:1.27,busybox', 'app=web,env in (dev,prod)'],
    },
  ],
  [
    'daemonsets',
    {
      plural: 'daemonsets',
      object: {
        metadata: meta('proxy'),
        spec: { selector: { matchLabels: { app: 'proxy' } }, template: podTemplate },
        status: { desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 1, updatedNumberScheduled: 2, numberAvailable: 1 },
      },
      columns: 'NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE *CONTAINERS *IMAGES *SELECTOR',
      cells: ['proxy', 2, 2, 1, 2, 1, 'kubernetes.io/os=linux', AGE, 'app,sidecar', 'nginx:1.27,busybox', 'app=proxy'],
    },
  ],
  [
    'events (core/v1)',
    {
      plural: 'events',
      object: {
        metadata: meta('web.17a'),
        involvedObject: { kind: 'Pod', name: 'web', fieldPath: 'spec.containers{app}' },
        reason: 'Pulled',
        message: '  Successfully pulled image  \n',
        type: 'Normal',
        source: { component: 'kubelet', host: 'node-a' },
        firstTimestamp: ago(600),
        lastTimestamp: ago(30),
        count: 4,
      },
      columns: 'LAST SEEN TYPE REASON OBJECT *SUBOBJECT *SOURCE MESSAGE *FIRST SEEN *COUNT *NAME',
      cells: ['30s', 'Normal', 'Pulled', 'pod/web', 'spec.containers{app}', 'kubelet, node-a', 'Successfully pulled image', '10m', 4, 'web.17a'],
    },
  ],
  [
    'events (events.k8s.io/v1 with a series)',
    {
      plural: 'events',
      object: {
        apiVersion: 'events.k8s.io/v1',
        metadata: meta('web.17b'),
        eventTime: ago(3600),
        series: { count: 7, lastObservedTime: ago(10) },
        reportingController: 'default-scheduler',
        regarding: { kind: 'Pod', name: 'web' },
        reason: 'FailedScheduling',
        note: '0/2 nodes are available',
        type: 'Warning',
      },
      columns: 'LAST SEEN TYPE REASON OBJECT *SUBOBJECT *SOURCE MESSAGE *FIRST SEEN *COUNT *NAME',
      cells: ['10s', 'Warning', 'FailedScheduling', 'pod/web', '', 'default-scheduler', '0/2 nodes are available', '60m', 7, 'web.17b'],
    },
  ],
  [
    'namespaces',
    { plural: 'namespaces', object: { metadata: meta('default'), status: { phase: 'Active' } }, columns: 'NAME STATUS AGE', cells: ['default', 'Active', AGE] },
  ],
  [
    'configmaps',
    {
      plural: 'configmaps',
      object: { metadata: meta('cfg'), data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } },
      columns: 'NAME DATA AGE',
      cells: ['cfg', 3, AGE],
    },
  ],
  [
    'secrets',
    {
      plural: 'secrets',
      object: { metadata: meta('tls'), type: 'kubernetes.io/tls', data: { 'tls.crt': 'eA==', 'tls.key': 'eQ==' } },
      columns: 'NAME TYPE DATA AGE',
      cells: ['tls', 'kubernetes.io/tls', 2, AGE],
    },
  ],
  [
    'serviceaccounts',
    { plural: 'serviceaccounts', object: { metadata: meta('default') }, columns: 'NAME SECRETS AGE', cells: ['default', 0, AGE] },
  ],
  [
    'leases',
    {
      plural: 'leases',
      object: { metadata: meta('node-a'), spec: { holderIdentity: 'node-a' } },
      columns: 'NAME HOLDER AGE',
      cells: ['node-a', 'node-a', AGE],
    },
  ],
  [
    'anything else',
    { plural: 'widgets', object: { metadata: meta('w') }, columns: 'NAME AGE', cells: ['w', AGE] },
  ],
];

describe('each resource prints upstream columns', () => {
  it.each(cases)('%s', (_name, c) => {
    const printer = tableFor(c.plural);
    const names = printer.columns.map((col) => `${col.priority === 1 ? '*' : ''}${col.name.toUpperCase()}`);
    expect(names.join(' ')).toBe(c.columns);
    expect(printer.cells(c.object, now)).toEqual(c.cells);
    expect(printer.columns.filter((col) => col.format === 'name').length).toBe(1);
  });
});

describe('cell rules', () => {
  const svc = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({ metadata: meta('s'), spec, status });
  const externalIP = (o: KubeObject): unknown => tableFor('services').cells(o, now)[3];

  it.each<[string, KubeObject, string]>([
    ['ClusterIP with external IPs lists them', svc({ type: 'ClusterIP', externalIPs: ['1.2.3.4', '5.6.7.8'] }), '1.2.3.4,5.6.7.8'],
    ['a LoadBalancer without ingress is pending', svc({ type: 'LoadBalancer' }), '<pending>'],
    [
      'a LoadBalancer lists ingress IPs and hostnames, then external IPs',
      svc({ type: 'LoadBalancer', externalIPs: ['9.9.9.9'] }, { loadBalancer: { ingress: [{ ip: '5.5.5.5' }, { hostname: 'lb.example.com' }] } }),
      '5.5.5.5,lb.example.com,9.9.9.9',
    ],
    ['ExternalName shows the name', svc({ type: 'ExternalName', externalName: 'db.example.com' }), 'db.example.com'],
  ])('service EXTERNAL-IP: %s', (_name, o, expected) => {
    expect(externalIP(o)).toBe(expected);
  });

  it('a headless service without ports shows <none> for CLUSTER-IP and PORT(S) when unset', () => {
    expect(tableFor('services').cells(svc({ type: 'ClusterIP' }), now).slice(2, 5)).toEqual(['<none>', '<none>', '<none>']);
  });

  it.each<[string, unknown, string]>([
    ['no subsets', [], '<none>'],
    ['addresses without ports (headless)', [{ addresses: [{ ip: '10.0.0.1' }] }], '10.0.0.1'],
    ['IPv6 addresses are bracketed', [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }], '[fd00::1]:80'],
    ['a subset without addresses', [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }], ''],
  ])('endpoints: %s', (_name, subsets, expected) => {
    expect(tableFor('endpoints').cells({ metadata: meta('e'), subsets }, now)[1]).toBe(expected);
  });

  it('endpoint slices without ports or endpoints show <unset>, long lists are cut', () => {
    const cells = tableFor('endpointslices').cells(
      { metadata: meta('s'), addressType: 'IPv4', endpoints: [{ addresses: ['a', 'b'] }, { addresses: ['c', 'd', 'e'] }] },
      now,
    );
    expect(cells.slice(2, 4)).toEqual(['<unset>', 'a,b,c + 2 more...']);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['no Ready condition is Unknown', {}, 'Unknown'],
    ['Ready False is NotReady', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, 'NotReady'],
    ['Ready Unknown is NotReady too', { status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } }, 'NotReady'],
    ['cordoned without Ready condition', { spec: { unschedulable: true } }, 'Unknown,SchedulingDisabled'],
  ])('node STATUS: %s', (_name, extra, expected) => {
    expect(tableFor('nodes').cells({ metadata: meta('n'), ...extra }, now)[1]).toBe(expected);
  });

  it('node ROLES reads the legacy kubernetes.io/role label and shows <none> without roles', () => {
    const nodes = tableFor('nodes');
    expect(nodes.cells({ metadata: meta('n', { labels: { 'kubernetes.io/role': 'master' } }) }, now)[2]).toBe('master');
    expect(nodes.cells({ metadata: meta('n', { labels: { 'node-role.kubernetes.io/': '' } }) }, now)[2]).toBe('<none>');
    expect(nodes.cells({ metadata: meta('n') }, now).slice(5)).toEqual(['<none>', '<none>', '<unknown>', '<unknown>', '<unknown>']);
  });

  it('deployment SELECTOR is empty for a select-all selector while replica sets print <none>', () => {
    const spec = { replicas: 1, selector: {}, template: podTemplate };
    expect(tableFor('deployments').cells({ metadata: meta('d'), spec }, now)[7]).toBe('');
    expect(tableFor('replicasets').cells({ metadata: meta('r'), spec }, now)[7]).toBe('<none>');
    expect(tableFor('deployments').cells({ metadata: meta('d'), spec: { selector: { matchExpressions: [{ key: 'a', operator: 'Bogus' }] } } }, now)[7]).toBe(
      '<invalid>',
    );
  });

  it('a single events.k8s.io event without count counts once and uses eventTime', () => {
    const cells = tableFor('events').cells({ metadata: meta('e'), eventTime: ago(45), regarding: { kind: 'Node' }, note: 'x' }, now);
    expect([cells[0], cells[3], cells[7], cells[8]]).toEqual(['45s', 'node', '45s', 1]);
  });

  it('an event with no time at all shows <unknown>', () => {
    expect(tableFor('events').cells({ metadata: meta('e'), involvedObject: { kind: 'Pod', name: 'p' } }, now)[0]).toBe('<unknown>');
  });
});

describe('buildTable', () => {
  const pods: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Pod', metadata: meta('a', { namespace: 'default', labels: { app: 'a' } }), status: { phase: 'Succeeded' } },
    { metadata: meta('b', { namespace: 'default' }), status: { phase: 'Pending' } },
  ];

  it('produces a meta.k8s.io/v1 Table with partial object metadata by default', () => {
    const t = buildTable('pods', pods, now, { listMeta: { resourceVersion: '42' } });
    expect(t.kind).toBe('Table');
    expect(t.apiVersion).toBe('meta.k8s.io/v1');
    expect(t.metadata).toEqual({ resourceVersion: '42' });
    expect(t.columnDefinitions[0]).toEqual({
      name: 'Name',
      type: 'string',
      format: 'name',
      description: expect.any(String),
      priority: 0,
    });
    expect(t.rows.map((r) => r.cells[0])).toEqual(['a', 'b']);
    expect(t.rows[1]?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: pods[1]?.metadata });
  });

  it('carries row conditions only where there are some', () => {
    const t = buildTable('pods', pods, now);
    expect(t.rows[0]?.conditions?.[0]?.type).toBe('Completed');
    expect(t.rows[1]).not.toHaveProperty('conditions');
  });

  it('includes the full object, filling in a missing apiVersion and kind', () => {
    const t = buildTable('pods', pods, now, { includeObject: 'Object', typeMeta: { apiVersion: 'v1', kind: 'Pod' } });
    expect(t.rows[0]?.object).toBe(pods[0]);
    expect(t.rows[1]?.object).toEqual({ ...pods[1], apiVersion: 'v1', kind: 'Pod' });
  });

  it('leaves the object out with includeObject=None', () => {
    const t = buildTable('pods', pods, now, { includeObject: 'None' });
    expect(t.rows.every((r) => !('object' in r))).toBe(true);
  });

  it('builds an empty table with the columns when there are no objects', () => {
    const t = buildTable('nodes', [], now);
    expect(t.rows).toEqual([]);
    expect(t.columnDefinitions.map((c) => c.name)).toContain('Roles');
  });
});
