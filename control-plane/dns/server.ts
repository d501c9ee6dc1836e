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
 * Limits, so no client can exhaust the control plane's process: at most 256 forwarded questions in
 * flight (more get SERVFAIL), 256 TCP connections, 32 unanswered questions per connection (reading
 * pauses, as it does while the client does not read its answers). Forwarding never goes to our own
 * address or the kube-dns Service address (a resolv.conf naming either would loop), uses a connected
 * socket (answers from elsewhere are ignored), and goes over TCP when the client came over TCP and
 * the upstream's UDP answer was truncated. A datagram from port 0 is dropped (it cannot be answered).
 *
 * Cost: the answer tables are rebuilt on the first question after a change (O(Services +
 * endpoints)); a question is then a few map look-ups. A forwarded question costs one socket for up
 * to 2 s per upstream tried.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
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
  /** Resolvers for names outside the zone (`ip` or `ip:port`); default: the nameservers of /etc/resolv.conf. */
  readonly upstreams?: readonly string[];
  /** Addresses that are this server (the kube-dns Service IP): never used as upstreams. */
  readonly selfAddresses?: readonly string[];
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
const MAX_FORWARDS = 256;
const MAX_TCP_CONNECTIONS = 256;
const MAX_TCP_PENDING = 32;
/** Response code -> its name, for the metric's label. */
const RCODE_NAMES = new Map<number, string>(Object.entries(RCODE).map(([name, code]) => [code, name]));

/** The nameserver addresses of a resolv.conf text; pure. */
export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** `10.0.0.2`, `10.0.0.2:5353`, `fd00::2` or `[fd00::2]:5353`; pure. */
export function parseUpstream(text: string): Upstream {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2] !== undefined ? Number(bracketed[2]) : 53 };
  const v4 = /^([\d.]+)(?::(\d+))?$/.exec(text);
  if (v4) return { host: v4[1]!, port: v4[2] !== undefined ? Number(v4[2]) : 53 };
  return { host: text, port: 53 };
}

export function resolvConfNameservers(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const [key, value] = line.trim().split(/\s+/);
    if (key === 'nameserver' && value !== undefined) out.push(value);
  }
  return out;
}

