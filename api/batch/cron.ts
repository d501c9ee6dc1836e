/**
 * Cron schedules as the CronJob API understands them: upstream validates `spec.schedule` with
 * github.com/robfig/cron/v3 `ParseStandard`, and the cronjob controller asks the parsed schedule for its
 * next activation. This module gives both, with that library's semantics:
 *
 *  - five fields `minute hour day-of-month month day-of-week`; `*` and `?` mean every value; ranges
 *    `1-5`, steps `*\/15`, `1-30/5` and `5/15` (= `5-max/15`), lists `1,15,30`; month names `jan`..`dec`
 *    and weekday names `sun`..`sat` (any case); weekdays are 0-6 (Sunday 0; 7 is rejected, as upstream);
 *  - descriptors `@yearly` `@annually` `@monthly` `@weekly` `@daily` `@midnight` `@hourly`, and
 *    `@every <Go duration>` (a constant delay, whole seconds, at least one second);
 *  - a `TZ=<zone> ` or `CRON_TZ=<zone> ` prefix is parsed (the API rejects it in validation and points
 *    to spec.timeZone instead);
 *  - when both day-of-month and day-of-week are restricted (neither starts with `*` or `?`), a day
 *    matching either one matches; otherwise both must match;
 *  - activations are computed on the wall clock of the time zone, whole minutes only, at most five years
 *    ahead. Across DST changes the library's behaviour is kept: a wall-clock time skipped by a spring
 *    transition does not fire that day, and one repeated by an autumn transition can fire twice.
 *
 * Pure: no I/O, no clock. Time zones come from the runtime's ICU data (Intl).
 */

/** A schedule from five fields or a descriptor other than @every. Arrays are indexed by value. */
export interface CronFieldSchedule {
  readonly kind: 'fields';
  /** 60 entries, minute 0-59. */
  readonly minutes: readonly boolean[];
  /** 24 entries, hour 0-23. */
  readonly hours: readonly boolean[];
  /** 32 entries, day 1-31 (index 0 unused). */
  readonly daysOfMonth: readonly boolean[];
  /** 13 entries, month 1-12 (index 0 unused). */
  readonly months: readonly boolean[];
  /** 7 entries, weekday 0-6, Sunday 0. */
  readonly daysOfWeek: readonly boolean[];
  /** The day-of-month field started with `*` or `?` (without a step above 1). */
  readonly domStar: boolean;
  /** The day-of-week field started with `*` or `?` (without a step above 1). */
  readonly dowStar: boolean;
  /** From a `TZ=` / `CRON_TZ=` prefix. */
  readonly timeZone?: string;
}

/** `@every <duration>`: fires every `seconds` after the time it is asked about, truncated to the second. */
export interface CronEverySchedule {
  readonly kind: 'every';
  readonly seconds: number;
  readonly timeZone?: string;
}

export type CronSchedule = CronFieldSchedule | CronEverySchedule;

/** Why a schedule does not parse, worded as the upstream library words it. */
export interface CronParseError {
  readonly kind: 'error';
  readonly message: string;
}

export function isCronParseError(v: CronSchedule | CronParseError): v is CronParseError {
  return v.kind === 'error';
}

// ---------------------------------------------------------------------------------------------
// Parsing

