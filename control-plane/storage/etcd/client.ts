/**
 * A thin etcd v3 client: the KV (Range, Txn, Compact) and Watch RPCs over one gRPC channel, from our
 * own proto/etcd/kv.proto loaded at run time (no generated code), the way the kubelet reaches
 * containerd.
 *
 * Endpoints are etcd client URLs, as `kube-apiserver --etcd-servers` takes them
 * (`http://10.0.0.1:2379,http://10.0.0.2:2379`, or all `https://` with the TLS files). The channel
 * holds the whole member list (gRPC's static `ipv4:`/`ipv6:` resolver; host names are resolved once
 * at connect) and connects to one member at a time (pick_first): when that member goes away, new
 * calls go to the next reachable one. A call that was in flight on the lost connection fails with
 * UNAVAILABLE and is not retried here: a retried conditional write could be applied twice (the
 * caller sees an error and its client retries, as with kube-apiserver).
 *
 * Every unary call waits for a connection (waitForReady) until its deadline, so a member restarting
 * or a leader election delays calls instead of failing them at once. Keepalive pings every 30 s
 * (10 s timeout) find a member that vanished without closing its connection (kube-apiserver's values).
 */
import { lookup } from 'node:dns/promises';
import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { checkServerIdentity } from 'node:tls';
import type { PeerCertificate } from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { KnodeError } from '../../../lib/errors.js';

const PROTO_RELATIVE = join('proto', 'etcd', 'kv.proto');

export interface EtcdTls {
  /** PEM of the CA that signed the members' serving certificates (system roots when absent). */
  readonly ca?: Buffer;
  /** Client certificate and key (PEM), for members started with --client-cert-auth. */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface EtcdClientOptions {
  /** Client URLs of the members: http://host:port or https://host:port, one scheme for all. */
  readonly endpoints: readonly string[];
  readonly tls?: EtcdTls;
  /** Deadline of each unary call, waiting for a connection included; default 30 s. */
  readonly requestTimeoutMs?: number;
}

export class EtcdConfigError extends KnodeError {
  constructor(message: string) {
    super('ERR_ETCD_CONFIG', message);
  }
}

// The messages, as proto-loader decodes them (keepCase, int64 as number, bytes as Buffer).
export interface EtcdKeyValue {
  readonly key: Buffer;
  readonly create_revision: number;
  readonly mod_revision: number;
  readonly version: number;
  readonly value: Buffer;
}
export interface EtcdHeader {
  readonly revision: number;
  readonly member_id: string;
}
export interface RangeRequest {
  readonly key: Buffer;
  readonly range_end?: Buffer;
  readonly limit?: number;
  readonly revision?: number;
  readonly count_only?: boolean;
}
export interface RangeResponse {
  readonly header: EtcdHeader;
  readonly kvs: readonly EtcdKeyValue[];
  readonly more: boolean;
  readonly count: number;
}
export interface PutResponse {
  readonly header: EtcdHeader;
  readonly prev_kv: EtcdKeyValue | null;
}
export interface DeleteRangeResponse {
  readonly header: EtcdHeader;
  readonly deleted: number;
  readonly prev_kvs: readonly EtcdKeyValue[];
}
export type RequestOp =
  | { readonly request_range: RangeRequest }
  | { readonly request_put: { readonly key: Buffer; readonly value: Buffer; readonly prev_kv?: boolean } }
  | { readonly request_delete_range: { readonly key: Buffer; readonly prev_kv?: boolean } };
export interface ResponseOp {
  readonly response_range?: RangeResponse | null;
  readonly response_put?: PutResponse | null;
  readonly response_delete_range?: DeleteRangeResponse | null;
}
export interface Compare {
  readonly result: 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';
  readonly target: 'CREATE' | 'MOD';
  readonly key: Buffer;
  readonly create_revision?: number;
  readonly mod_revision?: number;
}
export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}
export interface TxnResponse {
  readonly header: EtcdHeader;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}
