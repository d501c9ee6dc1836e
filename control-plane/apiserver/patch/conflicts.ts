/**
 * Server-side apply conflicts: which fields an apply would take from other managers, and how upstream
 * words them, so kubectl prints the same `Apply failed with 1 conflict: conflict with "kubectl-label"
 * using v1: .metadata.labels.owner` and its hint about --force-conflicts.
 *
 * A conflict is a field another managedFields entry owns (any operation, any manager other than the
 * applier's own Apply entry) whose value the apply changes. Setting the value it already has is no
 * conflict: the field becomes shared. Managers are named by upstream's manager identifier (the entry
 * without time and fields; Apply entries also without apiVersion), which is what its messages print and
 * sort by. Pure; cost linear in the size of the owners' field sets.
 */
import type { ManagedFieldsEntry, StatusCause } from '../../../api/meta.js';
import type { ApplyConflict } from './errors.js';
import { ApplyConflictError } from './errors.js';
import type { FieldSet } from './field-set.js';
import { parseElement } from './field-set.js';
import { isJsonObject } from './json-util.js';
import { entrySet } from './managed-fields.js';

/** The conflicts of an apply that changes `changed`, against the entries of the other managers. */
export function findConflicts(others: readonly ManagedFieldsEntry[], changed: FieldSet): ApplyConflict[] {
  const out: ApplyConflict[] = [];
  const owners = [...others].sort((a, b) => compare(managerIdentifier(a), managerIdentifier(b)));
  for (const owner of owners) {
    for (const path of entrySet(owner).intersection(changed).paths()) out.push({ owner, path });
  }
  return out;
}

/** The error a non-forced apply answers with (409 Conflict upstream). */
export function applyConflictError(conflicts: readonly ApplyConflict[]): ApplyConflictError {
  return new ApplyConflictError(conflicts, conflictMessage(conflicts));
}

/** Upstream's message: one conflict on one line, several grouped by manager. */
export function conflictMessage(conflicts: readonly ApplyConflict[]): string {
  const [only] = conflicts;
  if (conflicts.length === 1 && only !== undefined) {
    return `Apply failed with 1 conflict: conflict with ${describeManager(only.owner)}: ${formatFieldPath(only.path)}`;
  }
  const byManager = new Map<string, { owner: ManagedFieldsEntry; paths: string[] }>();
  for (const c of conflicts) {
    const id = managerIdentifier(c.owner);
    const group = byManager.get(id) ?? { owner: c.owner, paths: [] };
    group.paths.push(formatFieldPath(c.path));
    byManager.set(id, group);
  }
  const lines: string[] = [];
  for (const id of [...byManager.keys()].sort(compare)) {
    const group = byManager.get(id);
    if (group === undefined) continue;
    lines.push(`conflicts with ${describeManager(group.owner)}:`, ...group.paths.map((p) => `- ${p}`));
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** One Status cause per conflicting field, as upstream lists them in `details.causes`. */
export function conflictCauses(conflicts: readonly ApplyConflict[]): StatusCause[] {
  return conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.owner)}`,
    field: formatFieldPath(c.path),
  }));
}

/** `"kubectl-label" using v1`, `"kubelet" with subresource "status" using v1`, `"kubectl"` (an applier). */
export function describeManager(entry: ManagedFieldsEntry): string {
  let out = JSON.stringify(entry.manager ?? '');
  if (entry.subresource !== undefined && entry.subresource !== '') out += ` with subresource ${JSON.stringify(entry.subresource)}`;
  // The identifier carries no time, so upstream never prints the "at <time>" variant here.
  if (entry.operation === 'Update') out += ` using ${entry.apiVersion ?? ''}`;
  return out;
}

/**
 * Upstream's manager identifier: the entry's JSON without time and fields, and without apiVersion for
 * appliers (re-applying through another version is still the same manager).
 */
export function managerIdentifier(entry: ManagedFieldsEntry): string {
  return JSON.stringify({
    ...(entry.manager ? { manager: entry.manager } : {}),
    ...(entry.operation ? { operation: entry.operation } : {}),
    ...(entry.apiVersion && entry.operation !== 'Apply' ? { apiVersion: entry.apiVersion } : {}),
    ...(entry.subresource ? { subresource: entry.subresource } : {}),
  });
}

/** A field path as upstream prints it: `.spec.containers[name="web"].image`, `.metadata.finalizers[="a"]`. */
export function formatFieldPath(path: readonly string[]): string {
  return path.map(formatElement).join('');
}

function formatElement(element: string): string {
  const el = parseElement(element);
  if (el === undefined) return '{{invalid path element}}';
  switch (el.kind) {
    case 'field':
      return `.${el.name}`;
    case 'key':
      return `[${Object.keys(el.fields)
        .map((k) => `${k}=${valueString(el.fields[k])}`)
        .join(',')}]`;
    case 'value':
      return `[=${valueString(el.value)}]`;
    case 'index':
      return `[${el.index}]`;
    default: {
      const never: never = el;
      return never;
    }
  }
}

/** Upstream's human form of a value: strings quoted, lists bracketed, maps as key=value pairs. */
function valueString(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(valueString).join(',')}]`;
  if (isJsonObject(value)) {
    return Object.keys(value)
      .map((k) => `${k}=${valueString(value[k])}`)
      .join('');
  }
  return String(value);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
