import { describe, expect, it } from 'vitest';
import { humanDuration, translateTimestampSince } from './duration.js';

const s = 1000;
const m = 60 * s;
const h = 60 * m;
const d = 24 * h;

describe('humanDuration follows upstream HumanDuration', () => {
  const cases: Array<[string, number, string]> = [
    ['more than a second in the future is invalid', -2 * s, '<invalid>'],
    ['up to a second in the future counts as now', -1500, '0s'],
    ['a fraction of a second in the future is now', -500, '0s'],
    ['zero', 0, '0s'],
    ['seconds are truncated, not rounded', 5999, '5s'],
    ['seconds below two minutes', 119 * s, '119s'],
    ['two minutes exactly', 2 * m, '2m'],
    ['minutes and seconds below ten minutes', 3 * m + 20 * s, '3m20s'],
    ['whole minutes below ten minutes drop the seconds', 5 * m, '5m'],
    ['the last second before ten minutes', 10 * m - s, '9m59s'],
    ['ten minutes', 10 * m, '10m'],
    ['minutes only below three hours', 2 * h + 59 * m + 59 * s, '179m'],
    ['three hours', 3 * h, '3h'],
    ['hours and minutes from three hours (2h5m is still 125m)', 3 * h + 5 * m + 30 * s, '3h5m'],
    ['a bit over two hours is still minutes', 2 * h + 5 * m, '125m'],
    ['hours and minutes just below eight hours', 7 * h + 59 * m, '7h59m'],
    ['hours only from eight hours', 8 * h + 30 * m, '8h'],
    ['hours below two days', 47 * h + 59 * m, '47h'],
    ['two days', 48 * h, '2d'],
    ['days and hours below eight days', 3 * d + 4 * h + 5 * m, '3d4h'],
    ['the last hour before eight days', 7 * d + 23 * h, '7d23h'],
    ['days only from eight days', 8 * d + 5 * h, '8d'],
    ['days below two years', 45 * d, '45d'],
    ['just below two years', 729 * d, '729d'],
    ['two years', 730 * d, '2y'],
    ['years and days below eight years', 740 * d, '2y10d'],
    ['eight years', 8 * 365 * d + 100 * d, '8y'],
    ['many years', 20 * 365 * d, '20y'],
  ];
  it.each(cases)('%s', (_name, ms, expected) => {
    expect(humanDuration(ms)).toBe(expected);
  });
});

describe('translateTimestampSince', () => {
  const now = new Date('2026-01-01T12:00:00Z');
  it('measures from the timestamp to now', () => {
    expect(translateTimestampSince('2026-01-01T11:56:40Z', now)).toBe('3m20s');
  });
  it.each([undefined, null, '', 'yesterday', 42])('prints <unknown> for %s', (value) => {
    expect(translateTimestampSince(value, now)).toBe('<unknown>');
  });
});
