import { describe, expect, it } from 'vitest';
import type { Node, NodeCondition } from '../../api/core/node.js';
import type { Taint, Toleration } from '../../api/core/scheduling.js';
import type { NoExecuteAction, TaintChange } from './node-lifecycle-taints.js';
import { findUntoleratedTaint, toleratesTaint } from '../../api/core/tolerations.js';
import { applyTaintChanges, planNoExecuteTaint, planNoScheduleTaints, TAINT_NOT_READY, TAINT_UNREACHABLE } from './node-lifecycle-taints.js';

const taint = (key: string, effect: Taint['effect'] = 'NoExecute', value?: string): Taint => ({ key, effect, ...(value !== undefined ? { value } : {}) });

describe('toleratesTaint (upstream ToleratesTaint)', () => {
  const cases: Array<[string, Toleration, Taint, boolean]> = [
    ['Exists on the key, any value', { key: 'k', operator: 'Exists' }, taint('k', 'NoSchedule', 'v'), true],
    ['Equal needs the same value', { key: 'k', operator: 'Equal', value: 'v' }, taint('k', 'NoSchedule', 'v'), true],
    ['Equal with another value', { key: 'k', operator: 'Equal', value: 'w' }, taint('k', 'NoSchedule', 'v'), false],
    ['no operator means Equal; empty value matches no value', { key: 'k' }, taint('k'), true],
    ['another key', { key: 'x', operator: 'Exists' }, taint('k'), false],
    ['effect must match when given', { key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint('k', 'NoExecute'), false],
    ['no effect matches every effect', { key: 'k', operator: 'Exists' }, taint('k', 'NoExecute'), true],
    ['empty key with Exists tolerates everything', { operator: 'Exists' }, taint('anything', 'NoExecute', 'v'), true],
  ];
  for (const [name, t, tn, expected] of cases) it(name, () => expect(toleratesTaint(t, tn)).toBe(expected));

  it('findUntoleratedTaint returns the first untolerated taint passing the filter', () => {
    const taints = [taint('a', 'NoSchedule'), taint('b', 'NoExecute'), taint('c', 'PreferNoSchedule')];
    expect(findUntoleratedTaint(taints, [{ key: 'a', operator: 'Exists' }])?.key).toBe('b');
    expect(findUntoleratedTaint(taints, [], (t) => t.effect === 'PreferNoSchedule')?.key).toBe('c');
    expect(findUntoleratedTaint(taints, [{ operator: 'Exists' }])).toBeUndefined();
  });
});

const cond = (type: string, status: NodeCondition['status']): NodeCondition => ({ type, status });
const node = (conditions: NodeCondition[], taints: Taint[] = [], unschedulable = false): Node => ({
  metadata: { name: 'n' },
  spec: { taints, ...(unschedulable ? { unschedulable } : {}) },
  status: { conditions },
});
const ns = (key: string) => ({ key: `node.kubernetes.io/${key}`, effect: 'NoSchedule' as const });

describe('planNoScheduleTaints (TaintNodesByCondition)', () => {
  const cases: Array<[string, Node, TaintChange]> = [
    ['a healthy node needs none', node([cond('Ready', 'True'), cond('MemoryPressure', 'False')]), { add: [], remove: [] }],
    ['Ready=False: not-ready', node([cond('Ready', 'False')]), { add: [ns('not-ready')], remove: [] }],
    ['Ready=Unknown: unreachable', node([cond('Ready', 'Unknown')]), { add: [ns('unreachable')], remove: [] }],
    [
      'pressures and network',
      node([cond('Ready', 'True'), cond('MemoryPressure', 'True'), cond('DiskPressure', 'True'), cond('PIDPressure', 'True'), cond('NetworkUnavailable', 'True')]),
      { add: [ns('memory-pressure'), ns('disk-pressure'), ns('pid-pressure'), ns('network-unavailable')], remove: [] },
    ],
    ['spec.unschedulable: unschedulable', node([cond('Ready', 'True')], [], true), { add: [ns('unschedulable')], remove: [] }],
    ['recovered: the old taint goes', node([cond('Ready', 'True')], [{ ...ns('unreachable'), timeAdded: 'x' }]), { add: [], remove: [ns('unreachable')] }],
    ['Unknown -> False swaps the taints', node([cond('Ready', 'False')], [ns('unreachable')]), { add: [ns('not-ready')], remove: [ns('unreachable')] }],
    ['user taints and NoExecute ones are not ours to touch', node([cond('Ready', 'True')], [taint('dedicated', 'NoSchedule'), taint(TAINT_UNREACHABLE, 'NoExecute')]), { add: [], remove: [] }],
    ['already tainted: nothing', node([cond('Ready', 'False')], [ns('not-ready')]), { add: [], remove: [] }],
  ];
  for (const [name, n, expected] of cases) it(name, () => expect(planNoScheduleTaints(n)).toEqual(expected));
});

describe('planNoExecuteTaint', () => {
  const NR = { key: TAINT_NOT_READY, effect: 'NoExecute' as const };
  const UR = { key: TAINT_UNREACHABLE, effect: 'NoExecute' as const };
  const cases: Array<[string, 'True' | 'False' | 'Unknown' | undefined, Taint[], boolean, NoExecuteAction]> = [
    ['Ready: nothing', 'True', [], false, { kind: 'none' }],
    ['Ready again: both removed', 'True', [taint(TAINT_UNREACHABLE), taint('mine')], false, { kind: 'remove', change: { add: [], remove: [UR] } }],
    ['Unknown, untainted: add unreachable (needs a zone token)', 'Unknown', [], false, { kind: 'add', change: { add: [UR], remove: [] } }],
    ['False, untainted: add not-ready', 'False', [], false, { kind: 'add', change: { add: [NR], remove: [] } }],
    ['False while unreachable: swap at once', 'False', [taint(TAINT_UNREACHABLE)], false, { kind: 'swap', change: { add: [NR], remove: [UR] } }],
    ['Unknown while not-ready: swap at once', 'Unknown', [taint(TAINT_NOT_READY)], false, { kind: 'swap', change: { add: [UR], remove: [NR] } }],
    ['already right: nothing', 'Unknown', [taint(TAINT_UNREACHABLE)], false, { kind: 'none' }],
    ['both present: the wrong one goes', 'Unknown', [taint(TAINT_UNREACHABLE), taint(TAINT_NOT_READY)], false, { kind: 'remove', change: { add: [], remove: [NR] } }],
    ['no Ready condition yet: nothing', undefined, [], false, { kind: 'none' }],
    ['suspended (all zones down): taints come off', 'Unknown', [taint(TAINT_UNREACHABLE)], true, { kind: 'remove', change: { add: [], remove: [UR] } }],
    ['suspended: nothing added', 'Unknown', [], true, { kind: 'none' }],
    ['a NoSchedule unreachable taint is not the NoExecute one', 'Unknown', [taint(TAINT_UNREACHABLE, 'NoSchedule')], false, { kind: 'add', change: { add: [UR], remove: [] } }],
  ];
  for (const [name, ready, taints, suspended, expected] of cases) it(name, () => expect(planNoExecuteTaint(ready, taints, suspended)).toEqual(expected));
});

describe('applyTaintChanges', () => {
  const now = '2026-01-01T00:00:00Z';
  it('adds with timeAdded, removes by key and effect, keeps others in place', () => {
    const before = [taint('user', 'NoSchedule'), { ...taint(TAINT_NOT_READY), timeAdded: 'old' }];
    expect(
      applyTaintChanges(before, [{ add: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }], remove: [{ key: TAINT_NOT_READY, effect: 'NoExecute' }] }], now),
    ).toEqual([taint('user', 'NoSchedule'), { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: now }]);
  });
  it('undefined when nothing changes (present already, absent already)', () => {
    const before = [{ ...taint(TAINT_UNREACHABLE), timeAdded: 'old' }];
    expect(applyTaintChanges(before, [{ add: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }], remove: [{ key: 'x', effect: 'NoSchedule' }] }], now)).toBeUndefined();
    expect(applyTaintChanges(undefined, [], now)).toBeUndefined();
  });
  it('applies several changes in order', () => {
    const out = applyTaintChanges([], [{ add: [ns('unreachable')], remove: [] }, { add: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute' }], remove: [] }], now);
    expect(out?.map((t) => `${t.key}:${t.effect}`)).toEqual([`${TAINT_UNREACHABLE}:NoSchedule`, `${TAINT_UNREACHABLE}:NoExecute`]);
  });
});
