/**
 * The apiserver side of `kubectl logs [-f] [--previous] [--tail] [--timestamps] ...`: GET pods/log
 * finds the pod's node, reads the Node's InternalIP and kubelet port (status.daemonEndpoints,
 * default 10250) and proxies to `https://<ip>:<port>/containerLogs/<ns>/<pod>/<container>?...`,
 * streaming the kubelet's answer back (a follow keeps streaming until either side ends).
 *
 * The apiserver authenticates with its kubelet client certificate and verifies the kubelet's serving
 * certificate against the cluster CA (kubelets must present a CA-signed certificate with their IP in
 * its SANs; `insecureSkipTLSVerifyBackend=true` skips that, as upstream allows).
 *
 * Upstream's behaviour and wording: the only container (or the
 * `kubectl.kubernetes.io/default-container` annotation) when none is named, 400
 * `a container name must be specified for pod x, choose one of: [a b]`, 400
 * `container x is not valid for pod y`, 422 for invalid PodLogOptions, an empty 200 for a pod not yet
 * scheduled, the kubelet's own message for its 4xx/5xx, and 503 naming the URL when the kubelet
 * cannot be reached.
 */
import { KUBELET_SERVING_CA_ANNOTATION } from '../../kubelet/serving-cert.js';
import { request } from 'node:https';
import { readBodyPrefix } from '../../lib/http-body.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FieldError } from '../../api/field-errors.js';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { ApiError, badRequest, internalError, invalid, methodNotAllowed, notFound, unavailable } from './errors.js';
import type { StatusReason } from './errors.js';
import type { RequestCtx } from './handlers.js';

export const DEFAULT_KUBELET_PORT = 10250;
export const DEFAULT_CONTAINER_ANNOTATION = 'kubectl.kubernetes.io/default-container';
/** How long connecting to a kubelet may take before the request fails. */
export const KUBELET_CONNECT_TIMEOUT_MS = 10_000;
/** Upstream reads at most this much of a kubelet's error body. */
const MAX_ERROR_BODY = 50_000;

/** The apiserver's kubelet client certificate and the CA kubelet serving certificates chain to. */
export interface KubeletClientTls {
  readonly certPem: string;
  readonly keyPem: string;
  readonly caPem: string;
}

export interface NodeProxyLookup {
  /** Rejects with a NotFound ApiError for a missing pod. */
  getPod(namespace: string, name: string): Promise<Pod>;
  getNode(name: string): Promise<Node>;
}

export interface PodLogOptions {
  readonly container?: string;
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339, seconds precision as upstream re-encodes it */
  readonly sinceTime?: string;
  readonly limitBytes?: number;
  readonly insecureSkipTLSVerifyBackend: boolean;
}

// ---- pure planning ---------------------------------------------------------------------------------

function boolOf(name: string, v: string | undefined): boolean {
  if (v === undefined || v === '' || v === 'false' || v === '0' || v === 'False' || v === 'FALSE' || v === 'f' || v === 'F') return false;
  if (v === 'true' || v === '1' || v === 'True' || v === 'TRUE' || v === 't' || v === 'T') return true;
  throw badRequest(`${name}: strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

function intOf(name: string, v: string | undefined): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw badRequest(`${name}: strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  return Number(v);
}

/** Decodes pods/log query parameters and validates them as upstream's ValidatePodLogOptions. */
export function parsePodLogOptions(query: Readonly<Record<string, string>>, podName: string): PodLogOptions {
  const sinceTimeText = query['sinceTime'];
  let sinceTime: string | undefined;
  if (sinceTimeText !== undefined && sinceTimeText !== '') {
    const t = Date.parse(sinceTimeText);
    if (Number.isNaN(t)) throw badRequest(`sinceTime: parsing time ${JSON.stringify(sinceTimeText)} as RFC 3339 failed`);
    sinceTime = new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }
  const container = query['container'];
  const opts: PodLogOptions = {
    ...(container !== undefined && container !== '' ? { container } : {}),
    follow: boolOf('follow', query['follow']),
    previous: boolOf('previous', query['previous']),
    timestamps: boolOf('timestamps', query['timestamps']),
    insecureSkipTLSVerifyBackend: boolOf('insecureSkipTLSVerifyBackend', query['insecureSkipTLSVerifyBackend']),
    ...numberField('tailLines', intOf('tailLines', query['tailLines'])),
    ...numberField('sinceSeconds', intOf('sinceSeconds', query['sinceSeconds'])),
    ...(sinceTime !== undefined ? { sinceTime } : {}),
    ...numberField('limitBytes', intOf('limitBytes', query['limitBytes'])),
  };
  const errs: FieldError[] = [];
  if (opts.tailLines !== undefined && opts.tailLines < 0) errs.push({ type: 'FieldValueInvalid', field: 'tailLines', value: opts.tailLines, detail: 'must be greater than or equal to 0' });
  if (opts.limitBytes !== undefined && opts.limitBytes < 1) errs.push({ type: 'FieldValueInvalid', field: 'limitBytes', value: opts.limitBytes, detail: 'must be greater than 0' });
  if (opts.sinceSeconds !== undefined && opts.sinceTime !== undefined) {
    errs.push({ type: 'FieldValueForbidden', field: '', detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified' });
  } else if (opts.sinceSeconds !== undefined && opts.sinceSeconds < 1) {
    errs.push({ type: 'FieldValueInvalid', field: 'sinceSeconds', value: opts.sinceSeconds, detail: 'must be greater than 0' });
  }
  if (errs.length > 0) throw invalid('PodLogOptions', '', podName, errs);
  return opts;
}

function numberField<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

/** Every container name in upstream's visiting order: init, regular, ephemeral. */
export function containerNames(pod: Pod): string[] {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])].map((c) => c.name);
}

