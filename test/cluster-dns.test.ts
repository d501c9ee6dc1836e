/**
 * The cluster DNS server of `knode server --dns-port N`, asked by a real resolver (Node's c-ares)
 * and over raw TCP: Service, headless, SRV, PTR, ExternalName and pod names follow the objects made
 * with the real kubectl; the kube-system/kube-dns Service is published on 10.96.0.10 pointing at it.
 */
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import { connect, createServer } from 'node:net';
import type { Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpFrameReader, decodeResponse, encodeQuery, encodeResponse, frameTcp, parseQuery } from '../control-plane/dns/message.js';
import type { Query } from '../control-plane/dns/message.js';
import { freePort, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let port: number;
let resolver: Resolver;

/**
 * A stand-in for the host's resolver (the upstream names outside the zone go to): www.example.com
 * is 93.184.216.34; big.example.com answers truncated over UDP and 1.2.3.4 over TCP.
 */
let upstreamUdp: Socket;
let upstreamTcp: Server;
let upstreamPort: number;
function upstreamAnswer(q: Query, proto: 'udp' | 'tcp'): Buffer {
  const name = q.questions[0]?.name ?? '';
  const base = { id: q.id, opcode: 0, rd: q.rd, aa: true, ra: true, questions: q.questions, authority: [], additional: [] };
  if (name === 'www.example.com') return encodeResponse({ ...base, rcode: 0, answers: [{ name, ttl: 60, data: { type: 'A', address: '93.184.216.34' } }] });
  if (name === 'big.example.com') {
    const full = encodeResponse({ ...base, rcode: 0, answers: [{ name, ttl: 60, data: { type: 'A', address: '1.2.3.4' } }] });
    // one byte short of the whole answer: the encoder sends header + question with TC set
    return proto === 'tcp' ? full : encodeResponse({ ...base, rcode: 0, answers: [{ name, ttl: 60, data: { type: 'A', address: '1.2.3.4' } }] }, full.length - 1);
  }
  return encodeResponse({ ...base, rcode: 3, answers: [] });
}

beforeAll(async () => {
  upstreamPort = await freePort();
  upstreamUdp = createSocket('udp4');
  upstreamUdp.on('message', (m, from) => upstreamUdp.send(upstreamAnswer(parseQuery(m), 'udp'), from.port, from.address));
  await new Promise<void>((r) => upstreamUdp.bind(upstreamPort, '127.0.0.1', () => r()));
  upstreamTcp = createServer((conn) => {
    const reader = new TcpFrameReader();
    conn.on('data', (d: Buffer) => {
      for (const m of reader.push(d)) conn.write(frameTcp(upstreamAnswer(parseQuery(m), 'tcp')));
    });
    conn.on('error', () => conn.destroy());
  });
  await new Promise<void>((r) => upstreamTcp.listen(upstreamPort, '127.0.0.1', () => r()));
  port = await freePort();
  // The server itself is listed too: it must drop it (forwarding to itself would loop). The broadcast
  // address first: a UDP connect to it fails (EACCES), as one to an unreachable upstream does; the
  // server must go on to the next upstream (this used to throw out of a callback and end the process).
  server = await startServer(['--dns-port', String(port), '--controllers', 'none', '--dns-upstreams', `255.255.255.255,127.0.0.1:${port},127.0.0.1:${upstreamPort}`]);
  resolver = new Resolver({ timeout: 2_000, tries: 2 });
  resolver.setServers([`127.0.0.1:${port}`]);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  upstreamUdp?.close();
  upstreamTcp?.close();
});

const apply = (yaml: string): Promise<string> => server.kubectlOk(['apply', '-f', '-'], { input: yaml });

/** The DNS error code c-ares reports (ENOTFOUND for NXDOMAIN, ENODATA for NODATA), or 'ok'. */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
}

