import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import { FakeExec } from '../lib/exec.js';
import { silentLogger } from '../lib/log.js';
import { IptablesBackend } from './iptables/backend.js';
import { cleanupProxyRules, createProxier } from './main.js';
import { NftBackend } from './nftables/backend.js';
import { Proxier } from './proxier.js';

function deps(): Parameters<typeof createProxier>[1] & { factory: SharedInformerFactory; client: KubeClient } {
  const client = new KubeClient({ server: 'https://127.0.0.1:1' });
  const clock = new FakeClock();
  return { client, factory: new SharedInformerFactory(client, { clock }), nodeName: 'w1', nodeIPs: ['172.31.250.11'], registry: new Registry(), clock, log: silentLogger() };
}

describe('createProxier', () => {
  it('nftables and iptables: a proxier over the shared informers with that backend; none: nothing', () => {
    const d = deps();
    try {
      const nft = createProxier({ mode: 'nftables', clusterCIDR: '10.244.0.0/16' }, d);
      const ipt = createProxier({ mode: 'iptables', clusterCIDR: '10.244.0.0/16' }, { ...d, registry: new Registry() });
      expect(nft).toBeInstanceOf(Proxier);
      expect(nft?.backend).toBeInstanceOf(NftBackend);
      expect(ipt?.backend).toBeInstanceOf(IptablesBackend);
      expect(createProxier({ mode: 'none' }, d)).toBeUndefined();
    } finally {
      d.client.close();
    }
  });
});

describe('cleanupProxyRules', () => {
  it('deletes its own nft tables (the main one added first: a missing table is no error) and its own iptables chains and jumps, nothing else', async () => {
    const natSave = [
      '*nat',
      ':PREROUTING ACCEPT [0:0]',
      ':KNODE-SERVICES - [0:0]',
      ':OTHER - [0:0]',
      '-A PREROUTING -m comment --comment "knode service portals" -j KNODE-SERVICES',
      '-A PREROUTING -j OTHER',
      'COMMIT',
      '',
    ].join('\n');
    const nftList = (c: { argv: readonly string[] }): string | undefined => {
      if (!c.argv.includes('-j')) return undefined;
      const tables = ['other', 'knode-proxy-svc-0', 'knode-proxy-svc-1'].map((name) => ({ table: { family: 'ip', name } }));
      return JSON.stringify({ nftables: c.argv.includes('tables') ? tables : [] });
    };
    const exec = new FakeExec((c) => {
      if (c.argv.includes('iptables-save')) return { stdout: c.argv.includes('nat') ? natSave : '*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n' };
      const listed = nftList(c);
      return listed !== undefined ? { stdout: listed } : undefined;
    });
    await cleanupProxyRules({ exec, netnsPath: '/run/netns/w2' });
    const ns = ['nsenter', '--net=/run/netns/w2'];
    expect(exec.calls).toEqual([
      { argv: [...ns, 'nft', '-j', 'list', 'tables', 'ip'] },
      { argv: [...ns, 'nft', '-j', 'list', 'chains', 'ip'] },
      { argv: [...ns, 'nft', '-j', 'list', 'sets', 'ip'] },
      { argv: [...ns, 'nft', '-f', '-'], stdin: 'add table ip knode-proxy\ndelete table ip knode-proxy\ndelete table ip knode-proxy-svc-0\ndelete table ip knode-proxy-svc-1\n' },
      { argv: [...ns, 'iptables-save', '-t', 'filter'] },
      { argv: [...ns, 'iptables-save', '-t', 'nat'] },
      {
        argv: [...ns, 'iptables-restore', '--noflush', '-w', '-T', 'nat'],
        stdin: '*nat\n-D PREROUTING -m comment --comment "knode service portals" -j KNODE-SERVICES\n:KNODE-SERVICES - [0:0]\n-X KNODE-SERVICES\nCOMMIT\n',
      },
    ]);
  });
});
