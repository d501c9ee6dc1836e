/**
 * The apiserver side of `kubectl exec`, `kubectl attach` and `kubectl port-forward`: pods/exec,
 * pods/attach and pods/portforward. Validates the request as upstream's ExecLocation/AttachLocation/
 * PortForwardLocation do (container choice, a bound pod, stream flags, a command for exec, ports as
 * TCP port numbers), then forwards the client's upgrade request to the kubelet of the pod's node
 * (`/exec/{ns}/{pod}/{container}?command=..&stdin=1..`, the flags as "1" as upstream encodes them;
 * `/portForward/{ns}/{pod}?port=N`) with the kubelet client certificate the logs proxy uses, and
 * once the kubelet answers 101 splices the two connections byte for byte (as upstream's
 * UpgradeAwareHandler). The kubelet, not the apiserver, speaks WebSocket (or SPDY) with the client,
 * so protocol negotiation and framing live in one place (kubelet/server/exec.ts, port-forward.ts):
 * for port-forward that includes unwrapping kubectl's SPDY-in-WebSocket tunnel, which upstream's
 * apiserver does itself (its tunnelling handler) before talking SPDY to the kubelet. A kubelet
 * that refuses (pod or container gone, container not running, SPDY offered for exec) becomes a
 * Status with its words.
 */
import { request } from 'node:https';
import { readBodyPrefix } from '../../lib/http-body.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { takeOverSocket, upgradeOf } from '../../lib/websocket/upgrade.js';
import { badRequest, methodNotAllowed, notFound, unavailable } from './errors.js';
import type { RequestCtx } from './handlers.js';
import { chooseContainer, connectErrorText, kubeletClientFrom, kubeletEndpoint, kubeletErrorToApiError, KUBELET_CONNECT_TIMEOUT_MS, withNodeServingCA } from './node-proxy.js';
import type { KubeletClientTls, NodeProxyLookup } from './node-proxy.js';

export type PodStreamKind = 'exec' | 'attach';
/** Every pods/ subresource served here. */
export type PodConnectKind = PodStreamKind | 'portforward';

