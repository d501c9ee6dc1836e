import { describe, expect, it } from 'vitest';
import { FieldPath } from '../field-errors.js';
import type { Taint, TopologySpreadConstraint } from './pod.js';
import { validateNodeSelectorRequirement, validateTaints, validateTopologySpreadConstraints } from './scheduling-validate.js';

const p = FieldPath.root('x');
const fields = (errs: readonly { field: string }[]): string[] => errs.map((e) => e.field);

describe('validateTaints', () => {
  it('accepts distinct taints', () => {
    expect(validateTaints([{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoExecute' }, { key: 'b', value: 'v', effect: 'NoSchedule' }], p)).toEqual([]);
  });
  it.each<[string, Taint[], string[]]>([
    ['a bad key', [{ key: 'a b', effect: 'NoSchedule' }], ['x[0].key']],
    ['a bad value', [{ key: 'a', value: '-v', effect: 'NoSchedule' }], ['x[0].value']],
    ['a missing effect', [{ key: 'a', effect: '' as 'NoSchedule' }], ['x[0].effect']],
    ['an effect typo', [{ key: 'a', effect: 'NoScheduling' as 'NoSchedule' }], ['x[0].effect']],
    ['a repeated key and effect', [{ key: 'a', effect: 'NoSchedule' }, { key: 'a', value: 'x', effect: 'NoSchedule' }], ['x[1]']],
  ])('reports %s', (_n, taints, expected) => expect(fields(validateTaints(taints, p))).toEqual(expected));
  it('says why a duplicate is one', () => {
    const errs = validateTaints([{ key: 'a', effect: 'NoSchedule' }, { key: 'a', effect: 'NoSchedule' }], p);
    expect(errs[0]?.detail).toBe('taints must be unique by key and effect pair');
  });
});

describe('validateNodeSelectorRequirement', () => {
  it.each([
    [{ key: 'k', operator: 'In' as const }, ['x.values']],
    [{ key: 'k', operator: 'Exists' as const, values: ['v'] }, ['x.values']],
    [{ key: 'k', operator: 'Gt' as const, values: ['1', '2'] }, ['x.values']],
    [{ key: 'k', operator: 'Near' as 'In', values: ['v'] }, ['x.operator']],
    [{ key: 'k', operator: 'Lt' as const, values: ['3'] }, []],
  ])('%j', (rq, expected) => expect(fields(validateNodeSelectorRequirement(rq, p))).toEqual(expected));
});

describe('validateTopologySpreadConstraints', () => {
  const c: TopologySpreadConstraint = { maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' };
  it.each<[string, TopologySpreadConstraint[], string[]]>([
    ['a valid constraint', [c], []],
    ['the same key and action twice', [c, { ...c, maxSkew: 2 }], ['x[0].{topologyKey, whenUnsatisfiable}']],
    ['an empty topology key', [{ ...c, topologyKey: '' }], ['x[0].topologyKey']],
    ['an unknown action', [{ ...c, whenUnsatisfiable: 'Maybe' as 'DoNotSchedule' }], ['x[0].whenUnsatisfiable']],
    ['minDomains with ScheduleAnyway', [{ ...c, whenUnsatisfiable: 'ScheduleAnyway', minDomains: 2 }], ['x[0].minDomains']],
    ['a policy typo', [{ ...c, nodeTaintsPolicy: 'Always' as 'Honor' }], ['x[0].nodeTaintsPolicy']],
    ['a bad label selector', [{ ...c, labelSelector: { matchLabels: { 'a b': 'c' } } }], ['x[0].labelSelector.matchLabels']],
  ])('%s', (_n, list, expected) => expect(fields(validateTopologySpreadConstraints(list, p))).toEqual(expected));
});
