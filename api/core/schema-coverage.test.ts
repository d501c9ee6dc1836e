/**
 * The schema of each kind must describe exactly its TypeScript interface: a fully-populated sample (its
 * completeness enforced by the `Full<T>` type) must have no field the schema lacks, no value of the wrong
 * JSON type, and must reach every field the schema declares.
 */
import { describe, expect, it } from 'vitest';
import type { KindDefinition } from '../kind.js';
import type { KubeObject } from '../meta.js';
import { resolveSchema } from '../schema.js';
import type { Schema } from '../schema.js';
import type { ConfigMap } from './configmap.js';
import { configMapKind } from './configmap.js';
import type { Endpoints } from './endpoints.js';
import { endpointsKind } from './endpoints.js';
import type { Event } from './event.js';
import { eventKind } from './event.js';
import type { Namespace } from './namespace.js';
import { namespaceKind } from './namespace.js';
import type { Node } from './node.js';
import { nodeKind } from './node.js';
import { podKind, podTemplateSpecSchema } from './pod.js';
import type { Secret } from './secret.js';
import { secretKind } from './secret.js';
import type { Service } from './service.js';
import { serviceKind } from './service.js';
import type { ServiceAccount } from './serviceaccount.js';
import { serviceAccountKind } from './serviceaccount.js';
import type { Full } from './test-fixtures.js';
import { fullCondition, fullMeta, fullPod, fullPodSpec } from './test-fixtures.js';

interface Walk {
  readonly unknown: string[];
  readonly wrongType: string[];
  readonly seen: Set<string>;
}

function scalarOk(type: string, v: unknown): boolean {
  switch (type) {
    case 'string':
    case 'date-time':
    case 'bytes':
      return typeof v === 'string';
    case 'integer':
      return Number.isInteger(v);
    case 'number':
      return typeof v === 'number';
    case 'boolean':
      return typeof v === 'boolean';
    case 'quantity':
    case 'int-or-string':
      return typeof v === 'string' || typeof v === 'number';
    default:
      return true;
  }
}

function walk(value: unknown, schema: Schema | (() => Schema), path: string, w: Walk): void {
  const s = resolveSchema(schema);
  w.seen.add(path);
  if (value === null || value === undefined) return;
  switch (s.type) {
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return void w.wrongType.push(path);
      for (const [k, v] of Object.entries(value)) {
        const field = s.fields[k];
        if (field === undefined) w.unknown.push(`${path}.${k}`);
        else walk(v, field, `${path}.${k}`, w);
      }
      return;
    case 'map':
      if (typeof value !== 'object' || Array.isArray(value)) return void w.wrongType.push(path);
      for (const v of Object.values(value)) walk(v, s.values, `${path}{}`, w);
      return;
    case 'array':
      if (!Array.isArray(value)) return void w.wrongType.push(path);
      for (const v of value) walk(v, s.items, `${path}[]`, w);
      return;
    default:
      if (!scalarOk(s.type, value)) w.wrongType.push(`${path} (${s.type})`);
  }
}

/** Every path the schema declares; `any` fields end the descent. */
function schemaPaths(schema: Schema | (() => Schema), path: string, out: string[], depth = 0): string[] {
  const s = resolveSchema(schema);
  out.push(path);
  if (depth > 40) return out;
  if (s.type === 'object') for (const [k, f] of Object.entries(s.fields)) schemaPaths(f, `${path}.${k}`, out, depth + 1);
  else if (s.type === 'map') schemaPaths(s.values, `${path}{}`, out, depth + 1);
  else if (s.type === 'array') schemaPaths(s.items, `${path}[]`, out, depth + 1);
  return out;
}

function coverage(sample: unknown, schema: Schema): { unknown: string[]; wrongType: string[]; unreached: string[] } {
  const w: Walk = { unknown: [], wrongType: [], seen: new Set() };
  walk(sample, schema, '$', w);
  return { unknown: w.unknown, wrongType: w.wrongType, unreached: schemaPaths(schema, '$', []).filter((p) => !w.seen.has(p)) };
}

const ref = { kind: 'Pod', namespace: 'default', name: 'p', uid: 'u', apiVersion: 'v1', resourceVersion: '1', fieldPath: 'spec' };

