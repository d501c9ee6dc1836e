/**
 * Behaviour of the generated table, independent of its layout: flows run through the packet tracer.
 * The behaviour cases are shared with iptables mode (../testing/tracer-cases.ts); this file adds what
 * is particular to the nftables tracer.
 */
import { describe, expect, it } from 'vitest';
import { CLUSTER_CIDR, EXTERNAL_CLIENT, OPTS, service, slice, state } from '../testing/fixtures.js';
import { describeTracerBehaviour, seeded } from '../testing/tracer-cases.js';
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
    expect(path.slice(0, 3)).toEqual(['nat-prerouting', 'services', expect.stringMatching(/^service-[0-9a-f]{8}-default\/web\/tcp\/p$/)]);
    expect(path).toContain('mark-for-masquerade');
    expect(path.at(-1)).toBe('masquerading');
  });
});
