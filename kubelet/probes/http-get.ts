/**
 * The httpGet action shared by probes and lifecycle hooks: building the request from the spec
 * (host defaults to the pod IP, named ports, headers with upstream's User-Agent/Accept/Host rules)
 * and performing it with upstream's client rules: no keep-alive, no certificate verification for
 * HTTPS, redirects followed only to the same host name (up to 9, the 10th fails), the whole exchange
 * bounded by one timeout, at most 10 KiB of body read.
 *
 * Cost: one TCP (+TLS) connection per hop; the body beyond 10 KiB is never read.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Container, HTTPGetAction } from '../../api/core/pod.js';
import { dialErrorText, isConnectError, joinHostPort } from './net-errors.js';
import { KUBE_MAJOR_MINOR, MAX_PROBE_OUTPUT_BYTES, resolveContainerPort } from './settings.js';

export interface HttpGetRequest {
  readonly url: URL;
  /** Headers to send, names as the user wrote them; Host is carried separately. */
  readonly headers: readonly (readonly [string, string])[];
  /** Overrides the Host header (from a `Host` entry in httpHeaders). */
  readonly host?: string;
}

export interface HttpGetResponse {
  readonly statusCode: number;
  /** At most MAX_PROBE_OUTPUT_BYTES of the body. */
  readonly body: string;
  /** True when a redirect to another host was not followed and this is that 3xx answer. */
  readonly redirectNotFollowed: boolean;
}

/** A request that did not produce a response: connection refused, timeout, too many redirects. */
export class HttpGetError extends Error {
  constructor(message: string, readonly cancelled = false) {
    super(message);
    this.name = 'HttpGetError';
  }
}

const MAX_REDIRECTS = 10;
const REDIRECT_CODES = new Set([301, 302, 303, 307, 308]);

/**
 * The request an httpGet action describes. `purpose` names the User-Agent: `kube-probe/1.32` or
 * `kube-lifecycle/1.32`. Throws ProbeConfigError for a port the container does not declare.
 */
export function buildHttpGetRequest(action: HTTPGetAction, container: Container, podIP: string, purpose: 'probe' | 'lifecycle'): HttpGetRequest {
  const scheme = (action.scheme ?? 'HTTP').toLowerCase();
  const host = action.host !== undefined && action.host !== '' ? action.host : podIP;
  const port = resolveContainerPort(action.port, container);
  const base = `${scheme}://${joinHostPort(host, port)}`;
  const path = action.path ?? '';
  let url: URL;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    // an absolute URL in `path` keeps only its path and query, as upstream overwrites scheme and host
    const parsed = new URL(path);
    url = new URL(`${parsed.pathname}${parsed.search}`, base);
  } else {
    url = new URL(path.startsWith('/') ? path : `/${path}`, base);
  }
  const given = action.httpHeaders ?? [];
  const has = (name: string): boolean => given.some((h) => h.name.toLowerCase() === name);
  const headers: [string, string][] = [];
  let hostHeader: string | undefined;
  for (const h of given) {
    const lower = h.name.toLowerCase();
    if (lower === 'host') {
      hostHeader ??= h.value;
      continue;
    }
    // an explicitly empty User-Agent or Accept means "send none"
    if ((lower === 'user-agent' || lower === 'accept') && h.value === '') continue;
    headers.push([h.name, h.value]);
  }
  if (!has('user-agent')) headers.push(['User-Agent', `kube-${purpose}/${KUBE_MAJOR_MINOR}`]);
  if (!has('accept')) headers.push(['Accept', '*/*']);
  return { url, headers, ...(hostHeader !== undefined && hostHeader !== '' ? { host: hostHeader } : {}) };
}

export interface HttpGetOptions {
  readonly timeoutMs: number;
  /** Cancels the request (the worker stopped); rejects with a cancelled HttpGetError. */
  readonly signal?: AbortSignal;
  /** Upstream's prober never follows redirects to another host; kept as an option for completeness. */
  readonly followNonLocalRedirects?: boolean;
}

interface Hop {
  readonly statusCode: number;
  readonly location: string | undefined;
  readonly res: IncomingMessage;
}

function headersOf(req: HttpGetRequest): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of req.headers) {
    const prev = out[name];
    out[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
  }
  if (req.host !== undefined) out['Host'] = req.host;
  return out;
}

function sendOne(url: URL, headers: OutgoingHttpHeaders, signal: AbortSignal): Promise<Hop> {
  return new Promise((resolve, reject) => {
    const opts = {
      method: 'GET',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      path: `${url.pathname}${url.search}`,
      headers,
      agent: false as const,
      signal,
    };
    const req = url.protocol === 'https:' ? httpsRequest({ ...opts, rejectUnauthorized: false }) : httpRequest(opts);
    req.on('response', (res) => resolve({ statusCode: res.statusCode ?? 0, location: res.headers.location, res }));
    req.on('error', reject);
    req.end();
  });
}

async function readLimited(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= MAX_PROBE_OUTPUT_BYTES) break;
  }
  res.destroy();
  return Buffer.concat(chunks).subarray(0, MAX_PROBE_OUTPUT_BYTES).toString('utf8');
}

/** Performs the GET with upstream's redirect and timeout rules. Rejects only with HttpGetError. */
export async function httpGet(req: HttpGetRequest, opts: HttpGetOptions): Promise<HttpGetResponse> {
  if (req.url.protocol !== 'http:' && req.url.protocol !== 'https:') {
    throw new HttpGetError(`Get "${req.url.href}": unsupported protocol scheme "${req.url.protocol.replace(/:$/, '')}"`);
  }
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, opts.timeoutMs);
  const onOuterAbort = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const headers = headersOf(req);
  let url = req.url;
  let stage = 'awaiting headers';
  try {
    if (opts.signal?.aborted) throw new HttpGetError(`Get "${url.href}": context canceled`, true);
    for (let hops = 0; ; hops++) {
      stage = 'awaiting headers';
      const hop = await sendOne(url, headers, controller.signal);
      if (REDIRECT_CODES.has(hop.statusCode) && hop.location !== undefined) {
        const next = new URL(hop.location, url);
        if (!opts.followNonLocalRedirects && next.hostname !== req.url.hostname) {
          stage = 'reading body';
          return { statusCode: hop.statusCode, body: await readLimited(hop.res), redirectNotFollowed: true };
        }
        hop.res.destroy();
        if (hops + 1 >= MAX_REDIRECTS) throw new HttpGetError(`Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects`);
        url = next;
        continue;
      }
      stage = 'reading body';
      return { statusCode: hop.statusCode, body: await readLimited(hop.res), redirectNotFollowed: false };
    }
  } catch (err) {
    if (err instanceof HttpGetError) throw err;
    if (timedOut) {
      const what = stage === 'reading body' ? 'Client.Timeout or context cancellation while reading body' : 'Client.Timeout exceeded while awaiting headers';
      throw new HttpGetError(`Get "${url.href}": context deadline exceeded (${what})`);
    }
    if (controller.signal.aborted) throw new HttpGetError(`Get "${url.href}": context canceled`, true);
    const addr = joinHostPort(url.hostname.replace(/^\[|\]$/g, ''), url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80);
    const text = isConnectError(err) ? dialErrorText(err, addr) : err instanceof Error ? err.message : String(err);
    throw new HttpGetError(`Get "${url.href}": ${text}`);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
  }
}
