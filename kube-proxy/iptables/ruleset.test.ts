/**
 * The iptables rule builder: normalized golden listings for representative states (chain hashes shown
 * as what they stand for), full and partial sync inputs, and convergence: partial syncs restored into
 * the fake iptables reach exactly the chains a fresh full sync builds. Behaviour is in tracer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Service } from '../../api/core/service-types.js';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { ProxyState } from '../model.js';
import { OPTS, OTHER_NODE, service, slice, state } from '../testing/fixtures.js';
import { RICH_STEPS, richState } from '../testing/rich-state.js';
import { iptablesChainNames } from './names.js';
import { normalizeIptables, probabilityText } from './render.js';
import type { IptablesSync } from './ruleset.js';
import { buildIptablesRuleset } from './ruleset.js';
import { FakeIptablesRunner } from './runner.js';

/** Chain hashes replaced by what they stand for: KNODE-SVC-{web:http}, KNODE-SEP-{10.244.1.5:8080}. */
function alias(text: string, s: ProxyState): string {
  let out = text;
  for (const sp of s.services.values()) {
    const n = iptablesChainNames(sp);
    const id = `${sp.name}:${sp.portName}`;
    out = out.replaceAll(n.svc, `KNODE-SVC-{${id}}`).replaceAll(n.svl, `KNODE-SVL-{${id}}`).replaceAll(n.ext, `KNODE-EXT-{${id}}`);
    for (const ep of s.endpoints.get(sp.key) ?? []) out = out.replaceAll(n.sep(ep.ip, ep.port), `KNODE-SEP-{${ep.ip}:${ep.port}}`);
  }
  return out;
}

const FIXED = /^:KNODE-(MARK-MASQ|POSTROUTING)\n(  .*\n)*/gm;
/** The normalized restore input of a full sync; `all` keeps comments and the fixed chains. */
function listing(s: ProxyState, all = false): string {
  const x = buildIptablesRuleset(s, OPTS);
  const text = alias(normalizeIptables(x.filter + x.nat, { comments: all }), s);
  return `\n${all ? text : text.replace(FIXED, '')}`;
}

const eps = (name: string, ports: Parameters<typeof slice>[1]): EndpointSlice =>
  slice(name, ports, [{ ip: '10.244.1.5' }, { ip: '10.244.2.7', node: OTHER_NODE }]);
