/**
 * iptables mode's behaviour: the same flow table as nftables mode (../testing/tracer-cases.ts) run
 * through the iptables tracer, plus what is particular to this layout.
 */
import { describe, expect, it } from 'vitest';
import { EXTERNAL_CLIENT, NODE_IP, OPTS, OTHER_NODE, service, slice, state } from '../testing/fixtures.js';
import { describeTracerBehaviour, seeded } from '../testing/tracer-cases.js';
import { buildIptablesRuleset } from './ruleset.js';
import { IptablesTracer } from './tracer.js';

describeTracerBehaviour((services, slices, opts, topts) => new IptablesTracer(buildIptablesRuleset(state(services, slices), opts).ruleset, topts));

describe('iptables layout', () => {
  const web = service('web', { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ name: 'p', port: 80, nodePort: 30080 }] });
  const eps = slice('web', [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.2.7', node: OTHER_NODE }]);
  const tracer = (): IptablesTracer => new IptablesTracer(buildIptablesRuleset(state([web], [eps]), OPTS).ruleset, { random: seeded(3) });

  it('a ClusterIP flow from outside: PREROUTING, KNODE-SERVICES, SVC, SEP, mark, FORWARD, POSTROUTING', () => {
    const path = tracer().trace({ src: EXTERNAL_CLIENT, proto: 'tcp', dst: '10.96.0.10', dport: 80, from: 'external' }).path;
    expect(path.slice(0, 3)).toEqual(['nat/PREROUTING', 'nat/KNODE-SERVICES', expect.stringMatching(/^nat\/KNODE-SVC-[A-Z2-7]{16}$/)]);
    expect(path).toContain('nat/KNODE-MARK-MASQ');
    expect(path).toEqual(expect.arrayContaining([expect.stringMatching(/^nat\/KNODE-SEP-[A-Z2-7]{16}$/), 'filter/FORWARD', 'filter/KNODE-SERVICES']));
    expect(path.slice(-2)).toEqual(['nat/POSTROUTING', 'nat/KNODE-POSTROUTING']);
  });

  it('a node port is looked up only after every address rule, through KNODE-NODEPORTS and EXT', () => {
    const path = tracer().trace({ src: EXTERNAL_CLIENT, proto: 'tcp', dst: NODE_IP, dport: 30080, from: 'external' }).path;
    expect(path.slice(0, 4)).toEqual(['nat/PREROUTING', 'nat/KNODE-SERVICES', 'nat/KNODE-NODEPORTS', expect.stringMatching(/^nat\/KNODE-EXT-/)]);
  });

  it('a Service without endpoints is rejected in filter, with no nat rule of its own', () => {
    const rs = buildIptablesRuleset(state([web], []), OPTS).ruleset;
    const r = new IptablesTracer(rs).trace({ src: '10.244.1.20', proto: 'tcp', dst: '10.96.0.10', dport: 80, from: 'pod' });
    expect(r).toMatchObject({ verdict: 'reject', rejectWith: 'tcp-reset' });
    expect(r.path).toEqual(['nat/PREROUTING', 'nat/KNODE-SERVICES', 'filter/FORWARD', 'filter/KNODE-SERVICES']);
  });
});
