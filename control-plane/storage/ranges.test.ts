import { describe, expect, it } from 'vitest';
import { CompactedError, FutureRevisionError } from './errors.js';
import { compareKeys, effectiveLimit, inRange, prefixEnd, rangeFor, resolveReadRevision } from './ranges.js';

const utf8Order = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b));

describe('compareKeys', () => {
  it.each([
    ['/a', '/a', 0],
    ['/a', '/a/', -1],
    ['/a/', '/a0', -1],
    ['/b', '/a/z', 1],
    ['Z', 'a', -1],
    ['\uffef', '😀', -1], // JavaScript's < says the opposite
    ['😀', '\ue000', 1],
    ['é', '\uffef', -1],
  ])('orders %j against %j as UTF-8 bytes do (%i)', (a, b, sign) => {
    expect(Math.sign(compareKeys(a, b))).toBe(sign);
    expect(Math.sign(utf8Order(a, b))).toBe(sign);
  });

  it('sorts a mixed set exactly like UTF-8 byte order', () => {
    const keys = ['b', 'a', '\uffff', '𐀀', '😀', '\ue000', 'é', '', 'a\u0000', 'ab', '\ud7ff'];
    expect([...keys].sort(compareKeys)).toEqual([...keys].sort(utf8Order));
  });
});

describe('prefixEnd', () => {
  it.each([
    ['/a/', '/a0'],
    ['/registry/pods/', '/registry/pods0'],
    ['a', 'b'],
    ['\ud7ff', '\ue000'],
    ['a\u{10ffff}', 'b'],
    ['\uffff', '𐀀'],
    ['', undefined],
    ['\u{10ffff}\u{10ffff}', undefined],
  ])('of %j is %j', (prefix, end) => {
    expect(prefixEnd(prefix)).toBe(end);
  });

  it('bounds exactly the keys that start with the prefix', () => {
    const prefix = '/a/';
    const end = prefixEnd(prefix) ?? '';
    for (const key of ['/a/', '/a/x', '/a/\u{10ffff}\u{10ffff}', '/a0', '/ab', '/a']) {
      const inside = compareKeys(key, prefix) >= 0 && compareKeys(key, end) < 0;
      expect(inside, key).toBe(key.startsWith(prefix));
    }
  });
});

describe('rangeFor', () => {
  it.each([
    { name: 'a prefix alone spans the prefix', prefix: '/a/', startKey: undefined, want: { start: '/a/', end: '/a0' } },
    { name: 'a start key inside the prefix starts there', prefix: '/a/', startKey: '/a/m', want: { start: '/a/m', end: '/a0' } },
    { name: 'a start key before the prefix is clamped to it', prefix: '/a/', startKey: '/', want: { start: '/a/', end: '/a0' } },
    { name: 'a start key after the prefix yields an empty range', prefix: '/a/', startKey: '/b', want: { start: '/b', end: '/a0' } },
    { name: 'the empty prefix is open-ended', prefix: '', startKey: 'k', want: { start: 'k', end: undefined } },
  ])('$name', ({ prefix, startKey, want }) => {
    const range = rangeFor(prefix, startKey);
    expect(range).toEqual(want);
    if (startKey === '/b') expect(inRange('/b', range)).toBe(false);
  });
});

describe('resolveReadRevision', () => {
  it.each([
    { name: 'absent means current', requested: undefined, want: 10 },
    { name: '0 means current', requested: 0, want: 10 },
    { name: 'the compacted revision is readable', requested: 5, want: 5 },
    { name: 'the current revision is readable', requested: 10, want: 10 },
  ])('$name', ({ requested, want }) => {
    expect(resolveReadRevision(requested, 10, 5)).toBe(want);
  });

  it('refuses revisions below the compaction and above the head', () => {
    expect(() => resolveReadRevision(4, 10, 5)).toThrow(CompactedError);
    expect(() => resolveReadRevision(11, 10, 5)).toThrow(FutureRevisionError);
  });
});

describe('effectiveLimit', () => {
  it.each([
    [undefined, Infinity],
    [0, Infinity],
    [-1, Infinity],
    [7, 7],
  ])('of %j is %j', (limit, want) => {
    expect(effectiveLimit(limit)).toBe(want);
  });
});