/** The container a log request means; throws 400 as upstream's validateContainer. */
export function chooseContainer(pod: Pod, requested: string | undefined): string {
  const name = pod.metadata.name ?? '';
  const all = containerNames(pod);
  if (requested !== undefined) {
    if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const annotated = pod.metadata.annotations?.[DEFAULT_CONTAINER_ANNOTATION];
  if (annotated !== undefined && all.includes(annotated)) return annotated;
  const [only, ...rest] = pod.spec.containers;
  if (only && rest.length === 0) return only.name;
  if (!only) throw badRequest(`a container name must be specified for pod ${name}`);
  throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
}

/** Where the node's kubelet listens: its InternalIP (else ExternalIP, else Hostname) and port. */
export function kubeletEndpoint(node: Node): { readonly host: string; readonly port: number } {
  const addrs = node.status?.addresses ?? [];
  const pick = ['InternalIP', 'ExternalIP', 'Hostname'].map((t) => addrs.find((a) => a.type === t && a.address !== '')).find((a) => a !== undefined);
  if (!pick) {
    throw unavailable(`node ${JSON.stringify(node.metadata.name ?? '')} has no address to reach its kubelet (no InternalIP in status.addresses)`);
  }
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { host: pick.address, port: port !== undefined && port > 0 ? port : DEFAULT_KUBELET_PORT };
}

/** The kubelet URL for the request, parameters encoded as upstream's LogLocation does. */
export function containerLogsUrl(endpoint: { host: string; port: number }, pod: Pod, container: string, o: PodLogOptions): URL {
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  const seg = (s: string): string => encodeURIComponent(s);
  const url = new URL(`https://${host}:${endpoint.port}/containerLogs/${seg(pod.metadata.namespace ?? '')}/${seg(pod.metadata.name ?? '')}/${seg(container)}`);
  const p = url.searchParams;
  if (o.follow) p.set('follow', 'true');
  if (o.limitBytes !== undefined) p.set('limitBytes', String(o.limitBytes));
  if (o.previous) p.set('previous', 'true');
  if (o.sinceSeconds !== undefined) p.set('sinceSeconds', String(o.sinceSeconds));
  if (o.sinceTime !== undefined) p.set('sinceTime', o.sinceTime);
  if (o.tailLines !== undefined) p.set('tailLines', String(o.tailLines));
  if (o.timestamps) p.set('timestamps', 'true');
  return url;
}

const REASONS: Readonly<Record<number, StatusReason>> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** A kubelet's non-2xx answer as the Status the client sees (its own words where it gave some). */
export function kubeletErrorToApiError(status: number, body: string): ApiError {
  let text = body.trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') text = parsed.message;
  } catch {
    // plain text, as upstream's kubelet answers
  }
  if (status === 500) return internalError(text);
  const message = text || `the server responded with the status code ${status} but did not return more information`;
  return new ApiError(status, REASONS[status] ?? 'InternalError', message);
}

// ---- effects -----------------------------------------------------------------------------------------

