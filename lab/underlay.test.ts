import { describe, expect, it } from 'vitest';
import { LabInputError, LabUnderlayError } from './errors.js';
import { formatPrefix4, parsePrefix4 } from './ipv4.js';
import { chooseUnderlay, usedPrefixes } from './underlay.js';
import type { UsedPrefix } from './underlay.js';

// what `ip -4 -j route show table all` and `ip -4 -j addr` print on the reference VM
const ROUTES = [
  { dst: 'default', gateway: '192.0.2.1', dev: 'eth0', flags: [] },
  { dst: '192.0.2.0/24', dev: 'eth0', protocol: 'kernel', scope: 'link', prefsrc: '192.0.2.2', flags: [] },
  { type: 'local', dst: '127.0.0.0/8', dev: 'lo', table: 'local', flags: [] },
  { type: 'local', dst: '192.0.2.2', dev: 'eth0', table: 'local', flags: [] },
];
const ADDRS = [
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] },
  { ifname: 'eth0', addr_info: [{ family: 'inet', local: '192.0.2.2', prefixlen: 24 }, { family: 'inet6', local: 'fd00::2', prefixlen: 64 }] },
];

const used = (...extra: string[]): UsedPrefix[] => [
  ...usedPrefixes(ROUTES, ADDRS),
  ...extra.map((c) => ({ prefix: parsePrefix4(c, true)!, source: `route ${c}` })),
];

describe('usedPrefixes', () => {
  it('collects routes, interface networks and the cluster ranges, skipping the default route and IPv6', () => {
    expect(usedPrefixes(ROUTES, ADDRS).map((u) => formatPrefix4(u.prefix))).toEqual([
      '192.0.2.0/24',
      '127.0.0.0/8',
      '192.0.2.2/32',
      '127.0.0.0/8',
      '192.0.2.0/24',
      '10.96.0.0/12',
      '10.244.0.0/16',
    ]);
  });
  it('tolerates empty or odd documents', () => {
    expect(usedPrefixes([], {}).map((u) => u.source)).toEqual(['cluster range 10.96.0.0/12', 'cluster range 10.244.0.0/16']);
    expect(usedPrefixes([{ dst: 42 }, null, 'x'], [{ addr_info: 'no' }])).toHaveLength(2);
  });
});

describe('chooseUnderlay', () => {
  it.each([
    ['the first candidate on a plain machine', [], '172.31.250.0/24'],
    ['the next /24 when another lab holds the first', ['172.31.250.0/24'], '172.31.251.0/24'],
    ['a later /24 when a single address sits in the earlier ones', ['172.31.250.5/32', '172.31.251.0/25'], '172.31.252.0/24'],
    ['another range when a wide route covers all of 172.16.0.0/12', ['172.16.0.0/12'], '10.255.250.0/24'],
  ])('picks %s', (_name, extra, want) => {
    expect(formatPrefix4(chooseUnderlay(used(...extra)))).toBe(want);
  });

  it('fails with a clear sentence when nothing is free', () => {
    expect(() => chooseUnderlay(used('172.16.0.0/12', '10.0.0.0/8', '192.168.0.0/16'))).toThrow(LabUnderlayError);
    expect(() => chooseUnderlay(used('172.16.0.0/12', '10.0.0.0/8', '192.168.0.0/16'))).toThrow(/pass --underlay/);
  });

  it('accepts a forced free subnet', () => {
    expect(formatPrefix4(chooseUnderlay(used(), '198.18.7.0/24'))).toBe('198.18.7.0/24');
  });

  it.each([
    ['the machine network', '192.0.2.0/24', /overlaps route 192\.0\.2\.0\/24 dev eth0/],
    ['the pod range', '10.244.3.0/24', /overlaps cluster range 10\.244\.0\.0\/16/],
    ['the service range', '10.100.0.0/24', /overlaps cluster range 10\.96\.0\.0\/12/],
    ['loopback', '127.5.0.0/24', /overlaps route 127\.0\.0\.0\/8 dev lo/],
  ])('refuses a forced subnet that overlaps %s', (_n, cidr, msg) => {
    expect(() => chooseUnderlay(used(), cidr)).toThrow(msg);
  });

  it('refuses a forced subnet smaller than a /24 or not a network', () => {
    expect(() => chooseUnderlay(used(), '198.18.7.0/25')).toThrow(/needs a \/24 or larger/);
    expect(() => chooseUnderlay(used(), '198.18.7.1/24')).toThrow(LabInputError);
  });
});
