/**
 * Label selectors, with upstream's semantics (k8s.io/apimachinery/pkg/labels).
 *
 * Two sources produce the same internal form, a `Selector`:
 *  - the string form of `?labelSelector=` and `kubectl -l`: `a=b,c==d,e!=f,g in (x,y),h notin (z),i,!j,k>3`;
 *  - the meta/v1 `LabelSelector` object of Deployments, Services' consumers, NetworkPolicies...
 * A selector is either a list of requirements ANDed together (the empty list matches everything) or
 * `nothing` (what a null LabelSelector object means: it selects no object at all).
 *
 * Cost model: parsing is one linear pass over the text; `matches` is O(requirements x values) with no
 * allocation, so the apiserver can filter a large list without building anything per object.
 */
import { KnodeError } from '../lib/errors.js';
import type { FieldError } from './field-errors.js';
import { FieldPath, formatFieldError, forbidden, invalid, required } from './field-errors.js';
import type { LabelSelector, LabelSelectorRequirement } from './meta.js';
import { isQualifiedName, isValidLabelValue, validateLabels } from './names.js';

/** Upstream's selection.Operator values, as they appear in the string form. */
export type SelectionOperator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  readonly key: string;
  readonly operator: SelectionOperator;
  /** Empty for exists / `!`; one value for =, ==, !=, gt, lt; one or more for in / notin. */
  readonly values: readonly string[];
}

export type Selector =
  | { readonly type: 'requirements'; readonly requirements: readonly Requirement[] }
  | { readonly type: 'nothing' };

export const everything: Selector = Object.freeze({ type: 'requirements', requirements: Object.freeze([]) });
export const nothing: Selector = Object.freeze({ type: 'nothing' });

/** Thrown for a selector string or object that cannot be turned into a `Selector`; the apiserver answers 400. */
export class LabelSelectorError extends KnodeError {
  constructor(message: string) {
    super('ERR_INVALID_LABEL_SELECTOR', message);
  }
}

/** True for a selector that matches every object (no requirements). `nothing` is not empty. */
export function isEverything(sel: Selector): boolean {
  return sel.type === 'requirements' && sel.requirements.length === 0;
}

// ---------------------------------------------------------------------------------------------
// Requirements

/**
 * Checks one requirement the way upstream's NewRequirement does and returns the errors (empty if valid).
 * Paths are relative to the requirement: `key`, `values`, `values[0]`.
 */
export function requirementErrors(key: string, op: SelectionOperator, values: readonly string[]): FieldError[] {
  const errs: FieldError[] = [];
  const root = FieldPath.root();
  for (const msg of isQualifiedName(key)) errs.push(invalid(root.child('key'), key, msg));
  const valuesPath = root.child('values');
  switch (op) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid(valuesPath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid(valuesPath, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid(valuesPath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined) {
          errs.push(invalid(valuesPath.index(i), v, "for 'Gt', 'Lt' operators, the value must be an integer"));
        }
      });
      break;
    default: {
      const never: never = op;
      errs.push(invalid(root.child('operator'), never, 'not a valid selector operator'));
    }
  }
  values.forEach((v, i) => {
    for (const msg of isValidLabelValue(v)) errs.push(invalid(valuesPath.index(i), v, msg));
  });
  return errs;
}

/** Builds a validated requirement; throws `LabelSelectorError` naming the first problem. */
export function newRequirement(key: string, op: SelectionOperator, values: readonly string[]): Requirement {
  const errs = requirementErrors(key, op, values);
  if (errs.length > 0) throw new LabelSelectorError(errs.map(formatFieldError).join(', '));
  return { key, operator: op, values: [...values] };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, must fit in 64 bits. */
function parseInt64(s: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(s)) return undefined;
  const n = BigInt(s);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

export function requirementMatches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.hasOwn(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return value !== undefined && r.values.includes(value);
    case '!=':
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (value === undefined || r.values.length !== 1) return false;
      const have = parseInt64(value);
      const want = parseInt64(r.values[0] ?? '');
      if (have === undefined || want === undefined) return false;
      return r.operator === 'gt' ? have > want : have < want;
    }
    default: {
      const never: never = r.operator;
      return never;
    }
  }
}

