import { describe, expect, it } from 'vitest';
import { LabInputError } from './errors.js';
import { formatPrefix4, mustParsePrefix4, nthAddress, overlaps, parseIPv4, parsePrefix4 } from './ipv4.js';

describe('parsePrefix4', () => {
  it.each([
    ['172.31.250.0/24', '172.31.250.0/24'],
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['192.0.2.7', '192.0.2.7/32'],
  ])('reads %s as %s', (text, want) => {
    const p = parsePrefix4(text);
    expect(p && formatPrefix4(p)).toBe(want);
  });

  it.each(['fd00::/64', '256.1.1.1/24', '1.2.3/24', '1.2.3.4/33', '01.2.3.4/8', 'x', '1.2.3.4/24/1'])('rejects %s', (text) => {
    expect(parsePrefix4(text)).toBeUndefined();
  });

  it('rejects host bits unless asked to clear them', () => {
    expect(parsePrefix4('192.0.2.2/24')).toBeUndefined();
    expect(formatPrefix4(parsePrefix4('192.0.2.2/24', true)!)).toBe('192.0.2.0/24');
  });
});

describe('mustParsePrefix4', () => {
  it('suggests the network when host bits are set', () => {
    expect(() => mustParsePrefix4('172.31.250.9/24', '--underlay')).toThrow(/did you mean 172\.31\.250\.0\/24/);
  });
  it('names the flag when the text is not IPv4', () => {
    expect(() => mustParsePrefix4('nope', '--underlay')).toThrow(LabInputError);
    expect(() => mustParsePrefix4('nope', '--underlay')).toThrow(/--underlay must be an IPv4 network/);
  });
});

describe('overlaps', () => {
  it.each([
    ['10.0.0.0/8', '10.244.0.0/16', true],
    ['10.244.0.0/16', '10.0.0.0/8', true],
    ['172.31.250.0/24', '172.31.251.0/24', false],
    ['172.31.250.0/24', '172.31.250.77/32', true],
    ['0.0.0.0/0', '1.2.3.0/24', true],
    ['192.0.2.0/24', '192.0.3.0/24', false],
    ['172.16.0.0/12', '172.31.250.0/24', true],
  ])('%s and %s: %s', (a, b, want) => {
    expect(overlaps(parsePrefix4(a)!, parsePrefix4(b)!)).toBe(want);
  });
});

describe('nthAddress', () => {
  it('counts from the network address', () => {
    const p = parsePrefix4('172.31.250.0/24')!;
    expect(nthAddress(p, 1)).toBe('172.31.250.1');
    expect(nthAddress(p, 255)).toBe('172.31.250.255');
  });
  it('refuses offsets outside the prefix', () => {
    expect(() => nthAddress(parsePrefix4('10.0.0.0/30')!, 4)).toThrow(RangeError);
  });
  it('handles the top of the address space without sign trouble', () => {
    expect(parseIPv4('255.255.255.255')).toBe(4294967295);
    expect(nthAddress(parsePrefix4('255.255.255.0/24')!, 254)).toBe('255.255.255.254');
  });
});
