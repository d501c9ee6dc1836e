/**
 * The nftables rule builder: normalized golden listings for representative states, the full and
 * partial transactions, and convergence (partial syncs through the fake nft reach exactly the table a
 * full sync builds). Behaviour of the rules themselves is in tracer.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Service } from '../../api/core/service-types.js';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { ProxyState } from '../model.js';
import { OPTS, OTHER_NODE, service, slice, state } from '../testing/fixtures.js';
import type { NftTransaction } from './ir.js';
import { renderRuleset, renderTransaction } from './render.js';
import { serviceTableIndex } from './names.js';
import { buildRuleset } from './ruleset.js';
import { FakeNftRunner } from './runner.js';
import { PacketTracer } from './tracer.js';

/** Hashes in names are stable (names.test.ts) but noisy: goldens show them as H. */
const normalize = (text: string): string => `\n${text.replace(/-[0-9a-f]{8}-/g, '-H-')}`;
/** Goldens put every service port in one service table (`knode-proxy-svc-0`); other tests use the default count. */
const ONE_TABLE = { ...OPTS, serviceTables: 1 };
const listing = (s: ProxyState): string => normalize(renderRuleset(buildRuleset(s, ONE_TABLE).ruleset, { servicesOnly: true }));
const eps = (name: string, ports: Parameters<typeof slice>[1]): EndpointSlice =>
  slice(name, ports, [{ ip: '10.244.1.5' }, { ip: '10.244.2.7', node: OTHER_NODE }]);

const GOLDEN_BASE = `
table ip knode-proxy {
	map no-endpoint-services {
		type ipv4_addr . inet_proto . inet_service : verdict ;
	}
	map no-endpoint-nodeports {
		type inet_proto . inet_service : verdict ;
	}
	chain nat-postrouting {
		type nat hook postrouting priority 100 ; policy accept ;
		jump masquerading
	}
	chain filter-input {
		type filter hook input priority -110 ; policy accept ;
		ct state new jump nodeport-endpoints-check
		ct state new jump service-endpoints-check
	}
	chain filter-forward {
		type filter hook forward priority -110 ; policy accept ;
		ct state new jump service-endpoints-check
	}
	chain filter-output {
		type filter hook output priority -110 ; policy accept ;
		ct state new jump service-endpoints-check
	}
	chain service-endpoints-check {
		ip daddr . meta l4proto . th dport vmap @no-endpoint-services
	}
	chain nodeport-endpoints-check {
		fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports
	}
	chain masquerading {
		meta mark & 0x4000 == 0 return
		meta mark set meta mark ^ 0x4000
		masquerade fully-random
	}
	chain reject-chain {
		meta l4proto tcp reject with tcp reset
		reject with icmp type port-unreachable
	}
}
table ip knode-proxy-svc-0 {
	map service-ips {
		type ipv4_addr . inet_proto . inet_service : verdict ;
	}
	map service-nodeports {
		type inet_proto . inet_service : verdict ;
	}
	chain nat-prerouting {
		type nat hook prerouting priority -100 ; policy accept ;
		jump services
	}
	chain nat-output {
		type nat hook output priority -100 ; policy accept ;
		jump services
	}
	chain services {
		ip daddr . meta l4proto . th dport vmap @service-ips
		fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @service-nodeports
	}
	chain mark-for-masquerade {
		meta mark set meta mark | 0x4000
	}
}
`;

const GOLDEN_DNS = `
table ip knode-proxy-svc-0 {
	map service-ips {
		elements = { 10.96.0.10 . tcp . 53 : goto service-H-default/dns/tcp/dns-tcp,
			10.96.0.10 . udp . 53 : goto service-H-default/dns/udp/dns }
	}
	chain service-H-default/dns/tcp/dns-tcp {
		ip daddr 10.96.0.10 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/dns/tcp/dns-tcp__10.244.1.5/53
		goto endpoint-H-default/dns/tcp/dns-tcp__10.244.2.7/53
	}
	chain endpoint-H-default/dns/tcp/dns-tcp__10.244.1.5/53 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.1.5:53
	}
	chain endpoint-H-default/dns/tcp/dns-tcp__10.244.2.7/53 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.2.7:53
	}
	chain service-H-default/dns/udp/dns {
		ip daddr 10.96.0.10 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/dns/udp/dns__10.244.1.5/53
		goto endpoint-H-default/dns/udp/dns__10.244.2.7/53
	}
	chain endpoint-H-default/dns/udp/dns__10.244.1.5/53 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto udp dnat ip to 10.244.1.5:53
	}
	chain endpoint-H-default/dns/udp/dns__10.244.2.7/53 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto udp dnat ip to 10.244.2.7:53
	}
}
`;

