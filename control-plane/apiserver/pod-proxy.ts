/**
 * pods/proxy, services/proxy and nodes/proxy: HTTP to a port of a pod (or to a node's kubelet)
 * through the apiserver, what `kubectl proxy` and `kubectl get --raw .../proxy/...` use.
 *
 *   /api/v1/namespaces/{ns}/pods/[https:]{name}[:{port}]/proxy/{path}
 *   /api/v1/namespaces/{ns}/services/[https:]{name}[:{port}]/proxy/{path}
 *   /api/v1/nodes/{name}[:{port}]/proxy/{path}        the node's kubelet itself (/pods, /metrics...)
 *
 * Target, as upstream's ResourceLocation: a pod's port is a number or a container port's name
 * (empty: the first declared container port, else 80); a Service's port is one of its ports by name
 * or number (empty: its only port), and a ready address of its Endpoints with that port is picked at
 * random (only addresses backed by a pod: we reach pods through their kubelet). The connection goes
 * through the pod's kubelet (port-forward-client.ts), so the apiserver needs no route to pod IPs.
 *
 * The request is passed on with its method, path below `/proxy`, query and body; hop-by-hop headers
 * and the caller's credentials (Authorization, Impersonate-*) are dropped. The answer comes back
 * with its status, headers (hop-by-hop dropped; a Location that is an absolute path is put back under
 * the proxy prefix, so redirects stay in the proxy) and body, streamed. nodes/proxy speaks HTTPS to
 * the kubelet with the apiserver's kubelet client certificate. All three are refused to nodes and
 * bootstrap tokens, as the streams are. Not served: upgrades (WebSocket) through the proxy.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { ClientRequest, IncomingHttpHeaders, IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import type { Endpoints } from '../../api/core/endpoints.js';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Service } from '../../api/core/service-types.js';
import { ApiError, badRequest, forbidden, notFound, unavailable } from './errors.js';
import type { RequestCtx } from './handlers.js';
import { kubeletClientFrom, kubeletEndpoint, KUBELET_CONNECT_TIMEOUT_MS, withNodeServingCA } from './node-proxy.js';
import { checkPodStreamable, kubeletPortForwardUrl } from './node-stream.js';
import { dialPodPort } from './port-forward-client.js';

export interface ProxyTarget {
  readonly scheme: 'http' | 'https';
  readonly name: string;
  /** As written: a number, a port name, or '' for the default. */
  readonly port: string;
}

/** `[scheme:]name[:port]` (upstream's SplitSchemeNamePort); undefined when malformed. */
export function splitSchemeNamePort(id: string): ProxyTarget | undefined {
  const parts = id.split(':');
  let scheme = '';
  let name = '';
  let port = '';
  if (parts.length === 1) [name = ''] = parts;
  else if (parts.length === 2) [name = '', port = ''] = parts;
  else if (parts.length === 3) [scheme = '', name = '', port = ''] = parts;
  else return undefined;
  if (name === '' || (scheme !== '' && scheme !== 'http' && scheme !== 'https')) return undefined;
  return { scheme: scheme === 'https' ? 'https' : 'http', name, port };
}

/** The pod's port for a pods/proxy target: a number, a container port's name, or the first declared one. */
export function podProxyPort(pod: Pod, target: ProxyTarget): number {
  const declared = pod.spec.containers.flatMap((c) => c.ports ?? []);
  if (target.port === '') return declared[0]?.containerPort ?? (target.scheme === 'https' ? 443 : 80);
  if (/^[0-9]+$/.test(target.port)) {
    const n = Number(target.port);
    if (n < 1 || n > 65535) throw badRequest(`invalid port ${JSON.stringify(target.port)}: must be between 1 and 65535, inclusive`);
    return n;
  }
  const named = declared.find((p) => p.name === target.port);
  if (named === undefined) throw badRequest(`pod ${JSON.stringify(pod.metadata.name ?? '')} has no container port named ${JSON.stringify(target.port)}`);
  return named.containerPort;
}

export interface ServiceBackend {
  readonly pod: { readonly namespace: string; readonly name: string };
  readonly port: number;
}

/**
 * The Service port a services/proxy target means (by name or number; '' when the Service has one
 * port), then the ready pod addresses of its Endpoints serving it. `random` picks among them.
 */
