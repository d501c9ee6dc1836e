import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { FilterPlugin } from './filters.js';
import { toleratesTaint } from '../../api/core/tolerations.js';
import { runFilters } from './filters.js';
import { NodeInfo } from './node-info.js';
import { computeAffinityState } from './pod-affinity.js';
import { computePodInfo } from './pod-info.js';
import type { DeepMutable } from './test-fixtures.js';
import { makeNode, makePod, mutated } from './test-fixtures.js';

const basePod = makePod('p', { cpu: '500m', memory: '256Mi', labels: { app: 'web' } });
const baseNode = makeNode('n1', { cpu: '4', memory: '8Gi', pods: '110', labels: { zone: 'a', size: '8' } });

interface Case {
  readonly name: string;
  readonly pod?: (p: DeepMutable<Pod>) => void;
  readonly node?: (n: DeepMutable<Node>) => void;
  /** Pods already on the node. */
  readonly existing?: readonly Pod[];
  readonly expect: undefined | { plugin: FilterPlugin; reasons: string[] };
}

const ready = (status: 'True' | 'False' | 'Unknown') => (n: DeepMutable<Node>) => {
  n.status!.conditions = [{ type: 'Ready', status }];
};
const taint = (key: string, value: string | undefined, effect: 'NoSchedule' | 'NoExecute' | 'PreferNoSchedule') => (n: DeepMutable<Node>) => {
  n.spec = { ...n.spec, taints: [{ key, ...(value !== undefined ? { value } : {}), effect }] };
};
const affinity = (key: string, operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt', values?: string[]) => (p: DeepMutable<Pod>) => {
  p.spec.affinity = {
    nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] }] } },
  };
};
const antiAffinity = (app: string) => (p: DeepMutable<Pod>) => {
  p.spec.affinity = {
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app } }, topologyKey: 'kubernetes.io/hostname' }] },
  };
};
const AFF = "node(s) didn't match Pod's node affinity/selector";