describe('cluster DNS', () => {
  it('publishes kube-system/kube-dns on the tenth service address, pointing at the server', async () => {
    const svc = JSON.parse(await server.kubectlOk(['-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'json'])) as { spec: { clusterIP: string; ports: Array<{ name: string; port: number; protocol: string; targetPort: number }> } };
    expect(svc.spec.clusterIP).toBe('10.96.0.10');
    expect(svc.spec.ports.map((p) => `${p.name} ${p.port}/${p.protocol} -> ${p.targetPort}`)).toEqual([`dns 53/UDP -> ${port}`, `dns-tcp 53/TCP -> ${port}`]);
    const slice = await server.kubectlOk(['-n', 'kube-system', 'get', 'endpointslice', 'kube-dns', '-o', 'jsonpath={.endpoints[0].addresses[0]} {.ports[0].port}']);
    expect(slice).toBe(`127.0.0.1 ${port}`);
  });

  it('answers Service names from the objects, and follows changes', async () => {
    await waitFor('kubernetes.default to resolve', async () => (await resolver.resolve4('kubernetes.default.svc.cluster.local')).join(','));
    expect(await resolver.resolve4('kubernetes.default.svc.cluster.local')).toEqual(['10.96.0.1']);
    expect(await resolver.resolve4('kube-dns.kube-system.svc.cluster.local')).toEqual(['10.96.0.10']);
    await server.kubectlOk(['create', 'namespace', 'dns1']);
    await apply(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: dns1}
spec:
  clusterIP: 10.96.77.7
  ports: [{name: http, port: 80, protocol: TCP}]
`);
    await waitFor('web.dns1 to resolve', async () => ((await outcome(resolver.resolve4('web.dns1.svc.cluster.local'))) === 'ok' ? true : undefined));
    expect(await resolver.resolve4('web.dns1.svc.cluster.local')).toEqual(['10.96.77.7']);
    expect(await resolver.resolveSrv('_http._tcp.web.dns1.svc.cluster.local')).toEqual([{ name: 'web.dns1.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
    expect(await resolver.reverse('10.96.77.7')).toEqual(['web.dns1.svc.cluster.local']);
    await server.kubectlOk(['-n', 'dns1', 'delete', 'service', 'web']);
    await waitFor('web.dns1 to be gone', async () => ((await outcome(resolver.resolve4('web.dns1.svc.cluster.local'))) === 'ENOTFOUND' ? true : undefined));
  });

  it('headless Services answer their ready endpoints; ExternalName a CNAME; pods their dashed address', async () => {
    await server.kubectlOk(['create', 'namespace', 'dns2']);
    await apply(`apiVersion: v1
kind: Service
metadata: {name: db, namespace: dns2}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432, protocol: TCP}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: db-1
  namespace: dns2
  labels: {kubernetes.io/service-name: db}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- {addresses: [10.244.1.7], hostname: db-0, conditions: {ready: true}}
- {addresses: [10.244.2.9], conditions: {ready: true}}
- {addresses: [10.244.2.10], conditions: {ready: false}}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: dns2}
spec: {type: ExternalName, externalName: db.example.com}
`);
    await waitFor('db.dns2 to resolve to both ready endpoints', async () => ((await resolver.resolve4('db.dns2.svc.cluster.local').catch(() => [])).length === 2 ? true : undefined));
    expect((await resolver.resolve4('db.dns2.svc.cluster.local')).sort()).toEqual(['10.244.1.7', '10.244.2.9']);
    expect(await resolver.resolve4('db-0.db.dns2.svc.cluster.local')).toEqual(['10.244.1.7']);
    expect((await resolver.resolveSrv('_pg._tcp.db.dns2.svc.cluster.local')).map((r) => r.name).sort()).toEqual(['10-244-2-9.db.dns2.svc.cluster.local', 'db-0.db.dns2.svc.cluster.local']);
    expect(await resolver.reverse('10.244.1.7')).toEqual(['db-0.db.dns2.svc.cluster.local']);
    // ext is the last object of the manifest: the server may see it a moment after the slice above
    await waitFor('ext.dns2 to resolve', async () => ((await resolver.resolveCname('ext.dns2.svc.cluster.local').catch(() => [])).length === 1 ? true : undefined));
    expect(await resolver.resolveCname('ext.dns2.svc.cluster.local')).toEqual(['db.example.com']);
    expect(await resolver.resolve4('10-244-3-4.dns2.pod.cluster.local')).toEqual(['10.244.3.4']);
    expect(await outcome(resolver.resolve4('nothing.dns2.svc.cluster.local'))).toBe('ENOTFOUND');
    expect(await outcome(resolver.resolve6('db-0.db.dns2.svc.cluster.local'))).toBe('ENODATA');
  });

  it('answers over TCP, several questions on one connection', async () => {
    const answers = await new Promise<Buffer[]>((resolve, reject) => {
      const sock = connect(port, '127.0.0.1');
      const got: Buffer[] = [];
      let buf = Buffer.alloc(0);
      sock.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          got.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        if (got.length === 2) {
          sock.end();
          resolve(got);
        }
      });
      sock.on('error', reject);
      const framed = (q: Buffer): Buffer => Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q]);
      sock.write(Buffer.concat([framed(encodeQuery(7, 'kubernetes.default.svc.cluster.local')), framed(encodeQuery(8, 'nope.default.svc.cluster.local'))]));
    });
    const [a, b] = answers.map((m) => decodeResponse(m));
    expect(a?.id).toBe(7);
    expect(a?.answers.map((r) => r.data)).toEqual([{ type: 'A', address: '10.96.0.1' }]);
    expect(b?.id).toBe(8);
    expect(b?.rcode).toBe(3);
    expect(b?.authority.map((r) => r.data.type)).toEqual(['SOA']);
  });

  it('forwards names outside the zone (not to itself), over TCP when the client came over TCP and UDP was truncated', async () => {
    expect(await resolver.resolve4('www.example.com')).toEqual(['93.184.216.34']);
    expect(await outcome(resolver.resolve4('nothing.example.com'))).toBe('ENOTFOUND');
    // c-ares gets the truncated UDP answer relayed, asks again over TCP, and the server asks upstream over TCP
    expect(await resolver.resolve4('big.example.com')).toEqual(['1.2.3.4']);
  });
});
