/**
 * The proxy loop in iptables mode over FakeIptablesRunner (iptables-restore's semantics: a table's
 * input applies whole or not at all, a rule may only jump to an existing chain, -X refuses a chain
 * still referenced). Asserts what reaches the kernel: the jumps from the built-in chains, a first full
 * sync that deletes what an earlier run left, partial syncs that rewrite only the changed Service's
 * chains, and a full relisting sync after a refused input.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import type { Service } from '../api/core/service-types.js';
import type { Node } from '../api/core/node.js';
import { FakeClock } from '../lib/clock.js';
import { silentLogger } from '../lib/log.js';
import { FakeConntrack } from './conntrack.js';
import { IptablesBackend } from './iptables/backend.js';
import { buildIptablesRuleset } from './iptables/ruleset.js';
import { FakeIptablesRunner } from './iptables/runner.js';
import { Proxier } from './proxier.js';
import { FakeSource, settle } from './testing/fake-source.js';
import { CLUSTER_CIDR, dns, dnsSlice, NODE, NODE_IP, service, slice, state, web, webSlice } from './testing/fixtures.js';

const OPTS = { clusterCIDR: CLUSTER_CIDR, nodeIPs: [NODE_IP] };

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

async function start(runner: FakeIptablesRunner, services: FakeSource<Service>, slices: FakeSource<EndpointSlice>): Promise<{ clock: FakeClock; proxier: Proxier }> {
  const clock = new FakeClock();
  const proxier = new Proxier({
    nodeName: NODE,
    nodeIPs: [NODE_IP],
    clusterCIDR: CLUSTER_CIDR,
    services,
    slices,
    nodes: new FakeSource<Node>(),
    backend: new IptablesBackend(runner),
    conntrack: new FakeConntrack(() => 0),
    registry: new Registry(),
    clock,
    log: silentLogger(),
    random: () => 0,
  });
  const abort = new AbortController();
  const done = proxier.run(abort.signal);
  stops.push(async () => {
    abort.abort();
    await done;
  });
  await settle();
  return { clock, proxier };
}

/** The KNODE- chains of a table in iptables-save form, for comparing two runners. */
const nat = (r: FakeIptablesRunner): string => r.save('nat');

describe('Proxier in iptables mode', () => {
  it('puts the jumps in place and starts with a full sync that deletes an earlier run\'s chains', async () => {
    const runner = new FakeIptablesRunner();
    runner.seed('nat', 'PREROUTING', ['-j OTHER-CHAIN']);
    runner.seed('nat', 'OTHER-CHAIN', ['-j RETURN']);
    // an earlier run programmed a Service that no longer exists
    const gone = service('gone', { clusterIP: '10.96.0.99', ports: [{ name: 'http', port: 80 }] });
    await runner.ensureJumps();
    await runner.apply(buildIptablesRuleset(state([gone], [slice('gone', [{ name: 'http', port: 80 }], [{ ip: '10.244.2.9' }])]), OPTS));
    expect(nat(runner)).toContain('10.244.2.9');
    const services = new FakeSource<Service>();
    const slices = new FakeSource<EndpointSlice>();
    services.upsert(web);
    slices.upsert(webSlice('10.244.2.7'));
    const { proxier } = await start(runner, services, slices);

    const fresh = new FakeIptablesRunner();
    fresh.seed('nat', 'PREROUTING', ['-j OTHER-CHAIN']);
    fresh.seed('nat', 'OTHER-CHAIN', ['-j RETURN']);
    await fresh.ensureJumps();
    await fresh.apply(buildIptablesRuleset(state([web], [webSlice('10.244.2.7')]), OPTS));
    expect(nat(runner)).toBe(nat(fresh));
    expect(runner.save('filter')).toBe(fresh.save('filter'));
    expect(nat(runner)).not.toContain('10.244.2.9');
    expect(nat(runner)).toContain('-A OTHER-CHAIN -j RETURN');
    expect(proxier.health.status().healthy).toBe(true);
  });

  it('rewrites only the changed Service on a partial sync; the result equals a full build', async () => {
    const runner = new FakeIptablesRunner();
    const services = new FakeSource<Service>();
    const slices = new FakeSource<EndpointSlice>();
    services.upsert(web);
    slices.upsert(webSlice('10.244.2.7'));
    services.upsert(dns);
    slices.upsert(dnsSlice('10.244.2.9'));
    const { clock } = await start(runner, services, slices);
    const before = runner.inputs.length;
    await clock.advance(5_000);
    slices.upsert(webSlice('10.244.2.7', '10.244.2.8'));
    await clock.advance(1_000);
    await settle();
    const partial = runner.inputs.slice(before).join('');
    expect(partial).toContain('10.244.2.8');
    expect(partial).not.toContain('10.96.0.10');
    expect(partial).not.toContain('10.244.2.9');

    const fresh = new FakeIptablesRunner();
    await fresh.ensureJumps();
    await fresh.apply(buildIptablesRuleset(state([web, dns], [webSlice('10.244.2.7', '10.244.2.8'), dnsSlice('10.244.2.9')]), OPTS));
    const sorted = (t: string): string[] => t.split('\n').sort();
    expect(sorted(nat(runner))).toEqual(sorted(nat(fresh)));
  });

  it('after a refused input, the next sync lists the chains again and is full', async () => {
    const runner = new FakeIptablesRunner();
    const services = new FakeSource<Service>();
    const slices = new FakeSource<EndpointSlice>();
    services.upsert(web);
    slices.upsert(webSlice('10.244.2.7'));
    const { clock, proxier } = await start(runner, services, slices);
    await clock.advance(5_000);
    runner.failNext = 'iptables-restore: line 3 failed';
    slices.upsert(webSlice('10.244.2.8'));
    await clock.advance(1_000);
    await settle();
    expect(proxier.backend.ready).toBe(false);
    expect(nat(runner)).toContain('10.244.2.7');
    await clock.advance(30_000);
    await settle();
    expect(proxier.backend.ready).toBe(true);
    expect(nat(runner)).toContain('10.244.2.8');
    expect(nat(runner)).not.toContain('10.244.2.7');
    expect(proxier.health.status().healthy).toBe(true);
  });
});
