import { describe, expect, it } from 'vitest';
import type { CniResult } from './types.js';
import { compareVersions, renderResult, renderVersionInfo } from './version.js';

const result: CniResult = {
  interfaces: [{ name: 'eth0', mac: '0a:58:0a:f4:01:02', sandbox: '/run/netns/p', mtu: 1450 }],
  ips: [{ address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 0 }],
  routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
  dns: {},
};

describe('renderResult', () => {
  it.each([
    ['1.1.0', { mtu: 1450 }, {}],
    ['1.0.0', {}, {}],
    ['0.4.0', {}, { version: '4' }],
    ['0.3.1', {}, { version: '4' }],
    ['0.3.0', {}, { version: '4' }],
  ])('shapes a %s result', (v, ifaceExtra, ipExtra) => {
    expect(renderResult(result, v)).toEqual({
      cniVersion: v,
      interfaces: [{ name: 'eth0', mac: '0a:58:0a:f4:01:02', sandbox: '/run/netns/p', ...ifaceExtra }],
      ips: [{ ...ipExtra, address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.1.1' }],
      dns: {},
    });
  });
});

describe('versions', () => {
  it('compares numerically, not as text', () => {
    expect(compareVersions('0.10.0', '0.4.0')).toBeGreaterThan(0);
    expect(compareVersions('1.0.0', '1.0.0')).toBe(0);
  });
  it('lists every supported version in VERSION', () => {
    expect(renderVersionInfo()).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });
});
