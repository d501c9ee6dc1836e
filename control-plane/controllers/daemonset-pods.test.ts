import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod, PodSpec } from '../../api/core/pod.js';
import type { Taint } from '../../api/core/scheduling.js';
import type { DaemonSet } from '../../api/apps/daemonset.js';
import type { NodePlacement } from './daemonset-pods.js';
import { daemonPodNode, daemonTolerations, isPodAvailable, isPodUpdated, newDaemonPod, nodeMatchesPodSpec, nodeShouldRunDaemonPod, templateHash, withDaemonTolerations } from './daemonset-pods.js';
import { Expectations, planClaims } from './daemonset-claims.js';

const node = (name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node => ({ metadata: { name, labels }, spec: { taints } });
const daemonSet = (spec: Partial<PodSpec> = {}, mutate: (ds: DaemonSet) => DaemonSet = (d) => d): DaemonSet =>
  mutate({
    metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'img:1' }], ...spec } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
    },
  });

describe('nodeShouldRunDaemonPod', () => {
  const run: NodePlacement = { shouldRun: true, shouldContinueRunning: true };
  const no: NodePlacement = { shouldRun: false, shouldContinueRunning: false };
  const stay: NodePlacement = { shouldRun: false, shouldContinueRunning: true };
  const cases: Array<[string, DaemonSet, Node, NodePlacement]> = [
    ['a plain node runs it', daemonSet(), node('a'), run],
    ['nodeSelector matches', daemonSet({ nodeSelector: { role: 'edge' } }), node('a', { role: 'edge' }), run],
    ['nodeSelector does not match', daemonSet({ nodeSelector: { role: 'edge' } }), node('a', { role: 'core' }), no],
    ['template nodeName elsewhere', daemonSet({ nodeName: 'b' }), node('a'), no],
    [
      'required affinity In',
      daemonSet({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] }] } } } }),
      node('a', { zone: 'y' }),
      no,
    ],
    ['untolerated NoSchedule: no new pod, a running one stays', daemonSet(), node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), stay],
    ['untolerated NoExecute: it goes', daemonSet(), node('a', {}, [{ key: 'dedicated', effect: 'NoExecute' }]), no],
    ['tolerated by the template', daemonSet({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), node('a', {}, [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }]), run],
    ['PreferNoSchedule does not count', daemonSet(), node('a', {}, [{ key: 'x', effect: 'PreferNoSchedule' }]), run],
    ['unreachable NoExecute is tolerated by default (daemon pods survive node loss)', daemonSet(), node('a', {}, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]), run],
    ['unschedulable and pressure taints are tolerated by default', daemonSet(), node('a', {}, ['unschedulable', 'disk-pressure', 'memory-pressure', 'pid-pressure'].map((k): Taint => ({ key: `node.kubernetes.io/${k}`, effect: 'NoSchedule' }))), run],
    ['not-ready NoSchedule is NOT tolerated by default: no new pod on a NotReady node', daemonSet(), node('a', {}, [{ key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' }]), stay],
    ['network-unavailable: only hostNetwork pods tolerate it', daemonSet(), node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), stay],
    ['network-unavailable with hostNetwork', daemonSet({ hostNetwork: true }), node('a', {}, [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }]), run],
  ];
  for (const [name, ds, n, expected] of cases) it(name, () => expect(nodeShouldRunDaemonPod(ds, n)).toEqual(expected));
});

describe('nodeMatchesPodSpec (required node affinity)', () => {
  const spec = (...terms: Array<Record<string, unknown>>): PodSpec =>
    ({ containers: [], affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } } }) as unknown as PodSpec;
  const n = node('web-1', { zone: 'a', cores: '8' });
  const cases: Array<[string, PodSpec, boolean]> = [
    ['terms are ORed', spec({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] }, { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }), true],
    ['expressions in a term are ANDed', spec({ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gpu', operator: 'Exists' }] }), false],
    ['NotIn matches an absent label', spec({ matchExpressions: [{ key: 'gpu', operator: 'NotIn', values: ['yes'] }] }), true],
    ['DoesNotExist', spec({ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist' }] }), false],
    ['Gt compares integers', spec({ matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['4'] }] }), true],
    ['Lt compares integers', spec({ matchExpressions: [{ key: 'cores', operator: 'Lt', values: ['4'] }] }), false],
    ['matchFields metadata.name', spec({ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['web-1'] }] }), true],
    ['an empty term matches nothing', spec({}), false],
    ['no terms match nothing', spec(), false],
  ];
  for (const [name, s, expected] of cases) it(name, () => expect(nodeMatchesPodSpec(s, n)).toBe(expected));
});

