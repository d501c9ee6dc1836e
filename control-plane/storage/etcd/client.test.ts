import { describe, expect, it } from 'vitest';
import { EtcdConfigError, parseEndpoints, staticTarget } from './client.js';

describe('etcd endpoints', () => {
  it('parses client URLs, defaulting the port to 2379 and keeping the order', () => {
    expect(parseEndpoints(['http://10.0.0.1:2379', 'http://10.0.0.2', 'http://[fd00::1]:12379'])).toEqual({
      secure: false,
      hosts: [
        { host: '10.0.0.1', port: 2379 },
        { host: '10.0.0.2', port: 2379 },
        { host: 'fd00::1', port: 12379 },
      ],
    });
    expect(parseEndpoints(['https://etcd-a.example:2379']).secure).toBe(true);
  });

  it.each([
    [[], 'no etcd endpoint'],
    [['10.0.0.1:2379'], 'is not a URL'],
    [['etcd-1:2379'], 'must use http or https'],
    [['etcd'], 'is not a URL'],
    [['unix:///run/etcd.sock'], 'must use http or https'],
    [['http://10.0.0.1:2379/v3'], 'only scheme://host:port'],
    [['http://10.0.0.1:2379', 'https://10.0.0.2:2379'], 'mix http and https'],
  ])('refuses %j, saying why', (endpoints, why) => {
    expect(() => parseEndpoints(endpoints)).toThrow(EtcdConfigError);
    expect(() => parseEndpoints(endpoints)).toThrow(why);
  });

  it('builds one static gRPC target holding every member', () => {
    expect(staticTarget([{ host: '10.0.0.1', port: 2379 }, { host: '10.0.0.2', port: 12379 }])).toBe('ipv4:10.0.0.1:2379,10.0.0.2:12379');
    expect(staticTarget([{ host: 'fd00::1', port: 2379 }])).toBe('ipv6:[fd00::1]:2379');
    expect(() => staticTarget([{ host: '10.0.0.1', port: 2379 }, { host: 'fd00::1', port: 2379 }])).toThrow('mix IPv4 and IPv6');
    expect(() => staticTarget([{ host: 'etcd-a', port: 2379 }])).toThrow('resolved to IP addresses');
  });
});
