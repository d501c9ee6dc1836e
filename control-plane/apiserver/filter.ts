/**
 * Label and field selectors of a LIST or WATCH, compiled once per request into one predicate.
 * Field selectors support metadata.name and metadata.namespace for every kind plus what the kind
 * declares in `selectableFields`; anything else is a 400, as upstream answers.
 */
import type { KubeObject } from '../../api/meta.js';
import { parseSelector, matches as labelsMatch } from '../../api/labels.js';
import { parseFieldSelector, matchesFields, requiredFieldNames } from '../../api/fields.js';
import type { ResourceEntry } from './resource-table.js';
import { badRequest } from './errors.js';

export interface ObjectFilter {
  /** True when no selector was given (every object matches). */
  readonly empty: boolean;
  matches(obj: KubeObject): boolean;
}

export const everything: ObjectFilter = { empty: true, matches: () => true };

export function fieldsOf(e: ResourceEntry, obj: KubeObject): Record<string, string> {
  return {
    'metadata.name': obj.metadata.name ?? '',
    'metadata.namespace': obj.metadata.namespace ?? '',
    ...(e.def.selectableFields ? e.def.selectableFields(obj) : {}),
  };
}

export function buildFilter(e: ResourceEntry, labelSelector: string | undefined, fieldSelector: string | undefined): ObjectFilter {
  const hasLabels = labelSelector !== undefined && labelSelector.trim() !== '';
  const hasFields = fieldSelector !== undefined && fieldSelector.trim() !== '';
  if (!hasLabels && !hasFields) return everything;
  let labelSel: ReturnType<typeof parseSelector> | undefined;
  let fieldSel: ReturnType<typeof parseFieldSelector> | undefined;
  try {
    if (hasLabels) labelSel = parseSelector(labelSelector);
  } catch (err) {
    throw badRequest((err as Error).message);
  }
  try {
    if (hasFields) fieldSel = parseFieldSelector(fieldSelector);
  } catch (err) {
    throw badRequest(`invalid field selector: ${(err as Error).message}`);
  }
  if (fieldSel) {
    // Probe the supported field names with an empty object of the kind.
    const supported = new Set(Object.keys(fieldsOf(e, { metadata: {} })));
    for (const f of requiredFieldNames(fieldSel)) {
      if (!supported.has(f)) throw badRequest(`field label not supported: ${f}`);
    }
  }
  return {
    empty: false,
    matches: (obj) =>
      (labelSel === undefined || labelsMatch(labelSel, obj.metadata.labels ?? {})) &&
      (fieldSel === undefined || matchesFields(fieldSel, fieldsOf(e, obj))),
  };
}
