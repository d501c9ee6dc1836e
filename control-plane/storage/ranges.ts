/**
 * Key ranges and read revisions: the small arithmetic every backend must agree on, so the memory
 * fake, SQLite and (later) etcd order keys and refuse revisions identically.
 *
 * Keys sort by their UTF-8 bytes, as in etcd and in SQLite's BINARY collation. UTF-8 byte order is
 * Unicode code point order, which differs from JavaScript's `<` (UTF-16 code units) only when a
 * character above U+FFFF meets one in U+E000..U+FFFF; `compareKeys` handles that case so the memory
 * store sorts exactly like the others. A prefix selects the half-open range [prefix, prefixEnd).
 */
import { CompactedError, FutureRevisionError } from './errors.js';

/** Half-open key range [start, end); `end` undefined means "to the last key". */
export interface KeyRange {
  readonly start: string;
  readonly end: string | undefined;
}

// Moves surrogates (U+D800..U+DFFF, which encode code points above U+FFFF) above U+E000..U+FFFF,
// turning UTF-16 code unit order into code point order.
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit < 0xe000 ? unit + 0x2000 : unit - 0x800;
}

/** Orders keys by code point (= UTF-8 byte) order. */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * The smallest key greater than every key starting with `prefix`, or undefined when there is none
 * (empty prefix, or a prefix made only of U+10FFFF).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = Array.from(prefix, (c) => c.codePointAt(0) ?? 0);
  while (points.length > 0) {
    const last = points.pop() ?? 0;
    if (last < 0x10ffff) {
      // U+D800..U+DFFF are not characters: the code point after U+D7FF is U+E000.
      points.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...points);
    }
  }
  return undefined;
}

/**
 * The keys under `prefix`, starting at `startKey` when it is given. A start key outside the prefix
 * is clamped: before it lists from the prefix, after it lists nothing.
 */
export function rangeFor(prefix: string, startKey?: string): KeyRange {
  const start = startKey !== undefined && compareKeys(startKey, prefix) > 0 ? startKey : prefix;
  return { start, end: prefixEnd(prefix) };
}

export function inRange(key: string, range: KeyRange): boolean {
  return compareKeys(key, range.start) >= 0 && (range.end === undefined || compareKeys(key, range.end) < 0);
}

/**
 * The revision a read runs at: `requested` (0 or absent: the current one), refused below the last
 * compaction (its history is gone) and above the current revision (it has not happened yet).
 */
export function resolveReadRevision(requested: number | undefined, current: number, compacted: number): number {
  const revision = requested === undefined || requested === 0 ? current : requested;
  if (revision < compacted) throw new CompactedError(revision, compacted);
  if (revision > current) throw new FutureRevisionError(revision, current);
  return revision;
}

/** A list limit of 0, a negative number or none means "everything". */
export function effectiveLimit(limit: number | undefined): number {
  return limit === undefined || limit <= 0 ? Number.POSITIVE_INFINITY : limit;
}
