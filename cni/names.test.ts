import { describe, expect, it } from 'vitest';
import { bridgeMac, hash64, hostVethMac, hostVethName, podMac } from './names.js';

describe('names', () => {
  it('derives a 15-character host veth name from the attachment key, stable across calls', () => {
    const n = hostVethName({ containerId: 'abc123', ifname: 'eth0' });
    expect(n).toMatch(/^veth[0-9a-f]{11}$/);
    expect(hostVethName({ containerId: 'abc123', ifname: 'eth0' })).toBe(n);
    expect(hostVethName({ containerId: 'abc123', ifname: 'eth1' })).not.toBe(n);
  });
  it('gives 1000 containers 1000 different veth names', () => {
    const names = new Set(Array.from({ length: 1000 }, (_, i) => hostVethName({ containerId: `c${i}`, ifname: 'eth0' })));
    expect(names.size).toBe(1000);
  });
  it('encodes the pod IP in the pod MAC', () => {
    expect(podMac('10.244.1.5')).toBe('0a:58:0a:f4:01:05');
  });
  it('makes host-side MACs locally administered unicast', () => {
    for (const m of [hostVethMac({ containerId: 'x', ifname: 'eth0' }), bridgeMac('net', 'knode0', '10.244.1.0/24')]) {
      expect(m).toMatch(/^02(:[0-9a-f]{2}){5}$/);
    }
  });
  it('hashes to 16 hex digits', () => {
    expect(hash64('')).toMatch(/^[0-9a-f]{16}$/);
    expect(hash64('a')).not.toBe(hash64('b'));
  });
});
