/**
 * CRI timestamps are int64 nanoseconds since the epoch; the client hands them over as `bigint`
 * (a double loses the last ~3 digits at 1.8e18). These convert at the edges: `Date`s and
 * milliseconds for display and API status, bigint for ordering and equality.
 */

const NS_PER_MS = 1_000_000n;

/** Nanoseconds to a Date (millisecond precision, truncated). */
export function nsToDate(ns: bigint): Date {
  return new Date(Number(ns / NS_PER_MS));
}

/** A Date to nanoseconds. */
export function dateToNs(d: Date): bigint {
  return BigInt(d.getTime()) * NS_PER_MS;
}

/** CRI uses 0 for "not yet" (startedAt of a created container, finishedAt of a running one). */
export function nsToDateOrUndefined(ns: bigint): Date | undefined {
  return ns === 0n ? undefined : nsToDate(ns);
}

/** Milliseconds between two nanosecond timestamps, for durations such as run time. */
export function nsDiffMs(later: bigint, earlier: bigint): number {
  return Number(later - earlier) / 1e6;
}