const GOLDEN_MULTIPORT = `
table ip knode-proxy-svc-0 {
	map service-ips {
		elements = { 10.96.0.20 . tcp . 80 : goto service-H-default/multi/tcp/http,
			10.96.0.20 . tcp . 9100 : goto service-H-default/multi/tcp/metrics }
	}
	chain service-H-default/multi/tcp/http {
		ip daddr 10.96.0.20 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/multi/tcp/http__10.244.1.5/8080
		goto endpoint-H-default/multi/tcp/http__10.244.2.7/8081
	}
	chain endpoint-H-default/multi/tcp/http__10.244.1.5/8080 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.1.5:8080
	}
	chain endpoint-H-default/multi/tcp/http__10.244.2.7/8081 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.2.7:8081
	}
	chain service-H-default/multi/tcp/metrics {
		ip daddr 10.96.0.20 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/multi/tcp/metrics__10.244.1.5/9100
		goto endpoint-H-default/multi/tcp/metrics__10.244.2.7/9101
	}
	chain endpoint-H-default/multi/tcp/metrics__10.244.1.5/9100 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.1.5:9100
	}
	chain endpoint-H-default/multi/tcp/metrics__10.244.2.7/9101 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.2.7:9101
	}
}
`;

const GOLDEN_NODEPORT = `
table ip knode-proxy-svc-0 {
	map service-ips {
		elements = { 10.96.0.30 . tcp . 80 : goto service-H-default/np/tcp/80 }
	}
	map service-nodeports {
		elements = { tcp . 30080 : goto external-H-default/np/tcp/80 }
	}
	chain service-H-default/np/tcp/80 {
		ip daddr 10.96.0.30 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/np/tcp/80__10.244.1.5/8080
		goto endpoint-H-default/np/tcp/80__10.244.2.7/8080
	}
	chain external-H-default/np/tcp/80 {
		jump mark-for-masquerade
		goto service-H-default/np/tcp/80
	}
	chain endpoint-H-default/np/tcp/80__10.244.1.5/8080 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.1.5:8080
	}
	chain endpoint-H-default/np/tcp/80__10.244.2.7/8080 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.2.7:8080
	}
}
`;

const GOLDEN_AFFINITY = `
table ip knode-proxy-svc-0 {
	map service-ips {
		elements = { 10.96.0.40 . tcp . 80 : goto service-H-default/sticky/tcp/http }
	}
	set affinity-H-default/sticky/tcp/http__10.244.1.5/8080 { timeout 10800s }
	set affinity-H-default/sticky/tcp/http__10.244.2.7/8080 { timeout 10800s }
	chain service-H-default/sticky/tcp/http {
		ip daddr 10.96.0.40 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		ip saddr @affinity-H-default/sticky/tcp/http__10.244.1.5/8080 goto endpoint-H-default/sticky/tcp/http__10.244.1.5/8080
		ip saddr @affinity-H-default/sticky/tcp/http__10.244.2.7/8080 goto endpoint-H-default/sticky/tcp/http__10.244.2.7/8080
		numgen random mod 2 0 goto endpoint-H-default/sticky/tcp/http__10.244.1.5/8080
		goto endpoint-H-default/sticky/tcp/http__10.244.2.7/8080
	}
	chain endpoint-H-default/sticky/tcp/http__10.244.1.5/8080 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		update @affinity-H-default/sticky/tcp/http__10.244.1.5/8080 { ip saddr }
		meta l4proto tcp dnat ip to 10.244.1.5:8080
	}
	chain endpoint-H-default/sticky/tcp/http__10.244.2.7/8080 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		update @affinity-H-default/sticky/tcp/http__10.244.2.7/8080 { ip saddr }
		meta l4proto tcp dnat ip to 10.244.2.7:8080
	}
}
`;