export function serviceBackends(svc: Service, endpoints: Endpoints | undefined, target: ProxyTarget): ServiceBackend[] {
  const name = svc.metadata.name ?? '';
  if (svc.spec?.type === 'ExternalName') throw badRequest(`service ${JSON.stringify(name)} is of type ExternalName: there is nothing to proxy to`);
  const ports = svc.spec?.ports ?? [];
  const sp =
    target.port === ''
      ? ports.length === 1
        ? ports[0]
        : undefined
      : ports.find((p) => (/^[0-9]+$/.test(target.port) ? p.port === Number(target.port) : (p.name ?? '') === target.port));
  if (sp === undefined) {
    const what = target.port === '' ? 'a port name (it has several ports)' : `no port ${JSON.stringify(target.port)}`;
    throw unavailable(`no endpoints available for service ${JSON.stringify(`${target.scheme === 'https' ? 'https:' : ''}${name}:${target.port}`)}: the service has ${what}`);
  }
  const out: ServiceBackend[] = [];
  for (const subset of endpoints?.subsets ?? []) {
    const ep = (subset.ports ?? []).find((p) => (p.name ?? '') === (sp.name ?? ''));
    if (ep === undefined) continue;
    for (const a of subset.addresses ?? []) {
      const ref = a.targetRef;
      if (ref?.kind !== 'Pod' || ref.name === undefined) continue;
      out.push({ pod: { namespace: ref.namespace ?? svc.metadata.namespace ?? '', name: ref.name }, port: ep.port });
    }
  }
  if (out.length === 0) throw unavailable(`no endpoints available for service ${JSON.stringify(name)}`);
  return out;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/** The caller's headers as the backend gets them: no hop-by-hop, no credentials. */
export function forwardedRequestHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(String(h.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k) || k === 'authorization' || k.startsWith('impersonate-')) continue;
    out[k] = v;
  }
  return out;
}

/** The backend's headers as the caller gets them; an absolute-path Location stays under `prefix`. */
export function returnedResponseHeaders(h: IncomingHttpHeaders, prefix: string): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  const listed = new Set(String(h.connection ?? '').split(',').map((s) => s.trim().toLowerCase()));
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || listed.has(k)) continue;
    out[k] = k === 'location' && typeof v === 'string' && v.startsWith('/') && !v.startsWith('//') ? `${prefix}${v}` : v;
  }
  return out;
}

/**
 * The raw path below `/proxy` (at least `/`) and the query, taken from the request URL as sent. The
 * `proxy` segment is found by position (after `{resource}/{name}`, `namespaced` adding
 * `namespaces/{ns}`), so a namespace or object named "proxy" cannot be mistaken for it.
 */
export function proxiedPath(rawUrl: string, namespaced: boolean): { prefix: string; path: string } {
  const q = rawUrl.indexOf('?');
  const pathname = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? '' : rawUrl.slice(q);
  const parts = pathname.split('/');
  // ['', 'api', 'v1', ...] or ['', 'apis', group, version, ...]
  const at = (parts[1] === 'api' ? 3 : 4) + (namespaced ? 2 : 0) + 2;
  if (parts[at] !== 'proxy') return { prefix: pathname, path: `/${query}` };
  const rest = parts.slice(at + 1).join('/');
  return { prefix: parts.slice(0, at + 1).join('/'), path: `/${rest}${query}` };
}

interface Lookup {
  get<T>(resource: string, namespace: string | undefined, name: string): Promise<T>;
}

function lookupOf(ctx: RequestCtx): Lookup {
  return {
    get: async <T>(resource: string, namespace: string | undefined, name: string): Promise<T> => {
      const entry = ctx.deps.index.find('', 'v1', resource);
      if (!entry) throw notFound({ group: '', resource }, name);
      return (await ctx.deps.registry.get(entry, namespace, name)) as unknown as T;
    },
  };
}

/** pods/proxy: the entry point subresources.ts calls. */
export async function servePodProxy(ctx: RequestCtx): Promise<void> {
  const target = splitSchemeNamePort(ctx.info.name ?? '');
  if (!target) throw badRequest(`invalid pod request ${JSON.stringify(ctx.info.name ?? '')}`);
  const pod = await lookupOf(ctx).get<Pod>('pods', ctx.info.namespace, target.name);
  await proxyTo(ctx, pod, podProxyPort(pod, target), target.scheme);
}

/** services/proxy: the entry point subresources.ts calls. */
export async function serveServiceProxy(ctx: RequestCtx): Promise<void> {
  const target = splitSchemeNamePort(ctx.info.name ?? '');
  if (!target) throw badRequest(`invalid service request ${JSON.stringify(ctx.info.name ?? '')}`);
  const lookup = lookupOf(ctx);
  const svc = await lookup.get<Service>('services', ctx.info.namespace, target.name);
  const endpoints = await lookup.get<Endpoints>('endpoints', ctx.info.namespace, target.name).catch((err: unknown) => {
    if (err instanceof ApiError && err.httpCode === 404) return undefined;
    throw err;
  });
  const backends = serviceBackends(svc, endpoints, target);
  const pick = backends[Math.floor(Math.random() * backends.length)] ?? backends[0];
  if (pick === undefined) throw unavailable(`no endpoints available for service ${JSON.stringify(target.name)}`);
  const pod = await lookup.get<Pod>('pods', pick.pod.namespace, pick.pod.name);
  await proxyTo(ctx, pod, pick.port, target.scheme);
}