const web = (extra: Partial<NonNullable<Service['spec']>> = {}): Service =>
  service('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }], ...extra });
const lb = (): Service =>
  service(
    'lb',
    { type: 'LoadBalancer', clusterIP: '10.96.0.14', externalTrafficPolicy: 'Local', externalIPs: ['198.51.100.5'], ports: [{ name: 'https', port: 443, nodePort: 30443 }] },
    { loadBalancer: { ingress: [{ ip: '198.51.100.6' }] } },
  );

describe('goldens', () => {
  it('ClusterIP with two endpoints (with the fixed chains and comments)', () => {
    expect(listing(state([web()], [eps('web', [{ name: 'http', port: 8080 }])]), true)).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
:KNODE-SERVICES
*nat
:KNODE-MARK-MASQ
  -j MARK --set-xmark 0x4000/0x4000
:KNODE-NODEPORTS
:KNODE-POSTROUTING
  -m mark ! --mark 0x4000/0x4000 -j RETURN
  -j MARK --set-xmark 0x4000/0x0
  -m comment --comment "knode service traffic requiring SNAT" -j MASQUERADE --random-fully
:KNODE-SEP-{10.244.1.5:8080}
  -s 10.244.1.5/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.1.5:8080
:KNODE-SEP-{10.244.2.7:8080}
  -s 10.244.2.7/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.2.7:8080
:KNODE-SERVICES
  -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KNODE-SVC-{web:http}
  ! -d 127.0.0.0/8 -m comment --comment "knode service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
:KNODE-SVC-{web:http}
  ! -s 10.244.0.0/16 -d 10.96.0.10/32 -j KNODE-MARK-MASQ
  -m statistic --mode random --probability 0.50000000000 -j KNODE-SEP-{10.244.1.5:8080}
  -j KNODE-SEP-{10.244.2.7:8080}
`);
  });

  it('NodePort, externalTrafficPolicy Cluster', () => {
    expect(listing(state([web({ type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] })], [eps('web', [{ name: 'http', port: 8080 }])]))).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
:KNODE-SERVICES
*nat
:KNODE-EXT-{web:http}
  -j KNODE-MARK-MASQ
  -j KNODE-SVC-{web:http}
:KNODE-NODEPORTS
  -p tcp -m tcp --dport 30080 -j KNODE-EXT-{web:http}
:KNODE-SEP-{10.244.1.5:8080}
  -s 10.244.1.5/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.1.5:8080
:KNODE-SEP-{10.244.2.7:8080}
  -s 10.244.2.7/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.2.7:8080
:KNODE-SERVICES
  -d 10.96.0.10/32 -p tcp -m tcp --dport 80 -j KNODE-SVC-{web:http}
  ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
:KNODE-SVC-{web:http}
  ! -s 10.244.0.0/16 -d 10.96.0.10/32 -j KNODE-MARK-MASQ
  -m statistic --mode random --probability 0.50000000000 -j KNODE-SEP-{10.244.1.5:8080}
  -j KNODE-SEP-{10.244.2.7:8080}
`);
  });

  it('session affinity ClientIP: recent --rcheck in the service chain, --set in each endpoint chain', () => {
    const sticky = service('sticky', { clusterIP: '10.96.0.12', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'p', port: 80 }] });
    expect(listing(state([sticky], [eps('sticky', [{ name: 'p', port: 8080 }])]))).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
:KNODE-SERVICES
*nat
:KNODE-NODEPORTS
:KNODE-SEP-{10.244.2.7:8080}
  -s 10.244.2.7/32 -j KNODE-MARK-MASQ
  -p tcp -m recent --set --name KNODE-SEP-{10.244.2.7:8080} --mask 255.255.255.255 --rsource -j DNAT --to-destination 10.244.2.7:8080
:KNODE-SEP-{10.244.1.5:8080}
  -s 10.244.1.5/32 -j KNODE-MARK-MASQ
  -p tcp -m recent --set --name KNODE-SEP-{10.244.1.5:8080} --mask 255.255.255.255 --rsource -j DNAT --to-destination 10.244.1.5:8080
:KNODE-SERVICES
  -d 10.96.0.12/32 -p tcp -m tcp --dport 80 -j KNODE-SVC-{sticky:p}
  ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
:KNODE-SVC-{sticky:p}
  ! -s 10.244.0.0/16 -d 10.96.0.12/32 -j KNODE-MARK-MASQ
  -m recent --rcheck --seconds 60 --reap --name KNODE-SEP-{10.244.1.5:8080} --mask 255.255.255.255 --rsource -j KNODE-SEP-{10.244.1.5:8080}
  -m recent --rcheck --seconds 60 --reap --name KNODE-SEP-{10.244.2.7:8080} --mask 255.255.255.255 --rsource -j KNODE-SEP-{10.244.2.7:8080}
  -m statistic --mode random --probability 0.50000000000 -j KNODE-SEP-{10.244.1.5:8080}
  -j KNODE-SEP-{10.244.2.7:8080}
`);
  });

  it('no endpoints: REJECT in filter (TCP reset, ICMP port unreachable), no nat rule', () => {
    const empty = service('empty', {
      type: 'NodePort',
      clusterIP: '10.96.0.11',
      ports: [
        { name: 't', port: 80, nodePort: 30011 },
        { name: 'u', port: 53, protocol: 'UDP', nodePort: 30012 },
      ],
    });
    expect(listing(state([empty], []))).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
  ! -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30011 -j REJECT --reject-with tcp-reset
  ! -d 127.0.0.0/8 -p udp -m addrtype --dst-type LOCAL -m udp --dport 30012 -j REJECT --reject-with icmp-port-unreachable
:KNODE-SERVICES
  -d 10.96.0.11/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset
  -d 10.96.0.11/32 -p udp -m udp --dport 53 -j REJECT --reject-with icmp-port-unreachable
*nat
:KNODE-NODEPORTS
:KNODE-SERVICES
  ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
`);
  });

  it('externalTrafficPolicy Local: pods and the node get SVC, everyone else SVL with the source kept', () => {
    expect(listing(state([lb()], [eps('lb', [{ name: 'https', port: 8443 }])]))).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
:KNODE-SERVICES
*nat
:KNODE-EXT-{lb:https}
  -s 10.244.0.0/16 -j KNODE-SVC-{lb:https}
  -m addrtype --src-type LOCAL -j KNODE-MARK-MASQ
  -m addrtype --src-type LOCAL -j KNODE-SVC-{lb:https}
  -j KNODE-SVL-{lb:https}
:KNODE-NODEPORTS
  -p tcp -m tcp --dport 30443 -j KNODE-EXT-{lb:https}
:KNODE-SEP-{10.244.2.7:8443}
  -s 10.244.2.7/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.2.7:8443
:KNODE-SEP-{10.244.1.5:8443}
  -s 10.244.1.5/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.1.5:8443
:KNODE-SERVICES
  -d 10.96.0.14/32 -p tcp -m tcp --dport 443 -j KNODE-SVC-{lb:https}
  -d 198.51.100.5/32 -p tcp -m tcp --dport 443 -j KNODE-EXT-{lb:https}
  -d 198.51.100.6/32 -p tcp -m tcp --dport 443 -j KNODE-EXT-{lb:https}
  ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
:KNODE-SVC-{lb:https}
  ! -s 10.244.0.0/16 -d 10.96.0.14/32 -j KNODE-MARK-MASQ
  -m statistic --mode random --probability 0.50000000000 -j KNODE-SEP-{10.244.1.5:8443}
  -j KNODE-SEP-{10.244.2.7:8443}
:KNODE-SVL-{lb:https}
  -j KNODE-SEP-{10.244.1.5:8443}
`);
  });

  it('externalTrafficPolicy Local with only a remote endpoint: external destinations DROP in filter', () => {
    expect(listing(state([lb()], [slice('lb', [{ name: 'https', port: 8443 }], [{ ip: '10.244.2.7', node: OTHER_NODE }])]))).toBe(`
*filter
:KNODE-EXTERNAL-SERVICES
  -d 198.51.100.5/32 -p tcp -m tcp --dport 443 -j DROP
  -d 198.51.100.6/32 -p tcp -m tcp --dport 443 -j DROP
  ! -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 30443 -j DROP
:KNODE-SERVICES
*nat
:KNODE-NODEPORTS
:KNODE-SEP-{10.244.2.7:8443}
  -s 10.244.2.7/32 -j KNODE-MARK-MASQ
  -p tcp -j DNAT --to-destination 10.244.2.7:8443
:KNODE-SERVICES
  -d 10.96.0.14/32 -p tcp -m tcp --dport 443 -j KNODE-SVC-{lb:https}
  ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS
:KNODE-SVC-{lb:https}
  ! -s 10.244.0.0/16 -d 10.96.0.14/32 -j KNODE-MARK-MASQ
  -j KNODE-SEP-{10.244.2.7:8443}
`);
  });
});

describe('full sync', () => {
  const s = state([web()], [eps('web', [{ name: 'http', port: 8080 }])]);

  it('declares every own chain (which flushes it) and touches no other chain', () => {
    const x = buildIptablesRuleset(s, OPTS);
    expect(x.full).toBe(true);
    expect(x.touched).toEqual(['default/web/tcp/http']);
    for (const text of [x.filter, x.nat]) {
      expect(text).toMatch(/^\*(filter|nat)\n/);
      expect(text.endsWith('COMMIT\n')).toBe(true);
      for (const line of text.split('\n').filter((l) => /^[:-]/.test(l))) expect(line).toMatch(/^(:|-A |-X )KNODE-/);
    }
    const declared = [...x.nat.matchAll(/^:(\S+)/gm)].map((m) => m[1]);
    const used = new Set([...x.nat.matchAll(/^-A (\S+)/gm)].map((m) => m[1]));
    for (const c of used) expect(declared).toContain(c);
  });

  it('deletes stale own chains from the previous sync and from the kernel listing, declaring them first', () => {
    const prev = buildIptablesRuleset(state([web(), service('old', { clusterIP: '10.96.0.99', ports: [{ name: 'x', port: 1 }] })], [eps('old', [{ name: 'x', port: 1 }])]), OPTS);
    const x = buildIptablesRuleset(s, { ...OPTS, existingChains: { filter: ['KNODE-GONE'], nat: ['KNODE-SVC-LEFTOVER'] } }, undefined, prev.ruleset);
    const oldChains = [...(prev.ruleset.services.get('default/old/tcp/x')?.chains ?? [])].map((c) => c.name);
    expect(oldChains).toHaveLength(3);
    for (const c of [...oldChains, 'KNODE-SVC-LEFTOVER']) expect(x.nat).toMatch(new RegExp(`^:${c} - \\[0:0\\]$[\\s\\S]*^-X ${c}$`, 'm'));
    expect(x.filter).toMatch(/^:KNODE-GONE - \[0:0\]$[\s\S]*^-X KNODE-GONE$/m);
  });

  it('masqueradeAll marks every connection to the cluster IP', () => {
    const x = buildIptablesRuleset(s, { ...OPTS, masqueradeAll: true });
    expect(alias(x.nat, s)).toContain('-A KNODE-SVC-{web:http} -d 10.96.0.10/32 -j KNODE-MARK-MASQ\n');
  });
});

describe('partial sync', () => {
  const base = state([web()], [eps('web', [{ name: 'http', port: 8080 }])]);
  const first = buildIptablesRuleset(base, OPTS);
  const key = 'default/web/tcp/http';

  it('an endpoint added: its SEP chain and the SVC chain, nothing else (no dispatch chain, no filter)', () => {
    const s = state([web()], [slice('web', [{ name: 'http', port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }, { ip: '10.244.2.7', node: OTHER_NODE }])]);
    const x = buildIptablesRuleset(s, OPTS, new Set([key]), first.ruleset);
    expect(x.full).toBe(false);
    expect(x.filter).toBe('');
    expect(`\n${alias(x.nat, s)}`).toBe(`
*nat
:KNODE-SVC-{web:http} - [0:0]
:KNODE-SEP-{10.244.1.6:8080} - [0:0]
-A KNODE-SVC-{web:http} ! -s 10.244.0.0/16 -d 10.96.0.10/32 -j KNODE-MARK-MASQ
-A KNODE-SVC-{web:http} -m statistic --mode random --probability ${probabilityText(3)} -j KNODE-SEP-{10.244.1.5:8080}
-A KNODE-SVC-{web:http} -m statistic --mode random --probability 0.50000000000 -j KNODE-SEP-{10.244.1.6:8080}
-A KNODE-SVC-{web:http} -j KNODE-SEP-{10.244.2.7:8080}
-A KNODE-SEP-{10.244.1.6:8080} -s 10.244.1.6/32 -j KNODE-MARK-MASQ
-A KNODE-SEP-{10.244.1.6:8080} -p tcp -j DNAT --to-destination 10.244.1.6:8080
COMMIT
`);
  });

  it('a Service added: its chains, and one rule inserted at the top of KNODE-SERVICES (not a rewrite)', () => {
    const s = state([web(), service('api', { clusterIP: '10.96.0.20', ports: [{ name: 'grpc', port: 9000 }] })], [eps('web', [{ name: 'http', port: 8080 }]), eps('api', [{ name: 'grpc', port: 9000 }])]);
    const x = buildIptablesRuleset(s, OPTS, new Set(['default/api/tcp/grpc']), first.ruleset);
    expect(x.filter).toBe('');
    expect([...x.nat.matchAll(/^:(\S+)/gm)].map((m) => alias(m[1] ?? '', s))).toEqual(['KNODE-SVC-{api:grpc}', 'KNODE-SEP-{10.244.1.5:9000}', 'KNODE-SEP-{10.244.2.7:9000}']);
    expect(alias(x.nat, s).split('\n').filter((l) => l.includes('KNODE-SERVICES'))).toEqual([
      '-I KNODE-SERVICES 1 -d 10.96.0.20/32 -p tcp -m comment --comment "default/api:grpc cluster IP" -m tcp --dport 9000 -j KNODE-SVC-{api:grpc}',
    ]);
    expect(x.natBatches).toEqual([x.nat]);
    expect(x.ruleset.order).toEqual(['default/api/tcp/grpc', key]);
  });

  it('a Service deleted: its dispatch rule deleted (-D), its chains flushed and deleted', () => {
    const x = buildIptablesRuleset(state([], []), OPTS, new Set([key]), first.ruleset);
    const own = [...(first.ruleset.services.get(key)?.chains ?? [])].map((c) => c.name).sort();
    expect([...x.nat.matchAll(/^-X (\S+)/gm)].map((m) => m[1])).toEqual(own);
    expect([...x.nat.matchAll(/^:(\S+)/gm)].map((m) => m[1])).toEqual(own);
    expect(x.nat).toContain('\n-D KNODE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j KNODE-SVC-');
    expect(x.ruleset.services.size).toBe(0);
    expect(x.ruleset.order).toEqual([]);
  });

  it('endpoints gone: the nat chains and dispatch rule go, a reject rule is appended in filter', () => {
    const x = buildIptablesRuleset(state([web()], []), OPTS, new Set([key]), first.ruleset);
    expect(x.filter).toBe(
      '*filter\n-A KNODE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "default/web:http has no endpoints" -m tcp --dport 80 -j REJECT --reject-with tcp-reset\nCOMMIT\n',
    );
    expect(x.nat.match(/^-X /gm)).toHaveLength(3);
    expect(x.nat.match(/^-D KNODE-SERVICES /gm)).toHaveLength(1);
  });

  it('nothing changed: empty input for both tables', () => {
    const x = buildIptablesRuleset(base, OPTS, new Set([key, 'default/unknown/tcp/']), first.ruleset);
    expect([x.filter, x.nat, x.full]).toEqual(['', '', false]);
    expect(x.touched).toEqual([key]);
  });

  it('other options than the previous sync’s force a full sync', () => {
    expect(buildIptablesRuleset(base, { ...OPTS, masqueradeAll: true }, new Set([key]), first.ruleset).full).toBe(true);
    expect(buildIptablesRuleset(base, { ...OPTS, clusterCIDR: '10.0.0.0/8' }, new Set([key]), first.ruleset).full).toBe(true);
    expect(buildIptablesRuleset(base, OPTS, new Set([key])).full).toBe(true);
  });
});

describe('convergence through the fake iptables', () => {
  const SORTED = { sortRulesOf: ['KNODE-SERVICES', 'KNODE-NODEPORTS', 'KNODE-EXTERNAL-SERVICES'] };
  const own = (f: FakeIptablesRunner): string => normalizeIptables(f.save('filter') + f.save('nat'), { prefix: 'KNODE-', comments: true, ...SORTED });
  const nodePortsLast = (f: FakeIptablesRunner): void => {
    expect(f.save('nat').match(/^-A KNODE-SERVICES .*$/gm)?.at(-1)).toContain('-j KNODE-NODEPORTS');
  };
  const fresh = async (s: ProxyState): Promise<string> => {
    const f = new FakeIptablesRunner();
    await f.apply(buildIptablesRuleset(s, OPTS));
    return own(f);
  };

  it('partial syncs through every kind of change leave the chains a fresh full sync builds', async () => {
    const fake = new FakeIptablesRunner();
    let prev: IptablesSync = buildIptablesRuleset(richState(), OPTS);
    await fake.apply(prev);
    for (const [name, s] of RICH_STEPS) {
      const changed = name === 'Service deleted' ? new Set(prev.ruleset.services.keys()) : new Set(['default/web/tcp/http']);
      const tx = buildIptablesRuleset(s, OPTS, changed, prev.ruleset);
      expect(tx.full, name).toBe(false);
      await fake.apply(tx);
      expect(own(fake), name).toBe(await fresh(s));
      nodePortsLast(fake);
      prev = tx;
    }
    expect(own(fake)).toBe('*filter\n:KNODE-EXTERNAL-SERVICES\n:KNODE-SERVICES\n*nat\n:KNODE-MARK-MASQ\n  -j MARK --set-xmark 0x4000/0x4000\n:KNODE-NODEPORTS\n:KNODE-POSTROUTING\n  -m mark ! --mark 0x4000/0x4000 -j RETURN\n  -j MARK --set-xmark 0x4000/0x0\n  -m comment --comment "knode service traffic requiring SNAT" -j MASQUERADE --random-fully\n:KNODE-SERVICES\n  ! -d 127.0.0.0/8 -m comment --comment "knode service nodeports; NOTE: this must be the last rule in this chain" -m addrtype --dst-type LOCAL -j KNODE-NODEPORTS\n');
  });

  it('a full sync over a table left by an earlier run (listed chains) removes what is stale', async () => {
    const fake = new FakeIptablesRunner();
    await fake.apply(buildIptablesRuleset(richState(), OPTS));
    const small = state([web()], [eps('web', [{ name: 'http', port: 8080 }])]);
    await fake.apply(buildIptablesRuleset(small, { ...OPTS, existingChains: await fake.listChains() }));
    expect(own(fake)).toBe(await fresh(small));
  });

  it('the same full sync twice is accepted and changes nothing', async () => {
    const fake = new FakeIptablesRunner();
    const x = buildIptablesRuleset(richState(), OPTS);
    await fake.apply(x);
    const once = own(fake);
    await fake.apply(buildIptablesRuleset(richState(), OPTS, undefined, x.ruleset));
    expect(own(fake)).toBe(once);
  });

  it('batches: a full and a partial sync cut into small inputs reach the same chains, every input accepted', async () => {
    const small = { ...OPTS, batchChains: 4 };
    const whole = new FakeIptablesRunner();
    const batched = new FakeIptablesRunner();
    const full = buildIptablesRuleset(richState(), small);
    expect(full.natBatches.length).toBeGreaterThan(5);
    // fixed chains first, dispatch after every service chain
    expect(full.natBatches[0]).toMatch(/^\*nat\n:KNODE-MARK-MASQ - \[0:0\]\n:KNODE-POSTROUTING - \[0:0\]\n/);
    expect(full.natBatches.at(-1)).toMatch(/^\*nat\n:KNODE-SERVICES - \[0:0\]\n:KNODE-NODEPORTS - \[0:0\]\n/);
    await whole.restore('nat', full.nat);
    await whole.restore('filter', full.filter);
    await batched.apply(full);
    expect(own(batched)).toBe(own(whole));
    expect(batched.inputs).toHaveLength(full.natBatches.length + 1);

    const gone = buildIptablesRuleset(state([], []), small, new Set(full.ruleset.services.keys()), full.ruleset);
    expect(gone.natBatches.some((b) => /^-X /m.test(b) && !/^:/m.test(b))).toBe(true);
    await batched.apply(gone);
    expect(own(batched)).toBe(await fresh(state([], [])));
  });
});
