import { describe, expect, it } from 'vitest';
import { CniNetworkSetupError } from './errors.js';
import { FakeNodeNet, ipv4Cidr, macBytes } from './netlink-node.js';

describe('macBytes', () => {
  it('turns aa:bb:.. into six bytes', () => {
    expect([...macBytes('02:1a:ff:00:9B:7c')]).toEqual([0x02, 0x1a, 0xff, 0x00, 0x9b, 0x7c]);
  });
  it.each(['02:1a:ff:00:9b', '02:1a:ff:00:9b:7c:00', '02-1a-ff-00-9b-7c', '02:1a:ff:00:9b:zz'])('refuses %s', (mac) => {
    expect(() => macBytes(mac)).toThrow(`not a MAC address: ${mac}`);
  });
});

describe('ipv4Cidr', () => {
  it('splits address bytes and prefix', () => {
    expect(ipv4Cidr('10.244.1.1/24')).toEqual({ address: Buffer.from([10, 244, 1, 1]), prefix: 24 });
  });
  it.each(['10.244.1.1', '10.244.1/24', '10.244.1.256/24', '10.244.1.1/33', 'fd00::1/64'])('refuses %s', (cidr) => {
    expect(() => ipv4Cidr(cidr)).toThrow(`not an IPv4 CIDR: ${cidr}`);
  });
});

describe('FakeNodeNet', () => {
  it('stops at the first failing op, as ip -batch and the netlink executor do, with code 101', async () => {
    const net = new FakeNodeNet((op) => op.kind === 'set-master');
    const err = await net
      .apply(
        [
          { kind: 'link-up', dev: 'knode0' },
          { kind: 'set-master', dev: 'veth1', master: 'knode0' },
          { kind: 'link-up', dev: 'veth1' },
        ],
        'setting up',
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniNetworkSetupError);
    expect((err as Error).message).toBe('setting up failed: link set dev veth1 master knode0: Request rejected: EEXIST');
    expect(net.applied).toEqual([[{ kind: 'link-up', dev: 'knode0' }]]);
  });
});