export interface PodStreamOptions {
  readonly container?: string;
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

function flag(name: string, v: string | null): boolean {
  if (v === null || v === '' || v === 'false' || v === '0' || v === 'False' || v === 'FALSE' || v === 'f' || v === 'F') return false;
  if (v === 'true' || v === '1' || v === 'True' || v === 'TRUE' || v === 't' || v === 'T') return true;
  throw badRequest(`${name}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** Decodes PodExecOptions / PodAttachOptions from the query (command repeats); throws 400. */
export function parsePodStreamOptions(kind: PodStreamKind, params: URLSearchParams): PodStreamOptions {
  const container = params.get('container') ?? '';
  const opts: PodStreamOptions = {
    ...(container !== '' ? { container } : {}),
    command: kind === 'exec' ? params.getAll('command') : [],
    stdin: flag('stdin', params.get('stdin')),
    stdout: flag('stdout', params.get('stdout')),
    stderr: flag('stderr', params.get('stderr')),
    tty: flag('tty', params.get('tty')),
  };
  if (!opts.stdin && !opts.stdout && !opts.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  if (kind === 'exec' && opts.command.length === 0) throw badRequest('you must specify at least one command for the container');
  return opts;
}

/** Upstream refuses streams into pods that can no longer run anything. */
export function checkPodStreamable(pod: Pod, kind: PodConnectKind): string {
  const name = pod.metadata.name ?? '';
  const nodeName = pod.spec.nodeName;
  if (nodeName === undefined || nodeName === '') throw badRequest(`pod ${name} does not have a host assigned`);
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') {
    throw badRequest(kind === 'portforward' ? `cannot forward ports of a completed pod; current phase is ${phase}` : `cannot ${kind} into a container in a completed pod; current phase is ${phase}`);
  }
  return nodeName;
}

/** The kubelet URL, parameters as upstream's ExecLocation/AttachLocation encode them. */
export function kubeletStreamUrl(endpoint: { host: string; port: number }, pod: Pod, container: string, kind: PodStreamKind, o: PodStreamOptions): URL {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const seg = (s: string): string => encodeURIComponent(s);
  const url = new URL(`https://${host}:${endpoint.port}/${kind}/${seg(pod.metadata.namespace ?? '')}/${seg(pod.metadata.name ?? '')}/${seg(container)}`);
  const p = url.searchParams;
  for (const c of o.command) p.append('command', c);
  if (o.stdin) p.set('stdin', '1');
  if (o.stdout) p.set('stdout', '1');
  if (o.stderr) p.set('stderr', '1');
  if (o.tty) p.set('tty', '1');
  return url;
}

/** PodPortForwardOptions: `ports` repeats or is comma-separated; each a TCP port. Throws 400. */
export function parsePortForwardPorts(params: URLSearchParams): number[] {
  const out: number[] = [];
  for (const v of params.getAll('ports')) {
    for (const part of v.split(',')) {
      const s = part.trim();
      if (s === '') continue;
      const n = /^[0-9]{1,5}$/.test(s) ? Number(s) : NaN;
      if (!(n >= 1 && n <= 65535)) throw badRequest(`invalid port ${JSON.stringify(s)}: must be between 1 and 65535, inclusive`);
      out.push(n);
    }
  }
  return out;
}

/** The kubelet URL for pods/portforward, as upstream's PortForwardLocation builds it. */
export function kubeletPortForwardUrl(endpoint: { host: string; port: number }, pod: Pod, ports: readonly number[]): URL {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const seg = (s: string): string => encodeURIComponent(s);
  const url = new URL(`https://${host}:${endpoint.port}/portForward/${seg(pod.metadata.namespace ?? '')}/${seg(pod.metadata.name ?? '')}`);
  for (const p of ports) url.searchParams.append('port', String(p));
  return url;
}

/** Headers of the client's upgrade request worth passing to the kubelet. */
const FORWARDED = ['connection', 'upgrade', 'sec-websocket-key', 'sec-websocket-version', 'sec-websocket-protocol', 'x-stream-protocol-version'];

function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const v = req.headers[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return out;
}

function rawResponseHead(res: IncomingMessage): string {
  const lines = [`HTTP/1.1 ${res.statusCode ?? 101} ${res.statusMessage ?? 'Switching Protocols'}`];
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) lines.push(`${res.rawHeaders[i] ?? ''}: ${res.rawHeaders[i + 1] ?? ''}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}


export interface KubeletUpgrade {
  readonly res: IncomingMessage;
  readonly socket: Duplex;
  /** Bytes read past the 101. */
  readonly head: Buffer;
}

/**
 * Sends an upgrade request to a kubelet; resolves with its socket after a 101, rejects with an
 * ApiError otherwise (503 when it cannot be reached, its own status and words when it refuses).
 * With `abortWith`, resolves undefined when that socket (the caller's client) closes first: the
 * kubelet request is then aborted (or its fresh upgraded socket destroyed), so the kubelet ends its
 * runtime stream. Used by the stream splice below and by the port-forward client (pods/proxy).
 */
export function upgradeKubelet(
  url: URL,
  opts: { readonly method: 'GET' | 'POST'; readonly headers: Record<string, string>; readonly tls: KubeletClientTls; readonly timeoutMs: number; readonly abortWith?: Duplex },
): Promise<KubeletUpgrade | undefined> {
  const { tls, abortWith: client } = opts;
  return new Promise((resolve, reject) => {
    if (client?.destroyed === true) {
      resolve(undefined);
      return;
    }
    const out = request(url, { method: opts.method, cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, agent: false, headers: opts.headers });
    const abort = (): void => {
      out.destroy();
      resolve(undefined);
    };
    client?.once('close', abort);
    out.on('close', () => client?.off('close', abort));
    out.setTimeout(opts.timeoutMs, () => out.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    out.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      out.setTimeout(0);
      client?.off('close', abort);
      if (client?.destroyed === true) {
        socket.destroy();
        resolve(undefined);
        return;
      }
      resolve({ res, socket, head });
    });
    out.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      readBodyPrefix(res, 50_000).then((body) => reject(kubeletErrorToApiError(status >= 200 && status < 300 ? 400 : status, body || `the kubelet answered ${status} instead of upgrading the connection`)), reject);
    });
    out.on('error', (err) => reject(unavailable(`error dialing backend: ${connectErrorText(err)}`)));
    out.end();
  });
}

/** Splices two upgraded connections; each end closes the other. */
function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  a.on('error', end);
  b.on('error', end);
  a.on('close', end);
  b.on('close', end);
}

export async function proxyPodStream(
  kind: PodConnectKind,
  req: IncomingMessage,
  res: ServerResponse,
  lookup: NodeProxyLookup,
  tls: KubeletClientTls | undefined,
  namespace: string,
  name: string,
  connectTimeoutMs = KUBELET_CONNECT_TIMEOUT_MS,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'POST') throw methodNotAllowed(req.method ?? '', req.url ?? '');
  const params = new URL(req.url ?? '/', 'https://apiserver').searchParams;
  // options first (400), then the pod (404), then the container choice, as upstream orders them
  const ports = kind === 'portforward' ? parsePortForwardPorts(params) : [];
  const opts = kind === 'portforward' ? undefined : parsePodStreamOptions(kind, params);
  const pod = await lookup.getPod(namespace, name);
  const container = opts ? chooseContainer(pod, opts.container) : '';
  const nodeName = checkPodStreamable(pod, kind);
  const upgrade = upgradeOf(res);
  if (!upgrade) throw badRequest('Upgrade request required');
  if (!tls) throw unavailable(`the apiserver has no kubelet client certificate to reach the kubelet on node ${JSON.stringify(nodeName)}`);
  const node = await lookup.getNode(nodeName);
  const endpoint = kubeletEndpoint(node);
  const url = kind === 'portforward' || opts === undefined ? kubeletPortForwardUrl(endpoint, pod, ports) : kubeletStreamUrl(endpoint, pod, container, kind, opts);
  const kubelet = await upgradeKubelet(url, { method: 'GET', headers: forwardedHeaders(req), tls: withNodeServingCA(tls, node), timeoutMs: connectTimeoutMs, abortWith: upgrade.socket });
  if (!kubelet) return; // the client left; nothing to answer
  const client = takeOverSocket(res);
  client.socket.write(rawResponseHead(kubelet.res));
  if (kubelet.head.length > 0) client.socket.write(kubelet.head);
  if (client.head.length > 0) kubelet.socket.write(client.head);
  splice(client.socket, kubelet.socket);
}

/** pods/exec, pods/attach and pods/portforward through the registry: the entry point subresources.ts calls. */
export async function servePodStream(ctx: RequestCtx, kind: PodConnectKind): Promise<void> {
  const { registry, index } = ctx.deps;
  const nodes = index.find('', 'v1', 'nodes');
  const lookup: NodeProxyLookup = {
    getPod: async (ns, name) => (await registry.get(ctx.entry, ns, name)) as Pod,
    getNode: async (name) => {
      if (!nodes) throw notFound({ group: '', resource: 'nodes' }, name);
      return (await registry.get(nodes, undefined, name)) as Node;
    },
  };
  await proxyPodStream(kind, ctx.req, ctx.res, lookup, kubeletClientFrom(ctx.deps), ctx.info.namespace ?? '', ctx.info.name ?? '');
}
