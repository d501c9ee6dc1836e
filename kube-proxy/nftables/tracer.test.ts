/**
 * Behaviour of the generated table, independent of its layout: flows run through the packet tracer.
 * The behaviour cases are shared with iptables mode (../testing/tracer-cases.ts); this file adds what
 * is particular to the nftables tracer.
 */
import { describe, expect, it } from 'vitest';
import { CLUSTER_CIDR, EXTERNAL_CLIENT, OPTS, service, slice, state } from '../testing/fixtures.js';
import { describeTracerBehaviour, seeded } from '../testing/tracer-cases.js';
import { serviceTableIndex } from './names.js';
import { buildRuleset } from './ruleset.js';
import { PacketTracer, inCidr } from './tracer.js';

describeTracerBehaviour((services, slices, opts, topts) => new PacketTracer(buildRuleset(state(services, slices), opts).ruleset, topts));

describe('tracer plumbing', () => {
  it('inCidr', () => {
    expect(inCidr('10.244.3.4', CLUSTER_CIDR)).toBe(true);
    expect(inCidr('10.245.0.1', CLUSTER_CIDR)).toBe(false);
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inCidr('1.2.3.4', '1.2.3.4/32')).toBe(true);
  });

  it('reports the chain path', () => {
    const web = service('web', { clusterIP: '10.96.0.10', ports: [{ name: 'p', port: 80 }] });
    const rs = buildRuleset(state([web], [slice('web', [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.5' }])]), OPTS).ruleset;
    const t = new PacketTracer(rs, { random: seeded(1) });
    const path = t.trace({ src: EXTERNAL_CLIENT, proto: 'tcp', dst: '10.96.0.10', dport: 80, from: 'external' }).path;
    const table = rs.services.values().next().value?.table ?? '';
    // the service tables before its own are walked without a match; its own DNATs; none after it
    const own = path.indexOf(`${table}/nat-prerouting`);
    expect(path.slice(0, own).every((c) => /^knode-proxy-svc-\d+\/(nat-prerouting|services)$/.test(c))).toBe(true);
    expect(path.slice(own, own + 3)).toEqual([`${table}/nat-prerouting`, `${table}/services`, expect.stringMatching(/\/service-[0-9a-f]{8}-default\/web\/tcp\/p$/)]);
    expect(path).toContain(`${table}/mark-for-masquerade`);
    expect(path.filter((c) => c.endsWith('/nat-prerouting')).at(-1)).toBe(`${table}/nat-prerouting`);
    expect(path.at(-1)).toBe('knode-proxy/masquerading');
  });
});

describe('several service tables', () => {
  it('once a nat chain has DNATed a connection, the later tables\' nat chains do not run (the kernel\'s nat hook)', () => {
    // Service "front"'s one endpoint is Service "back-N"'s cluster IP and port (a hand-made
    // EndpointSlice can do that): a second DNAT in back-N's table would be wrong, as the kernel
    // binds the connection at the first one. Pick back-N in a table after front's.
    const opts = { ...OPTS, serviceTables: 8 };
    const front = service('front', { clusterIP: '10.96.5.1', ports: [{ name: 'p', port: 80 }] });
    const frontTable = serviceTableIndex('default/front/tcp/p', 8);
    const n = Array.from({ length: 64 }, (_, i) => i).find((i) => serviceTableIndex(`default/back-${i}/tcp/p`, 8) > frontTable);
    expect(n, 'a back Service in a later table').toBeDefined();
    const back = service(`back-${n}`, { clusterIP: '10.96.5.2', ports: [{ name: 'p', port: 80 }] });
    const rs = buildRuleset(
      state([front, back], [slice('front', [{ name: 'p', port: 80 }], [{ ip: '10.96.5.2' }]), slice(`back-${n}`, [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.9' }])]),
      opts,
    ).ruleset;
    const r = new PacketTracer(rs, { random: seeded(3) }).trace({ src: '10.244.1.20', proto: 'tcp', dst: '10.96.5.1', dport: 80, from: 'pod' });
    expect(r.verdict).toBe('dnat');
    expect(r.endpoint).toEqual({ ip: '10.96.5.2', port: 80 });
    expect(r.path.filter((c) => c.endsWith('/nat-prerouting'))).toHaveLength(frontTable + 1);
  });
});
