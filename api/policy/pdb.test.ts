import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { PodDisruptionBudget, PodDisruptionBudgetSpec, PodDisruptionBudgetStatus } from './pdb.js';
import { podDisruptionBudgetKind, scaledIntOrPercent } from './pdb.js';

const base: PodDisruptionBudget = {
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'web', namespace: 'default', resourceVersion: '1' },
  spec: { minAvailable: 2, selector: { matchLabels: { app: 'web' } } },
};

const withSpec = (spec: PodDisruptionBudgetSpec): PodDisruptionBudget => ({ ...base, spec });
const messages = (pdb: PodDisruptionBudget): string[] => podDisruptionBudgetKind.validate(pdb).map(formatFieldError);
const status: PodDisruptionBudgetStatus = { disruptionsAllowed: 1, currentHealthy: 3, desiredHealthy: 2, expectedPods: 3 };
const updateMessages = (s: PodDisruptionBudgetStatus): string[] =>
  podDisruptionBudgetKind.validateUpdate({ ...base, status: s }, base).map(formatFieldError);

describe('podDisruptionBudgetKind', () => {
  it('is policy/v1 poddisruptionbudgets, namespaced, short name pdb, with a status subresource', () => {
    expect(podDisruptionBudgetKind).toMatchObject({
      group: 'policy',
      version: 'v1',
      kind: 'PodDisruptionBudget',
      plural: 'poddisruptionbudgets',
      singular: 'poddisruptionbudget',
      namespaced: true,
      shortNames: ['pdb'],
      categories: [],
      hasStatusSubresource: true,
    });
  });

  it('defaults nothing', () => {
    expect(podDisruptionBudgetKind.default(base)).toEqual(base);
    const bare = withSpec({});
    expect(podDisruptionBudgetKind.default(bare)).toEqual(bare);
  });

  it('accepts ints, percentages, neither, an empty or absent selector, and both eviction policies', () => {
    for (const spec of [
      { minAvailable: 0 },
      { minAvailable: '100%' },
      { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' as const },
      { maxUnavailable: '0%', unhealthyPodEvictionPolicy: 'IfHealthyBudget' as const },
      { selector: {} },
      {},
    ]) {
      expect(messages(withSpec(spec))).toEqual([]);
    }
    expect(messages({ metadata: base.metadata })).toEqual([]);
  });

  it('rejects minAvailable together with maxUnavailable', () => {
    expect(messages(withSpec({ minAvailable: 1, maxUnavailable: 1 }))).toEqual([
      expect.stringMatching(/^spec: Invalid value: .*: minAvailable and maxUnavailable cannot be both set$/),
    ]);
  });

  it('rejects negative numbers, bad strings and more than 100%', () => {
    expect(messages(withSpec({ minAvailable: -1 }))).toEqual(['spec.minAvailable: Invalid value: -1: must be greater than or equal to 0']);
    expect(messages(withSpec({ maxUnavailable: '101%' }))).toEqual(['spec.maxUnavailable: Invalid value: "101%": must not be greater than 100%']);
    expect(messages(withSpec({ maxUnavailable: 'half' }))[0]).toMatch(/^spec\.maxUnavailable: Invalid value: "half": a valid percent string must be/);
  });

  it('validates the selector and the eviction policy', () => {
    const bad = withSpec({ selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } });
    expect(messages(bad)[0]).toMatch(/^spec\.selector\.matchExpressions\[0\]\.values: Required value/);
    const policy = withSpec({ unhealthyPodEvictionPolicy: 'Never' as never });
    expect(messages(policy)).toEqual(['spec.unhealthyPodEvictionPolicy: Unsupported value: "Never": supported values: "AlwaysAllow", "IfHealthyBudget"']);
  });

  it('checks metadata: a namespace is required', () => {
    expect(messages({ ...base, metadata: { name: 'web' } })).toContain('metadata.namespace: Required value');
  });

  it('allows spec changes on update', () => {
    expect(podDisruptionBudgetKind.validateUpdate(withSpec({ maxUnavailable: '50%', selector: { matchLabels: { app: 'other' } } }), base)).toEqual([]);
  });

  it('checks status counters and conditions on update', () => {
    expect(updateMessages(status)).toEqual([]);
    expect(updateMessages({ ...status, disruptionsAllowed: -1, expectedPods: -2 })).toEqual([
      'status.disruptionsAllowed: Invalid value: -1: must be greater than or equal to 0',
      'status.expectedPods: Invalid value: -2: must be greater than or equal to 0',
    ]);
    const ok = { type: 'DisruptionAllowed', status: 'True' as const, lastTransitionTime: '2026-01-01T00:00:00Z', reason: 'SufficientPods', message: '' };
    expect(updateMessages({ ...status, conditions: [ok] })).toEqual([]);
    expect(updateMessages({ ...status, conditions: [ok, { ...ok, status: 'Maybe' as never, reason: '', lastTransitionTime: '' }] })).toEqual([
      'status.conditions[1].type: Duplicate value: "DisruptionAllowed"',
      'status.conditions[1].status: Unsupported value: "Maybe": supported values: "False", "True", "Unknown"',
      'status.conditions[1].lastTransitionTime: Required value: must be set',
      'status.conditions[1].reason: Required value: must be set',
    ]);
    expect(updateMessages({ ...status, conditions: [{ ...ok, reason: 'not ok' }] })[0]).toMatch(/^status\.conditions\[0\]\.reason: Invalid value: "not ok": a condition reason must start/);
  });
});

describe('scaledIntOrPercent', () => {
  it('scales percentages and keeps integers', () => {
    expect(scaledIntOrPercent(2, 10, true)).toBe(2);
    expect(scaledIntOrPercent('50%', 5, true)).toBe(3);
    expect(scaledIntOrPercent('50%', 5, false)).toBe(2);
    expect(scaledIntOrPercent('0%', 5, true)).toBe(0);
    expect(scaledIntOrPercent('half', 5, true)).toBeUndefined();
  });
});
