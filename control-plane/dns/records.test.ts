import { describe, expect, it } from 'vitest';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Service } from '../../api/core/service-types.js';
import { RCODE, TYPE } from './message.js';
import { ClusterDnsData } from './records.js';
import type { Answer } from './records.js';

const svc = (ns: string, name: string, spec: NonNullable<Service['spec']>): Service => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const slice = (ns: string, service: string, endpoints: EndpointSlice['endpoints'], ports: EndpointSlice['ports'] = []): EndpointSlice => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${service}-x`, namespace: ns, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  endpoints,
  ports,
});

const data = ClusterDnsData.build(
  'cluster.local',
  [
    svc('default', 'kubernetes', { clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
    svc('shop', 'web', { clusterIP: '10.96.5.5', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'dns', port: 53, protocol: 'UDP' }] }),
    svc('shop', 'db', { clusterIP: 'None', clusterIPs: ['None'], ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
    svc('shop', 'ext', { type: 'ExternalName', externalName: 'db.example.com.' }),
    svc('shop', 'empty', { clusterIP: 'None' }),
  ],
  [
    slice('shop', 'db', [
      { addresses: ['10.244.1.7'], hostname: 'db-0', conditions: { ready: true } },
      { addresses: ['10.244.2.9'], conditions: { ready: true } },
      { addresses: ['10.244.2.10'], conditions: { ready: false } },
    ], [{ name: 'pg', port: 15432, protocol: 'TCP' }]),
    slice('shop', 'web', [{ addresses: ['10.244.1.3'] }]),
  ],
);

function ask(name: string, type: number = TYPE.A): Extract<Answer, { kind: 'answer' }> {
  const a = data.answer({ name, type, class: 1 });
  if (a.kind !== 'answer') throw new Error(`${name} was forwarded`);
  return a;
}
const values = (a: Extract<Answer, { kind: 'answer' }>): string[] =>
  a.answers.map((r) => {
    const d = r.data;
    switch (d.type) {
      case 'A':
        return `${r.name} A ${d.address}`;
      case 'CNAME':
      case 'PTR':
        return `${r.name} ${d.type} ${d.target}`;
      case 'SRV':
        return `${r.name} SRV ${d.priority} ${d.weight} ${d.port} ${d.target}`;
      case 'SOA':
        return `${r.name} SOA`;
    }
  });

describe('cluster DNS records', () => {
  it('a Service name is its ClusterIP, whatever the case asked', () => {
    expect(values(ask('web.shop.svc.cluster.local'))).toEqual(['web.shop.svc.cluster.local A 10.96.5.5']);
    expect(values(ask('Web.Shop.svc.Cluster.Local.'))).toEqual(['Web.Shop.svc.Cluster.Local A 10.96.5.5']);
    expect(ask('web.shop.svc.cluster.local').answers[0]!.ttl).toBe(30);
  });

  it('a headless Service name is its ready endpoints; each endpoint has its own name', () => {
    expect(values(ask('db.shop.svc.cluster.local'))).toEqual(['db.shop.svc.cluster.local A 10.244.1.7', 'db.shop.svc.cluster.local A 10.244.2.9']);
    expect(values(ask('db-0.db.shop.svc.cluster.local'))).toEqual(['db-0.db.shop.svc.cluster.local A 10.244.1.7']);
    expect(values(ask('10-244-2-9.db.shop.svc.cluster.local'))).toEqual(['10-244-2-9.db.shop.svc.cluster.local A 10.244.2.9']);
    expect(ask('10-244-2-10.db.shop.svc.cluster.local').rcode).toBe(RCODE.NXDOMAIN); // not ready
    expect(ask('db-0.web.shop.svc.cluster.local').rcode).toBe(RCODE.NXDOMAIN); // not headless
  });

  it('SRV: per named port, to the Service or to each endpoint, with the A records as additional', () => {
    const a = ask('_http._tcp.web.shop.svc.cluster.local', TYPE.SRV);
    expect(values(a)).toEqual(['_http._tcp.web.shop.svc.cluster.local SRV 0 100 80 web.shop.svc.cluster.local']);
    expect(a.additional.map((r) => r.data)).toEqual([{ type: 'A', address: '10.96.5.5' }]);
    const h = ask('_pg._tcp.db.shop.svc.cluster.local', TYPE.SRV);
    expect(values(h)).toEqual([
      '_pg._tcp.db.shop.svc.cluster.local SRV 0 50 15432 db-0.db.shop.svc.cluster.local',
      '_pg._tcp.db.shop.svc.cluster.local SRV 0 50 15432 10-244-2-9.db.shop.svc.cluster.local',
    ]);
    expect(ask('_http._udp.web.shop.svc.cluster.local', TYPE.SRV).rcode).toBe(RCODE.NXDOMAIN);
    expect(values(ask('web.shop.svc.cluster.local', TYPE.SRV))).toHaveLength(2);
  });

  it('ExternalName is a CNAME; pod names are their dashed address', () => {
    expect(values(ask('ext.shop.svc.cluster.local'))).toEqual(['ext.shop.svc.cluster.local CNAME db.example.com']);
    expect(values(ask('10-244-1-3.shop.pod.cluster.local'))).toEqual(['10-244-1-3.shop.pod.cluster.local A 10.244.1.3']);
    expect(ask('10-244-1-300.shop.pod.cluster.local').rcode).toBe(RCODE.NXDOMAIN);
  });

  it('reverse names of ClusterIPs and named headless endpoints; others are forwarded', () => {
    expect(values(ask('5.5.96.10.in-addr.arpa', TYPE.PTR))).toEqual(['5.5.96.10.in-addr.arpa PTR web.shop.svc.cluster.local']);
    expect(values(ask('7.1.244.10.in-addr.arpa', TYPE.PTR))).toEqual(['7.1.244.10.in-addr.arpa PTR db-0.db.shop.svc.cluster.local']);
    expect(data.answer({ name: '9.2.244.10.in-addr.arpa', type: TYPE.PTR, class: 1 })).toEqual({ kind: 'forward' });
    expect(data.answer({ name: 'example.com', type: TYPE.A, class: 1 })).toEqual({ kind: 'forward' });
    expect(data.answer({ name: 'notcluster.local', type: TYPE.A, class: 1 })).toEqual({ kind: 'forward' });
  });

  it('NXDOMAIN for names that do not exist, NODATA for names without that type, both with the SOA', () => {
    for (const name of ['nope.shop.svc.cluster.local', 'web.nons.svc.cluster.local', 'a.b.c.cluster.local', 'x.web.shop.svc.cluster.local']) {
      const a = ask(name);
      expect(a.rcode, name).toBe(RCODE.NXDOMAIN);
      expect(a.authority.map((r) => r.data.type)).toEqual(['SOA']);
    }
    for (const [name, type] of [['web.shop.svc.cluster.local', TYPE.AAAA], ['shop.svc.cluster.local', TYPE.A], ['svc.cluster.local', TYPE.A], ['empty.shop.svc.cluster.local', TYPE.A]] as const) {
      const a = ask(name, type);
      expect(a.rcode, name).toBe(RCODE.NOERROR);
      expect(a.answers, name).toEqual([]);
      expect(a.authority.map((r) => r.data.type)).toEqual(['SOA']);
    }
    expect(values(ask('cluster.local', TYPE.SOA))).toEqual(['cluster.local SOA']);
  });
});
