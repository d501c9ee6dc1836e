/**
 * The proxy loop over fakes: informer stand-ins fired synchronously, FakeNftRunner (nft's all-or-
 * nothing semantics), FakeConntrack and a FakeClock. Asserts what reaches the kernel: full vs partial
 * transactions, leftovers removed at start, nothing applied for no-op changes, recovery after a
 * refused transaction, stale UDP conntrack entries, metrics and health.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../api/core/node.js';
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/log.js';
import { FakeConntrack } from './conntrack.js';
import { renderTransaction } from './nftables/render.js';
import { buildRuleset } from './nftables/ruleset.js';
import { NftBackend } from './nftables/backend.js';
import { FakeNftRunner } from './nftables/runner.js';
import { Proxier } from './proxier.js';
import { FakeSource, settle } from './testing/fake-source.js';
import { CLUSTER_CIDR, dns, dnsSlice, NODE, NODE_IP, OPTS, OTHER_NODE, service, slice, state, web, webSlice } from './testing/fixtures.js';


interface Harness {
  clock: FakeClock;
  services: FakeSource<Service>;
  slices: FakeSource<EndpointSlice>;
  nodes: FakeSource<Node>;
  nft: FakeNftRunner;
  conntrack: FakeConntrack;
  registry: Registry;
  proxier: Proxier;
  advance(ms: number): Promise<void>;
  stop(): Promise<void>;
}

const harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.stop();
});

async function start(setup: (h: Pick<Harness, 'services' | 'slices' | 'nft'>) => void = () => undefined): Promise<Harness> {
  const clock = new FakeClock();
  const services = new FakeSource<Service>();
  const slices = new FakeSource<EndpointSlice>();
  const nodes = new FakeSource<Node>();
  const nft = new FakeNftRunner();
  const conntrack = new FakeConntrack(() => 1);
  const registry = new Registry();
  setup({ services, slices, nft });
  const proxier = new Proxier({
    nodeName: NODE,
    nodeIPs: [NODE_IP],
    clusterCIDR: CLUSTER_CIDR,
    services,
    slices,
    nodes,
    backend: new NftBackend(nft),
    conntrack,
    registry,
    clock,
    log: silentLogger(),
    random: () => 0,
  });
  const abort = new AbortController();
  const done = proxier.run(abort.signal);
  await settle();
  const h: Harness = {
    clock,
    services,
    slices,
    nodes,
    nft,
    conntrack,
    registry,
    proxier,
    advance: async (ms) => {
      await clock.advance(ms);
      await settle();
    },
    stop: async () => {
      abort.abort();
      await done;
    },
  };
  harnesses.push(h);
  return h;
}

async function metric(registry: Registry, name: string): Promise<number | undefined> {
  const m = await registry.getSingleMetric(name)?.get();
  const named = (v: object): string | undefined => (v as { metricName?: string }).metricName;
  return m?.values.find((v) => named(v) === undefined || named(v) === name || named(v) === `${name}_count`)?.value;
}

/** A full sync deletes and rebuilds the main table (a partial one never touches it so). */
const isFull = (script: string | undefined): boolean => script?.includes('delete table ip knode-proxy\n') ?? false;

