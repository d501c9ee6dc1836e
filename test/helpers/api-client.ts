/**
 * A raw HTTPS client for the apiserver, for tests that must see exactly what the server answers
 * (status code, headers, the Status body) without kubectl or client-go smoothing it over.
 *
 * Credentials come from the admin kubeconfig the server writes (embedded base64 PEMs), or are given
 * explicitly (another CA's client cert, a bearer token, nothing at all for anonymous requests).
 * `watch()` reads a newline-delimited JSON event stream into a buffer that tests wait on by condition.
 *
 * Cost model: one keep-alive agent per client (unbounded sockets, so many watches can be open at
 * once); bodies are buffered whole, which is fine for test-sized objects.
 */
import { request as httpsRequest, Agent } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parse as parseYaml } from 'yaml';

export interface Credentials {
  /** `https://127.0.0.1:port` */
  readonly server: string;
  readonly caPem: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
}

function field(obj: unknown, ...path: Array<string | number>): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

const fromB64 = (v: unknown, what: string): string => {
  if (typeof v !== 'string') throw new Error(`kubeconfig has no ${what}`);
  return Buffer.from(v, 'base64').toString('utf8');
};

/** Reads the first cluster and user of a kubeconfig with embedded credentials (as knode writes it). */
export async function loadKubeconfig(path: string): Promise<Credentials> {
  const doc = parseYaml(await readFile(path, 'utf8')) as unknown;
  const server = field(doc, 'clusters', 0, 'cluster', 'server');
  if (typeof server !== 'string') throw new Error(`kubeconfig ${path} has no clusters[0].cluster.server`);
  const token = field(doc, 'users', 0, 'user', 'token');
  const cert = field(doc, 'users', 0, 'user', 'client-certificate-data');
  return {
    server,
    caPem: fromB64(field(doc, 'clusters', 0, 'cluster', 'certificate-authority-data'), 'certificate-authority-data'),
    ...(cert !== undefined
      ? { certPem: fromB64(cert, 'client-certificate-data'), keyPem: fromB64(field(doc, 'users', 0, 'user', 'client-key-data'), 'client-key-data') }
      : {}),
    ...(typeof token === 'string' ? { token } : {}),
  };
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** The parsed JSON body, or undefined when the body is not JSON. */
  readonly body: unknown;
}

export interface RequestOptions {
  /** A string or Buffer is sent as is; anything else is JSON-encoded. */
  readonly body?: unknown;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
  /** Send the body with Transfer-Encoding: chunked (no Content-Length), in 64 KiB writes. */
  readonly chunked?: boolean;
}

export interface WatchEventLine {
  readonly type: string;
  readonly object: Record<string, unknown>;
}

export interface WatchStream {
  /** The HTTP status of the watch request (200 when the stream started). */
  readonly status: number;
  /** Events received so far, in order. */
  readonly events: readonly WatchEventLine[];
  /** Lines that were not valid JSON events (should stay empty). */
  readonly badLines: readonly string[];
  /** Resolves when the server ends the stream (or the client closes it). */
  readonly ended: Promise<void>;
  readonly isEnded: () => boolean;
  /** Waits until `events` holds at least `count` events matching `pred`; returns the matching ones. */
  waitFor(pred: (e: WatchEventLine) => boolean, count?: number, timeoutMs?: number): Promise<WatchEventLine[]>;
  close(): void;
}

export interface ApiClient {
  readonly creds: Credentials;
  request(method: string, path: string, opts?: RequestOptions): Promise<ApiResponse>;
  get(path: string, opts?: RequestOptions): Promise<ApiResponse>;
  post(path: string, body: unknown, opts?: RequestOptions): Promise<ApiResponse>;
  put(path: string, body: unknown, opts?: RequestOptions): Promise<ApiResponse>;
  patch(path: string, body: unknown, contentType: string, opts?: RequestOptions): Promise<ApiResponse>;
  delete(path: string, opts?: RequestOptions): Promise<ApiResponse>;
  /** Opens a watch (the path should carry `watch=1` or use `/watch/`); resolves once headers arrived. */
  watch(path: string): Promise<WatchStream>;
  /** Closes idle keep-alive sockets. */
  close(): void;
}