export async function startClusterDns(opts: ClusterDnsOptions): Promise<RunningClusterDns> {
  const log = opts.log;
  const zone = opts.zone.toLowerCase().replace(/\.$/, '');
  const self = new Set([opts.host, ...(opts.selfAddresses ?? [])]);
  const configured = opts.upstreams ?? resolvConfNameservers(await readFile('/etc/resolv.conf', 'utf8').catch(() => ''));
  const isSelf = (u: Upstream): boolean => self.has(u.host) && (u.port === 53 || u.port === opts.port);
  const parsed = configured.map(parseUpstream);
  const upstreams = parsed.filter((u) => !isSelf(u));
  if (upstreams.length < parsed.length) log.warn({ dropped: parsed.filter(isSelf).map((u) => `${u.host}:${u.port}`) }, 'dns: an upstream is this server; not forwarding there (it would loop)');
  let stopped = false;
  const forwarding = new Set<() => void>(); // aborts of forwards in flight
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
      let out: Buffer;
      try {
        out = encodeResponse(r, limit);
      } catch (err) {
        // data that cannot be encoded (an ExternalName label over 63 bytes, say): SERVFAIL, not silence
        log.warn({ err: String(err), name: q.questions[0]?.name }, 'dns: answer not encodable');
        r = { ...r, rcode: RCODE.SERVFAIL, answers: [], authority: [], additional: [] };
        out = encodeResponse(r, limit);
      }
      requests.inc({ proto, rcode: RCODE_NAMES.get(r.rcode) ?? String(r.rcode) });
      return out;
    };
    if (q.opcode !== 0) return send(respond(q, RCODE.NOTIMP));
    const question = q.questions[0];
    if (q.questions.length !== 1 || question === undefined) return send(respond(q, RCODE.FORMERR));
    if (question.class !== CLASS_IN) return send(respond(q, RCODE.REFUSED));
    const d = current();
    const lower = question.name.toLowerCase().replace(/\.$/, '');
    const ours = lower === zone || lower.endsWith(`.${zone}`) || lower.endsWith('.in-addr.arpa');
    const answer = d?.answer(question) ?? (ours ? undefined : { kind: 'forward' as const });
    if (answer === undefined) return send(respond(q, RCODE.SERVFAIL)); // not synced yet: the client retries
    if (answer.kind === 'answer') return send(respond(q, answer.rcode, answer));
    if (forwarding.size >= MAX_FORWARDS) return send(respond(q, RCODE.SERVFAIL));
    const relayed = await forward(msg, upstreams, proto, forwarding);
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
    if (from.port === 0) return; // cannot be answered (and Node refuses to send there)
    handle(msg, MAX_UDP, 'udp')
      .then((out) => {
        if (out !== undefined && !stopped) udp.send(out, from.port, from.address);
      })
      .catch((err: unknown) => log.warn({ err: String(err) }, 'dns: answering over UDP failed'));
  });
  udp.on('error', (err) => log.warn({ err: String(err) }, 'dns: UDP socket error'));

  // ---- TCP, same port
  const open = new Set<TcpSocket>();
  const tcp: Server = createServer((conn) => {
    if (open.size >= MAX_TCP_CONNECTIONS) {
      conn.destroy();
      return;
    }
    open.add(conn);
    conn.setTimeout(TCP_IDLE_MS, () => conn.destroy());
    const reader = new TcpFrameReader();
    let pending = 0;
    // Reading pauses while too many questions wait or the client does not read its answers.
    const flow = (): void => {
      if (conn.destroyed) return;
      if (pending >= MAX_TCP_PENDING || conn.writableNeedDrain) conn.pause();
      else conn.resume();
    };
    conn.on('drain', flow);
    conn.on('data', (chunk: Buffer) => {
      let messages: Buffer[];
      try {
        messages = reader.push(chunk);
      } catch {
        conn.destroy();
        return;
      }
      for (const m of messages) {
        pending++;
        handle(m, 65_535, 'tcp')
          .then((out) => {
            if (out !== undefined && !conn.destroyed) conn.write(frameTcp(out));
          })
          .catch((err: unknown) => log.warn({ err: String(err) }, 'dns: answering over TCP failed'))
          .finally(() => {
            pending--;
            flow();
          });
      }
      flow();
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
  log.info({ host: opts.host, port, zone, upstreams: upstreams.map((u) => `${u.host}:${u.port}`) }, 'cluster DNS serving');
  return {
    host: opts.host,
    port,
    stop: async () => {
      stopped = true;
      abort.abort();
      for (const cancel of [...forwarding]) cancel();
      for (const c of open) c.destroy();
      await Promise.all([new Promise<void>((r) => udp.close(() => r())), new Promise<void>((r) => tcp.close(() => r()))]);
      await factory.stopped();
      opts.metrics?.removeSingleMetric('knode_dns_requests_total');
    },
  };
}

/**
 * Sends the question as received to each upstream in turn: the first answer, or undefined. Over UDP
 * on a connected socket; for a client that came over TCP, a truncated UDP answer is asked again over
 * TCP. Each attempt registers its abort in `inFlight` (stop() cancels them).
 */
async function forward(msg: Buffer, upstreams: readonly Upstream[], proto: 'udp' | 'tcp', inFlight: Set<() => void>): Promise<Buffer | undefined> {
  for (const server of upstreams) {
    let reply = await forwardUdp(msg, server, inFlight);
    // TC bit (byte 2, 0x02): the whole answer needs TCP, which only a TCP client can take
    if (reply !== undefined && proto === 'tcp' && reply.length > 2 && (reply[2]! & 0x02) !== 0) reply = await forwardTcp(msg, server, inFlight);
    if (reply !== undefined) return reply;
  }
  return undefined;
}

function forwardUdp(msg: Buffer, server: Upstream, inFlight: Set<() => void>): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
    const done = (v: Buffer | undefined): void => {
      if (!inFlight.delete(cancel)) return;
      clearTimeout(timer);
      sock.close();
      resolve(v);
    };
    const cancel = (): void => done(undefined);
    inFlight.add(cancel);
    const timer = setTimeout(cancel, FORWARD_TIMEOUT_MS);
    sock.on('error', cancel);
    sock.on('message', (reply: Buffer) => {
      if (reply.length >= 2 && reply.readUInt16BE(0) === msg.readUInt16BE(0)) done(reply);
    });
    // the callback also reports a failed connect (EACCES, ENETUNREACH...): then the socket has no
    // peer and a send(msg, cb) would throw (the callback taken for a port) out of this callback,
    // ending the whole process; such an upstream just gives no answer
    sock.connect(server.port, server.host, (err?: Error) => {
      if (err) {
        cancel();
        return;
      }
      try {
        sock.send(msg, (e) => {
          if (e) cancel();
        });
      } catch {
        cancel();
      }
    });
  });
}

function forwardTcp(msg: Buffer, server: Upstream, inFlight: Set<() => void>): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const conn = connect(server.port, server.host);
    const reader = new TcpFrameReader();
    const done = (v: Buffer | undefined): void => {
      if (!inFlight.delete(cancel)) return;
      clearTimeout(timer);
      conn.destroy();
      resolve(v);
    };
    const cancel = (): void => done(undefined);
    inFlight.add(cancel);
    const timer = setTimeout(cancel, FORWARD_TIMEOUT_MS);
    conn.on('error', cancel);
    conn.on('close', cancel);
    conn.on('connect', () => conn.write(frameTcp(msg)));
    conn.on('data', (chunk: Buffer) => {
      try {
        const reply = reader.push(chunk).find((m) => m.length >= 2 && m.readUInt16BE(0) === msg.readUInt16BE(0));
        if (reply !== undefined) done(reply);
      } catch {
        cancel();
      }
    });
  });
}
