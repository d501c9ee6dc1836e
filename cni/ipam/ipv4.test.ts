import { describe, expect, it } from 'vitest';
import { cidrContains, formatCidr, formatIPv4, nextInRange, parseCidr, parseIPv4, podRangeOf, rangeSize } from './ipv4.js';

describe('parseIPv4', () => {
  it.each([
    ['10.244.1.5', 0x0af40105],
    ['0.0.0.0', 0],
    ['255.255.255.255', 0xffffffff],
  ])('reads %s', (s, n) => {
    expect(parseIPv4(s)).toBe(n);
    expect(formatIPv4(n)).toBe(s);
  });
  it.each(['10.244.1', '10.244.1.256', '10.244.01.1', 'a.b.c.d', '1.2.3.4.5', ''])('rejects %j', (s) => {
    expect(parseIPv4(s)).toBeUndefined();
  });
});

describe('parseCidr', () => {
  it('reads a network and round-trips', () => {
    const c = parseCidr('10.244.1.0/24');
    expect(c).toEqual({ network: 0x0af40100, prefix: 24 });
    expect(formatCidr(c!)).toBe('10.244.1.0/24');
  });
  it.each(['10.244.1.1/24', '10.244.1.0/33', '10.244.1.0', '10.244.1.0/'])('rejects %j (not a network CIDR)', (s) => {
    expect(parseCidr(s)).toBeUndefined();
  });
  it('knows what it contains', () => {
    const c = parseCidr('10.244.1.0/24')!;
    expect(cidrContains(c, parseIPv4('10.244.1.255')!)).toBe(true);
    expect(cidrContains(c, parseIPv4('10.244.2.0')!)).toBe(false);
  });
});

describe('podRangeOf', () => {
  it('gives the gateway the first address and pods the rest before broadcast', () => {
    const r = podRangeOf(parseCidr('10.244.1.0/24')!)!;
    expect(formatIPv4(r.gateway)).toBe('10.244.1.1');
    expect(formatIPv4(r.first)).toBe('10.244.1.2');
    expect(formatIPv4(r.last)).toBe('10.244.1.254');
    expect(rangeSize(r)).toBe(253);
  });
  it('has room for one pod in a /30 and none in a /31', () => {
    expect(rangeSize(podRangeOf(parseCidr('10.0.0.0/30')!)!)).toBe(1);
    expect(podRangeOf(parseCidr('10.0.0.0/31')!)).toBeUndefined();
  });
  it('wraps from the last address to the first', () => {
    const r = podRangeOf(parseCidr('10.0.0.0/29')!)!;
    expect(formatIPv4(nextInRange(r, r.last))).toBe('10.0.0.2');
    expect(formatIPv4(nextInRange(r, r.first))).toBe('10.0.0.3');
    expect(formatIPv4(nextInRange(r, r.gateway))).toBe('10.0.0.2');
  });
});
