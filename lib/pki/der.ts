/**
 * A minimal DER writer (ITU-T X.690), just enough to build PKCS#10 requests and X.509 certificates
 * (lite-csr.ts, lite-cert.ts) without a general ASN.1 library. Every function returns the complete
 * encoding of one value (tag, length, content) as a Buffer, so structures are written by nesting calls:
 *
 *   sequence(oid('1.2.840.10045.4.3.2'))   // AlgorithmIdentifier ecdsa-with-SHA256
 *
 * Only definite lengths and low tag numbers (< 31) exist here, which is all DER needs for X.509.
 * Pure, no I/O. Cost: one copy of the content per nesting level.
 */

/** Universal tags used by X.509. */
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

/** The length octets: short form below 128, otherwise 0x80 | n followed by n big-endian bytes. */
export function encodeLength(length: number): Buffer {
  if (!Number.isSafeInteger(length) || length < 0) throw new RangeError(`invalid DER length ${length}`);
  if (length < 0x80) return Buffer.from([length]);
  const bytes: number[] = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) bytes.unshift(n % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

/** One value: tag byte, length, content. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  return Buffer.concat([Buffer.from([tag]), encodeLength(content.length), content]);
}

export function sequence(...items: readonly Uint8Array[]): Buffer {
  return tlv(TAG.SEQUENCE, Buffer.concat(items));
}

/** SET OF: DER orders the elements by their encodings (X.690 11.6), so the output does not depend on the argument order. */
export function set(...items: readonly Uint8Array[]): Buffer {
  const sorted = [...items].map((i) => Buffer.from(i)).sort(Buffer.compare);
  return tlv(TAG.SET, Buffer.concat(sorted));
}

/**
 * INTEGER, in the fewest two's-complement bytes. A bigint or number is signed; a byte array is read as
 * an unsigned big-endian magnitude (a serial number, say), so it gains a 0x00 byte when its top bit is set.
 */
export function integer(value: bigint | number | Uint8Array): Buffer {
  if (value instanceof Uint8Array) {
    let start = 0;
    while (start < value.length - 1 && value[start] === 0) start++;
    const magnitude = value.length === 0 ? Buffer.from([0]) : Buffer.from(value.subarray(start));
    const pad = (magnitude[0] ?? 0) & 0x80 ? Buffer.from([0]) : Buffer.alloc(0);
    return tlv(TAG.INTEGER, Buffer.concat([pad, magnitude]));
  }
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`INTEGER must be a safe integer, got ${value}`);
  let n = BigInt(value);
  const bytes: number[] = [];
  // emit low bytes until the remaining value is pure sign extension of the last byte written
  for (;;) {
    const byte = Number(n & 0xffn);
    bytes.unshift(byte);
    n >>= 8n; // arithmetic shift: -1 stays -1
    if ((n === 0n && (byte & 0x80) === 0) || (n === -1n && (byte & 0x80) !== 0)) break;
  }
  return tlv(TAG.INTEGER, Buffer.from(bytes));
}

/** BIT STRING whose content is whole bytes (keys, signatures) or a bit field with `unusedBits` trailing pad bits. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  if (!Number.isInteger(unusedBits) || unusedBits < 0 || unusedBits > 7 || (bytes.length === 0 && unusedBits !== 0)) {
    throw new RangeError(`invalid BIT STRING padding ${unusedBits}`);
  }
  return tlv(TAG.BIT_STRING, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/**
 * A named-bit BIT STRING (such as keyUsage) from the numbers of its set bits, bit 0 being the most
 * significant bit of the first byte. DER drops trailing zero bits (X.690 11.2.2).
 */
export function namedBits(bits: readonly number[]): Buffer {
  if (bits.length === 0) return bitString(Buffer.alloc(0));
  const highest = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(highest / 8) + 1);
  for (const b of bits) {
    if (!Number.isInteger(b) || b < 0) throw new RangeError(`invalid bit number ${b}`);
    bytes[b >> 3] = (bytes[b >> 3] ?? 0) | (0x80 >> (b & 7));
  }
  return bitString(bytes, 7 - (highest & 7));
}