describe('daemon pods', () => {
  it('withDaemonTolerations appends the defaults once, replacing identical ones', () => {
    const mine = { key: 'node.kubernetes.io/unreachable', operator: 'Exists' as const, effect: 'NoExecute' as const, tolerationSeconds: 10 };
    const out = withDaemonTolerations({ containers: [], tolerations: [{ key: 'gpu', operator: 'Exists' }, mine] });
    expect(out[0]).toEqual({ key: 'gpu', operator: 'Exists' });
    // same key/operator/effect: replaced by the forever toleration, as upstream's AddOrUpdateTolerationInPodSpec
    expect(out[1]).toEqual({ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' });
    expect(out).toHaveLength(1 + daemonTolerations(false).length);
  });

  it('newDaemonPod: generateName, owner, labels, tolerations, affinity pinned to the node', () => {
    const ds = daemonSet({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'z', operator: 'Exists' }] }] } } } });
    const pod = newDaemonPod(ds, 'node-a', 'h4sh');
    expect(pod.metadata).toEqual({
      generateName: 'agent-',
      namespace: 'ns',
      labels: { app: 'agent', 'controller-revision-hash': 'h4sh', 'pod-template-generation': '1' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true, blockOwnerDeletion: true }],
    });
    expect(pod.spec.nodeName).toBeUndefined();
    expect(pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['node-a'] }] }],
    });
    expect(pod.spec.tolerations).toEqual(daemonTolerations(false));
    expect(daemonPodNode(pod)).toBe('node-a');
  });

  it('templateHash: stable, key-order independent, changes with the template, upstream alphabet', () => {
    const a = daemonSet();
    const reordered: DaemonSet = { ...a, spec: { ...a.spec, template: { spec: a.spec.template.spec ?? { containers: [] }, metadata: { labels: { app: 'agent' } } } } };
    const changed = daemonSet({ containers: [{ name: 'c', image: 'img:2' }] });
    expect(templateHash(a)).toBe(templateHash(reordered));
    expect(templateHash(a)).not.toBe(templateHash(changed));
    expect(templateHash(a)).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });

  it('isPodUpdated by hash or template generation', () => {
    const pod = (labels: Record<string, string>): Pod => ({ metadata: { labels }, spec: { containers: [] } });
    expect(isPodUpdated(pod({ 'controller-revision-hash': 'x' }), 'x', 2)).toBe(true);
    expect(isPodUpdated(pod({ 'pod-template-generation': '2' }), 'y', 2)).toBe(true);
    expect(isPodUpdated(pod({ 'controller-revision-hash': 'x', 'pod-template-generation': '1' }), 'y', 2)).toBe(false);
  });

  it('isPodAvailable honours minReadySeconds', () => {
    const p: Pod = { metadata: {}, spec: { containers: [] }, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] } };
    const t = Date.UTC(2026, 0, 1);
    expect(isPodAvailable(p, 0, t)).toBe(true);
    expect(isPodAvailable(p, 10, t + 9_000)).toBe(false);
    expect(isPodAvailable(p, 10, t + 10_000)).toBe(true);
  });
});

describe('planClaims', () => {
  const ds = daemonSet();
  const pod = (name: string, labels: Record<string, string>, owner?: string, extra: Partial<Pod['metadata']> = {}): Pod => ({
    metadata: { name, namespace: 'ns', labels, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'x', uid: owner, controller: true }] } : {}), ...extra },
    spec: { containers: [] },
  });
  it('owns its matching pods, adopts matching orphans, releases non-matching ones, ignores others', () => {
    const mine = pod('mine', { app: 'agent' }, 'ds-uid');
    const orphan = pod('orphan', { app: 'agent' });
    const strayed = pod('strayed', { app: 'other' }, 'ds-uid');
    const foreign = pod('foreign', { app: 'agent' }, 'other-uid');
    const dying = pod('dying', { app: 'agent' }, undefined, { deletionTimestamp: 'x' });
    const elsewhere = { ...orphan, metadata: { ...orphan.metadata, namespace: 'other' } };
    const c = planClaims(ds, [mine, orphan, strayed, foreign, dying, elsewhere]);
    expect(c.owned.map((p) => p.metadata.name)).toEqual(['mine', 'orphan']);
    expect(c.adopt.map((p) => p.metadata.name)).toEqual(['orphan']);
    expect(c.release.map((p) => p.metadata.name)).toEqual(['strayed']);
  });
  it('a DaemonSet being deleted adopts and releases nothing', () => {
    const c = planClaims({ ...ds, metadata: { ...ds.metadata, deletionTimestamp: 'x' } }, [pod('orphan', { app: 'agent' }), pod('strayed', { app: 'b' }, 'ds-uid')]);
    expect([c.adopt.length, c.release.length]).toEqual([0, 0]);
  });
});

describe('Expectations', () => {
  it('unsatisfied until every create and delete is observed, or 5 minutes pass', () => {
    const e = new Expectations();
    e.expect('k', 2, ['ns/p'], 0);
    expect(e.satisfied('k', 0)).toBe(false);
    e.creationObserved('k');
    e.creationsSkipped('k', 1);
    expect(e.satisfied('k', 0)).toBe(false);
    e.deletionObserved('k', 'ns/p');
    expect(e.satisfied('k', 0)).toBe(true);
    e.expect('k', 1, [], 0);
    expect(e.satisfied('k', 5 * 60_000 + 1)).toBe(true);
  });
});
