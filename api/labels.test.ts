import { describe, expect, it } from 'vitest';
import { FieldPath, formatFieldError } from './field-errors.js';
import type { LabelSelector } from './meta.js';
import {
  LabelSelectorError,
  everything,
  isEverything,
  labelSelectorAsSelector,
  labelSelectorToString,
  matches,
  nothing,
  parseSelector,
  selectorFromMap,
  selectorToString,
  validateLabelSelector,
} from './labels.js';

describe('parseSelector', () => {
  it.each([
    ['', ''],
    ['a=b', 'a=b'],
    ['a==b', 'a==b'],
    ['a!=b', 'a!=b'],
    ['  a = b ,  c != d ', 'a=b,c!=d'],
    ['x in (b,a)', 'x in (a,b)'],
    ['x notin(z)', 'x notin (z)'],
    ['i', 'i'],
    ['!j', '!j'],
    ['k>3,l<10', 'k>3,l<10'],
    ['a=', 'a='],
    ['a in ()', 'a in ()'],
    ['a=in', 'a=in'],
    ['z=1,a=2', 'a=2,z=1'],
    ['!example.com/canary,example.com/app=web', 'example.com/app=web,!example.com/canary'],
    ['a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j', 'a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j'],
  ])('parses %j and prints it back canonically as %j', (text, printed) => {
    expect(selectorToString(parseSelector(text))).toBe(printed);
  });

  it.each([
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a=b,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['a in b', "unable to parse requirement: found 'b' expected: '('"],
    ['a in (b', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a ( b', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['a>b', "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"],
    ['a b=c', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['!j=b', "found '=', expected: ',' or 'end of string'"],
  ])('rejects %j with %j', (text, message) => {
    expect(() => parseSelector(text)).toThrow(LabelSelectorError);
    expect(() => parseSelector(text)).toThrow(message);
  });

  it('names a bad key in the error', () => {
    expect(() => parseSelector('a b c')).toThrow(/found 'b'/);
    expect(() => parseSelector('-bad=x')).toThrow(/^unable to parse requirement: key: Invalid value: "-bad": name part must consist of/);
  });

  it('names a bad value in the error', () => {
    expect(() => parseSelector('app=a%b')).toThrow(/^unable to parse requirement: values\[0\]: Invalid value: "a%b": a valid label must be/);
  });

  it('carries a stable error code', () => {
    try {
      parseSelector('a in b');
      expect.unreachable();
    } catch (e) {
      expect((e as LabelSelectorError).code).toBe('ERR_INVALID_LABEL_SELECTOR');
    }
  });
});

describe('matches', () => {
  const labels = { app: 'web', tier: 'frontend', replicas: '5' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['app in (db,web)', true],
    ['app in (db)', false],
    ['missing in (x)', false],
    ['app notin (db)', true],
    ['app notin (web)', false],
    ['missing notin (x)', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['replicas>4', true],
    ['replicas>5', false],
    ['replicas<6', true],
    ['app>1', false],
    ['missing<9', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
    ['missing=', false],
  ])('%j against app=web,tier=frontend,replicas=5 is %s', (text, want) => {
    expect(matches(parseSelector(text), labels)).toBe(want);
  });

  it('treats absent labels as an empty set', () => {
    expect(matches(parseSelector('!a'), undefined)).toBe(true);
    expect(matches(parseSelector('a'), undefined)).toBe(false);
  });

  it('everything matches anything, nothing matches nothing', () => {
    expect(matches(everything, {})).toBe(true);
    expect(matches(nothing, {})).toBe(false);
    expect(matches(nothing, labels)).toBe(false);
    expect(isEverything(everything)).toBe(true);
    expect(isEverything(nothing)).toBe(false);
    expect(selectorToString(nothing)).toBe('');
  });
});

describe('labelSelectorAsSelector', () => {
  it('a null selector selects nothing, an empty one everything', () => {
    expect(labelSelectorAsSelector(null)).toEqual(nothing);
    expect(labelSelectorAsSelector(undefined)).toEqual(nothing);
    expect(isEverything(labelSelectorAsSelector({}))).toBe(true);
    expect(isEverything(labelSelectorAsSelector({ matchLabels: {}, matchExpressions: [] }))).toBe(true);
  });

  it('converts matchLabels and matchExpressions to the same form as the string syntax', () => {
    const ls: LabelSelector = {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'env', operator: 'NotIn', values: ['prod'] },
        { key: 'track', operator: 'Exists' },
        { key: 'canary', operator: 'DoesNotExist' },
      ],
    };
    expect(labelSelectorToString(ls)).toBe('app=web,!canary,env notin (prod),tier in (a,b),track');
    const sel = labelSelectorAsSelector(ls);
    expect(matches(sel, { app: 'web', tier: 'a', track: 'x' })).toBe(true);
    expect(matches(sel, { app: 'web', tier: 'a', track: 'x', canary: 'y' })).toBe(false);
    expect(matches(sel, { app: 'web', tier: 'c', track: 'x' })).toBe(false);
  });

  it.each<[string, LabelSelector, RegExp]>([
    ['In without values', { matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }, /values set can't be empty/],
    ['Exists with values', { matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }, /values set must be empty/],
    ['a bad operator', { matchExpressions: [{ key: 'a', operator: 'Foo' as 'In', values: ['x'] }] }, /"Foo" is not a valid label selector operator/],
    ['a bad key', { matchLabels: { 'a b': 'x' } }, /key: Invalid value: "a b"/],
  ])('throws for %s', (_name, ls, message) => {
    expect(() => labelSelectorAsSelector(ls)).toThrow(message);
  });

  it('selectorFromMap builds equality requirements', () => {
    expect(selectorToString(selectorFromMap({ b: '2', a: '1' }))).toBe('a=1,b=2');
    expect(isEverything(selectorFromMap(undefined))).toBe(true);
  });
});

describe('validateLabelSelector', () => {
  const path = FieldPath.root('spec').child('selector');
  it.each<[string, LabelSelector | null, string[]]>([
    ['a valid selector', { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }] }, []],
    ['null', null, []],
    [
      'In without values',
      { matchExpressions: [{ key: 'a', operator: 'In' }] },
      ["spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'"],
    ],
    [
      'DoesNotExist with values',
      { matchExpressions: [{ key: 'a', operator: 'DoesNotExist', values: ['x'] }] },
      ["spec.selector.matchExpressions[0].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'"],
    ],
    [
      'an unknown operator',
      { matchExpressions: [{ key: 'a', operator: 'Equals' as 'In', values: ['x'] }] },
      ['spec.selector.matchExpressions[0].operator: Invalid value: "Equals": not a valid selector operator'],
    ],
  ])('%s', (_name, sel, want) => {
    expect(validateLabelSelector(sel, path).map(formatFieldError)).toEqual(want);
  });

  it('reports bad keys and values with their paths', () => {
    const errs = validateLabelSelector(
      { matchLabels: { 'bad key': 'ok' }, matchExpressions: [{ key: 'k', operator: 'In', values: ['bad value!'] }] },
      path,
    );
    expect(errs.map((e) => [e.field, e.value])).toEqual([
      ['spec.selector.matchLabels', 'bad key'],
      ['spec.selector.matchExpressions[0].values[0]', 'bad value!'],
    ]);
  });
});
