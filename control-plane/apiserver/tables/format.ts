/**
 * Shared pieces of the printers: reading fields of stored objects without trusting their shape (a
 * printer must never throw on an odd object; it prints what it can), column definitions, and the
 * label, selector and container cells several kinds share.
 */
import { labelSelectorToString } from '../../../api/labels.js';
import type { LabelSelector } from '../../../api/meta.js';
import { translateTimestampSince } from './duration.js';

/** One column of a meta/v1 Table. Every field is always present on the wire, as upstream sends them. */
export interface TableColumnDefinition {
  readonly name: string;
  /** OpenAPI type of the cells: `string`, `integer`, `number`, `boolean`, `date`. */
  readonly type: string;
  /** `name` marks the column identifying the row; empty otherwise. */
  readonly format: string;
  readonly description: string;
  /** 0: shown by default; 1: only with `-o wide`. */
  readonly priority: number;
}

export type TableCell = string | number | boolean | null;

export type Fields = Readonly<Record<string, unknown>>;

export function col(
  name: string,
  type: string,
  description: string,
  opts: { readonly format?: string; readonly priority?: number } = {},
): TableColumnDefinition {
  return { name, type, format: opts.format ?? '', description, priority: opts.priority ?? 0 };
}

export const nameColumn = col('Name', 'string', 'Name must be unique within a namespace.', { format: 'name' });
export const ageColumn = col('Age', 'string', 'Time elapsed since the object was created.');

// ---------------------------------------------------------------------------------------------------
// Reading untrusted JSON

export function rec(v: unknown): Fields {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Fields) : {};
}

export function arr(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

export function text(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

export function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** Number of keys of a JSON object (ConfigMap data, Secret data). */
export function size(v: unknown): number {
  return Object.keys(rec(v)).length;
}

export function stringMap(v: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(rec(v))) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Walks `a.b.c` through nested objects. */
export function at(v: unknown, ...path: string[]): unknown {
  let cur = v;
  for (const p of path) cur = rec(cur)[p];
  return cur;
}

export function nameOf(obj: unknown): string {
  return text(at(obj, 'metadata', 'name'));
}

export function ageOf(obj: unknown, now: Date): string {
  return translateTimestampSince(at(obj, 'metadata', 'creationTimestamp'), now);
}

// ---------------------------------------------------------------------------------------------------
// Shared cells

/** `k1=v1,k2=v2` sorted by key, `<none>` when empty (upstream labels.FormatLabels). */
export function formatLabels(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels[k] ?? ''}`).join(',');
}

/** A LabelSelector as text, `onError` when it does not parse. */
export function selectorString(selector: unknown, onError: string): string {
  if (selector === undefined || selector === null) return labelSelectorToString(undefined);
  try {
    return labelSelectorToString(rec(selector) as LabelSelector);
  } catch {
    return onError;
  }
}

/** Upstream metav1.FormatLabelSelector: like `selectorString` but `<none>` for the empty selector. */
export function formatLabelSelector(selector: unknown): string {
  const s = selectorString(selector, '<error>');
  return s === '' ? '<none>' : s;
}

/** The CONTAINERS and IMAGES cells of a pod template: names and images joined by commas. */
export function containerCells(podSpec: unknown): [string, string] {
  const containers = arr(rec(podSpec).containers).map(rec);
  return [containers.map((c) => text(c.name)).join(','), containers.map((c) => text(c.image)).join(',')];
}

/** `a,b,c + 2 more...` as upstream lists at most three endpoints or ports. */
export function listWithMore(list: readonly string[], total: number, max: number): string {
  const shown = list.join(',');
  return total > max ? `${shown} + ${total - max} more...` : shown;
}