const GOLDEN_NOEPS = `
table ip knode-proxy {
	map no-endpoint-services {
		elements = { 10.96.0.50 . tcp . 80 : goto reject-chain,
			10.96.0.51 . tcp . 80 : drop }
	}
}
`;

const GOLDEN_LOCAL = `
table ip knode-proxy-svc-0 {
	map service-ips {
		elements = { 10.96.0.60 . tcp . 443 : goto service-H-default/lb/tcp/https,
			198.51.100.5 . tcp . 443 : goto external-H-default/lb/tcp/https,
			198.51.100.6 . tcp . 443 : goto external-H-default/lb/tcp/https }
	}
	map service-nodeports {
		elements = { tcp . 30443 : goto external-H-default/lb/tcp/https }
	}
	chain service-H-default/lb/tcp/https {
		ip daddr 10.96.0.60 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
		numgen random mod 2 0 goto endpoint-H-default/lb/tcp/https__10.244.1.5/8443
		goto endpoint-H-default/lb/tcp/https__10.244.2.7/8443
	}
	chain local-H-default/lb/tcp/https {
		goto endpoint-H-default/lb/tcp/https__10.244.1.5/8443
	}
	chain external-H-default/lb/tcp/https {
		ip saddr 10.244.0.0/16 goto service-H-default/lb/tcp/https
		fib saddr type local jump mark-for-masquerade
		fib saddr type local goto service-H-default/lb/tcp/https
		goto local-H-default/lb/tcp/https
	}
	chain endpoint-H-default/lb/tcp/https__10.244.1.5/8443 {
		ip saddr 10.244.1.5 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.1.5:8443
	}
	chain endpoint-H-default/lb/tcp/https__10.244.2.7/8443 {
		ip saddr 10.244.2.7 jump mark-for-masquerade
		meta l4proto tcp dnat ip to 10.244.2.7:8443
	}
}
`;

describe('golden rulesets', () => {
  it('the fixed part: maps, hooks, helper chains', () => {
    expect(normalize(renderRuleset(buildRuleset(state([]), ONE_TABLE).ruleset))).toBe(GOLDEN_BASE);
  });

  it('ClusterIP with the same port on UDP and TCP', () => {
    const dnsPorts = [
      { name: 'dns', port: 53, protocol: 'UDP' as const },
      { name: 'dns-tcp', port: 53, protocol: 'TCP' as const },
    ];
    expect(listing(state([service('dns', { clusterIP: '10.96.0.10', ports: dnsPorts })], [eps('dns', dnsPorts)]))).toBe(GOLDEN_DNS);
  });

  it('multiport with named target ports resolved per pod', () => {
    const svc = service('multi', {
      clusterIP: '10.96.0.20',
      ports: [
        { name: 'http', port: 80, targetPort: 'web' },
        { name: 'metrics', port: 9100, targetPort: 'metrics' },
      ],
    });
    const s1 = slice('multi', [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9100 }], [{ ip: '10.244.1.5' }], 'm1');
    const s2 = slice('multi', [{ name: 'http', port: 8081 }, { name: 'metrics', port: 9101 }], [{ ip: '10.244.2.7', node: OTHER_NODE }], 'm2');
    expect(listing(state([svc], [s1, s2]))).toBe(GOLDEN_MULTIPORT);
  });

  it('NodePort (unnamed port: the chain names carry the port number)', () => {
    const svc = service('np', { type: 'NodePort', clusterIP: '10.96.0.30', ports: [{ port: 80, nodePort: 30080 }] });
    expect(listing(state([svc], [eps('np', [{ port: 8080 }])]))).toBe(GOLDEN_NODEPORT);
  });

  it('session affinity ClientIP', () => {
    const svc = service('sticky', { clusterIP: '10.96.0.40', sessionAffinity: 'ClientIP', ports: [{ name: 'http', port: 80 }] });
    expect(listing(state([svc], [eps('sticky', [{ name: 'http', port: 8080 }])]))).toBe(GOLDEN_AFFINITY);
  });

  it('no endpoints: reject; endpoints only elsewhere under internalTrafficPolicy Local: drop', () => {
    const empty = service('empty', { clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80 }] });
    const elsewhere = service('elsewhere', { clusterIP: '10.96.0.51', internalTrafficPolicy: 'Local', ports: [{ name: 'http', port: 80 }] });
    expect(listing(state([empty, elsewhere], [slice('elsewhere', [{ name: 'http', port: 8080 }], [{ ip: '10.244.2.7', node: OTHER_NODE }])]))).toBe(GOLDEN_NOEPS);
  });

  it('externalTrafficPolicy Local on a LoadBalancer with an external IP', () => {
    const svc = service(
      'lb',
      { type: 'LoadBalancer', clusterIP: '10.96.0.60', externalTrafficPolicy: 'Local', externalIPs: ['198.51.100.5'], ports: [{ name: 'https', port: 443, nodePort: 30443 }] },
      { loadBalancer: { ingress: [{ ip: '198.51.100.6' }] } },
    );
    expect(listing(state([svc], [eps('lb', [{ name: 'https', port: 8443 }])]))).toBe(GOLDEN_LOCAL);
  });
});

