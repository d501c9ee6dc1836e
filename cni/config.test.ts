import { describe, expect, it } from 'vitest';
import { parseNetConf, parsePortMappings, parsePrevResult } from './config.js';

describe('parsePortMappings (the portMappings capability)', () => {
  it('matches keys case-insensitively (containerd sends Go field names) and normalises protocol', () => {
    expect(
      parsePortMappings({
        PortMappings: [
          { HostPort: 54323, ContainerPort: 8083, Protocol: 'TCP', HostIP: '127.0.0.1' },
          { hostPort: 54323, containerPort: 8081, protocol: 'udp', hostIP: '' },
          { hostport: 80, containerport: 8080 },
        ],
      }),
    ).toEqual([
      { hostPort: 54323, containerPort: 8083, protocol: 'tcp', hostIP: '127.0.0.1' },
      { hostPort: 54323, containerPort: 8081, protocol: 'udp' },
      { hostPort: 80, containerPort: 8080, protocol: 'tcp' },
    ]);
  });
  it('treats 0.0.0.0 as any address, skips IPv6 host addresses and entries without a host port', () => {
    expect(
      parsePortMappings({
        portMappings: [
          { hostPort: 1, containerPort: 2, hostIP: '0.0.0.0' },
          { hostPort: 3, containerPort: 4, hostIP: '::1' },
          { hostPort: 0, containerPort: 5 },
        ],
      }),
    ).toEqual([{ hostPort: 1, containerPort: 2, protocol: 'tcp' }]);
  });
  it.each([
    [{ portMappings: [{ hostPort: 70000, containerPort: 1 }] }, 'hostPort'],
    [{ portMappings: [{ hostPort: 1, containerPort: 1, hostIP: 'nope' }] }, 'hostIP'],
    [{ portMappings: 'x' }, 'must be a list'],
  ])('rejects %j naming the field', (rc, field) => {
    expect(() => parsePortMappings(rc)).toThrow(field);
  });
});

describe('parseNetConf', () => {
  it('keeps knode keys and the DNS block', () => {
    const c = parseNetConf({
      cniVersion: '0.4.0',
      name: 'n',
      type: 'knode-cni',
      bridge: 'br9',
      mtu: 1400,
      hairpinMode: false,
      dataDir: '/d',
      nodeStateFile: '/s/node.json',
      dns: { nameservers: ['10.96.0.10'] },
    });
    expect(c).toMatchObject({ bridge: 'br9', mtu: 1400, hairpinMode: false, dataDir: '/d', nodeStateFile: '/s/node.json', dns: { nameservers: ['10.96.0.10'] } });
  });
  it('rejects a bridge name the kernel would refuse', () => {
    expect(() => parseNetConf({ cniVersion: '1.0.0', name: 'n', bridge: 'a/b' })).toThrow('"bridge"');
  });
});

describe('parsePrevResult', () => {
  it('reads 0.4.0 results (with ip version) and 1.x results alike', () => {
    const r = parsePrevResult({
      interfaces: [{ name: 'eth0', mac: '0a:58:0a:f4:01:02', sandbox: '/run/netns/p' }],
      ips: [{ version: '4', address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 0 }],
      routes: [{ dst: '0.0.0.0/0' }],
    });
    expect(r.ips).toEqual([{ address: '10.244.1.2/24', gateway: '10.244.1.1', interface: 0 }]);
    expect(r.interfaces[0]).toEqual({ name: 'eth0', mac: '0a:58:0a:f4:01:02', sandbox: '/run/netns/p' });
  });
});
