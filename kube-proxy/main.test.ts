import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import { FakeExec } from '../lib/exec.js';
import { silentLogger } from '../lib/log.js';
import { ProxyModeError } from './errors.js';
import { checkProxyMode, cleanupProxyRules, createProxier } from './main.js';
import { Proxier } from './proxier.js';

function deps(): Parameters<typeof createProxier>[1] & { factory: SharedInformerFactory; client: KubeClient } {
  const client = new KubeClient({ server: 'https://127.0.0.1:1' });
  const clock = new FakeClock();
  return { client, factory: new SharedInformerFactory(client, { clock }), nodeName: 'w1', nodeIPs: ['172.31.250.11'], registry: new Registry(), clock, log: silentLogger() };
}

describe('createProxier', () => {
  it('nftables: a proxier over the shared informers; none: nothing', () => {
    const d = deps();
    try {
      expect(createProxier({ mode: 'nftables', clusterCIDR: '10.244.0.0/16' }, d)).toBeInstanceOf(Proxier);
      expect(createProxier({ mode: 'none' }, d)).toBeUndefined();
    } finally {
      d.client.close();
    }
  });

  it('iptables is refused with one sentence (not implemented yet)', () => {
    expect(() => checkProxyMode('iptables')).toThrow(ProxyModeError);
    expect(() => checkProxyMode('iptables')).toThrow('--proxy-mode iptables is not implemented yet; use nftables (the default) or none.');
    expect(() => checkProxyMode('nftables')).not.toThrow();
  });
});

describe('cleanupProxyRules', () => {
  it('deletes its own table only (add + delete, so a missing table is not an error)', async () => {
    const exec = new FakeExec();
    await cleanupProxyRules({ exec, netnsPath: '/run/netns/w2' });
    expect(exec.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/w2', 'nft', '-f', '-'], stdin: 'add table ip knode-proxy\ndelete table ip knode-proxy\n' }]);
  });
});