/** nodes/proxy: the entry point subresources.ts calls. */
export async function serveNodeProxy(ctx: RequestCtx): Promise<void> {
  const target = splitSchemeNamePort(ctx.info.name ?? '');
  if (!target || !/^[0-9]*$/.test(target.port)) throw badRequest(`invalid node request ${JSON.stringify(ctx.info.name ?? '')}`);
  if (ctx.req.headers.upgrade !== undefined) throw badRequest('upgrading a connection through nodes/proxy is not supported by this server');
  const node = await lookupOf(ctx).get<Node>('nodes', undefined, target.name);
  const tls = kubeletClientFrom(ctx.deps);
  if (!tls) throw unavailable(`the apiserver has no kubelet client certificate to reach the kubelet on node ${JSON.stringify(target.name)}`);
  const endpoint = kubeletEndpoint(node);
  const port = target.port !== '' ? Number(target.port) : endpoint.port;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const creds = withNodeServingCA(tls, node);
  const { prefix, path } = proxiedPath(ctx.req.url ?? '/', false);
  await new Promise<void>((resolve, reject) => {
    const out = httpsRequest({ host: endpoint.host, port, path, method: ctx.req.method ?? 'GET', ca: creds.caPem, cert: creds.certPem, key: creds.keyPem, agent: false, headers: { ...forwardedRequestHeaders(ctx.req.headers), host: `${host}:${port}` } });
    out.setTimeout(KUBELET_CONNECT_TIMEOUT_MS, () => out.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    out.on('socket', (sock) => sock.once('secureConnect', () => out.setTimeout(0)));
    answer(ctx.req, ctx.res, out, prefix, resolve, reject);
  });
}

async function proxyTo(ctx: RequestCtx, pod: Pod, port: number, scheme: 'http' | 'https'): Promise<void> {
  const { req, res } = ctx;
  if (req.headers.upgrade !== undefined) throw badRequest('upgrading a connection through pods/proxy or services/proxy is not supported by this server');
  const nodeName = checkPodStreamable(pod, 'portforward');
  const tls = kubeletClientFrom(ctx.deps);
  if (!tls) throw unavailable(`the apiserver has no kubelet client certificate to reach the kubelet on node ${JSON.stringify(nodeName)}`);
  const node = await lookupOf(ctx).get<Node>('nodes', undefined, nodeName);
  const url = kubeletPortForwardUrl(kubeletEndpoint(node), pod, []);
  const stream = await dialPodPort(url, withNodeServingCA(tls, node), port, KUBELET_CONNECT_TIMEOUT_MS);
  if (res.destroyed || req.socket.destroyed) {
    // the caller left while we dialled: nobody would read the answer
    stream.destroy();
    return;
  }
  const conn: Duplex = scheme === 'https' ? tlsConnect({ socket: stream, rejectUnauthorized: false }) : stream;
  await relay(req, res, conn, `${pod.status?.podIP ?? pod.metadata.name ?? ''}:${port}`, proxiedPath(req.url ?? '/', true));
}

/** One HTTP exchange over `conn`; rejects (for a Status) only if nothing was answered yet. */
function relay(req: IncomingMessage, res: ServerResponse, conn: Duplex, host: string, { prefix, path }: { prefix: string; path: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = httpRequest({
      createConnection: () => conn,
      method: req.method ?? 'GET',
      path,
      headers: { ...forwardedRequestHeaders(req.headers), host, connection: 'close' },
    });
    out.on('error', () => conn.destroy());
    answer(req, res, out, prefix, resolve, reject);
  });
}

/** Sends the caller's body on `out` and its answer back; a failure before any answer rejects with a 503. */
function answer(req: IncomingMessage, res: ServerResponse, out: ClientRequest, prefix: string, resolve: () => void, reject: (err: unknown) => void): void {
  const fail = (err: Error): void => {
    if (res.headersSent) {
      res.destroy();
      resolve();
    } else reject(unavailable(`error trying to reach the backend: ${err.message}`));
  };
  out.on('error', fail);
  out.on('response', (back: IncomingMessage) => {
    res.writeHead(back.statusCode ?? 502, returnedResponseHeaders(back.headers, prefix));
    back.pipe(res);
    back.on('error', fail);
    back.on('end', () => resolve());
  });
  res.on('close', () => {
    if (!res.writableFinished) out.destroy();
    resolve();
  });
  req.pipe(out);
}
