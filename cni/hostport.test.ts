import { describe, expect, it } from 'vitest';
import { buildHostportScript, computeHostportRules, hostportFingerprint, needsRouteLocalnet } from './hostport.js';
import type { AttachmentRecord } from './ipam/store.js';
import type { PortMapping } from './types.js';

function rec(id: string, ip: string, createdAt: number, portMappings: PortMapping[]): AttachmentRecord {
  return { containerId: id, ifname: 'eth0', ip, podCidr: '10.244.1.0/24', hostVeth: 'v', netns: '/n', portMappings, createdAt };
}

// the conformance suite's HostPort scenario: one port, three pods
const conformance = [
  rec('tcp-lo', '10.244.1.2', 1, [{ hostPort: 54323, containerPort: 8083, protocol: 'tcp', hostIP: '127.0.0.1' }]),
  rec('tcp-node', '10.244.1.3', 2, [{ hostPort: 54323, containerPort: 8083, protocol: 'tcp', hostIP: '172.31.250.11' }]),
  rec('udp-node', '10.244.1.4', 3, [{ hostPort: 54323, containerPort: 8081, protocol: 'udp', hostIP: '172.31.250.11' }]),
];

describe('computeHostportRules', () => {
  it('keeps TCP and UDP on the same port and different host IPs apart', () => {
    const r = computeHostportRules(conformance);
    expect([...r.hostIp]).toEqual([
      ['127.0.0.1 . tcp . 54323', '10.244.1.2 . 8083'],
      ['172.31.250.11 . tcp . 54323', '10.244.1.3 . 8083'],
      ['172.31.250.11 . udp . 54323', '10.244.1.4 . 8081'],
    ]);
    expect(r.anyIp.size).toBe(0);
    expect(r.hairpin).toEqual(['10.244.1.2', '10.244.1.3', '10.244.1.4']);
  });
  it('gives a contested port to the newest claim, whatever the listing order', () => {
    const old = rec('old', '10.244.1.9', 1, [{ hostPort: 80, containerPort: 80, protocol: 'tcp' }]);
    const young = rec('new', '10.244.1.8', 2, [{ hostPort: 80, containerPort: 8080, protocol: 'tcp' }]);
    expect([...computeHostportRules([young, old]).anyIp]).toEqual([['tcp . 80', '10.244.1.8 . 8080']]);
  });
  it('needs route_localnet for 127.0.0.1 and any-address mappings only', () => {
    expect(needsRouteLocalnet(computeHostportRules(conformance))).toBe(true);
    expect(needsRouteLocalnet(computeHostportRules(conformance.slice(1)))).toBe(false);
  });
});

describe('buildHostportScript', () => {
  it('replaces the whole table atomically (golden)', () => {
    expect(buildHostportScript(computeHostportRules(conformance))).toBe(`add table inet knode-hostport
delete table inet knode-hostport
table inet knode-hostport {
\tmap hostip_dnat {
\t\ttype ipv4_addr . inet_proto . inet_service : ipv4_addr . inet_service
\t\telements = { 127.0.0.1 . tcp . 54323 : 10.244.1.2 . 8083,
\t\t\t     172.31.250.11 . tcp . 54323 : 10.244.1.3 . 8083,
\t\t\t     172.31.250.11 . udp . 54323 : 10.244.1.4 . 8081 }
\t}
\tmap anyip_dnat {
\t\ttype inet_proto . inet_service : ipv4_addr . inet_service
\t}
\tset hairpin {
\t\ttype ipv4_addr . ipv4_addr
\t\telements = { 10.244.1.2 . 10.244.1.2,
\t\t\t     10.244.1.3 . 10.244.1.3,
\t\t\t     10.244.1.4 . 10.244.1.4 }
\t}
\tchain hostports {
\t\tdnat ip to ip daddr . meta l4proto . th dport map @hostip_dnat
\t\tfib daddr type local dnat ip to meta l4proto . th dport map @anyip_dnat
\t}
\tchain prerouting {
\t\ttype nat hook prerouting priority dstnat; policy accept;
\t\tjump hostports
\t}
\tchain output {
\t\ttype nat hook output priority -100; policy accept;
\t\tfib daddr type local jump hostports
\t}
\tchain postrouting {
\t\ttype nat hook postrouting priority srcnat; policy accept;
\t\tct status dnat ip saddr 127.0.0.0/8 masquerade
\t\tct status dnat ip saddr . ip daddr @hairpin masquerade
\t}
}
`);
  });
  it('removes the table when no pod has host ports', () => {
    expect(buildHostportScript(computeHostportRules([]))).toBe('add table inet knode-hostport\ndelete table inet knode-hostport\n');
  });
});

describe('hostportFingerprint', () => {
  it('ignores listing order and sees any change of mapping', () => {
    expect(hostportFingerprint(conformance)).toBe(hostportFingerprint([...conformance].reverse()));
    const changed = [...conformance.slice(0, 2), rec('udp-node', '10.244.1.4', 3, [{ hostPort: 54324, containerPort: 8081, protocol: 'udp' }])];
    expect(hostportFingerprint(changed)).not.toBe(hostportFingerprint(conformance));
  });
});