// ---------------------------------------------------------------------------------------------
// Transactions

const web = (ip = '10.96.0.10', extra: Partial<NonNullable<Service['spec']>> = {}): Service =>
  service('web', { clusterIP: ip, ports: [{ name: 'http', port: 80 }], ...extra });
const webEps = (...ips: string[]): EndpointSlice => slice('web', [{ name: 'http', port: 8080 }], ips.map((ip) => ({ ip })));
const db = service('db', { clusterIP: '10.96.0.20', ports: [{ name: 'pg', port: 5432 }] });
const dbEps = slice('db', [{ name: 'pg', port: 5432 }], [{ ip: '10.244.1.30' }]);
const WEB = 'default/web/tcp/http';
const DB = 'default/db/tcp/pg';

const lines = (tx: NftTransaction): string[] => renderTransaction(tx).trim().split('\n');

describe('full sync', () => {
  it('rebuilds the main table, flushes each service table and re-adds everything, in one script', () => {
    const tx = buildRuleset(state([web(), db], [webEps('10.244.1.5'), dbEps]), { ...OPTS, serviceTables: 4 });
    expect(tx.full).toBe(true);
    expect(tx.touched).toEqual([DB, WEB]);
    const l = lines(tx);
    expect(l.slice(0, 4)).toEqual(['add table ip knode-proxy', 'delete table ip knode-proxy', 'add table ip knode-proxy', expect.stringMatching(/^add map ip knode-proxy no-endpoint-services /)]);
    for (let i = 0; i < 4; i++) {
      const t = `knode-proxy-svc-${i}`;
      const at = l.indexOf(`add table ip ${t}`);
      expect(l.slice(at, at + 3)).toEqual([`add table ip ${t}`, `flush table ip ${t}`, expect.stringMatching(new RegExp(`^add map ip ${t} service-ips `))]);
      expect(l).toContain(`add chain ip ${t} nat-prerouting { type nat hook prerouting priority -100 ; policy accept ; }`);
    }
    expect(l.filter((x) => x.startsWith('add table'))).toHaveLength(6); // the main one twice, around its delete
    const ipElements = l.filter((x) => x.startsWith('add element')).join('\n');
    expect(ipElements).toMatch(/^add element ip knode-proxy-svc-\d service-ips \{ 10\.96\.0\.20 \. tcp \. 5432 : goto service-\S+ \}$/m);
    expect(ipElements).toMatch(/^add element ip knode-proxy-svc-\d service-ips \{ 10\.96\.0\.10 \. tcp \. 80 : goto service-\S+ \}$/m);
    // in every table, every chain is created before any rule refers to it
    for (const t of ['knode-proxy', 'knode-proxy-svc-0', 'knode-proxy-svc-1', 'knode-proxy-svc-2', 'knode-proxy-svc-3']) {
      const own = l.filter((x) => x.split(' ')[3] === t);
      const firstRule = own.findIndex((x) => x.startsWith('add rule'));
      expect(own.slice(firstRule).some((x) => x.startsWith('add chain')), t).toBe(false);
    }
  });

  it('puts each service port in the service table its key hashes to, and no service object in the main table', () => {
    const tx = buildRuleset(state([web(), db], [webEps('10.244.1.5'), dbEps]), { ...OPTS, serviceTables: 4 });
    for (const [key, rules] of tx.ruleset.services) {
      expect(rules.table, key).toBe(`knode-proxy-svc-${serviceTableIndex(key, 4)}`);
      for (const c of rules.chains) expect(lines(tx), c.name).toContain(`add chain ip ${rules.table} ${c.name}`);
    }
    expect(lines(tx).filter((x) => / ip knode-proxy (service|endpoint|local|external)-[0-9a-f]{8}-/.test(x))).toEqual([]);
    expect(() => buildRuleset(state([web()], []), { ...OPTS, serviceTables: 0 })).toThrow(/service tables: want an integer from 1 to 256, got 0/);
  });

  it('deletes chains and sets the kernel holds but the state no longer wants, and service tables past the count', () => {
    const tx = buildRuleset(state([web()], [webEps('10.244.1.5')]), {
      ...OPTS,
      serviceTables: 1,
      existing: [
        { name: 'knode-proxy', chains: ['services', 'nat-prerouting', 'service-deadbeef-default/older/tcp/http'], sets: [] },
        { name: 'knode-proxy-svc-0', chains: ['services', 'service-deadbeef-default/old/tcp/http'], sets: ['affinity-deadbeef-default/old/tcp/http__10.244.1.9/80', 'service-ips'] },
        { name: 'knode-proxy-svc-1', chains: ['services'], sets: [] },
      ],
    });
    expect(lines(tx).filter((x) => x.startsWith('delete'))).toEqual([
      'delete table ip knode-proxy',
      'delete chain ip knode-proxy-svc-0 service-deadbeef-default/old/tcp/http',
      'delete set ip knode-proxy-svc-0 affinity-deadbeef-default/old/tcp/http__10.244.1.9/80',
      'delete table ip knode-proxy-svc-1',
    ]);
  });

  it('moves every service port when the number of service tables changes, deleting the tables left over', () => {
    const first = buildRuleset(state([web(), db], [webEps('10.244.1.5'), dbEps]), { ...OPTS, serviceTables: 4 });
    const again = buildRuleset(state([web(), db], [webEps('10.244.1.5'), dbEps]), { ...OPTS, serviceTables: 2, previous: first.ruleset }, new Set([WEB]));
    expect(again.full).toBe(true);
    expect(lines(again).filter((x) => x.startsWith('delete table'))).toEqual(['delete table ip knode-proxy', 'delete table ip knode-proxy-svc-2', 'delete table ip knode-proxy-svc-3']);
    for (const rules of again.ruleset.services.values()) expect(['knode-proxy-svc-0', 'knode-proxy-svc-1']).toContain(rules.table);
  });

  it('is a full sync whenever the options changed since the previous table', () => {
    const first = buildRuleset(state([web()], [webEps('10.244.1.5')]), OPTS);
    const again = buildRuleset(state([web()], [webEps('10.244.1.5')]), { ...OPTS, masqueradeAll: true, previous: first.ruleset }, new Set([WEB]));
    expect(again.full).toBe(true);
  });
});