export function connectErrorText(err: unknown): string {
  const e = err as { code?: string; message?: string; address?: string; port?: number };
  switch (e.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${e.address ?? ''}:${e.port ?? ''}: connect: connection refused`;
    case 'EHOSTUNREACH':
      return `dial tcp ${e.address ?? ''}:${e.port ?? ''}: connect: no route to host`;
    case 'ETIMEDOUT':
      return 'dial tcp: i/o timeout';
    default:
      break;
  }
  if (e.code !== undefined && UNKNOWN_AUTHORITY.has(e.code)) return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
  if (e.code === 'CERT_HAS_EXPIRED' || e.code === 'CERT_NOT_YET_VALID') return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') return `tls: failed to verify certificate: x509: ${e.message ?? ''}`;
  return e.message ?? String(err);
}

/** OpenSSL's verdicts for a chain that does not lead to the cluster CA. */
const UNKNOWN_AUTHORITY = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_SIGNATURE_FAILURE',
]);


/** GETs the kubelet URL; resolves once the kubelet answered 2xx, rejects with an ApiError otherwise. */
function openKubelet(url: URL, tls: KubeletClientTls, skipVerify: boolean, signal: AbortSignal, connectTimeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'GET',
      cert: tls.certPem,
      key: tls.keyPem,
      ca: tls.caPem,
      rejectUnauthorized: !skipVerify,
      agent: false,
      signal,
      headers: { Accept: 'text/plain, */*' },
    });
    req.setTimeout(connectTimeoutMs, () => req.destroy(Object.assign(new Error('i/o timeout'), { code: 'ETIMEDOUT' })));
    req.on('response', (res) => {
      // from here on a follow may legitimately stay quiet for hours
      req.setTimeout(0);
      const status = res.statusCode ?? 0;
      if (status >= 200 && status < 300) {
        resolve(res);
        return;
      }
      readBodyPrefix(res, MAX_ERROR_BODY).then((body) => reject(kubeletErrorToApiError(status, body)), reject);
    });
    req.on('error', (err) => reject(unavailable(`Get "${url.href}": ${connectErrorText(err)}`)));
    req.end();
  });
}

export interface ProxyOptions {
  readonly connectTimeoutMs?: number;
}

/**
 * Serves GET pods/log for one pod: validates, resolves the kubelet, then streams. Throws ApiError
 * before anything is written; once streaming started, failures end the response.
 */
export async function proxyPodLog(
  req: IncomingMessage,
  res: ServerResponse,
  lookup: NodeProxyLookup,
  tls: KubeletClientTls | undefined,
  namespace: string,
  name: string,
  query: Readonly<Record<string, string>>,
  opts: ProxyOptions = {},
): Promise<void> {
  if (req.method !== 'GET') throw methodNotAllowed(req.method ?? '', req.url ?? '');
  const logOpts = parsePodLogOptions(query, name);
  const pod = await lookup.getPod(namespace, name);
  const container = chooseContainer(pod, logOpts.container);
  const nodeName = pod.spec.nodeName;
  if (nodeName === undefined || nodeName === '') {
    // upstream: a pod without a node has an empty log
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 0 });
    res.end();
    return;
  }
  if (!tls) throw unavailable(`the apiserver has no kubelet client certificate to reach the kubelet on node ${JSON.stringify(nodeName)}`);
  const node = await lookup.getNode(nodeName);
  const url = containerLogsUrl(kubeletEndpoint(node), pod, container, logOpts);
  const nodeTls = withNodeServingCA(tls, node);

  const cancel = new AbortController();
  const onClientGone = (): void => cancel.abort();
  res.on('close', onClientGone);
  try {
    const upstream = await openKubelet(url, nodeTls, logOpts.insecureSkipTLSVerifyBackend, cancel.signal, opts.connectTimeoutMs ?? KUBELET_CONNECT_TIMEOUT_MS);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    await new Promise<void>((resolve) => {
      upstream.on('data', (chunk: Buffer) => {
        if (!res.write(chunk)) {
          upstream.pause();
          res.once('drain', () => upstream.resume());
        }
      });
      upstream.on('end', () => {
        res.end();
        resolve();
      });
      // a kubelet that goes away mid-stream, or a client that left: close our side too
      upstream.on('error', () => {
        res.destroy();
        resolve();
      });
      upstream.on('close', () => {
        if (!res.writableEnded) res.destroy();
        resolve();
      });
    });
  } finally {
    res.off('close', onClientGone);
    cancel.abort();
  }
}

/** The kubelet client TLS material from the handler deps, once the composition provides it. */
export function kubeletClientFrom(deps: object): KubeletClientTls | undefined {
  const v = (deps as { kubeletClient?: unknown }).kubeletClient;
  if (typeof v !== 'object' || v === null) return undefined;
  const { certPem, keyPem, caPem } = v as Record<string, unknown>;
  return typeof certPem === 'string' && typeof keyPem === 'string' && typeof caPem === 'string' ? { certPem, keyPem, caPem } : undefined;
}

/** pods/log through the registry: the entry point subresources.ts calls. */
export async function servePodLog(ctx: RequestCtx): Promise<void> {
  const { registry, index } = ctx.deps;
  const nodes = index.find('', 'v1', 'nodes');
  const lookup: NodeProxyLookup = {
    getPod: async (ns, name) => (await registry.get(ctx.entry, ns, name)) as Pod,
    getNode: async (name) => {
      if (!nodes) throw notFound({ group: '', resource: 'nodes' }, name);
      return (await registry.get(nodes, undefined, name)) as Node;
    },
  };
  await proxyPodLog(ctx.req, ctx.res, lookup, kubeletClientFrom(ctx.deps), ctx.info.namespace ?? '', ctx.info.name ?? '', ctx.query);
}

/**
 * knode agents serve a certificate from their own per-node CA and publish that CA on their Node
 * (kubelet/serving-cert.ts). The connection to one node trusts the cluster CA plus that node's CA,
 * read from the Node this request just fetched (no shared bundle to keep fresh).
 */
export function withNodeServingCA(tls: KubeletClientTls, node: Node): KubeletClientTls {
  const pem = node.metadata.annotations?.[KUBELET_SERVING_CA_ANNOTATION];
  if (pem === undefined || !pem.includes('BEGIN CERTIFICATE')) return tls;
  return { ...tls, caPem: `${tls.caPem.trim()}\n${pem.trim()}\n` };
}
