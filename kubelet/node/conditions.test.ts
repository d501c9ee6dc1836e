import { describe, expect, it } from 'vitest';
import type { NodeCondition } from '../../api/core/node.js';
import { computeNodeConditions, nodeStatusChanged } from './conditions.js';
import type { ObservedNodeState } from './conditions.js';
import { NO_PRESSURE } from './pressure.js';

const T0 = new Date('2026-01-01T00:00:00Z');
const T1 = new Date('2026-01-01T00:00:10Z');
const healthy: ObservedNodeState = { notReadyReasons: [], pressure: NO_PRESSURE };
const byType = (cs: readonly NodeCondition[], type: string): NodeCondition | undefined => cs.find((c) => c.type === type);

describe('computeNodeConditions', () => {
  it('creates the four conditions of a healthy node, Ready last', () => {
    const cs = computeNodeConditions([], healthy, T0);
    expect(cs.map((c) => c.type)).toEqual(['MemoryPressure', 'DiskPressure', 'PIDPressure', 'Ready']);
    expect(cs).toEqual([
      { type: 'MemoryPressure', status: 'False', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
      { type: 'DiskPressure', status: 'False', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
      { type: 'PIDPressure', status: 'False', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
      { type: 'Ready', status: 'True', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
    ]);
  });

  it('moves heartbeats but not transitions while nothing changes', () => {
    const cs = computeNodeConditions(computeNodeConditions([], healthy, T0), healthy, T1);
    for (const c of cs) {
      expect(c.lastHeartbeatTime).toBe('2026-01-01T00:00:10Z');
      expect(c.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    }
  });

  it.each<[string, ObservedNodeState, string, Partial<NodeCondition>]>([
    [
      'runtime network not ready -> NotReady with the message',
      { notReadyReasons: ['container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:x'], pressure: NO_PRESSURE },
      'Ready',
      { status: 'False', reason: 'KubeletNotReady', message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:x' },
    ],
    ['several reasons aggregate', { notReadyReasons: ['a', 'b'], pressure: NO_PRESSURE }, 'Ready', { status: 'False', message: '[a, b]' }],
    [
      'memory pressure',
      { notReadyReasons: [], pressure: { ...NO_PRESSURE, memory: true } },
      'MemoryPressure',
      { status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' },
    ],
    ['disk pressure', { notReadyReasons: [], pressure: { ...NO_PRESSURE, disk: true } }, 'DiskPressure', { status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }],
    [
      'pid pressure',
      { notReadyReasons: [], pressure: { ...NO_PRESSURE, pid: true } },
      'PIDPressure',
      { status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' },
    ],
  ])('%s (transition recorded)', (_name, observed, type, want) => {
    const before = computeNodeConditions([], healthy, T0);
    const after = byType(computeNodeConditions(before, observed, T1), type);
    expect(after).toMatchObject({ ...want, lastTransitionTime: '2026-01-01T00:00:10Z', lastHeartbeatTime: '2026-01-01T00:00:10Z' });
  });

  it('updates the NotReady message without a transition when only the reason changes', () => {
    const a = computeNodeConditions([], { notReadyReasons: ['first'], pressure: NO_PRESSURE }, T0);
    const ready = byType(computeNodeConditions(a, { notReadyReasons: ['second'], pressure: NO_PRESSURE }, T1), 'Ready');
    expect(ready).toMatchObject({ status: 'False', message: 'second', lastTransitionTime: '2026-01-01T00:00:00Z' });
  });

  it("keeps others' conditions and the order of existing ones", () => {
    const others: NodeCondition = { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', lastTransitionTime: 'x' };
    const prev: NodeCondition[] = [{ type: 'Ready', status: 'Unknown', lastTransitionTime: 'old' }, others];
    const cs = computeNodeConditions(prev, healthy, T0);
    expect(cs.map((c) => c.type)).toEqual(['Ready', 'NetworkUnavailable', 'MemoryPressure', 'DiskPressure', 'PIDPressure']);
    expect(byType(cs, 'NetworkUnavailable')).toBe(others);
    // Unknown (set by the node lifecycle controller) -> True is a transition
    expect(byType(cs, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });
});

describe('nodeStatusChanged', () => {
  const s0 = { conditions: computeNodeConditions([], healthy, T0), capacity: { cpu: '4' } };
  it('ignores heartbeat times', () => {
    expect(nodeStatusChanged(s0, { ...s0, conditions: computeNodeConditions(s0.conditions, healthy, T1) })).toBe(false);
  });
  it('sees a condition change', () => {
    expect(nodeStatusChanged(s0, { ...s0, conditions: computeNodeConditions(s0.conditions, { notReadyReasons: ['x'], pressure: NO_PRESSURE }, T1) })).toBe(true);
  });
  it('sees other fields change', () => {
    expect(nodeStatusChanged(s0, { ...s0, capacity: { cpu: '8' } })).toBe(true);
  });
});