describe('Proxier', () => {
  it('starts with a full sync that removes what an earlier run left, and ends with the table a fresh build gives', async () => {
    const h = await start(({ services, slices, nft }) => {
      // an earlier run programmed a Service that no longer exists
      const old = service('gone', { clusterIP: '10.96.0.99', ports: [{ name: 'http', port: 80 }] });
      void nft.apply(renderTransaction(buildRuleset(state([old], [slice('gone', [{ name: 'http', port: 80 }], [{ ip: '10.244.2.9' }])]), OPTS)));
      services.upsert(web);
      slices.upsert(webSlice('10.244.2.7'));
    });
    expect(h.nft.scripts).toHaveLength(2);
    expect(isFull(h.nft.scripts[1])).toBe(true);
    const fresh = new FakeNftRunner();
    await fresh.apply(renderTransaction(buildRuleset(state([web], [webSlice('10.244.2.7')]), OPTS)));
    expect(h.nft.dump()).toBe(fresh.dump());
    expect(h.nft.dump()).not.toContain('gone');
    expect(h.proxier.health.status().healthy).toBe(true);
  });

  it('programs a change with a partial transaction, rate-limited to one per min interval', async () => {
    const h = await start(({ services, slices }) => {
      services.upsert(web);
      slices.upsert(webSlice('10.244.2.7'));
    });
    await h.advance(5_000);
    h.slices.upsert(webSlice('10.244.2.7', '10.244.2.8'));
    await settle();
    expect(h.nft.scripts).toHaveLength(2);
    expect(isFull(h.nft.scripts[1])).toBe(false);
    expect(h.nft.scripts[1]).toContain('10.244.2.8');
    h.services.upsert(dns);
    h.slices.upsert(dnsSlice('10.244.2.9'));
    await settle();
    expect(h.nft.scripts).toHaveLength(2);
    await h.advance(1_000);
    expect(h.nft.scripts).toHaveLength(3);
    expect(h.nft.scripts[2]).toContain('10.96.0.10');
    expect(h.nft.scripts[2]).not.toContain('10.96.0.20');
    expect(h.proxier.lastApplied()?.state.services.size).toBe(2);
  });

  it('runs no nft at all for a change that moves no rule', async () => {
    const h = await start(({ services, slices }) => {
      services.upsert(web);
      slices.upsert(webSlice('10.244.2.7'));
    });
    await h.advance(5_000);
    h.services.upsert({ ...web, metadata: { ...web.metadata, labels: { team: 'a' } } });
    await h.advance(1_000);
    expect(h.nft.scripts).toHaveLength(1);
    expect(await metric(h.registry, 'kubeproxy_sync_proxy_rules_duration_seconds')).toBe(2);
  });

  it('after a refused transaction: keeps the old table, counts the failure, retries with a full sync', async () => {
    const h = await start(({ services, slices }) => {
      services.upsert(web);
      slices.upsert(webSlice('10.244.2.7'));
    });
    await h.advance(5_000);
    const applied = h.proxier.lastApplied();
    h.nft.failNext = 'Error: Could not process rule: No buffer space available';
    h.slices.upsert(webSlice('10.244.2.8'));
    await settle();
    expect(h.nft.scripts).toHaveLength(2);
    expect(h.proxier.lastApplied()).toBe(applied);
    expect(await metric(h.registry, 'kubeproxy_sync_proxy_rules_nftables_sync_failures_total')).toBe(1);
    await h.advance(1_000);
    expect(h.nft.scripts).toHaveLength(3);
    expect(isFull(h.nft.scripts[2])).toBe(true);
    expect(h.nft.dump()).toContain('10.244.2.8');
    expect(h.nft.dump()).not.toContain('10.244.2.7');
  });

  it('recovers when someone deleted the table under it (knode proxy --cleanup)', async () => {
    const h = await start(({ services, slices }) => {
      services.upsert(web);
      slices.upsert(webSlice('10.244.2.7'));
    });
    await h.nft.cleanup();
    await h.advance(5_000);
    h.slices.upsert(webSlice('10.244.2.8'));
    await settle();
    await h.advance(1_000);
    expect(h.nft.dump()).toContain('10.244.2.8');
  });

  it('resyncs in full every sync period', async () => {
    const h = await start(({ services }) => services.upsert(web));
    await h.advance(30_000);
    expect(h.nft.scripts.map(isFull)).toEqual([true, true]);
  });

  it('deletes stale UDP conntrack entries after the rules are applied, never TCP ones', async () => {
    const h = await start(({ services, slices }) => {
      services.upsert(web);
      services.upsert(dns);
      slices.upsert(webSlice('10.244.2.7'));
    });
    // the first sync found dns without endpoints: nothing for it yet
    expect(h.conntrack.deleted).toEqual([]);
    await h.advance(5_000);
    h.slices.upsert(dnsSlice('10.244.2.8', '10.244.2.9'));
    await settle();
    expect(h.conntrack.deleted).toEqual([{ protocol: 'udp', origDst: '10.96.0.10', origDstPort: 53 }]);
    await h.advance(5_000);
    h.slices.upsert(dnsSlice('10.244.2.9'));
    h.slices.upsert(webSlice());
    await settle();
    expect(h.conntrack.deleted.slice(1)).toEqual([{ protocol: 'udp', origDst: '10.96.0.10', replySrc: '10.244.2.8' }]);
    expect(await metric(h.registry, 'knode_proxy_conntrack_entries_deleted_total')).toBe(2);
  });

  it('observes network programming latency from the slice change to the rules applied', async () => {
    const h = await start(({ services }) => services.upsert(web));
    await h.advance(5_000);
    const created = h.clock.now().toISOString();
    await h.advance(250);
    h.slices.upsert({ ...webSlice('10.244.2.7'), metadata: { ...webSlice().metadata, creationTimestamp: created } });
    await settle();
    const m = await h.registry.getSingleMetric('kubeproxy_network_programming_duration_seconds')?.get();
    expect(m?.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum'))?.value).toBeCloseTo(0.25);
    expect(await metric(h.registry, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds')).toBe(h.clock.now().getTime() / 1000);
  });

  it('turns unhealthy when syncs keep failing for 2 sync periods', async () => {
    const h = await start(({ services }) => services.upsert(web));
    const failing = h.nft.apply.bind(h.nft);
    h.nft.apply = (script: string) => failing(script).then(() => Promise.reject(new Error('nft broke')));
    h.services.upsert({ ...web, spec: { ...web.spec, ports: [{ name: 'http', port: 81 }] } });
    await h.advance(59_000);
    expect(h.proxier.health.status().healthy).toBe(true);
    await h.advance(1_000);
    expect(h.proxier.health.status().healthy).toBe(false);
  });
});
