/**
 * Kubernetes resource quantities (upstream k8s.io/apimachinery/pkg/api/resource): `100m`, `1.5`, `2Gi`,
 * `1e3`, `500M`. A quantity is kept exactly as a count of nano-units in a bigint, which is what upstream's
 * arithmetic amounts to (every value is rounded up, away from zero, to a multiple of 1n), plus the format
 * it was written in so that it prints back the way users wrote it: binary (`Ki`...`Ei`), decimal SI
 * (`n u m k M G T P E`) or decimal exponent (`1e3`). Printing is upstream's canonical form: `0.5` ->
 * `500m`, `1000` -> `1k`, `1536Mi` stays, `1.5Gi` -> `1536Mi`.
 *
 * Cost model: parsing is one scan plus a handful of bigint multiplications; values above 2^53 stay exact
 * in the bigint, and the `number` accessors are exact for integers up to 2^53 (9 PB of memory).
 * Exponents beyond +-1000 are refused (upstream accepts any int32, a multi-gigabyte number for no use).
 */
import { KnodeError } from '../lib/errors.js';

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export interface Quantity {
  /** The value times 10^9: exact, since upstream rounds every quantity up to whole nano-units. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
}

export type QuantityErrorCode = 'ERR_QUANTITY_FORMAT' | 'ERR_QUANTITY_SUFFIX' | 'ERR_QUANTITY_NUMERIC';

export const QUANTITY_FORMAT_MESSAGE =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const SUFFIX_MESSAGE = "unable to parse quantity's suffix";
const NUMERIC_MESSAGE = 'unable to parse numeric part of quantity';

/** Names the offending value; `detail` is upstream's own sentence for field errors. */
export class QuantityError extends KnodeError {
  constructor(
    code: QuantityErrorCode,
    readonly value: string,
    readonly detail: string,
  ) {
    super(code, `invalid quantity ${JSON.stringify(value)}: ${detail}`);
  }
}

const NANO = 1_000_000_000n;
const MAX_EXPONENT = 1000;
/** Upstream caps binary quantities at the largest int64. */
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANO;

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_BY_EXPONENT = new Map(Object.entries(DECIMAL_SUFFIXES).map(([s, e]) => [e, s]));
const BINARY_BY_POWER = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'] as const;
const SUFFIX_CHARS = 'eEinumkKMGTP';
const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

interface Scanned {
  readonly negative: boolean;
  readonly whole: string;
  readonly fraction: string;
  readonly suffix: string;
}

/** Splits `-1.5Gi` into sign, digits and suffix, with upstream's acceptance rules (e.g. `1.` and `.5` pass). */
function scan(text: string): Scanned | QuantityErrorCode {
  let pos = 0;
  let negative = false;
  if (text[0] === '-' || text[0] === '+') {
    negative = text[0] === '-';
    pos = 1;
  }
  const digitsFrom = (p: number): number => {
    while (p < text.length && text[p]! >= '0' && text[p]! <= '9') p++;
    return p;
  };
  const wholeEnd = digitsFrom(pos);
  const whole = text.slice(pos, wholeEnd);
  pos = wholeEnd;
  let fraction = '';
  if (text[pos] === '.') {
    const fracEnd = digitsFrom(pos + 1);
    fraction = text.slice(pos + 1, fracEnd);
    pos = fracEnd;
  }
  // no digit at all: `.` passes the regex yet carries no number, `m` or `+` do not even match it
  if (whole === '' && fraction === '') return QUANTITY_RE.test(text) ? 'ERR_QUANTITY_NUMERIC' : 'ERR_QUANTITY_FORMAT';
  const suffixStart = pos;
  while (pos < text.length && SUFFIX_CHARS.includes(text[pos]!)) pos++;
  if (text[pos] === '-' || text[pos] === '+') pos++;
  if (digitsFrom(pos) !== text.length) return 'ERR_QUANTITY_FORMAT';
  return { negative, whole, fraction, suffix: text.slice(suffixStart) };
}

type Interpreted = { readonly base: 10 | 2; readonly exponent: number; readonly format: QuantityFormat };

function interpretSuffix(suffix: string): Interpreted | undefined {
  const dec = DECIMAL_SUFFIXES[suffix];
  if (dec !== undefined) return { base: 10, exponent: dec, format: 'DecimalSI' };
  const bin = BINARY_SUFFIXES[suffix];
  if (bin !== undefined) return { base: 2, exponent: bin, format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[-+]?[0-9]+$/.test(suffix.slice(1))) {
    return { base: 10, exponent: Number.parseInt(suffix.slice(1), 10), format: 'DecimalExponent' };
  }
  return undefined;
}

/** ceil(n / d) for n >= 0, d > 0. */
const divUp = (n: bigint, d: bigint): bigint => (n + d - 1n) / d;

/** Parses a quantity as written in JSON (a string, or a number, which upstream also accepts). */
export function parseQuantity(input: string | number): Quantity {
  const text = typeof input === 'number' ? numberText(input) : input;
  const fail = (code: QuantityErrorCode, detail: string): never => {
    throw new QuantityError(code, text, detail);
  };
  if (text.length === 0) fail('ERR_QUANTITY_FORMAT', QUANTITY_FORMAT_MESSAGE);
  const s = scan(text);
  if (typeof s === 'string') return fail(s, s === 'ERR_QUANTITY_FORMAT' ? QUANTITY_FORMAT_MESSAGE : NUMERIC_MESSAGE);
  const interp = interpretSuffix(s.suffix) ?? fail('ERR_QUANTITY_SUFFIX', SUFFIX_MESSAGE);
  if (Math.abs(interp.exponent) > MAX_EXPONENT) fail('ERR_QUANTITY_NUMERIC', NUMERIC_MESSAGE);

  const digits = BigInt(`${s.whole}${s.fraction}` || '0');
  // value = digits * 10^-len(fraction) * base^exponent; nanos = value * 10^9, rounded up
  let numerator = digits;
  let pow10 = 9 - s.fraction.length;
  if (interp.base === 10) pow10 += interp.exponent;
  else numerator *= 2n ** BigInt(interp.exponent);
  let nanos: bigint;
  if (pow10 >= 0) nanos = numerator * 10n ** BigInt(pow10);
  else if (numerator === 0n) nanos = 0n;
  // anything smaller than one nano-unit rounds up to exactly one
  else if (-pow10 > numerator.toString().length) nanos = 1n;
  else nanos = divUp(numerator, 10n ** BigInt(-pow10));

  let format = interp.format;
  if (format === 'BinarySI') {
    if (nanos > MAX_BINARY_NANOS) nanos = MAX_BINARY_NANOS;
    // a fraction of one byte has no binary spelling
    if (nanos > 0n && nanos < NANO) format = 'DecimalSI';
  }
  return { nanos: s.negative ? -nanos : nanos, format };
}

/** JSON numbers arrive as JS numbers: print them the way the JSON text would have spelled them. */
function numberText(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  return String(n).replace('e+', 'e');
}

export function tryParseQuantity(input: string | number): Quantity | undefined {
  try {
    return parseQuantity(input);
  } catch (err) {
    if (err instanceof QuantityError) return undefined;
    throw err;
  }
}

/** Upstream's message for an unparseable quantity, or nothing when it parses: for field validation. */
export function quantityErrors(input: string | number): string[] {
  try {
    parseQuantity(input);
    return [];
  } catch (err) {
    if (err instanceof QuantityError) return [err.detail];
    throw err;
  }
}

/** Upstream's canonical spelling (Quantity.String()). */
export function formatQuantity(q: Quantity): string {
  if (q.nanos === 0n) return '0';
  let format = q.format;
  if (format === 'BinarySI') {
    const small = q.nanos > -1024n * NANO && q.nanos < 1024n * NANO;
    if (small || q.nanos % NANO !== 0n) format = 'DecimalSI';
  }
  if (format === 'BinarySI') {
    let v = q.nanos / NANO;
    let power = 0;
    while (power < BINARY_BY_POWER.length - 1 && v % 1024n === 0n) {
      v /= 1024n;
      power++;
    }
    return `${v}${BINARY_BY_POWER[power]}`;
  }
  let m = q.nanos;
  let e = -9;
  while (m % 10n === 0n) {
    m /= 10n;
    e++;
  }
  // upstream prints decimal quantities with an exponent that is a multiple of 3
  while (((e % 3) + 3) % 3 !== 0) {
    m *= 10n;
    e--;
  }
  if (format === 'DecimalExponent') return e === 0 ? `${m}` : `${m}e${e}`;
  if (e > 18) {
    m *= 10n ** BigInt(e - 18);
    e = 18;
  }
  return `${m}${DECIMAL_BY_EXPONENT.get(e) ?? ''}`;
}

/** Parse then print: `0.5` -> `500m`. Throws QuantityError on invalid input. */
export function canonicalizeQuantity(input: string | number): string {
  return formatQuantity(parseQuantity(input));
}

/** n / d rounded away from zero, as upstream's ScaledValue does. */
function divAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (n % d === 0n) return q;
  return n > 0n ? q + 1n : q - 1n;
}

