import { describe, expect, it } from 'vitest';
import type { CronFieldSchedule, CronSchedule } from './cron.js';
import { isCronParseError, isValidTimeZone, nextAfter, parseGoDuration, parseSchedule } from './cron.js';

function parsed(expr: string): CronSchedule {
  const s = parseSchedule(expr);
  if (isCronParseError(s)) throw new Error(`${expr}: ${s.message}`);
  return s;
}

function fields(expr: string): CronFieldSchedule {
  const s = parsed(expr);
  if (s.kind !== 'fields') throw new Error(`${expr} is not a field schedule`);
  return s;
}

const errorOf = (expr: string): string | undefined => {
  const s = parseSchedule(expr);
  return isCronParseError(s) ? s.message : undefined;
};

const on = (values: readonly boolean[]): number[] => values.flatMap((v, i) => (v ? [i] : []));

/** The next `n` activations after `from` (ISO strings). */
function runs(expr: string, from: string, n: number, timeZone?: string): string[] {
  const s = parsed(expr);
  const out: string[] = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = nextAfter(s, t, timeZone);
    if (next === undefined) break;
    out.push(next.toISOString().replace('.000Z', 'Z'));
    t = next;
  }
  return out;
}

describe('parseSchedule', () => {
  it('reads ranges, steps, lists, stars and question marks', () => {
    const s = fields('*/15 9-17/4 1,15 * ?');
    expect(on(s.minutes)).toEqual([0, 15, 30, 45]);
    expect(on(s.hours)).toEqual([9, 13, 17]);
    expect(on(s.daysOfMonth)).toEqual([1, 15]);
    expect(on(s.months)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(on(s.daysOfWeek)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect([s.domStar, s.dowStar]).toEqual([false, true]);
    // `N/step` runs to the field's maximum
    expect(on(fields('50/3 * * * *').minutes)).toEqual([50, 53, 56, 59]);
    // a star with a step above 1 no longer counts as a star for the day rule
    expect(fields('0 0 */2 * *').domStar).toBe(false);
    expect(fields('0 0 */1 * *').domStar).toBe(true);
  });

  it('reads month and weekday names in any case', () => {
    const s = fields('0 0 * JAN-mar,Dec mon-FRI');
    expect(on(s.months)).toEqual([1, 2, 3, 12]);
    expect(on(s.daysOfWeek)).toEqual([1, 2, 3, 4, 5]);
  });

  it('reads the descriptors', () => {
    const check = (d: string, m: number[], h: number[], dom: number[], month: number[], dow: number[]): void => {
      const s = fields(d);
      expect([on(s.minutes), on(s.hours), on(s.daysOfMonth), on(s.months), on(s.daysOfWeek)], d).toEqual([m, h, dom, month, dow]);
    };
    const allHours = [...Array(24).keys()];
    const allDays = [...Array(31).keys()].map((i) => i + 1);
    const allMonths = [...Array(12).keys()].map((i) => i + 1);
    const allDow = [0, 1, 2, 3, 4, 5, 6];
    check('@yearly', [0], [0], [1], [1], allDow);
    check('@annually', [0], [0], [1], [1], allDow);
    check('@monthly', [0], [0], [1], allMonths, allDow);
    check('@weekly', [0], [0], allDays, allMonths, [0]);
    check('@daily', [0], [0], allDays, allMonths, allDow);
    check('@midnight', [0], [0], allDays, allMonths, allDow);
    check('@hourly', [0], allHours, allDays, allMonths, allDow);
    expect(parsed('@every 1h30m')).toEqual({ kind: 'every', seconds: 5400 });
    expect(parsed('@every 100ms')).toEqual({ kind: 'every', seconds: 1 });
    expect(parsed('@every 90.5s')).toEqual({ kind: 'every', seconds: 90 });
  });

  it('reads a TZ= or CRON_TZ= prefix', () => {
    expect(fields('TZ=Europe/Paris 0 3 * * *').timeZone).toBe('Europe/Paris');
    expect(fields('CRON_TZ=UTC @daily').timeZone).toBe('UTC');
    expect(errorOf('TZ=Nowhere/Land 0 3 * * *')).toBe('provided bad location Nowhere/Land: unknown time zone Nowhere/Land');
  });

  it.each([
    ['', 'empty spec string'],
    ['* * * *', 'expected exactly 5 fields, found 4: [* * * *]'],
    ['0 0 * * * *', 'expected exactly 5 fields, found 6: [0 0 * * * *]'],
    ['60 * * * *', 'end of range (60) above maximum (59): 60'],
    ['* * 0 * *', 'beginning of range (0) below minimum (1): 0'],
    ['* * * 13 *', 'end of range (13) above maximum (12): 13'],
    ['* * * * 7', 'end of range (7) above maximum (6): 7'],
    ['5-1 * * * *', 'beginning of range (5) beyond end of range (1): 5-1'],
    ['*/0 * * * *', 'step of range should be a positive number: */0'],
    ['1-2-3 * * * *', 'too many hyphens: 1-2-3'],
    ['*/2/3 * * * *', 'too many slashes: */2/3'],
    ['x * * * *', 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'],
    ['* * * * L', 'failed to parse int from L: strconv.Atoi: parsing "L": invalid syntax'],
    ['@fortnightly', 'unrecognized descriptor: @fortnightly'],
    ['@every 5d', 'failed to parse duration @every 5d: time: unknown unit "d" in duration "5d"'],
    ['@every 5', 'failed to parse duration @every 5: time: missing unit in duration "5"'],
  ])('rejects %j: %s', (expr, message) => {
    expect(errorOf(expr)).toBe(message);
  });
});

describe('parseGoDuration', () => {
  it('reads Go durations in nanoseconds', () => {
    expect(parseGoDuration('1h2m3s')).toBe(3723e9);
    expect(parseGoDuration('1.5h')).toBe(5400e9);
    expect(parseGoDuration('-2m')).toBe(-120e9);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('')).toBe('time: invalid duration ""');
    expect(parseGoDuration('h')).toBe('time: invalid duration "h"');
  });
});

describe('nextAfter (UTC)', () => {
  it('gives the next whole matching minute strictly after the date', () => {
    expect(runs('*/15 * * * *', '2026-01-01T10:07:30Z', 3)).toEqual(['2026-01-01T10:15:00Z', '2026-01-01T10:30:00Z', '2026-01-01T10:45:00Z']);
    expect(runs('* * * * *', '2026-01-01T10:00:00Z', 1)).toEqual(['2026-01-01T10:01:00Z']);
    expect(runs('* * * * *', '2026-01-01T10:00:59.999Z', 1)).toEqual(['2026-01-01T10:01:00Z']);
    expect(runs('0 * * * *', '2026-01-01T10:00:00Z', 1)).toEqual(['2026-01-01T11:00:00Z']);
  });

  it('rolls over hours, days, months and years', () => {
    expect(runs('59 23 31 12 *', '2026-01-01T00:00:00Z', 2)).toEqual(['2026-12-31T23:59:00Z', '2027-12-31T23:59:00Z']);
    expect(runs('0 0 1 * *', '2026-01-31T12:00:00Z', 2)).toEqual(['2026-02-01T00:00:00Z', '2026-03-01T00:00:00Z']);
    expect(runs('30 6 * * *', '2026-01-01T07:00:00Z', 1)).toEqual(['2026-01-02T06:30:00Z']);
    expect(runs('@yearly', '2026-06-01T00:00:00Z', 1)).toEqual(['2027-01-01T00:00:00Z']);
  });

  it('matches either the day of month or the weekday when both are restricted, both otherwise', () => {
    // 2026-02-13 is a Friday; Fridays in February 2026: 6, 13, 20, 27
    expect(runs('0 0 13 * fri', '2026-02-01T00:00:00Z', 4)).toEqual([
      '2026-02-06T00:00:00Z',
      '2026-02-13T00:00:00Z',
      '2026-02-20T00:00:00Z',
      '2026-02-27T00:00:00Z',
    ]);
    expect(runs('0 0 * * fri', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-06T00:00:00Z', '2026-02-13T00:00:00Z']);
    expect(runs('0 0 13 * *', '2026-02-01T00:00:00Z', 2)).toEqual(['2026-02-13T00:00:00Z', '2026-03-13T00:00:00Z']);
    // a stepped star is a restriction: every other day of month OR Sunday
    expect(runs('0 0 */10 * sun', '2026-02-01T00:00:00Z', 4)).toEqual([
      '2026-02-08T00:00:00Z',
      '2026-02-11T00:00:00Z',
      '2026-02-15T00:00:00Z',
      '2026-02-21T00:00:00Z',
    ]);
  });

  it('finds February 29th and gives up on dates that never come', () => {
    expect(runs('0 0 29 2 *', '2026-01-01T00:00:00Z', 2)).toEqual(['2028-02-29T00:00:00Z', '2032-02-29T00:00:00Z']);
    const start = performance.now();
    expect(nextAfter(parsed('0 0 30 2 *'), new Date('2026-01-01T00:00:00Z'))).toBeUndefined();
    expect(nextAfter(parsed('0 0 31 4,6,9,11 *'), new Date('2026-01-01T00:00:00Z'), 'America/New_York')).toBeUndefined();
    expect(performance.now() - start).toBeLessThan(500);
  });

  it('adds @every delays to the date truncated to the second', () => {
    expect(nextAfter(parsed('@every 90s'), new Date('2026-01-01T10:00:00.700Z'))?.toISOString()).toBe('2026-01-01T10:01:30.000Z');
  });

  it('returns undefined for an invalid date', () => {
    expect(nextAfter(parsed('* * * * *'), new Date(Number.NaN))).toBeUndefined();
  });
});

describe('nextAfter in a time zone', () => {
  it('reads the schedule on the zone wall clock', () => {
    // 03:00 in Paris is 02:00 UTC in winter, 01:00 UTC in summer
    expect(runs('0 3 * * *', '2026-01-10T00:00:00Z', 1, 'Europe/Paris')).toEqual(['2026-01-10T02:00:00Z']);
    expect(runs('0 3 * * *', '2026-07-10T00:00:00Z', 1, 'Europe/Paris')).toEqual(['2026-07-10T01:00:00Z']);
    // a half-hour zone
    expect(runs('0 9 * * *', '2026-01-10T00:00:00Z', 1, 'Asia/Kolkata')).toEqual(['2026-01-10T03:30:00Z']);
    // the TZ= prefix, and the timeZone argument winning over it
    expect(runs('TZ=Asia/Tokyo 0 9 * * *', '2026-01-10T00:00:00Z', 1)).toEqual(['2026-01-11T00:00:00Z']);
    expect(runs('TZ=Asia/Tokyo 0 9 * * *', '2026-01-10T00:00:00Z', 1, 'UTC')).toEqual(['2026-01-10T09:00:00Z']);
  });

  it('skips a time the spring transition skips (New York, 2026-03-08 02:00 -> 03:00)', () => {
    expect(runs('30 2 * * *', '2026-03-07T07:30:00Z', 2, 'America/New_York')).toEqual(['2026-03-09T06:30:00Z', '2026-03-10T06:30:00Z']);
    expect(runs('0 * * * *', '2026-03-08T05:30:00Z', 3, 'America/New_York')).toEqual(['2026-03-08T06:00:00Z', '2026-03-08T07:00:00Z', '2026-03-08T08:00:00Z']);
    // midnight still fires once a day around the change
    expect(runs('0 0 * * *', '2026-03-07T12:00:00Z', 2, 'America/New_York')).toEqual(['2026-03-08T05:00:00Z', '2026-03-09T04:00:00Z']);
  });

  it('fires twice in the hour the autumn transition repeats (New York, 2026-11-01 02:00 -> 01:00)', () => {
    expect(runs('30 1 * * *', '2026-11-01T04:00:00Z', 3, 'America/New_York')).toEqual([
      '2026-11-01T05:30:00Z', // 01:30 EDT
      '2026-11-01T06:30:00Z', // 01:30 EST
      '2026-11-02T06:30:00Z',
    ]);
  });

  it('throws for a zone the runtime does not know', () => {
    expect(() => nextAfter(parsed('* * * * *'), new Date(), 'Nowhere/Land')).toThrow(RangeError);
    expect(isValidTimeZone('Nowhere/Land')).toBe(false);
    expect(isValidTimeZone('America/New_York')).toBe(true);
    expect(isValidTimeZone('')).toBe(false);
  });
});