describe('partial sync', () => {
  const before = buildRuleset(state([web(), db], [webEps('10.244.1.5', '10.244.1.6'), dbEps]), OPTS);
  const partial = (s: ProxyState, changed: string[]): NftTransaction => buildRuleset(s, { ...OPTS, previous: before.ruleset }, new Set(changed));

  it('adding a Service adds only its chains and its map element', () => {
    const api = service('api', { clusterIP: '10.96.0.30', ports: [{ name: 'grpc', port: 9000 }] });
    const tx = partial(state([web(), db, api], [webEps('10.244.1.5', '10.244.1.6'), dbEps, slice('api', [{ name: 'grpc', port: 9000 }], [{ ip: '10.244.1.40' }])]), ['default/api/tcp/grpc']);
    expect(tx.full).toBe(false);
    expect(normalize(renderTransaction(tx))).toBe(`
add table ip knode-proxy-svc-2
add chain ip knode-proxy-svc-2 service-H-default/api/tcp/grpc
add chain ip knode-proxy-svc-2 endpoint-H-default/api/tcp/grpc__10.244.1.40/9000
add rule ip knode-proxy-svc-2 service-H-default/api/tcp/grpc ip daddr 10.96.0.30 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
add rule ip knode-proxy-svc-2 service-H-default/api/tcp/grpc goto endpoint-H-default/api/tcp/grpc__10.244.1.40/9000
add rule ip knode-proxy-svc-2 endpoint-H-default/api/tcp/grpc__10.244.1.40/9000 ip saddr 10.244.1.40 jump mark-for-masquerade
add rule ip knode-proxy-svc-2 endpoint-H-default/api/tcp/grpc__10.244.1.40/9000 meta l4proto tcp dnat ip to 10.244.1.40:9000
add element ip knode-proxy-svc-2 service-ips { 10.96.0.30 . tcp . 9000 : goto service-H-default/api/tcp/grpc }
`);
    expect(tx.ruleset.services.get(DB)).toBe(before.ruleset.services.get(DB));
  });

  it('replacing one endpoint rewrites the service chain, adds one endpoint chain and deletes the other; elements stay', () => {
    const tx = partial(state([web(), db], [webEps('10.244.1.5', '10.244.1.7'), dbEps]), [WEB]);
    expect(normalize(renderTransaction(tx))).toBe(`
add table ip knode-proxy-svc-5
add chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.7/8080
flush chain ip knode-proxy-svc-5 service-H-default/web/tcp/http
flush chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.6/8080
add rule ip knode-proxy-svc-5 service-H-default/web/tcp/http ip daddr 10.96.0.10 ip saddr != 10.244.0.0/16 jump mark-for-masquerade
add rule ip knode-proxy-svc-5 service-H-default/web/tcp/http numgen random mod 2 0 goto endpoint-H-default/web/tcp/http__10.244.1.5/8080
add rule ip knode-proxy-svc-5 service-H-default/web/tcp/http goto endpoint-H-default/web/tcp/http__10.244.1.7/8080
add rule ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.7/8080 ip saddr 10.244.1.7 jump mark-for-masquerade
add rule ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.7/8080 meta l4proto tcp dnat ip to 10.244.1.7:8080
delete chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.6/8080
`);
  });

  it('losing every endpoint moves the cluster IP from service-ips to no-endpoint-services', () => {
    const tx = partial(state([web(), db], [dbEps]), [WEB]);
    const l = normalize(renderTransaction(tx)).trim().split('\n');
    expect(l.filter((x) => /element/.test(x))).toEqual([
      'delete element ip knode-proxy-svc-5 service-ips { 10.96.0.10 . tcp . 80 }',
      'add element ip knode-proxy no-endpoint-services { 10.96.0.10 . tcp . 80 : goto reject-chain }',
    ]);
    expect(l.filter((x) => x.startsWith('delete chain')).length).toBe(3);
  });

  it('deleting a Service removes its element and chains and nothing else', () => {
    const tx = partial(state([db], [dbEps]), [WEB]);
    expect(tx.ruleset.services.has(WEB)).toBe(false);
    expect(normalize(renderTransaction(tx))).toBe(`
add table ip knode-proxy-svc-5
flush chain ip knode-proxy-svc-5 service-H-default/web/tcp/http
flush chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.5/8080
flush chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.6/8080
delete element ip knode-proxy-svc-5 service-ips { 10.96.0.10 . tcp . 80 }
delete chain ip knode-proxy-svc-5 service-H-default/web/tcp/http
delete chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.5/8080
delete chain ip knode-proxy-svc-5 endpoint-H-default/web/tcp/http__10.244.1.6/8080
`);
  });

  it('a key that changed in nothing the table shows gives an empty transaction', () => {
    const tx = partial(state([web(), db], [webEps('10.244.1.5', '10.244.1.6'), dbEps]), [WEB, 'default/nothing/tcp/x']);
    expect(lines(tx)).toEqual(['add table ip knode-proxy']);
    expect(tx.touched).toEqual([WEB]);
  });
});