interface Bounds {
  readonly min: number;
  readonly max: number;
  readonly names?: Readonly<Record<string, number>>;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DOW_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

const MINUTE: Bounds = { min: 0, max: 59 };
const HOUR: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTH: Bounds = { min: 1, max: 12, names: Object.fromEntries(MONTH_NAMES.map((n, i) => [n, i + 1])) };
const DOW: Bounds = { min: 0, max: 6, names: Object.fromEntries(DOW_NAMES.map((n, i) => [n, i])) };

class ParseFailure extends Error {}

const fail = (message: string): never => {
  throw new ParseFailure(message);
};

/** The values a field selects, and whether it counts as a star for the day-matching rule. */
interface FieldBits {
  readonly bits: boolean[];
  star: boolean;
}

/** Go's strconv.Atoi, then the library's non-negative check. */
function parseUint(expr: string): number {
  if (!/^[+-]?[0-9]+$/.test(expr)) fail(`failed to parse int from ${expr}: strconv.Atoi: parsing ${goQuote(expr)}: invalid syntax`);
  const n = Number.parseInt(expr, 10);
  if (!Number.isSafeInteger(n)) fail(`failed to parse int from ${expr}: strconv.Atoi: parsing ${goQuote(expr)}: value out of range`);
  if (n < 0) fail(`negative number (${n}) not allowed: ${expr}`);
  return n;
}

function parseIntOrName(expr: string, b: Bounds): number {
  const named = b.names?.[expr.toLowerCase()];
  return named ?? parseUint(expr);
}

/** One comma-separated part: `*`, `?`, `N`, `N-M`, each optionally `/step`. */
function addRange(expr: string, b: Bounds, into: FieldBits): void {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = (rangeAndStep[0] ?? '').split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = b.min;
    end = b.max;
    star = true;
  } else {
    start = parseIntOrName(lowAndHigh[0] ?? '', b);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = parseIntOrName(lowAndHigh[1] ?? '', b);
    else return fail(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseUint(rangeAndStep[1] ?? '');
    if (single) end = b.max; // `N/step` means `N-max/step`
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) {
    fail(`too many slashes: ${expr}`);
  }
  if (start < b.min) fail(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
  if (end > b.max) fail(`end of range (${end}) above maximum (${b.max}): ${expr}`);
  if (start > end) fail(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) fail(`step of range should be a positive number: ${expr}`);
  for (let v = start; v <= end; v += step) into.bits[v] = true;
  if (star) into.star = true;
}

function parseField(field: string, b: Bounds): FieldBits {
  const out: FieldBits = { bits: new Array<boolean>(b.max + 1).fill(false), star: false };
  // empty parts are skipped, as Go's strings.FieldsFunc does
  for (const part of field.split(',')) if (part !== '') addRange(part, b, out);
  return out;
}

const all = (b: Bounds): FieldBits => parseField('*', b);
const only = (b: Bounds, v: number): FieldBits => parseField(String(v), b);

function fieldSchedule(
  parts: { minute: FieldBits; hour: FieldBits; dom: FieldBits; month: FieldBits; dow: FieldBits },
  timeZone: string | undefined,
): CronFieldSchedule {
  return {
    kind: 'fields',
    minutes: parts.minute.bits,
    hours: parts.hour.bits,
    daysOfMonth: parts.dom.bits,
    months: parts.month.bits,
    daysOfWeek: parts.dow.bits,
    domStar: parts.dom.star,
    dowStar: parts.dow.star,
    ...(timeZone !== undefined ? { timeZone } : {}),
  };
}

function parseDescriptor(spec: string, timeZone: string | undefined): CronSchedule {
  const at = { minute: only(MINUTE, 0), hour: only(HOUR, 0), dom: only(DOM, 1), month: only(MONTH, 1), dow: all(DOW) };
  switch (spec) {
    case '@yearly':
    case '@annually':
      return fieldSchedule(at, timeZone);
    case '@monthly':
      return fieldSchedule({ ...at, month: all(MONTH) }, timeZone);
    case '@weekly':
      return fieldSchedule({ ...at, dom: all(DOM), month: all(MONTH), dow: only(DOW, 0) }, timeZone);
    case '@daily':
    case '@midnight':
      return fieldSchedule({ ...at, dom: all(DOM), month: all(MONTH) }, timeZone);
    case '@hourly':
      return fieldSchedule({ ...at, hour: all(HOUR), dom: all(DOM), month: all(MONTH) }, timeZone);
    default:
      break;
  }
  if (spec.startsWith('@every ')) {
    const text = spec.slice('@every '.length);
    const nanos = parseGoDuration(text);
    if (typeof nanos === 'string') return fail(`failed to parse duration ${spec}: ${nanos}`);
    // Every(): at least one second, whole seconds
    const seconds = nanos < 1e9 ? 1 : Math.floor(nanos / 1e9);
    return { kind: 'every', seconds, ...(timeZone !== undefined ? { timeZone } : {}) };
  }
  return fail(`unrecognized descriptor: ${spec}`);
}

/** Parses a CronJob schedule the way upstream's `cron.ParseStandard` does. */
export function parseSchedule(expr: string): CronSchedule | CronParseError {
  try {
    return parseOrThrow(expr);
  } catch (e) {
    if (e instanceof ParseFailure) return { kind: 'error', message: e.message };
    throw e;
  }
}

function parseOrThrow(input: string): CronSchedule {
  if (input.length === 0) fail('empty spec string');
  let spec = input;
  let timeZone: string | undefined;
  if (spec.startsWith('TZ=') || spec.startsWith('CRON_TZ=')) {
    const space = spec.indexOf(' ');
    const eq = spec.indexOf('=');
    if (space < 0) fail(`provided bad location ${spec.slice(eq + 1)}: missing schedule after the time zone`);
    timeZone = spec.slice(eq + 1, space);
    if (!isValidTimeZone(timeZone)) fail(`provided bad location ${timeZone}: unknown time zone ${timeZone}`);
    spec = spec.slice(space).trim();
  }
  if (spec.startsWith('@')) return parseDescriptor(spec, timeZone);
  const fields = spec.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) fail(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  const [minute, hour, dom, month, dow] = fields as [string, string, string, string, string];
  return fieldSchedule(
    {
      minute: parseField(minute, MINUTE),
      hour: parseField(hour, HOUR),
      dom: parseField(dom, DOM),
      month: parseField(month, MONTH),
      dow: parseField(dow, DOW),
    },
    timeZone,
  );
}

/** Go's strconv.Quote for the ASCII strings these messages quote. */
function goQuote(s: string): string {
  return JSON.stringify(s);
}

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** Go's time.ParseDuration: nanoseconds, or the error text. Float precision is enough for schedules. */
export function parseGoDuration(text: string): number | string {
  const orig = text;
  const invalid = `time: invalid duration ${goQuote(orig)}`;
  let s = text;
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return 0;
  if (s === '') return invalid;
  let total = 0;
  while (s !== '') {
    const num = /^([0-9]*)(\.([0-9]*))?/.exec(s);
    const whole = num?.[1] ?? '';
    const frac = num?.[3] ?? '';
    if (whole === '' && frac === '') return invalid;
    s = s.slice(num?.[0].length ?? 0);
    const unit = /^[^0-9.]*/.exec(s)?.[0] ?? '';
    if (unit === '') return `time: missing unit in duration ${goQuote(orig)}`;
    const scale = DURATION_UNITS[unit];
    if (scale === undefined) return `time: unknown unit ${goQuote(unit)} in duration ${goQuote(orig)}`;
    s = s.slice(unit.length);
    total += Number(`${whole === '' ? '0' : whole}.${frac === '' ? '0' : frac}`) * scale;
    if (total > 2 ** 63) return invalid;
  }
  return sign * total;
}

// ---------------------------------------------------------------------------------------------
// Time zones

/** True when the runtime knows the IANA time zone `name`. */
export function isValidTimeZone(name: string): boolean {
  if (name === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Wall-clock fields of an instant in a zone; month 1-12, weekday 0-6 (Sunday 0). */
interface Wall {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly weekday: number;
}

interface Zone {
  wall(ms: number): Wall;
  /**
   * The instant of a wall-clock time, fields normalized as Go's time.Date does (month 13 is next
   * January, day 32 the next month's first...). A time skipped by a DST change and a repeated one are
   * resolved as Go resolves them.
   */
  instant(year: number, month: number, day: number, hour: number, minute: number): number;
}

function wallOfUTC(ms: number): Wall {
  const d = new Date(ms);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(),
  };
}

const UTC_ZONE: Zone = {
  wall: wallOfUTC,
  instant: (y, mo, d, h, mi) => Date.UTC(y, mo - 1, d, h, mi),
};

class IntlZone implements Zone {
  private readonly format: Intl.DateTimeFormat;

  constructor(name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  }

  /** Zone offset at an instant, in ms (local minus UTC). */
  private offset(ms: number): number {
    const seconds = Math.floor(ms / 1000) * 1000;
    const p: Record<string, number> = {};
    for (const part of this.format.formatToParts(seconds)) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p['year'] ?? 1970, (p['month'] ?? 1) - 1, p['day'] ?? 1, p['hour'] ?? 0, p['minute'] ?? 0, p['second'] ?? 0);
    return local - seconds;
  }

  wall(ms: number): Wall {
    return wallOfUTC(ms + this.offset(ms));
  }

  instant(y: number, mo: number, d: number, h: number, mi: number): number {
    const local = Date.UTC(y, mo - 1, d, h, mi);
    // Go's time.Date: take the offset in force at `local` read as UTC; if the resulting instant lies in
    // another offset period, use that period's offset instead.
    const guess = this.offset(local);
    const utc = local - guess;
    const actual = this.offset(utc);
    return actual === guess ? utc : local - actual;
  }
}

const zones = new Map<string, Zone>();

function zoneOf(name: string | undefined): Zone {
  if (name === undefined || name === 'UTC' || name === 'Etc/UTC') return UTC_ZONE;
  let z = zones.get(name);
  if (z === undefined) {
    z = new IntlZone(name); // throws RangeError for an unknown zone
    zones.set(name, z);
  }
  return z;
}

// ---------------------------------------------------------------------------------------------
// Next activation

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
/** How far ahead a schedule is searched, in years (upstream's library gives up after five). */
const YEAR_LIMIT = 5;

function dayMatches(s: CronFieldSchedule, w: Wall): boolean {
  const dom = s.daysOfMonth[w.day] === true;
  const dow = s.daysOfWeek[w.weekday] === true;
  return s.domStar || s.dowStar ? dom && dow : dom || dow;
}

/**
 * The first activation of `schedule` strictly after `date`, or undefined when there is none within about
 * five years (`0 0 30 2 *`). `timeZone` (IANA name) wins over a `TZ=` prefix of the schedule; with
 * neither, UTC. Upstream's controller uses the kube-controller-manager's local zone when a CronJob has no
 * spec.timeZone; knode's control plane uses UTC. Throws RangeError for a time zone the runtime lacks.
 *
 * Cost: the search moves a month, a day, an hour or a minute at a time and only at the coarsest level
 * that does not match yet, so even a schedule that never fires costs a few hundred steps.
 */
export function nextAfter(schedule: CronSchedule, date: Date, timeZone?: string): Date | undefined {
  const after = date.getTime();
  if (Number.isNaN(after)) return undefined;
  if (schedule.kind === 'every') return new Date(Math.floor(after / 1000) * 1000 + schedule.seconds * 1000);
  const zone = zoneOf(timeZone ?? schedule.timeZone);
  return nextFieldActivation(schedule, after, zone);
}

function nextFieldActivation(s: CronFieldSchedule, after: number, zone: Zone): Date | undefined {
  // the next whole minute strictly after `after` (the library's seconds field is always 0)
  let t = Math.floor(after / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  let w = zone.wall(t);
  const yearLimit = w.year + YEAR_LIMIT;
  // Once a coarser field had to move, the finer ones restart from their first value.
  let reset = false;
  const move = (to: number): void => {
    t = to;
    w = zone.wall(t);
  };

  wrap: for (;;) {
    if (w.year > yearLimit) return undefined;

    while (s.months[w.month] !== true) {
      if (!reset) {
        reset = true;
        move(zone.instant(w.year, w.month, 1, 0, 0));
      }
      move(zone.instant(w.year, w.month + 1, w.day, w.hour, w.minute));
      if (w.month === 1) continue wrap;
    }

    while (!dayMatches(s, w)) {
      if (!reset) {
        reset = true;
        move(zone.instant(w.year, w.month, w.day, 0, 0));
      }
      move(zone.instant(w.year, w.month, w.day + 1, w.hour, w.minute));
      // a DST change can leave the next day's "midnight" at 23:00 or 01:00: bring it back to 0:00
      if (w.hour !== 0) move(t + (w.hour > 12 ? 24 - w.hour : -w.hour) * HOUR_MS);
      if (w.day === 1) continue wrap;
    }

    while (s.hours[w.hour] !== true) {
      if (!reset) {
        reset = true;
        move(zone.instant(w.year, w.month, w.day, w.hour, 0));
      }
      move(t + HOUR_MS);
      if (w.hour === 0) continue wrap;
    }

    while (s.minutes[w.minute] !== true) {
      reset = true;
      move(t + MINUTE_MS);
      if (w.minute === 0) continue wrap;
    }

    return new Date(t);
  }
}