const cases: Case[] = [
  { name: 'a plain pod fits a Ready node with room', expect: undefined },
  { name: 'spec.unschedulable rejects', node: (n) => void (n.spec = { unschedulable: true }), expect: { plugin: 'NodeUnschedulable', reasons: ['node(s) were unschedulable'] } },
  {
    name: 'spec.unschedulable is tolerated by the unschedulable toleration',
    node: (n) => void (n.spec = { unschedulable: true }),
    pod: (p) => void (p.spec.tolerations = [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }]),
    expect: undefined,
  },
  { name: 'an untolerated NoSchedule taint rejects with key and value', node: taint('dedicated', 'gpu', 'NoSchedule'), expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {dedicated: gpu}'] } },
  { name: 'an untolerated NoExecute taint rejects', node: taint('evict', undefined, 'NoExecute'), expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {evict: }'] } },
  { name: 'a PreferNoSchedule taint only scores', node: taint('soft', 'x', 'PreferNoSchedule'), expect: undefined },
  {
    name: 'an Exists toleration on the key tolerates any value',
    node: taint('dedicated', 'gpu', 'NoSchedule'),
    pod: (p) => void (p.spec.tolerations = [{ key: 'dedicated', operator: 'Exists' }]),
    expect: undefined,
  },
  {
    name: 'an Equal toleration with another value does not tolerate',
    node: taint('dedicated', 'gpu', 'NoSchedule'),
    pod: (p) => void (p.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }]),
    expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {dedicated: gpu}'] },
  },
  { name: 'Ready=False counts as the not-ready taint', node: ready('False'), expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] } },
  { name: 'Ready=Unknown counts as the unreachable taint', node: ready('Unknown'), expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }'] } },
  {
    name: 'a not-ready node takes pods tolerating not-ready NoSchedule (DaemonSets)',
    node: ready('False'),
    pod: (p) => void (p.spec.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }]),
    expect: undefined,
  },
  {
    name: 'the default NoExecute not-ready toleration does not cover NoSchedule',
    node: ready('False'),
    pod: (p) => void (p.spec.tolerations = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]),
    expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'] },
  },
  { name: 'nodeSelector matching the labels fits', pod: (p) => void (p.spec.nodeSelector = { zone: 'a' }), expect: undefined },
  { name: 'nodeSelector not matching rejects', pod: (p) => void (p.spec.nodeSelector = { zone: 'b' }), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  { name: 'affinity In matches', pod: affinity('zone', 'In', ['a', 'b']), expect: undefined },
  { name: 'affinity In without the value rejects', pod: affinity('zone', 'In', ['b']), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  { name: 'affinity NotIn with the value rejects', pod: affinity('zone', 'NotIn', ['a']), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  { name: 'affinity NotIn on a missing label matches', pod: affinity('rack', 'NotIn', ['r1']), expect: undefined },
  { name: 'affinity Exists matches', pod: affinity('zone', 'Exists'), expect: undefined },
  { name: 'affinity DoesNotExist on a present label rejects', pod: affinity('zone', 'DoesNotExist'), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  { name: 'affinity Gt compares integers', pod: affinity('size', 'Gt', ['4']), expect: undefined },
  { name: 'affinity Lt compares integers', pod: affinity('size', 'Lt', ['4']), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  { name: 'affinity Gt on a non-integer label rejects', pod: affinity('zone', 'Gt', ['1']), expect: { plugin: 'NodeAffinity', reasons: [AFF] } },
  {
    name: 'matchFields metadata.name In',
    pod: (p) => {
      p.spec.affinity = {
        nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] } },
      };
    },
    expect: { plugin: 'NodeAffinity', reasons: [AFF] },
  },
  {
    name: 'terms are ORed: the second term matches',
    pod: (p) => {
      p.spec.affinity = {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['z'] }] }, { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }],
          },
        },
      };
    },
    expect: undefined,
  },
  {
    name: 'a used host port rejects',
    pod: (p) => void (p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }]),
    existing: [makePod('other', { nodeName: 'n1', hostPort: 8080 })],
    expect: { plugin: 'NodePorts', reasons: ["node(s) didn't have free ports for the requested pod ports"] },
  },
  { name: 'another host port fits', pod: (p) => void (p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8081 }]), existing: [makePod('other', { nodeName: 'n1', hostPort: 8080 })], expect: undefined },
  {
    name: 'the same port on UDP fits',
    pod: (p) => void (p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, protocol: 'UDP' }]),
    existing: [makePod('other', { nodeName: 'n1', hostPort: 8080 })],
    expect: undefined,
  },
  {
    name: 'a specific host IP conflicts with a wildcard user',
    pod: (p) => void (p.spec.containers[0]!.ports = [{ containerPort: 80, hostPort: 8080, hostIP: '10.0.0.1' }]),
    existing: [makePod('other', { nodeName: 'n1', hostPort: 8080 })],
    expect: { plugin: 'NodePorts', reasons: ["node(s) didn't have free ports for the requested pod ports"] },
  },
  {
    name: 'cpu already requested by the pods there counts',
    existing: [makePod('big', { nodeName: 'n1', cpu: '3600m' })],
    expect: { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'] },
  },
  {
    name: 'every shortfall is listed',
    pod: (p) => void (p.spec.containers[0]!.resources = { requests: { cpu: '5', memory: '9Gi' } }),
    expect: { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu', 'Insufficient memory'] },
  },
  { name: 'the pods count is a resource', node: (n) => void (n.status!.allocatable = { cpu: '4', memory: '8Gi', pods: '1' }), existing: [makePod('x', { nodeName: 'n1' })], expect: { plugin: 'NodeResourcesFit', reasons: ['Too many pods'] } },
  {
    name: 'an extended resource the node lacks',
    pod: (p) => void (p.spec.containers[0]!.resources = { requests: { 'example.com/gpu': '1' }, limits: { 'example.com/gpu': '1' } }),
    expect: { plugin: 'NodeResourcesFit', reasons: ['Insufficient example.com/gpu'] },
  },
  { name: 'a pod requesting nothing fits a full node', pod: (p) => void (p.spec.containers[0]!.resources = {}), existing: [makePod('big', { nodeName: 'n1', cpu: '4' })], expect: undefined },
  {
    name: 'anti-affinity on hostname against a matching pod there',
    pod: antiAffinity('web'),
    existing: [makePod('w0', { nodeName: 'n1', labels: { app: 'web' } })],
    expect: { plugin: 'InterPodAffinity', reasons: ["node(s) didn't match pod anti-affinity rules"] },
  },
  { name: 'anti-affinity ignores pods of other namespaces', pod: antiAffinity('web'), existing: [makePod('w0', { nodeName: 'n1', namespace: 'other', labels: { app: 'web' } })], expect: undefined },
  {
    name: "an existing pod's anti-affinity keeps matching pods away",
    existing: [mutated(makePod('guard', { nodeName: 'n1', labels: { app: 'guard' } }), antiAffinity('web'))],
    expect: { plugin: 'InterPodAffinity', reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"] },
  },
  {
    name: 'required pod affinity with no matching pod anywhere rejects',
    pod: (p) => {
      p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }] } };
    },
    expect: { plugin: 'InterPodAffinity', reasons: ["node(s) didn't match pod affinity rules"] },
  },
  {
    name: 'required pod affinity satisfied by a pod in the same zone',
    pod: (p) => {
      p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'zone' }] } };
    },
    existing: [makePod('db', { nodeName: 'n1', labels: { app: 'db' } })],
    expect: undefined,
  },
  {
    name: 'the first pod of a self-affine group may go anywhere',
    pod: (p) => {
      p.spec.affinity = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone' }] } };
    },
    expect: undefined,
  },
  {
    name: 'the first failing filter decides (taint before resources)',
    node: taint('dedicated', 'gpu', 'NoSchedule'),
    existing: [makePod('big', { nodeName: 'n1', cpu: '4' })],
    expect: { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {dedicated: gpu}'] },
  },
];

describe('runFilters', () => {
  it.each(cases)('$name', (c) => {
    const node = new NodeInfo('n1', mutated(baseNode, c.node));
    for (const p of c.existing ?? []) node.addPod(computePodInfo(p));
    const pod = computePodInfo(mutated(basePod, c.pod));
    const state = computeAffinityState(pod, [node], () => undefined);
    const got = runFilters(pod, node, state);
    if (c.expect === undefined) expect(got).toBeUndefined();
    else expect({ plugin: got?.plugin, reasons: got?.reasons }).toEqual(c.expect);
  });
});

describe('toleratesTaint', () => {
  it.each([
    ['empty key with Exists tolerates everything', { operator: 'Exists' as const }, { key: 'k', value: 'v', effect: 'NoSchedule' as const }, true],
    ['effect must match when set', { key: 'k', operator: 'Exists' as const, effect: 'NoExecute' as const }, { key: 'k', effect: 'NoSchedule' as const }, false],
    ['Equal is the default operator', { key: 'k', value: 'v' }, { key: 'k', value: 'v', effect: 'NoSchedule' as const }, true],
    ['Equal with no value matches an empty value', { key: 'k' }, { key: 'k', effect: 'NoSchedule' as const }, true],
    ['an empty effect matches every effect (upstream)', { key: 'k', operator: 'Exists' as const, effect: '' as never }, { key: 'k', effect: 'NoExecute' as const }, true],
  ])('%s', (_name, tol, taint, want) => {
    expect(toleratesTaint(tol, taint)).toBe(want);
  });
});
