/**
 * The cluster DNS server `knode server` runs (upstream: the CoreDNS addon behind the `kube-dns`
 * Service). It listens on UDP and TCP, answers names in the cluster zone from Services and
 * EndpointSlices (records.ts) watched through the apiserver like any client, and relays every other
 * question to the control-plane host's own resolvers (its resolv.conf), as CoreDNS's `forward .
 * /etc/resolv.conf` does. Pods reach it through the `kube-system/kube-dns` Service (bootstrap in
 * cluster-dns.ts), whose address the kubelet writes into their resolv.conf.
 *
 * UDP answers fit 512 bytes, or the client's EDNS0 size up to 4,096; a bigger answer goes out
 * truncated (TC) and the client asks again over TCP, where one connection may carry several queries
 * (closed after 10 s idle). Until the first list of both kinds has arrived, questions in the zone get
 * SERVFAIL (resolvers try again) rather than a wrong NXDOMAIN.
 *
 * Cost: the answer tables are rebuilt on the first question after a change (O(Services +
 * endpoints)); a question is then a few map look-ups. A forwarded question costs one UDP socket for
 * up to 2 s per upstream tried.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { Server, Socket as TcpSocket } from 'node:net';
import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Service } from '../../api/core/service-types.js';
import type { Clock } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { resources } from '../../lib/client/resource.js';
import { SharedInformerFactory } from '../../lib/client/shared-informer-factory.js';
import type { Logger } from '../../lib/log.js';
import { CLASS_IN, DnsFormatError, RCODE, TcpFrameReader, encodeResponse, frameTcp, parseQuery } from './message.js';
import type { Query, Response } from './message.js';
import { ClusterDnsData } from './records.js';

export interface ClusterDnsOptions {
  readonly host: string;
  /** 53 upstream; 0 picks a free port (tests). */
  readonly port: number;
  readonly zone: string;
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  /** Resolvers for names outside the zone; default: the nameservers of /etc/resolv.conf. */
  readonly upstreams?: readonly string[];
  readonly metrics?: Registry;
}

export interface RunningClusterDns {
  readonly host: string;
  readonly port: number;
  stop(): Promise<void>;
}

const FORWARD_TIMEOUT_MS = 2_000;
const TCP_IDLE_MS = 10_000;
const MAX_UDP = 4_096;

/** The nameserver addresses of a resolv.conf text; pure. */
export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'nameserver' && value !== undefined) out.push(value);
  }
  return out;
}

/** What answers a message: the response bytes, or undefined when nothing may be answered (garbage, or a response). */
type Handler = (msg: Buffer, maxBytes: number) => Promise<Buffer | undefined>;