const fullService: Full<Service> = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: fullMeta,
  spec: {
    ports: [{ name: 'http', protocol: 'TCP', appProtocol: 'http', port: 80, targetPort: 8080, nodePort: 30080 }],
    selector: { app: 'web' },
    clusterIP: '10.96.0.10',
    clusterIPs: ['10.96.0.10'],
    type: 'LoadBalancer',
    externalIPs: ['192.0.2.1'],
    sessionAffinity: 'ClientIP',
    loadBalancerIP: '192.0.2.2',
    loadBalancerSourceRanges: ['0.0.0.0/0'],
    externalName: 'x.example.com',
    externalTrafficPolicy: 'Local',
    healthCheckNodePort: 30000,
    publishNotReadyAddresses: true,
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 10800 } },
    ipFamilies: ['IPv4'],
    ipFamilyPolicy: 'SingleStack',
    allocateLoadBalancerNodePorts: true,
    loadBalancerClass: 'example.com/lb',
    internalTrafficPolicy: 'Cluster',
    trafficDistribution: 'PreferClose',
  },
  status: {
    loadBalancer: { ingress: [{ ip: '192.0.2.3', hostname: 'lb.example.com', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP', error: 'e' }] }] },
    conditions: [fullCondition],
  },
};

const fullNode: Full<Node> = {
  apiVersion: 'v1',
  kind: 'Node',
  metadata: fullMeta,
  spec: {
    podCIDR: '10.244.1.0/24',
    podCIDRs: ['10.244.1.0/24'],
    providerID: 'knode://n1',
    unschedulable: false,
    taints: [{ key: 'k', value: 'v', effect: 'NoSchedule', timeAdded: '2024-01-01T00:00:00Z' }],
    configSource: {},
    externalID: 'x',
  },
  status: {
    capacity: { cpu: '2', memory: '4Gi', pods: '110' },
    allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
    phase: 'Running',
    conditions: [fullCondition],
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: 'm',
      systemUUID: 's',
      bootID: 'b',
      kernelVersion: '6.1',
      osImage: 'Debian',
      containerRuntimeVersion: 'containerd://1.6.20',
      kubeletVersion: 'v1.32.0',
      kubeProxyVersion: 'v1.32.0',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
    images: [{ names: ['busybox'], sizeBytes: 1 }],
    volumesInUse: ['v'],
    volumesAttached: [{ name: 'v', devicePath: '/dev/x' }],
    runtimeHandlers: [{ name: 'runc', features: { recursiveReadOnlyMounts: true, userNamespaces: false } }],
  },
};

const address = { ip: '10.244.0.5', hostname: 'h', nodeName: 'n1', targetRef: ref };
const samples: readonly [KindDefinition, unknown][] = [
  [podKind as unknown as KindDefinition, fullPod],
  [serviceKind as unknown as KindDefinition, fullService],
  [nodeKind as unknown as KindDefinition, fullNode],
  [
    namespaceKind as unknown as KindDefinition,
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: fullMeta,
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active', conditions: [fullCondition] },
    } satisfies Full<Namespace>,
  ],
  [
    endpointsKind as unknown as KindDefinition,
    {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: fullMeta,
      subsets: [{ addresses: [address], notReadyAddresses: [address], ports: [{ name: 'http', port: 80, protocol: 'TCP', appProtocol: 'http' }] }],
    } satisfies Full<Endpoints>,
  ],
  [
    configMapKind as unknown as KindDefinition,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: fullMeta, data: { a: 'b' }, binaryData: { c: 'AAE=' }, immutable: false } satisfies Full<ConfigMap>,
  ],
  [
    secretKind as unknown as KindDefinition,
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: fullMeta,
      data: { a: 'Yg==' },
      stringData: { c: 'd' },
      type: 'Opaque',
      immutable: false,
    } satisfies Full<Secret>,
  ],
  [
    serviceAccountKind as unknown as KindDefinition,
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: fullMeta,
      secrets: [ref],
      imagePullSecrets: [{ name: 'reg' }],
      automountServiceAccountToken: true,
    } satisfies Full<ServiceAccount>,
  ],
  [
    eventKind as unknown as KindDefinition,
    {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: fullMeta,
      involvedObject: ref,
      reason: 'Started',
      message: 'm',
      source: { component: 'kubelet', host: 'n1' },
      firstTimestamp: '2024-01-01T00:00:00Z',
      lastTimestamp: '2024-01-01T00:00:00Z',
      count: 1,
      type: 'Normal',
      eventTime: '2024-01-01T00:00:00.000000Z',
      series: { count: 2, lastObservedTime: '2024-01-01T00:00:00.000000Z' },
      action: 'Start',
      related: ref,
      reportingComponent: 'kubelet',
      reportingInstance: 'n1',
    } satisfies Full<Event>,
  ],
];

describe('schema coverage', () => {
  it.each(samples.map(([def, sample]) => [def.kind, def, sample] as const))('%s: schema and interface agree', (_k, def, sample) => {
    expect(coverage(sample as KubeObject, def.schema)).toEqual({ unknown: [], wrongType: [], unreached: [] });
  });

  it('the pod template schema covers a full template', () => {
    expect(coverage({ metadata: fullMeta, spec: fullPodSpec }, podTemplateSpecSchema)).toEqual({ unknown: [], wrongType: [], unreached: [] });
  });

  it('the walker does notice an unknown field', () => {
    expect(coverage({ ...fullPod, spec: { ...fullPodSpec, bogus: 1 } }, podKind.schema).unknown).toEqual(['$.spec.bogus']);
  });
});
