import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { boolFlag, dnsPortFlag, dnsUpstreamsFlag, etcdOptions, etcdServersFlag } from './server.js';

describe('knode server etcd flags', () => {
  it('--etcd-servers takes comma-separated http(s) URLs', () => {
    expect(etcdServersFlag('http://10.0.0.1:2379, http://10.0.0.2:2379/')).toEqual(['http://10.0.0.1:2379', 'http://10.0.0.2:2379/']);
    for (const bad of ['', ',', '10.0.0.1:2379', 'http://a:2379/v3', 'unix:///x']) {
      expect(() => etcdServersFlag(bad)).toThrow('--etcd-servers must be comma-separated URLs');
    }
  });

  it('no --etcd-servers: the embedded store, and TLS files alone are refused', async () => {
    expect(await etcdOptions({})).toBeUndefined();
    await expect(etcdOptions({ etcdCafile: '/x' })).rejects.toThrow('--etcd-cafile need --etcd-servers');
  });

  it('reads the TLS files, naming a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-etcd-flags-'));
    try {
      await writeFile(join(dir, 'ca.crt'), 'CA PEM');
      expect(await etcdOptions({ etcdServers: ['https://10.0.0.1:2379'], etcdCafile: join(dir, 'ca.crt') })).toEqual({
        endpoints: ['https://10.0.0.1:2379'],
        tls: { ca: Buffer.from('CA PEM') },
      });
      await expect(etcdOptions({ etcdServers: ['https://10.0.0.1:2379'], etcdKeyfile: join(dir, 'nope.key') })).rejects.toThrow(`--etcd-keyfile ${join(dir, 'nope.key')}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('--dns-port and --dns-upstreams', () => {
    expect(dnsPortFlag('0')).toBe(0);
    expect(dnsPortFlag('5353')).toBe(5353);
    expect(() => dnsPortFlag('65536')).toThrow('--dns-port must be a port number');
    expect(dnsUpstreamsFlag('10.0.0.2, 1.1.1.1:5353')).toEqual(['10.0.0.2', '1.1.1.1:5353']);
    for (const bad of ['', 'dns.example', '10.0.0.2:0', '10.0.0.2:70000', '10.0.0.256']) {
      expect(() => dnsUpstreamsFlag(bad), bad).toThrow('--dns-upstreams must be');
    }
  });
});

describe('knode server boolean flags', () => {
  it('--anonymous-auth takes true or false and names itself otherwise', () => {
    const f = boolFlag('--anonymous-auth');
    expect(f('true')).toBe(true);
    expect(f('false')).toBe(false);
    for (const bad of ['', 'yes', 'False', '0']) expect(() => f(bad)).toThrow(`--anonymous-auth must be true or false, got ${JSON.stringify(bad)}.`);
  });
});