export async function startClusterDns(opts: ClusterDnsOptions): Promise<RunningClusterDns> {
  const log = opts.log;
  const zone = opts.zone.toLowerCase().replace(/\.$/, '');
  const upstreams = opts.upstreams ?? resolvConfNameservers(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  const requests = new Counter({
    name: 'knode_dns_requests_total',
    help: 'DNS questions answered by the cluster DNS server, by transport and response code',
    labelNames: ['proto', 'rcode'] as const,
    registers: opts.metrics ? [opts.metrics] : [],
  });

  // ---- data: Services and EndpointSlices, rebuilt into answer tables on the first question after a change
  const abort = new AbortController();
  const factory = new SharedInformerFactory(opts.client, { clock: opts.clock, log: log.child({ component: 'dns-informers' }) });
  const services = factory.informerFor<Service>(resources.services);
  const slices = factory.informerFor<EndpointSlice>(resources.endpointSlices);
  let data: ClusterDnsData | undefined;
  const changed = (): void => {
    data = undefined;
  };
  for (const inf of [services, slices] as const) inf.addEventHandler({ onAdd: changed, onUpdate: changed, onDelete: changed });
  const current = (): ClusterDnsData | undefined => {
    if (!services.hasSynced() || !slices.hasSynced()) return undefined;
    data ??= ClusterDnsData.build(zone, services.list(), slices.list());
    return data;
  };

  const respond = (q: Query, rcode: number, parts: Partial<Pick<Response, 'answers' | 'authority' | 'additional'>> = {}): Response => ({
    id: q.id,
    opcode: q.opcode,
    rd: q.rd,
    aa: rcode !== RCODE.SERVFAIL && rcode !== RCODE.REFUSED && rcode !== RCODE.NOTIMP && rcode !== RCODE.FORMERR,
    ra: upstreams.length > 0,
    rcode,
    questions: q.questions,
    answers: parts.answers ?? [],
    authority: parts.authority ?? [],
    additional: parts.additional ?? [],
    ...(q.ednsUdpSize !== undefined ? { ednsUdpSize: MAX_UDP } : {}),
  });

  const handle = async (msg: Buffer, maxBytes: number, proto: 'udp' | 'tcp'): Promise<Buffer | undefined> => {
    let q: Query;
    try {
      q = parseQuery(msg);
    } catch (err) {
      if (!(err instanceof DnsFormatError) || msg.length < 12) return undefined;
      // Garbage after a readable header: FORMERR with the id, as resolvers expect.
      requests.inc({ proto, rcode: 'FORMERR' });
      return encodeResponse({ id: msg.readUInt16BE(0), opcode: 0, rd: false, aa: false, ra: false, rcode: RCODE.FORMERR, questions: [], answers: [], authority: [], additional: [] });
    }
    if (q.qr) return undefined;
    const limit = proto === 'udp' ? Math.min(MAX_UDP, Math.max(512, q.ednsUdpSize ?? 512)) : maxBytes;
    const send = (r: Response): Buffer => {
      requests.inc({ proto, rcode: Object.entries(RCODE).find(([, v]) => v === r.rcode)?.[0] ?? String(r.rcode) });
      return encodeResponse(r, limit);
    };
    if (q.opcode !== 0) return send(respond(q, RCODE.NOTIMP));
    const question = q.questions[0];
    if (q.questions.length !== 1 || question === undefined) return send(respond(q, RCODE.FORMERR));
    if (question.class !== CLASS_IN) return send(respond(q, RCODE.REFUSED));
    const d = current();
    const answer = d?.answer(question) ?? (question.name.toLowerCase().endsWith(zone) ? undefined : { kind: 'forward' as const });
    if (answer === undefined) return send(respond(q, RCODE.SERVFAIL)); // not synced yet
    if (answer.kind === 'answer') return send(respond(q, answer.rcode, answer));
    const relayed = await forward(msg, upstreams);
    if (relayed !== undefined) {
      requests.inc({ proto, rcode: 'forwarded' });
      return relayed; // the upstream saw the client's own EDNS size, so its answer already fits
    }
    return send(respond(q, RCODE.SERVFAIL));
  };

  // ---- UDP
  const udp: Socket = createSocket({ type: opts.host.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(opts.port, opts.host, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const port = udp.address().port;
  udp.on('message', (msg: Buffer, from: RemoteInfo) => {
    void handle(msg, MAX_UDP, 'udp').then(
      (out) => {
        if (out !== undefined) udp.send(out, from.port, from.address);
      },
      (err: unknown) => log.warn({ err: String(err) }, 'dns: answering over UDP failed'),
    );
  });
  udp.on('error', (err) => log.warn({ err: String(err) }, 'dns: UDP socket error'));

  // ---- TCP, same port
  const open = new Set<TcpSocket>();
  const tcp: Server = createServer((conn) => {
    open.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    const reader = new TcpFrameReader();
    conn.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch {
        conn.destroy();
        return;
      }
      for (const m of messages) {
        void handle(m, 65_535, 'tcp').then(
          (out) => {
            if (out !== undefined && !conn.destroyed) conn.write(frameTcp(out));
          },
          (err: unknown) => log.warn({ err: String(err) }, 'dns: answering over TCP failed'),
        );
      }
    });
    conn.on('error', () => conn.destroy());
    conn.on('close', () => open.delete(conn));
  });
  try {
    await new Promise<void>((resolve, reject) => {
      tcp.once('error', reject);
      tcp.listen(port, opts.host, () => {
        tcp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    udp.close();
    throw err;
  }

  factory.start(abort.signal);
  log.info({ host: opts.host, port, zone, upstreams }, 'cluster DNS serving');
  return {
    host: opts.host,
    port,
    stop: async () => {
      abort.abort();
      for (const c of open) c.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      await factory.stopped();
      opts.metrics?.removeSingleMetric('knode_dns_requests_total');
    },
  };
}

/** Sends the question as received to each upstream in turn (UDP); the first answer, or undefined. */
async function forward(msg: Buffer, upstreams: readonly string[]): Promise<Buffer | undefined> {
  for (const server of upstreams) {
    const reply = await new Promise<Buffer | undefined>((resolve) => {
      const sock = createSocket(server.includes(':') ? 'udp6' : 'udp4');
      const done = (v: Buffer | undefined): void => {
        clearTimeout(timer);
        sock.close();
        resolve(v);
      };
      const timer = setTimeout(() => done(undefined), FORWARD_TIMEOUT_MS);
      sock.on('error', () => done(undefined));
      sock.on('message', (reply: Buffer) => {
        if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
      });
      sock.send(msg, 53, server, (err) => {
        if (err) done(undefined);
      });
    });
    if (reply !== undefined) return reply;
  }
  return undefined;
}
