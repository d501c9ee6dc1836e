import { describe, expect, it } from 'vitest';
import {
  addQuantities,
  canonicalizeQuantity,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  QUANTITY_FORMAT_MESSAGE,
  QuantityError,
  quantityErrors,
  quantityFromInt,
  quantityFromMilli,
  quantityMilliValue,
  quantityValue,
  subtractQuantities,
  tryParseQuantity,
} from './quantity.js';

describe('canonical form (upstream Quantity.String)', () => {
  it.each([
    ['100m', '100m'],
    ['0.5', '500m'],
    ['1.5', '1500m'],
    ['1', '1'],
    ['1000', '1k'],
    ['1024', '1024'],
    ['2Gi', '2Gi'],
    ['1536Mi', '1536Mi'],
    ['1.5Gi', '1536Mi'],
    ['0.5Gi', '512Mi'],
    ['1Ki', '1Ki'],
    ['1000Ki', '1000Ki'],
    ['1024Ki', '1Mi'],
    ['0.5Ki', '512'],
    ['1.5Ki', '1536'],
    ['500M', '500M'],
    ['1e3', '1e3'],
    ['1E3', '1e3'],
    ['1.5e3', '1500'],
    ['1e-3', '1e-3'],
    ['12E', '12E'],
    ['1000E', '1000E'],
    ['0', '0'],
    ['0Gi', '0'],
    ['-1', '-1'],
    ['-0.5', '-500m'],
    ['+2', '2'],
    ['0.0000000001', '1n'],
    ['1u', '1u'],
    ['1.', '1'],
    ['.5', '500m'],
    ['007', '7'],
  ])('%s -> %s', (input, out) => expect(canonicalizeQuantity(input)).toBe(out));

  it('accepts JSON numbers', () => {
    expect(canonicalizeQuantity(2)).toBe('2');
    expect(canonicalizeQuantity(0.25)).toBe('250m');
    expect(canonicalizeQuantity(1e21)).toBe('1e21');
  });
});

describe('invalid quantities', () => {
  it.each(['', 'abc', '1 Gi', '1.2.3', 'Gi', '1GiB', '--1', '+'])('rejects %j with the upstream regex message', (v) => {
    expect(quantityErrors(v)).toEqual([QUANTITY_FORMAT_MESSAGE]);
  });
  it.each(['1i', '1e', '1Ee3', '1ei3', '1kk'])('rejects the suffix of %j', (v) => {
    expect(quantityErrors(v)).toEqual(["unable to parse quantity's suffix"]);
  });
  it('rejects a lone dot as a bad number', () => expect(quantityErrors('.')).toEqual(['unable to parse numeric part of quantity']));
  it('throws a QuantityError naming the value', () => {
    const err = (() => {
      try {
        parseQuantity('12x');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(QuantityError);
    expect((err as QuantityError).code).toBe('ERR_QUANTITY_FORMAT');
    expect((err as QuantityError).message).toBe(`invalid quantity "12x": ${QUANTITY_FORMAT_MESSAGE}`);
  });
  it('tryParseQuantity returns undefined', () => expect(tryParseQuantity('nope')).toBeUndefined());
});

describe('values', () => {
  it('gives bytes exactly, beyond 2^32', () => {
    expect(quantityValue(parseQuantity('16Gi'))).toBe(16 * 2 ** 30);
    expect(quantityValue(parseQuantity('1Pi'))).toBe(2 ** 50);
  });
  it('gives millicores', () => {
    expect(quantityMilliValue(parseQuantity('250m'))).toBe(250);
    expect(quantityMilliValue(parseQuantity('2'))).toBe(2000);
  });
  it('rounds away from zero, as ScaledValue does', () => {
    expect(quantityValue(parseQuantity('100m'))).toBe(1);
    expect(quantityMilliValue(parseQuantity('1n'))).toBe(1);
    expect(quantityValue(parseQuantity('-100m'))).toBe(-1);
  });
  it('keeps huge exponents exact in the bigint', () => {
    expect(parseQuantity('1e30').nanos).toBe(10n ** 39n);
  });
  it('caps binary quantities at the largest int64', () => {
    expect(parseQuantity('9Ei').nanos).toBe((2n ** 63n - 1n) * 10n ** 9n);
  });
});

describe('arithmetic and comparison', () => {
  it('compares across formats', () => {
    expect(compareQuantities(parseQuantity('1Gi'), parseQuantity('1073741824'))).toBe(0);
    expect(compareQuantities(parseQuantity('500m'), parseQuantity('1'))).toBe(-1);
    expect(compareQuantities(parseQuantity('1k'), parseQuantity('999'))).toBe(1);
  });
  it('adds keeping the first format', () => {
    expect(formatQuantity(addQuantities(parseQuantity('1Gi'), parseQuantity('512Mi')))).toBe('1536Mi');
    expect(formatQuantity(addQuantities(parseQuantity('100m'), parseQuantity('1')))).toBe('1100m');
  });
  it('subtracts', () => expect(formatQuantity(subtractQuantities(parseQuantity('1'), parseQuantity('250m')))).toBe('750m'));
  it('builds from integers and millis', () => {
    expect(formatQuantity(quantityFromInt(2 ** 30, 'BinarySI'))).toBe('1Gi');
    expect(formatQuantity(quantityFromMilli(1500))).toBe('1500m');
    expect(formatQuantity(quantityFromMilli(2000))).toBe('2');
  });
});