/** Upstream's Requirement.String(): `!k`, `k`, `k=v`, `k in (a,b)` (values sorted in the output only). */
export function requirementToString(r: Requirement): string {
  const vals = r.values.length > 1 ? [...r.values].sort() : r.values;
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case '=':
    case '==':
    case '!=':
      return `${r.key}${r.operator}${vals.join(',')}`;
    case 'gt':
      return `${r.key}>${vals.join(',')}`;
    case 'lt':
      return `${r.key}<${vals.join(',')}`;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${vals.join(',')})`;
    default: {
      const never: never = r.operator;
      return never;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Selectors

/** A selector from requirements, sorted by key as upstream's Add does so that String() is canonical. */
export function selectorOf(requirements: readonly Requirement[]): Selector {
  const sorted = [...requirements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { type: 'requirements', requirements: sorted };
}

/** `key=value` for every entry (upstream SelectorFromSet), e.g. a Service's spec.selector. Not validated. */
export function selectorFromMap(set: Readonly<Record<string, string>> | undefined): Selector {
  if (set === undefined) return everything;
  return selectorOf(Object.entries(set).map(([key, v]) => ({ key, operator: '=' as const, values: [v] })));
}

export function matches(sel: Selector, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (sel.type === 'nothing') return false;
  const set = labels ?? {};
  for (const r of sel.requirements) if (!requirementMatches(r, set)) return false;
  return true;
}

/** The canonical string form; `everything` and `nothing` both print as the empty string, like upstream. */
export function selectorToString(sel: Selector): string {
  if (sel.type === 'nothing') return '';
  return sel.requirements.map(requirementToString).join(',');
}

/**
 * meta/v1 LabelSelector -> Selector (upstream LabelSelectorAsSelector): null/undefined selects nothing,
 * `{}` selects everything. Throws `LabelSelectorError` for an invalid key, value or operator.
 */
export function labelSelectorAsSelector(ls: LabelSelector | null | undefined): Selector {
  if (ls === null || ls === undefined) return nothing;
  const matchLabels = Object.entries(ls.matchLabels ?? {});
  const exprs = ls.matchExpressions ?? [];
  if (matchLabels.length + exprs.length === 0) return everything;
  const reqs: Requirement[] = matchLabels.map(([k, v]) => newRequirement(k, '=', [v]));
  for (const e of exprs) reqs.push(newRequirement(e.key, metaOperator(e.operator), e.values ?? []));
  return selectorOf(reqs);
}

function metaOperator(op: string): SelectionOperator {
  switch (op) {
    case 'In':
      return 'in';
    case 'NotIn':
      return 'notin';
    case 'Exists':
      return 'exists';
    case 'DoesNotExist':
      return '!';
    default:
      throw new LabelSelectorError(`${JSON.stringify(op)} is not a valid label selector operator`);
  }
}

/** Shorthand for `selectorToString(labelSelectorAsSelector(ls))`: what Scale.status.selector shows. */
export function labelSelectorToString(ls: LabelSelector | null | undefined): string {
  return selectorToString(labelSelectorAsSelector(ls));
}

/** True when a LabelSelector object (not null) has no terms, i.e. it would select everything. */
export function isEmptyLabelSelector(ls: LabelSelector): boolean {
  return Object.keys(ls.matchLabels ?? {}).length + (ls.matchExpressions ?? []).length === 0;
}

// ---------------------------------------------------------------------------------------------
// Validation of the object form (upstream metav1validation.ValidateLabelSelector)

export function validateLabelSelector(sel: LabelSelector | null | undefined, path: FieldPath): FieldError[] {
  if (sel === null || sel === undefined) return [];
  const errs = validateLabels(sel.matchLabels, path.child('matchLabels'));
  (sel.matchExpressions ?? []).forEach((expr, i) => {
    errs.push(...validateLabelSelectorRequirement(expr, path.child('matchExpressions').index(i)));
  });
  return errs;
}

export function validateLabelSelectorRequirement(r: LabelSelectorRequirement, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
    case 'NotIn':
      if (values.length === 0) {
        errs.push(required(path.child('values'), "must be specified when `operator` is 'In' or 'NotIn'"));
      }
      break;
    case 'Exists':
    case 'DoesNotExist':
      if (values.length > 0) {
        errs.push(forbidden(path.child('values'), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
      }
      break;
    default:
      errs.push(invalid(path.child('operator'), r.operator, 'not a valid selector operator'));
  }
  for (const msg of isQualifiedName(r.key)) errs.push(invalid(path.child('key'), r.key, msg));
  values.forEach((v, i) => {
    for (const msg of isValidLabelValue(v)) errs.push(invalid(path.child('values').index(i), v, msg));
  });
  return errs;
}

// ---------------------------------------------------------------------------------------------
// The string form

/** Parses `?labelSelector=`; the empty string selects everything. Throws `LabelSelectorError`. */
export function parseSelector(text: string): Selector {
  return selectorOf(new Parser(lex(text)).parse());
}

type Tok =
  | 'id'
  | 'in'
  | 'notin'
  | '('
  | ')'
  | ','
  | '='
  | '=='
  | '!='
  | '!'
  | '>'
  | '<'
  | 'eos';

interface Token {
  readonly tok: Tok;
  readonly lit: string;
}

const SYMBOLS: readonly string[] = ['!=', '==', '!', '(', ')', ',', '=', '>', '<'];
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSymbolChar = (c: string): boolean => '=!(),><'.includes(c);

function lex(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (isSymbolChar(c)) {
      // Longest match first: `!=` and `==` before `!` and `=`.
      const sym = SYMBOLS.find((s) => text.startsWith(s, i)) ?? c;
      out.push({ tok: sym as Tok, lit: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < text.length && !isSpace(text[j] ?? '') && !isSymbolChar(text[j] ?? '')) j++;
    const word = text.slice(i, j);
    out.push({ tok: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'id', lit: word });
    i = j;
  }
  out.push({ tok: 'eos', lit: '' });
  return out;
}

/**
 * Where a value is expected, `in` and `notin` are ordinary words (`a=in` is legal); where an operator
 * is expected they are keywords. Upstream calls these the Values and KeyAndOperator contexts.
 */
type Context = 'values' | 'operator';

class Parser {
  private pos = 0;
  constructor(private readonly tokens: readonly Token[]) {}

  private peek(ctx: Context): Token {
    return this.view(this.tokens[this.pos] ?? { tok: 'eos', lit: '' }, ctx);
  }
  private next(ctx: Context): Token {
    const t = this.peek(ctx);
    if (this.pos < this.tokens.length - 1) this.pos++;
    return t;
  }
  private view(t: Token, ctx: Context): Token {
    return ctx === 'values' && (t.tok === 'in' || t.tok === 'notin') ? { tok: 'id', lit: t.lit } : t;
  }

  parse(): Requirement[] {
    const reqs: Requirement[] = [];
    for (;;) {
      const t = this.peek('values');
      switch (t.tok) {
        case 'id':
        case '!': {
          reqs.push(this.requirement());
          const sep = this.next('values');
          if (sep.tok === 'eos') return reqs;
          if (sep.tok !== ',') fail(`found '${sep.lit}', expected: ',' or 'end of string'`);
          const after = this.peek('values');
          if (after.tok !== 'id' && after.tok !== '!') fail(`found '${after.lit}', expected: identifier after ','`);
          break;
        }
        case 'eos':
          return reqs;
        default:
          fail(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private requirement(): Requirement {
    let notExists = false;
    let t = this.next('values');
    if (t.tok === '!') {
      notExists = true;
      t = this.next('values');
    }
    if (t.tok !== 'id') failReq(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = isQualifiedName(key);
    if (keyErrs.length > 0) failReq(formatFieldError(invalid(FieldPath.root('key'), key, keyErrs.join('; '))));
    const after = this.peek('values').tok;
    if (notExists || after === 'eos' || after === ',') {
      return checked(key, notExists ? '!' : 'exists', []);
    }
    const op = this.operator();
    const values = op === 'in' || op === 'notin' ? this.valueSet() : this.exactValue();
    return checked(key, op, values);
  }

  private operator(): SelectionOperator {
    const t = this.next('operator');
    switch (t.tok) {
      case 'in':
      case 'notin':
      case '=':
      case '==':
      case '!=':
        return t.tok;
      case '>':
        return 'gt';
      case '<':
        return 'lt';
      default:
        return failReq(`found '${t.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
  }

  private exactValue(): string[] {
    const t = this.peek('values');
    if (t.tok === 'eos' || t.tok === ',') return [''];
    this.next('values');
    if (t.tok === 'id') return [t.lit];
    return failReq(`found '${t.lit}', expected: identifier`);
  }

  /** `(a,b)`, `()`, `(,a)`, `(a,)`: empty members stand for the empty value, as upstream allows. */
  private valueSet(): string[] {
    const open = this.next('values');
    if (open.tok !== '(') failReq(`found '${open.lit}' expected: '('`);
    const first = this.peek('values');
    if (first.tok === ')') {
      this.next('values');
      return [''];
    }
    if (first.tok !== 'id' && first.tok !== ',') failReq(`found '${first.lit}', expected: ',', ')' or identifier`);
    const set = new Set<string>();
    for (;;) {
      const t = this.next('values');
      if (t.tok === 'id') {
        set.add(t.lit);
        const n = this.peek('values');
        if (n.tok === ',') continue;
        if (n.tok === ')') break;
        failReq(`found '${n.lit}', expected: ',' or ')'`);
      } else if (t.tok === ',') {
        if (set.size === 0) set.add('');
        const n = this.peek('values');
        if (n.tok === ')') {
          set.add('');
          break;
        }
        if (n.tok === ',') {
          this.next('values');
          set.add('');
        }
      } else {
        failReq(`found '${t.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.next('values');
    if (close.tok !== ')') failReq(`found '${close.lit}', expected: ')'`);
    return [...set].sort();
  }
}

function checked(key: string, op: SelectionOperator, values: readonly string[]): Requirement {
  const errs = requirementErrors(key, op, values);
  if (errs.length > 0) failReq(errs.map(formatFieldError).join(', '));
  return { key, operator: op, values };
}

function fail(message: string): never {
  throw new LabelSelectorError(message);
}

function failReq(message: string): never {
  throw new LabelSelectorError(`unable to parse requirement: ${message}`);
}
