/**
 * Field selectors, with upstream's semantics (k8s.io/apimachinery/pkg/fields):
 * `metadata.name=x,spec.nodeName!=,status.phase==Running`. Only `=`, `==` and `!=` exist; terms are
 * ANDed. In values, `\,` `\=` and `\\` stand for `,` `=` and `\`; any other backslash sequence, and an
 * unescaped `,` or `=`, is an error. The field name is taken as written up to the first operator.
 *
 * Each kind supports a fixed set of field names (metadata.name and metadata.namespace always, plus the
 * kind's own, see KindDefinition.selectableFields); `requiredFieldNames` lets the apiserver reject the
 * others with upstream's `field label not supported: <name>` before it lists anything.
 *
 * Cost model: parsing is linear in the text; matching is one map lookup per term.
 */
import { KnodeError } from '../lib/errors.js';

/** `==` is accepted on input and stored as `=`, which is how upstream prints it back. */
export type FieldOperator = '=' | '!=';

export interface FieldRequirement {
  readonly field: string;
  readonly operator: FieldOperator;
  /** The unescaped value. */
  readonly value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
}

export const everythingFields: FieldSelector = Object.freeze({ requirements: Object.freeze([]) });

/** Thrown for a field selector that cannot be parsed; the apiserver answers 400 BadRequest. */
export class FieldSelectorError extends KnodeError {
  constructor(message: string) {
    super('ERR_INVALID_FIELD_SELECTOR', message);
  }
}

/** Upstream checks `!=` before `==` before `=` at each position, so `a!=b` is never `a!` `=` `b`. */
const OPERATORS: readonly { readonly text: string; readonly op: FieldOperator }[] = [
  { text: '!=', op: '!=' },
  { text: '==', op: '=' },
  { text: '=', op: '=' },
];

/** Parses `?fieldSelector=`; the empty string selects everything. Throws `FieldSelectorError`. */
export function parseFieldSelector(text: string): FieldSelector {
  // Upstream sorts the raw terms, which makes the printed form canonical.
  const terms = splitTerms(text).sort();
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const split = splitTerm(term);
    if (split === undefined) {
      throw new FieldSelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    }
    requirements.push({ field: split.field, operator: split.op, value: unescapeFieldValue(split.rhs) });
  }
  return { requirements };
}

/** Splits on commas that are not escaped by a backslash. */
function splitTerms(text: string): string[] {
  if (text === '') return [];
  const terms: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (escaped) escaped = false;
    else if (c === '\\') escaped = true;
    else if (c === ',') {
      terms.push(text.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(text.slice(start));
  return terms;
}

function splitTerm(term: string): { field: string; op: FieldOperator; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const { text, op } of OPERATORS) {
      if (term.startsWith(text, i)) return { field: term.slice(0, i), op, rhs: term.slice(i + text.length) };
    }
  }
  return undefined;
}

export function escapeFieldValue(value: string): string {
  return value.replace(/[\\,=]/g, (c) => `\\${c}`);
}

export function unescapeFieldValue(value: string): string {
  if (!/[\\,=]/.test(value)) return value;
  let out = '';
  let escaped = false;
  for (const c of value) {
    if (escaped) {
      if (c !== '\\' && c !== ',' && c !== '=') {
        throw new FieldSelectorError(`invalid field selector: invalid escape sequence: \\${c}`);
      }
      out += c;
      escaped = false;
    } else if (c === '\\') {
      escaped = true;
    } else if (c === ',' || c === '=') {
      throw new FieldSelectorError(`invalid field selector: unescaped character in value: ${c}`);
    } else {
      out += c;
    }
  }
  if (escaped) throw new FieldSelectorError('invalid field selector: invalid escape sequence: \\');
  return out;
}

/**
 * True when every term holds. A field the object does not have reads as the empty string, so
 * `spec.nodeName=` selects unscheduled pods and `spec.nodeName!=` scheduled ones.
 */
export function matchesFields(sel: FieldSelector, fields: Readonly<Record<string, string>>): boolean {
  for (const r of sel.requirements) {
    const have = Object.hasOwn(fields, r.field) ? fields[r.field] : '';
    if ((have === r.value) !== (r.operator === '=')) return false;
  }
  return true;
}

export function fieldSelectorToString(sel: FieldSelector): string {
  return sel.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
}

export function isEverythingFields(sel: FieldSelector): boolean {
  return sel.requirements.length === 0;
}

/** Field names the selector uses, each once, in selector order. */
export function requiredFieldNames(sel: FieldSelector): string[] {
  return [...new Set(sel.requirements.map((r) => r.field))];
}

/** The first field name outside `supported`, or undefined when the selector can be served. */
export function unsupportedFieldLabel(sel: FieldSelector, supported: ReadonlySet<string>): string | undefined {
  return requiredFieldNames(sel).find((f) => !supported.has(f));
}

/** Upstream's wording for the 400 returned when a selector names a field the kind does not index. */
export function fieldLabelNotSupportedMessage(name: string): string {
  return `field label not supported: ${name}`;
}

/**
 * The value a selector pins `field` to with `=`, if any (upstream RequiresExactMatch): lets the
 * apiserver and the kubelet's watch on `spec.nodeName=<node>` take a fast path.
 */
export function requiresExactMatch(sel: FieldSelector, field: string): string | undefined {
  return sel.requirements.find((r) => r.field === field && r.operator === '=')?.value;
}

/** `field=value` as a one-term selector (upstream OneTermEqualSelector). */
export function oneTermEqual(field: string, value: string): FieldSelector {
  return { requirements: [{ field, operator: '=', value }] };
}
