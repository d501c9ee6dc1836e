import { describe, expect, it } from 'vitest';
import { fmtBytes, fmtMs, fmtRatio, median, percentile, summarize } from './stats.js';

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
  it.each([
    { p: 50, expected: 50 },
    { p: 90, expected: 90 },
    { p: 99, expected: 99 },
    { p: 100, expected: 100 },
    { p: 0, expected: 1 },
  ])('p$p of 1..100 is $expected', ({ p, expected }) => {
    expect(percentile(hundred, p)).toBe(expected);
  });

  it('always answers a sample that really happened', () => {
    expect(percentile([1, 10], 50)).toBe(1);
    expect(percentile([1, 10], 99)).toBe(10);
  });

  it('is NaN for no samples', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('summarize', () => {
  it('sorts numerically (not as strings) before ranking', () => {
    const s = summarize([100, 9, 25, 3, 1000]);
    expect(s).toMatchObject({ count: 5, p50: 25, max: 1000 });
    expect(s.mean).toBeCloseTo(227.4);
  });

  it('reports NaN figures for an empty sample', () => {
    const s = summarize([]);
    expect(s.count).toBe(0);
    expect(s.p99).toBeNaN();
    expect(s.max).toBeNaN();
  });
});

describe('median', () => {
  it.each([
    { samples: [5, 1, 3], expected: 3 },
    { samples: [4, 1, 3, 2], expected: 2.5 },
    { samples: [7], expected: 7 },
  ])('of $samples is $expected', ({ samples, expected }) => {
    expect(median(samples)).toBe(expected);
  });
});

describe('formatting', () => {
  it.each([
    { ms: 0.4213, text: '0.42' },
    { ms: 3.14, text: '3.1' },
    { ms: 27.4, text: '27' },
    { ms: Number.NaN, text: '-' },
  ])('prints $ms ms as $text', ({ ms, text }) => {
    expect(fmtMs(ms)).toBe(text);
  });

  it('prints sizes in B, KiB and MiB', () => {
    expect([fmtBytes(512), fmtBytes(2048), fmtBytes(3 * 1024 * 1024)]).toEqual(['512 B', '2.0 KiB', '3.0 MiB']);
  });

  it('prints a ratio, or - when a side is missing or zero', () => {
    expect(fmtRatio(3, 2)).toBe('1.50x');
    expect(fmtRatio(3, 0)).toBe('-');
    expect(fmtRatio(Number.NaN, 2)).toBe('-');
  });
});
