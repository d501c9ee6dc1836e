import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  bitString,
  boolean,
  encodeLength,
  explicit,
  generalizedTime,
  implicit,
  integer,
  namedBits,
  nullValue,
  octetString,
  oid,
  printableString,
  sequence,
  set,
  tlv,
  utcTime,
  utf8String,
  x509Time,
} from './der.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('lengths', () => {
  it.each([
    [0, '00'],
    [127, '7f'],
    [128, '8180'],
    [255, '81ff'],
    [256, '820100'],
    [65_536, '83010000'],
  ])('%d is %s', (n, want) => {
    expect(hex(encodeLength(n))).toBe(want);
  });

  it('wraps long content with a long-form length', () => {
    const v = octetString(Buffer.alloc(200, 0xaa));
    expect(hex(v.subarray(0, 3))).toBe('0481c8');
    expect(v.length).toBe(203);
  });

  it('rejects negative or fractional lengths', () => {
    expect(() => encodeLength(-1)).toThrow(RangeError);
    expect(() => encodeLength(1.5)).toThrow(RangeError);
  });
});

describe('INTEGER', () => {
  it.each<[bigint | number, string]>([
    [0, '020100'],
    [1, '020101'],
    [2, '020102'],
    [127, '02017f'],
    [128, '02020080'],
    [256, '02020100'],
    [-1, '0201ff'],
    [-128, '020180'],
    [-129, '0202ff7f'],
    [2n ** 64n, '0209010000000000000000'],
  ])('%s is %s', (v, want) => {
    expect(hex(integer(v))).toBe(want);
  });

  it('reads bytes as an unsigned magnitude: strips leading zeros, pads a set top bit', () => {
    expect(hex(integer(Buffer.from('0000ab', 'hex')))).toBe('020200ab');
    expect(hex(integer(Buffer.from('7fff', 'hex')))).toBe('02027fff');
    expect(hex(integer(Buffer.from('000000', 'hex')))).toBe('020100');
    expect(hex(integer(Buffer.alloc(0)))).toBe('020100');
  });

  it('refuses numbers beyond 2^53', () => {
    expect(() => integer(2 ** 60)).toThrow(RangeError);
  });
});

describe('OBJECT IDENTIFIER', () => {
  it.each([
    ['1.2.840.10045.2.1', '06072a8648ce3d0201'], // id-ecPublicKey
    ['1.2.840.10045.3.1.7', '06082a8648ce3d030107'], // prime256v1
    ['1.2.840.10045.4.3.2', '06082a8648ce3d040302'], // ecdsa-with-SHA256
    ['2.5.29.17', '0603551d11'], // subjectAltName
    ['2.5.4.3', '0603550403'], // commonName
    ['1.3.6.1.5.5.7.3.1', '06082b06010505070301'], // serverAuth
    ['2.999.3', '0603883703'], // first sub-identifier above 127
  ])('%s', (dotted, want) => {
    expect(hex(oid(dotted))).toBe(want);
  });

  it.each(['', '1', '3.1', '1.40', '1.2.x', '1..2'])('rejects %j', (bad) => {
    expect(() => oid(bad)).toThrow(RangeError);
  });
});

describe('strings, BOOLEAN, NULL, BIT STRING, OCTET STRING', () => {
  it('encodes each with its universal tag', () => {
    expect(hex(utf8String('héllo'))).toBe('0c0668c3a96c6c6f');
    expect(hex(printableString('Node 1'))).toBe('13064e6f64652031');
    expect(hex(boolean(true))).toBe('0101ff');
    expect(hex(boolean(false))).toBe('010100');
    expect(hex(nullValue())).toBe('0500');
    expect(hex(octetString(Buffer.from('0102', 'hex')))).toBe('04020102');
    expect(hex(bitString(Buffer.from('0102', 'hex')))).toBe('0303000102');
  });

  it('keeps PrintableString to its alphabet', () => {
    expect(() => printableString('w1@1700000000')).toThrow(RangeError);
    expect(() => printableString('a_b')).toThrow(RangeError);
  });

  it('writes named bits with the trailing zero bits dropped', () => {
    // keyUsage digitalSignature(0) + keyEncipherment(2): 101 -> 0xa0 with 5 unused bits
    expect(hex(namedBits([0, 2]))).toBe('030205a0');
    // keyCertSign(5) + cRLSign(6) + digitalSignature(0): 1000011 -> 0x86, 1 unused bit
    expect(hex(namedBits([5, 6, 0]))).toBe('03020186');
    // decipherOnly(8) needs a second byte
    expect(hex(namedBits([0, 8]))).toBe('0303078080');
    expect(hex(namedBits([]))).toBe('030100');
  });

  it('rejects impossible BIT STRING padding', () => {
    expect(() => bitString(Buffer.from([0]), 8)).toThrow(RangeError);
    expect(() => bitString(Buffer.alloc(0), 1)).toThrow(RangeError);
  });
});

describe('SEQUENCE, SET, context tags', () => {
  it('nests values', () => {
    expect(hex(sequence(integer(1), nullValue()))).toBe('30050201010500');
    expect(hex(sequence())).toBe('3000');
    expect(hex(tlv(0x04, Buffer.from('ff', 'hex')))).toBe('0401ff');
  });

  it('sorts SET OF elements by their encodings', () => {
    expect(hex(set(integer(2), integer(1)))).toBe('3106020101020102');
    expect(hex(set(integer(1), integer(2)))).toBe('3106020101020102');
  });

  it('writes explicit (constructed) and implicit tags', () => {
    expect(hex(explicit(0, integer(2)))).toBe('a003020102');
    expect(hex(explicit(3, sequence()))).toBe('a3023000');
    expect(hex(implicit(2, Buffer.from('a.b', 'ascii')))).toBe('8203612e62');
    expect(hex(implicit(7, Buffer.from([10, 0, 0, 1])))).toBe('87040a000001');
    expect(hex(implicit(0, Buffer.alloc(0), true))).toBe('a000');
    expect(() => explicit(31, nullValue())).toThrow(RangeError);
  });

  it('builds a SubjectPublicKeyInfo that node:crypto reads back as the same key', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const jwk = publicKey.export({ format: 'jwk' });
    const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
    const spki = sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitString(point));
    expect(spki.equals(publicKey.export({ format: 'der', type: 'spki' }))).toBe(true);
    expect(createPublicKey({ key: spki, format: 'der', type: 'spki' }).equals(publicKey)).toBe(true);
  });
});

describe('times', () => {
  const t = new Date('2026-03-01T04:05:06.789Z');

  it('writes UTCTime and GeneralizedTime in whole seconds, UTC', () => {
    expect(utcTime(t).toString('latin1', 2)).toBe('260301040506Z');
    expect(utcTime(t)[0]).toBe(0x17);
    expect(generalizedTime(t).toString('latin1', 2)).toBe('20260301040506Z');
    expect(generalizedTime(t)[0]).toBe(0x18);
    expect(utcTime(new Date('1999-12-31T23:59:59Z')).toString('latin1', 2)).toBe('991231235959Z');
  });

  it('picks UTCTime through 2049 and GeneralizedTime from 2050, as RFC 5280 asks', () => {
    expect(x509Time(new Date('2049-12-31T23:59:59Z'))[0]).toBe(0x17);
    expect(x509Time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(0x18);
    expect(x509Time(new Date('2050-01-01T00:00:00Z')).toString('latin1', 2)).toBe('20500101000000Z');
    expect(() => utcTime(new Date('2050-01-01T00:00:00Z'))).toThrow(RangeError);
    expect(() => utcTime(new Date(Number.NaN))).toThrow(RangeError);
  });
});