export interface EtcdEvent {
  readonly type: 'PUT' | 'DELETE';
  readonly kv: EtcdKeyValue;
  readonly prev_kv: EtcdKeyValue | null;
}
export interface WatchResponse {
  readonly header: EtcdHeader | null;
  readonly watch_id: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compact_revision: number;
  readonly cancel_reason: string;
  readonly events: readonly EtcdEvent[];
}
export interface WatchCreate {
  readonly key: Buffer;
  readonly range_end: Buffer;
  readonly start_revision: number;
  readonly prev_kv: boolean;
}
export type WatchStream = grpc.ClientDuplexStream<{ create_request: WatchCreate } | { cancel_request: { watch_id: number } }, WatchResponse>;

function findProtoPath(): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new KnodeError('ERR_ETCD_PROTO_MISSING', `cannot find ${PROTO_RELATIVE} above ${start}`);
  }
}

interface ParsedEndpoints {
  readonly secure: boolean;
  readonly hosts: ReadonlyArray<{ readonly host: string; readonly port: number }>;
}

/** Parses and checks `--etcd-servers` URLs; pure. */
export function parseEndpoints(endpoints: readonly string[]): ParsedEndpoints {
  if (endpoints.length === 0) throw new EtcdConfigError('no etcd endpoint given');
  const hosts: Array<{ host: string; port: number }> = [];
  let scheme: string | undefined;
  for (const raw of endpoints) {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new EtcdConfigError(`etcd endpoint ${JSON.stringify(raw)} is not a URL (expected http://host:port or https://host:port)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new EtcdConfigError(`etcd endpoint ${JSON.stringify(raw)} must use http or https, not ${url.protocol.replace(/:$/, '')}`);
    }
    if (url.pathname !== '/' && url.pathname !== '' || url.search !== '' || url.username !== '') {
      throw new EtcdConfigError(`etcd endpoint ${JSON.stringify(raw)} must be only scheme://host:port`);
    }
    if (scheme !== undefined && scheme !== url.protocol) {
      throw new EtcdConfigError(`etcd endpoints mix http and https (${endpoints.join(',')}); use one scheme for all members`);
    }
    scheme = url.protocol;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    hosts.push({ host, port: url.port === '' ? 2379 : Number(url.port) });
  }
  return { secure: scheme === 'https:', hosts };
}

/** The gRPC target holding every member: ipv4:a:p,b:p or ipv6:[a]:p,[b]:p. Pure. */
export function staticTarget(addresses: ReadonlyArray<{ readonly host: string; readonly port: number }>): string {
  const families = new Set(addresses.map((a) => isIP(a.host)));
  if (families.has(0)) throw new EtcdConfigError('etcd member addresses must be resolved to IP addresses first');
  if (families.size > 1) throw new EtcdConfigError('etcd members mix IPv4 and IPv6 addresses; use one family for all');
  if (families.has(6)) return `ipv6:${addresses.map((a) => `[${a.host}]:${a.port}`).join(',')}`;
  return `ipv4:${addresses.map((a) => `${a.host}:${a.port}`).join(',')}`;
}

/** Calls wait for a member to be connected (until their deadline) instead of failing at once. */
const waitingMetadata = (): grpc.Metadata => new grpc.Metadata({ waitForReady: true });

type Unary<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: Res) => void) => grpc.ClientUnaryCall;

export class EtcdClient {
  private constructor(
    private readonly kv: grpc.Client,
    private readonly watcher: grpc.Client,
    readonly endpoints: readonly string[],
    private readonly requestTimeoutMs: number,
  ) {}

