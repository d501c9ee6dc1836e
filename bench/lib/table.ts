/**
 * Plain-text tables for the report: columns padded to their widest cell, numbers right-aligned, text
 * left-aligned. Stays readable when pasted into an issue or a commit message.
 */

export type Align = 'left' | 'right';

/** Renders `rows` under `headers`; a column is right-aligned when `align` says so (default: left). */
export function renderTable(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    widths
      .map((w, c) => {
        const cell = cells[c] ?? '';
        return (align[c] ?? 'left') === 'right' ? cell.padStart(w) : cell.padEnd(w);
      })
      .join('  ')
      .trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}
