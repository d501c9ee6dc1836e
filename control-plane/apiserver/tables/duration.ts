/**
 * Upstream's HumanDuration (k8s.io/apimachinery/pkg/util/duration): the compact ages kubectl shows.
 * Precision falls as the duration grows: seconds below 2 minutes, minutes and seconds below 10 minutes,
 * minutes below 3 hours, hours and minutes below 8 hours, hours below 2 days, days and hours below 8 days,
 * days below 2 years, years and days below 8 years, then years.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** `5s`, `3m20s`, `10m`, `2h5m`, `10h`, `3d4h`, `45d`, `2y10d`, `9y`; `<invalid>` well in the future. */
export function humanDuration(ms: number): string {
  // Truncation toward zero, as Go's int(d.Seconds()).
  const seconds = Math.trunc(ms / SECOND);
  // Up to a second in the future counts as now: clocks of different machines drift a little.
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(ms / HOUR);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/** Milliseconds since the epoch of an RFC 3339 timestamp, or undefined when absent or unparseable. */
export function parseTimestamp(value: unknown): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** How long ago `timestamp` was, as upstream's translateTimestampSince; `<unknown>` when there is none. */
export function translateTimestampSince(timestamp: unknown, now: Date): string {
  const t = parseTimestamp(timestamp);
  return t === undefined ? '<unknown>' : humanDuration(now.getTime() - t);
}
