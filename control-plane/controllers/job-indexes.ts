/**
 * Completion indexes of Indexed Jobs, as upstream writes them in `status.completedIndexes` and
 * `status.failedIndexes`: sorted, comma-separated, with runs of three or more consecutive indexes as
 * `first-last` ("1,3-5,7"; a pair stays "1,2"). Pure.
 */

/** The indexes of an interval list; malformed parts and indexes outside [0, completions) are dropped. */
export function parseIndexes(list: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (list === undefined || list === '') return out;
  for (const part of list.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    const first = Number(m[1]);
    const last = m[2] !== undefined ? Number(m[2]) : first;
    for (let i = first; i <= last && i < completions; i++) out.add(i);
  }
  return out;
}

/** The interval list of a set of indexes ("" for none). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] as number) + 1) j++;
    const first = sorted[i] as number;
    const last = sorted[j] as number;
    if (last - first >= 2) parts.push(`${first}-${last}`);
    else for (let k = i; k <= j; k++) parts.push(String(sorted[k]));
    i = j + 1;
  }
  return parts.join(',');
}

/** The completion index a pod carries (annotation, as upstream reads it), or undefined when absent or invalid. */
export function indexOf(annotations: Readonly<Record<string, string>> | undefined, key: string): number | undefined {
  const raw = annotations?.[key];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const n = Number(raw);
  return Number.isSafeInteger(n) ? n : undefined;
}