export interface ClientOptions {
  /** Send no client certificate (the bearer token, if any, is still sent). */
  readonly anonymous?: boolean;
  readonly token?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

export function createApiClient(creds: Credentials, opts: ClientOptions = {}): ApiClient {
  const base = new URL(creds.server);
  const certPem = opts.anonymous ? undefined : (opts.certPem ?? creds.certPem);
  const keyPem = opts.anonymous ? undefined : (opts.keyPem ?? creds.keyPem);
  const token = opts.token ?? (opts.anonymous ? undefined : creds.token);
  const agent = new Agent({
    keepAlive: true,
    ca: creds.caPem,
    ...(certPem !== undefined && keyPem !== undefined ? { cert: certPem, key: keyPem } : {}),
  });

  const start = (method: string, path: string, ro: RequestOptions, onResponse: (res: IncomingMessage) => void, onError: (err: Error) => void): void => {
    let payload: Buffer | undefined;
    if (ro.body !== undefined) {
      payload = Buffer.isBuffer(ro.body) ? ro.body : Buffer.from(typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body), 'utf8');
    }
    const headers: Record<string, string | number> = { Accept: 'application/json', ...(ro.headers ?? {}) };
    if (payload !== undefined) {
      headers['Content-Type'] = ro.contentType ?? 'application/json';
      if (!ro.chunked) headers['Content-Length'] = payload.length;
    }
    if (token !== undefined) headers['Authorization'] = `Bearer ${token}`;
    const req = httpsRequest(
      { hostname: base.hostname, port: base.port, path, method, agent, headers, servername: isIP(base.hostname.replace(/^\[|\]$/g, '')) ? '' : base.hostname },
      onResponse,
    );
    req.on('error', onError);
    if (ro.timeoutMs !== undefined) {
      req.setTimeout(ro.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer in ${ro.timeoutMs} ms`)));
    }
    if (ro.chunked && payload !== undefined) {
      // the server may answer (413) and stop reading before we are done: that is not our failure
      req.on('error', () => undefined);
      for (let i = 0; i < payload.length; i += 65536) req.write(payload.subarray(i, i + 65536));
      req.end();
    } else req.end(payload);
  };

  const request = (method: string, path: string, ro: RequestOptions = {}): Promise<ApiResponse> =>
    new Promise((resolve, reject) => {
      start(
        method,
        path,
        { timeoutMs: 30_000, ...ro },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let body: unknown;
            try {
              body = text === '' ? undefined : (JSON.parse(text) as unknown);
            } catch {
              body = undefined;
            }
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
          });
        },
        reject,
      );
    });

  const watch = (path: string): Promise<WatchStream> =>
    new Promise((resolve, reject) => {
      start(
        'GET',
        path,
        {},
        (res) => {
          const events: WatchEventLine[] = [];
          const badLines: string[] = [];
          const waiters = new Set<() => void>();
          let ended = false;
          let buf = '';
          const notify = (): void => {
            for (const w of [...waiters]) w();
          };
          const ended$ = new Promise<void>((done) => {
            const finish = (): void => {
              if (ended) return;
              ended = true;
              notify();
              done();
            };
            res.on('end', finish);
            res.on('close', finish);
            res.on('error', finish);
          });
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl).trim();
              buf = buf.slice(nl + 1);
              if (line === '') continue;
              try {
                const ev = JSON.parse(line) as unknown;
                const type = field(ev, 'type');
                const object = field(ev, 'object');
                if (typeof type === 'string' && typeof object === 'object' && object !== null) {
                  events.push({ type, object: object as Record<string, unknown> });
                } else badLines.push(line);
              } catch {
                // a non-200 answer is one JSON Status, not an event: keep it for the test to see
                badLines.push(line);
              }
            }
            notify();
          });
          const stream: WatchStream = {
            status: res.statusCode ?? 0,
            events,
            badLines,
            ended: ended$,
            isEnded: () => ended,
            waitFor: (pred, count = 1, timeoutMs = 15_000) =>
              new Promise((ok, fail) => {
                const check = (): boolean => {
                  const hits = events.filter(pred);
                  if (hits.length >= count) {
                    cleanup();
                    ok(hits);
                    return true;
                  }
                  if (ended) {
                    cleanup();
                    fail(new Error(`watch ${path} ended with ${hits.length}/${count} matching events; got ${describeEvents(events)}`));
                    return true;
                  }
                  return false;
                };
                const timer = setTimeout(() => {
                  cleanup();
                  fail(new Error(`watch ${path}: timed out after ${timeoutMs} ms waiting for ${count} matching events; got ${describeEvents(events)}`));
                }, timeoutMs);
                const cleanup = (): void => {
                  clearTimeout(timer);
                  waiters.delete(waiter);
                };
                const waiter = (): void => {
                  check();
                };
                if (!check()) waiters.add(waiter);
              }),
            close: () => {
              res.destroy();
            },
          };
          resolve(stream);
        },
        reject,
      );
    });

  return {
    creds,
    request,
    get: (path, ro) => request('GET', path, ro),
    post: (path, body, ro) => request('POST', path, { ...ro, body }),
    put: (path, body, ro) => request('PUT', path, { ...ro, body }),
    patch: (path, body, contentType, ro) => request('PATCH', path, { ...ro, body, contentType }),
    delete: (path, ro) => request('DELETE', path, ro),
    watch,
    close: () => agent.destroy(),
  };
}

export function describeEvents(events: readonly WatchEventLine[]): string {
  const parts = events.map((e) => {
    const md = field(e.object, 'metadata');
    return `${e.type}(${String(field(md, 'name') ?? field(e.object, 'code') ?? '')}@${String(field(md, 'resourceVersion') ?? '')})`;
  });
  return parts.length > 20 ? `${parts.slice(0, 20).join(' ')} ... (${parts.length} in all)` : parts.join(' ') || 'nothing';
}

/** A meta/v1 Status as the apiserver sends it for failures. */
export interface StatusBody {
  readonly kind: 'Status';
  readonly apiVersion: string;
  readonly status: 'Failure' | 'Success';
  readonly code: number;
  readonly reason?: string;
  readonly message?: string;
  readonly details?: {
    readonly name?: string;
    readonly kind?: string;
    readonly causes?: ReadonlyArray<{ readonly field?: string; readonly reason?: string; readonly message?: string }>;
  };
}

export function isStatus(body: unknown): body is StatusBody {
  return field(body, 'kind') === 'Status' && typeof field(body, 'code') === 'number' && typeof field(body, 'status') === 'string';
}

/** The `metadata` of a returned object, narrowed enough for assertions. */
export interface ObjectMetaView {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly deletionTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export function metaOf(obj: unknown): ObjectMetaView {
  const md = field(obj, 'metadata');
  return typeof md === 'object' && md !== null ? (md as ObjectMetaView) : {};
}

export function itemsOf(body: unknown): ReadonlyArray<Record<string, unknown>> {
  const items = field(body, 'items');
  return Array.isArray(items) ? (items as Array<Record<string, unknown>>) : [];
}

export { field as getField };

/** Polls `fn` until it returns a value that is not undefined, or throws after `timeoutMs`. */
export async function waitUntil<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * Checks that an answer is a well-formed failure `Status` (kind Status, status Failure, code equal to
 * the HTTP code, a reason, a non-empty message) and returns it; throws a readable error otherwise.
 */
export function failureStatus(res: ApiResponse): StatusBody {
  const b = res.body;
  if (!isStatus(b)) throw new Error(`expected a Status body for HTTP ${res.status}, got: ${res.text.slice(0, 300)}`);
  const problems: string[] = [];
  if (b.status !== 'Failure') problems.push(`status is ${JSON.stringify(b.status)}, not "Failure"`);
  if (b.code !== res.status) problems.push(`code ${b.code} differs from the HTTP status ${res.status}`);
  if (typeof b.reason !== 'string' || b.reason === '') problems.push('reason is missing');
  if (typeof b.message !== 'string' || b.message === '') problems.push('message is missing');
  if (b.apiVersion !== 'v1') problems.push(`apiVersion is ${JSON.stringify(b.apiVersion)}, not "v1"`);
  if (problems.length > 0) throw new Error(`malformed Status (${problems.join('; ')}): ${res.text.slice(0, 300)}`);
  return b;
}

/** Opens a client for the admin kubeconfig a test server wrote. */
export async function adminClient(kubeconfigPath: string, opts: ClientOptions = {}): Promise<ApiClient> {
  return createApiClient(await loadKubeconfig(kubeconfigPath), opts);
}