export function octetString(bytes: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, bytes);
}

export function nullValue(): Buffer {
  return Buffer.from([TAG.NULL, 0x00]);
}

/** BOOLEAN: DER writes TRUE as 0xff. */
export function boolean(value: boolean): Buffer {
  return Buffer.from([TAG.BOOLEAN, 0x01, value ? 0xff : 0x00]);
}

/** OBJECT IDENTIFIER from dotted text: the first two arcs share one sub-identifier, each in base 128. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map((a) => {
    if (!/^\d+$/.test(a)) throw new RangeError(`invalid OID ${dotted}`);
    return BigInt(a);
  });
  const [first, second] = arcs;
  if (first === undefined || second === undefined || first > 2n || (first < 2n && second > 39n)) throw new RangeError(`invalid OID ${dotted}`);
  const out: number[] = [];
  for (const arc of [first * 40n + second, ...arcs.slice(2)]) {
    const group: number[] = [Number(arc & 0x7fn)];
    for (let n = arc >> 7n; n > 0n; n >>= 7n) group.unshift(Number(n & 0x7fn) | 0x80);
    out.push(...group);
  }
  return tlv(TAG.OID, Buffer.from(out));
}

export function utf8String(text: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(text, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** PrintableString: throws for characters outside its small alphabet (no `@`, `_`, `*`, ...). */
export function printableString(text: string): Buffer {
  if (!PRINTABLE.test(text)) throw new RangeError(`not a PrintableString: ${JSON.stringify(text)}`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(text, 'latin1'));
}

const pad2 = (n: number): string => String(n).padStart(2, '0');

function timeText(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new RangeError('invalid date');
  return `${pad2(date.getUTCMonth() + 1)}${pad2(date.getUTCDate())}${pad2(date.getUTCHours())}${pad2(date.getUTCMinutes())}${pad2(date.getUTCSeconds())}Z`;
}

/** UTCTime `YYMMDDHHMMSSZ` (whole seconds, UTC); only years 1950-2049 are representable. */
export function utcTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 2049) throw new RangeError(`UTCTime cannot hold year ${year}`);
  return tlv(TAG.UTC_TIME, Buffer.from(`${pad2(year % 100)}${timeText(date)}`, 'latin1'));
}

/** GeneralizedTime `YYYYMMDDHHMMSSZ` (whole seconds, UTC, no fraction as RFC 5280 requires). */
export function generalizedTime(date: Date): Buffer {
  const year = date.getUTCFullYear();
  if (year < 0 || year > 9999) throw new RangeError(`GeneralizedTime cannot hold year ${year}`);
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(`${String(year).padStart(4, '0')}${timeText(date)}`, 'latin1'));
}

/** A certificate validity Time as RFC 5280 4.1.2.5 wants it: UTCTime through 2049, GeneralizedTime after. */
export function x509Time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  return year >= 1950 && year <= 2049 ? utcTime(date) : generalizedTime(date);
}

/** `[n] EXPLICIT`: a constructed context-specific wrapper around one complete value. */
export function explicit(n: number, value: Uint8Array): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`invalid context tag ${n}`);
  return tlv(0xa0 | n, value);
}

/**
 * `[n] IMPLICIT`: the context tag replaces the value's own tag. Pass the raw content of a primitive
 * type (e.g. the IP bytes of a GeneralName), or the concatenated elements with `constructed` for a
 * SEQUENCE/SET (e.g. the CSR's attributes).
 */
export function implicit(n: number, content: Uint8Array, constructed = false): Buffer {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new RangeError(`invalid context tag ${n}`);
  return tlv((constructed ? 0xa0 : 0x80) | n, content);
}