describe('convergence through the fake nft', () => {
  const steps: { name: string; state: ProxyState }[] = [
    { name: 'start', state: state([web(), db], [webEps('10.244.1.5', '10.244.1.6'), dbEps]) },
    { name: 'add an endpoint', state: state([web(), db], [webEps('10.244.1.5', '10.244.1.6', '10.244.1.7'), dbEps]) },
    { name: 'affinity on', state: state([web('10.96.0.10', { sessionAffinity: 'ClientIP' }), db], [webEps('10.244.1.5', '10.244.1.6', '10.244.1.7'), dbEps]) },
    {
      name: 'affinity timeout changed',
      state: state([web('10.96.0.10', { sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }), db], [webEps('10.244.1.5', '10.244.1.7'), dbEps]),
    },
    { name: 'affinity off, NodePort', state: state([web('10.96.0.10', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }), db], [webEps('10.244.1.5'), dbEps]) },
    { name: 'no endpoints', state: state([web('10.96.0.10', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }), db], [dbEps]) },
    { name: 'cluster IP changed, endpoints back', state: state([web('10.96.0.11'), db], [webEps('10.244.1.8'), dbEps]) },
    { name: 'web deleted', state: state([db], [dbEps]) },
  ];

  it('each partial sync applies, and leaves the table a fresh full sync would build', async () => {
    const nft = new FakeNftRunner();
    let prev = buildRuleset(steps[0]?.state ?? state([]), OPTS);
    await nft.apply(renderTransaction(prev));
    for (const step of steps.slice(1)) {
      const tx = buildRuleset(step.state, { ...OPTS, previous: prev.ruleset }, new Set([WEB, DB]));
      expect(tx.full, step.name).toBe(false);
      await nft.apply(renderTransaction(tx));
      const fresh = new FakeNftRunner();
      const full = buildRuleset(step.state, OPTS);
      await fresh.apply(renderTransaction(full));
      expect(nft.dump(), step.name).toBe(fresh.dump());
      expect(renderRuleset(tx.ruleset), step.name).toBe(renderRuleset(full.ruleset));
      prev = tx;
    }
  });

  it('a full sync over any previous table reaches the same table too (stale chains deleted)', async () => {
    for (const [i, from] of steps.entries()) {
      for (const to of steps.slice(i + 1)) {
        const nft = new FakeNftRunner();
        const first = buildRuleset(from.state, OPTS);
        await nft.apply(renderTransaction(first));
        await nft.apply(renderTransaction(buildRuleset(to.state, { ...OPTS, previous: first.ruleset })));
        const fresh = new FakeNftRunner();
        await fresh.apply(renderTransaction(buildRuleset(to.state, OPTS)));
        expect(nft.dump(), `${from.name} -> ${to.name}`).toBe(fresh.dump());
      }
    }
  });

  it('the tracer sees the same behaviour after partial syncs as after a full one', () => {
    const a = buildRuleset(steps[0]?.state ?? state([]), OPTS);
    const b = buildRuleset(steps[6]?.state ?? state([]), { ...OPTS, previous: a.ruleset }, new Set([WEB]));
    const flow = { src: '203.0.113.7', proto: 'tcp' as const, dst: '10.96.0.11', dport: 80, from: 'external' as const };
    expect(new PacketTracer(b.ruleset).trace(flow)).toMatchObject({ verdict: 'dnat', endpoint: { ip: '10.244.1.8', port: 8080 }, masquerade: true });
    expect(new PacketTracer(b.ruleset).trace({ ...flow, dst: '10.96.0.10' }).verdict).toBe('accept');
  });
});
