import { describe, expect, it } from 'vitest';
import type { RuntimeCondition, StatusResponse } from '../cri/types-sandbox.js';
import type { RuntimeHealth } from './runtime-health.js';
import { aggregateMessage, formatRuntimeCondition, INITIAL_RUNTIME_HEALTH, networkErrors, observeRuntimeStatus, runtimeErrors } from './runtime-health.js';

const cond = (type: string, status: boolean, reason = '', message = ''): RuntimeCondition => ({ type, status, reason, message });
const answered = (...conditions: RuntimeCondition[]) => ({ kind: 'answered' as const, status: { status: { conditions }, info: {}, runtimeHandlers: [] } satisfies StatusResponse });
const THRESHOLD = 30_000;

function readiness(h: RuntimeHealth, now: number): string[] {
  return [...runtimeErrors(h, now, THRESHOLD), ...networkErrors(h)];
}

describe('formatRuntimeCondition', () => {
  it("prints kubelet's RuntimeCondition String()", () => {
    expect(formatRuntimeCondition(cond('NetworkReady', false, 'NetworkPluginNotReady', 'Network plugin returns error: cni plugin not initialized'))).toBe(
      'NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
    );
  });
  it('prints <nil> for a condition the runtime did not report', () => {
    expect(formatRuntimeCondition(undefined)).toBe('<nil>');
  });
});

describe('runtime health -> not-ready reasons', () => {
  it.each<[string, RuntimeHealth, number, string[]]>([
    ['nothing observed yet', INITIAL_RUNTIME_HEALTH, 0, ['container runtime status check may not have completed yet']],
    ['runtime and network ready', observeRuntimeStatus({}, answered(cond('RuntimeReady', true), cond('NetworkReady', true)), 1000), 1000, []],
    [
      'network not ready',
      observeRuntimeStatus({}, answered(cond('RuntimeReady', true), cond('NetworkReady', false, 'NetworkPluginNotReady', 'cni plugin not initialized')), 1000),
      1000,
      ['container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:cni plugin not initialized'],
    ],
    [
      'network condition missing',
      observeRuntimeStatus({}, answered(cond('RuntimeReady', true)), 1000),
      1000,
      ['container runtime network not ready: <nil>'],
    ],
    [
      'runtime not ready (never synced)',
      observeRuntimeStatus({}, answered(cond('RuntimeReady', false, 'Boom', 'containerd broke'), cond('NetworkReady', true)), 1000),
      1000,
      ['container runtime status check may not have completed yet', 'container runtime not ready: RuntimeReady=false reason:Boom message:containerd broke'],
    ],
    ['silent for less than the threshold', { lastSyncAt: 1000 }, 1000 + THRESHOLD - 1, []],
    ['silent for the threshold: down', { lastSyncAt: 1000 }, 1000 + THRESHOLD, ['container runtime is down']],
  ])('%s', (_name, health, now, want) => {
    expect(readiness(health, now)).toEqual(want);
  });

  it('a failed Status call keeps the last answer and lets the clock run', () => {
    const h = observeRuntimeStatus({ lastSyncAt: 5 }, { kind: 'failed', error: 'connection refused' }, 100);
    expect(h).toEqual({ lastSyncAt: 5 });
  });

  it('a ready answer clears earlier errors', () => {
    const bad = observeRuntimeStatus({}, answered(cond('RuntimeReady', false), cond('NetworkReady', false)), 1);
    const good = observeRuntimeStatus(bad, answered(cond('RuntimeReady', true), cond('NetworkReady', true)), 2);
    expect(good).toEqual({ lastSyncAt: 2 });
  });
});

describe('aggregateMessage (utilerrors.Aggregate)', () => {
  it.each([
    [['a'], 'a'],
    [['a', 'b'], '[a, b]'],
    [['a', 'a', 'b'], '[a, b]'],
  ])('%j -> %s', (errs, want) => {
    expect(aggregateMessage(errs)).toBe(want);
  });
});