  /** Builds the channel; does not wait for a member (see `ready`). */
  static async create(opts: EtcdClientOptions): Promise<EtcdClient> {
    const parsed = parseEndpoints(opts.endpoints);
    if (!parsed.secure && opts.tls !== undefined && (opts.tls.ca ?? opts.tls.cert ?? opts.tls.key) !== undefined) {
      throw new EtcdConfigError('etcd TLS files were given but the endpoints are http://; use https:// URLs');
    }
    if ((opts.tls?.cert === undefined) !== (opts.tls?.key === undefined)) {
      throw new EtcdConfigError('an etcd client certificate needs its key, and a key its certificate');
    }
    const resolved = await Promise.all(
      parsed.hosts.map(async (h) => {
        if (isIP(h.host) !== 0) return h;
        try {
          return { host: (await lookup(h.host)).address, port: h.port };
        } catch (err) {
          throw new EtcdConfigError(`cannot resolve etcd member ${h.host}: ${(err as Error).message}`);
        }
      }),
    );
    const names = parsed.hosts.map((h) => h.host);
    const credentials = parsed.secure
      ? grpc.credentials.createSsl(opts.tls?.ca ?? null, opts.tls?.key ?? null, opts.tls?.cert ?? null, {
          // The channel's authority is the first address; accept a certificate valid for any member.
          checkServerIdentity: (_host: string, cert: PeerCertificate) => {
            const errors = names.map((n) => checkServerIdentity(n, cert));
            return errors.some((e) => e === undefined) ? undefined : errors[0];
          },
        })
      : grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 2_000,
    };
    const definition = loadSync(findProtoPath(), { keepCase: true, longs: Number, enums: String, bytes: Buffer, defaults: true, arrays: true, oneofs: false });
    const KV = grpc.makeClientConstructor(definition['etcdserverpb.KV'] as grpc.ServiceDefinition, 'etcdserverpb.KV');
    const Watch = grpc.makeClientConstructor(definition['etcdserverpb.Watch'] as grpc.ServiceDefinition, 'etcdserverpb.Watch');
    const target = staticTarget(resolved);
    const kv = new KV(target, credentials, channelOptions);
    // The watch client shares the KV client's channel: one connection per member.
    const watcher = new Watch(target, credentials, { ...channelOptions, channelOverride: kv.getChannel() });
    return new EtcdClient(kv, watcher, opts.endpoints, opts.requestTimeoutMs ?? 30_000);
  }

  /** Resolves once a member accepted the connection; rejects after `timeoutMs` naming the endpoints. */
  ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.kv.waitForReady(Date.now() + timeoutMs, (err) => {
        if (err) reject(new KnodeError('ERR_ETCD_UNAVAILABLE', `no etcd member answered at ${this.endpoints.join(',')} within ${timeoutMs / 1000} s`));
        else resolve();
      });
    });
  }

  private unary<Req, Res>(method: string, req: Req): Promise<Res> {
    const fn = (this.kv as unknown as Record<string, Unary<Req, Res>>)[method];
    if (fn === undefined) throw new KnodeError('ERR_ETCD_PROTO_MISSING', `etcdserverpb.KV has no method ${method}`);
    return new Promise((resolve, reject) => {
      fn.call(this.kv, req, waitingMetadata(), { deadline: Date.now() + this.requestTimeoutMs }, (err, res) => {
        if (err) reject(err);
        else if (res === undefined) reject(new KnodeError('ERR_ETCD_PROTOCOL', `etcd ${method} returned no response`));
        else resolve(res);
      });
    });
  }

  range(req: RangeRequest): Promise<RangeResponse> {
    return this.unary('Range', req);
  }

  txn(req: TxnRequest): Promise<TxnResponse> {
    return this.unary('Txn', req);
  }

  compact(revision: number): Promise<{ header: EtcdHeader }> {
    return this.unary('Compact', { revision, physical: true });
  }

  /** A new Watch stream (one watch per stream here); the caller writes one create request. */
  watch(): WatchStream {
    const fn = (this.watcher as unknown as Record<string, (metadata: grpc.Metadata, options: grpc.CallOptions) => WatchStream>)['Watch'];
    if (fn === undefined) throw new KnodeError('ERR_ETCD_PROTO_MISSING', 'etcdserverpb.Watch has no method Watch');
    // hasleader: a member cut off from its cluster ends the stream (no leader) instead of staying
    // silent, so the watch resumes on a member that has one (etcd's require-leader metadata).
    const metadata = waitingMetadata();
    metadata.set('hasleader', 'true');
    return fn.call(this.watcher, metadata, {});
  }

  close(): void {
    this.watcher.close();
    this.kv.close();
  }
}

/** etcd's own error texts for the conditions the store maps to its errors. */
export const ETCD_COMPACTED = 'required revision has been compacted';
export const ETCD_FUTURE_REV = 'required revision is a future revision';

export function isGrpcError(err: unknown): err is grpc.ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'number' && 'details' in err;
}

export { grpc };
