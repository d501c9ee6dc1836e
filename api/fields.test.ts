import { describe, expect, it } from 'vitest';
import {
  FieldSelectorError,
  escapeFieldValue,
  everythingFields,
  fieldLabelNotSupportedMessage,
  fieldSelectorToString,
  isEverythingFields,
  matchesFields,
  oneTermEqual,
  parseFieldSelector,
  requiredFieldNames,
  requiresExactMatch,
  unescapeFieldValue,
  unsupportedFieldLabel,
} from './fields.js';

describe('parseFieldSelector', () => {
  it.each([
    ['', []],
    ['metadata.name=x', [{ field: 'metadata.name', operator: '=', value: 'x' }]],
    ['status.phase==Running', [{ field: 'status.phase', operator: '=', value: 'Running' }]],
    ['spec.nodeName!=', [{ field: 'spec.nodeName', operator: '!=', value: '' }]],
    ['a=b\\,c', [{ field: 'a', operator: '=', value: 'b,c' }]],
    ['a=b\\=c\\\\d', [{ field: 'a', operator: '=', value: 'b=c\\d' }]],
    [
      'metadata.name=x,spec.nodeName!=,status.phase==Running',
      [
        { field: 'metadata.name', operator: '=', value: 'x' },
        { field: 'spec.nodeName', operator: '!=', value: '' },
        { field: 'status.phase', operator: '=', value: 'Running' },
      ],
    ],
    [',a=b,', [{ field: 'a', operator: '=', value: 'b' }]],
  ])('parses %j', (text, requirements) => {
    expect(parseFieldSelector(text).requirements).toEqual(requirements);
  });

  it('sorts terms so the printed form is canonical', () => {
    expect(fieldSelectorToString(parseFieldSelector('z=1,a!=2'))).toBe('a!=2,z=1');
    expect(fieldSelectorToString(parseFieldSelector('a==b\\,c'))).toBe('a=b\\,c');
  });

  it.each([
    ['abc', "invalid selector: 'abc'; can't understand 'abc'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a=b=c', 'invalid field selector: unescaped character in value: ='],
    ['a=b\\x', 'invalid field selector: invalid escape sequence: \\x'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
  ])('rejects %j with %j', (text, message) => {
    expect(() => parseFieldSelector(text)).toThrow(FieldSelectorError);
    expect(() => parseFieldSelector(text)).toThrow(message);
  });
});

describe('escaping', () => {
  it.each(['plain', 'a,b', 'a=b', 'a\\b', '\\,=\\'])('round-trips %j', (v) => {
    expect(unescapeFieldValue(escapeFieldValue(v))).toBe(v);
  });
  it('escapes the three special characters', () => {
    expect(escapeFieldValue('a,b=c\\d')).toBe('a\\,b\\=c\\\\d');
  });
});

describe('matchesFields', () => {
  const pod = { 'metadata.name': 'web', 'spec.nodeName': 'node-1', 'status.phase': 'Running' };
  it.each([
    ['', true],
    ['metadata.name=web', true],
    ['metadata.name=db', false],
    ['metadata.name!=db', true],
    ['spec.nodeName!=', true],
    ['spec.nodeName=', false],
    ['status.phase==Running,spec.nodeName=node-1', true],
    ['status.phase==Running,spec.nodeName=node-2', false],
    ['status.podIP=', true],
  ])('%j on a running pod on node-1 is %s', (text, want) => {
    expect(matchesFields(parseFieldSelector(text), pod)).toBe(want);
  });
});

describe('field names for the apiserver', () => {
  const supported = new Set(['metadata.name', 'metadata.namespace', 'spec.nodeName']);
  it('lists each required field once', () => {
    expect(requiredFieldNames(parseFieldSelector('spec.nodeName=a,spec.nodeName!=b,metadata.name=c'))).toEqual([
      'metadata.name',
      'spec.nodeName',
    ]);
  });
  it('finds the first unsupported field and words the error as upstream', () => {
    const sel = parseFieldSelector('spec.nodeName=a,status.bogus=b');
    const bad = unsupportedFieldLabel(sel, supported);
    expect(bad).toBe('status.bogus');
    expect(fieldLabelNotSupportedMessage(bad ?? '')).toBe('field label not supported: status.bogus');
    expect(unsupportedFieldLabel(parseFieldSelector('metadata.name=x'), supported)).toBeUndefined();
  });
  it('reports the value pinned by an equality term', () => {
    const sel = parseFieldSelector('spec.nodeName=node-1,metadata.name!=x');
    expect(requiresExactMatch(sel, 'spec.nodeName')).toBe('node-1');
    expect(requiresExactMatch(sel, 'metadata.name')).toBeUndefined();
    expect(requiresExactMatch(oneTermEqual('metadata.name', 'web'), 'metadata.name')).toBe('web');
  });
  it('treats the empty selector as everything', () => {
    expect(isEverythingFields(everythingFields)).toBe(true);
    expect(isEverythingFields(parseFieldSelector(''))).toBe(true);
    expect(matchesFields(everythingFields, {})).toBe(true);
  });
});
