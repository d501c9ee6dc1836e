import { describe, expect, it } from 'vitest';
import { FieldPath, formatFieldError } from '../field-errors.js';
import { intOrPercentValue, validateImmutable, validateIntOrPercent, validateNotMoreThan100Percent } from './common.js';

describe('intOrPercentValue', () => {
  it.each<[number | string | undefined, number]>([
    [undefined, 0],
    [3, 3],
    ['25%', 25],
    ['0%', 0],
    ['7', 7],
    ['abc', 0],
    ['5.5%', 0],
  ])('%j reads as %d', (v, n) => {
    expect(intOrPercentValue(v)).toBe(n);
  });
});

describe('validateIntOrPercent', () => {
  const p = FieldPath.root('x');
  it.each<[number | string | undefined, string[]]>([
    [undefined, []],
    [0, []],
    ['100%', []],
    [-1, ['x: Invalid value: -1: must be greater than or equal to 0']],
    [1.5, ["x: Invalid value: 1.5: must be an integer or percentage (e.g '5%')"]],
    ['5', [expect.stringContaining('x: Invalid value: "5": a valid percent string') as unknown as string]],
  ])('%j', (v, want) => {
    expect(validateIntOrPercent(v, p).map(formatFieldError)).toEqual(want);
  });

  it('caps percentages at 100% but not integers', () => {
    expect(validateNotMoreThan100Percent('101%', p).map(formatFieldError)).toEqual(['x: Invalid value: "101%": must not be greater than 100%']);
    expect(validateNotMoreThan100Percent(1000, p)).toEqual([]);
  });
});

describe('validateImmutable', () => {
  const p = FieldPath.root('spec').child('selector');
  it('ignores an empty list standing in for an absent one', () => {
    expect(validateImmutable({ matchLabels: { a: '1' }, matchExpressions: [] }, { matchLabels: { a: '1' } }, p)).toEqual([]);
  });
  it('reports a real change with upstream wording', () => {
    expect(validateImmutable({ matchLabels: { a: '2' } }, { matchLabels: { a: '1' } }, p).map(formatFieldError)).toEqual([
      'spec.selector: Invalid value: {"matchLabels":{"a":"2"}}: field is immutable',
    ]);
  });
});