/** Whole units (bytes, counts), rounded away from zero: upstream Value(). */
export function quantityValue(q: Quantity): number {
  return Number(divAwayFromZero(q.nanos, NANO));
}

/** Thousandths (millicores), rounded away from zero: upstream MilliValue(). */
export function quantityMilliValue(q: Quantity): number {
  return Number(divAwayFromZero(q.nanos, 1_000_000n));
}

export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  return a.nanos < b.nanos ? -1 : a.nanos > b.nanos ? 1 : 0;
}

/** Sum in the format of the first operand, as upstream's Add keeps the receiver's format. */
export function addQuantities(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos + b.nanos, format: a.format };
}

export function subtractQuantities(a: Quantity, b: Quantity): Quantity {
  return { nanos: a.nanos - b.nanos, format: a.format };
}

export const isZeroQuantity = (q: Quantity): boolean => q.nanos === 0n;

export const zeroQuantity = (format: QuantityFormat = 'DecimalSI'): Quantity => ({ nanos: 0n, format });

/** From whole units (e.g. bytes from /proc/meminfo): `quantityFromInt(2 ** 30, 'BinarySI')` prints `1Gi`. */
export function quantityFromInt(units: number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(Math.trunc(units)) * NANO, format };
}

/** From thousandths (millicores): `quantityFromMilli(1500)` prints `1500m`. */
export function quantityFromMilli(milli: number, format: QuantityFormat = 'DecimalSI'): Quantity {
  return { nanos: BigInt(Math.trunc(milli)) * 1_000_000n, format };
}
