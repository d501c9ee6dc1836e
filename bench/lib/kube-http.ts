/**
 * A minimal HTTPS client for the Kubernetes REST API, built for measuring rather than convenience:
 * every request reports when it was sent and when its last byte arrived (performance.now(), ms), bodies
 * stay Buffers until a caller decodes them, and watches hand over raw lines with the arrival time of
 * the chunk that completed them (taken before any parsing, so JSON decoding in the bench does not count
 * as delivery latency).
 *
 * Credentials are the admin kubeconfig's embedded CA, client certificate and key. One keep-alive Agent
 * per pool; with `maxSockets = C` and C callers each awaiting one request at a time, every caller
 * effectively owns one TLS connection for the whole phase.
 */
import { Agent, request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { parse as parseYaml } from 'yaml';

export interface KubeCreds {
  readonly host: string;
  readonly port: number;
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
  /** A bearer token instead of the client certificate (service account tokens). */
  readonly token?: string;
}

function at(obj: unknown, ...path: Array<string | number>): unknown {
  let cur = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[p];
  }
  return cur;
}

function b64(doc: unknown, what: string, ...path: Array<string | number>): string {
  const v = at(doc, ...path);
  if (typeof v !== 'string') throw new Error(`kubeconfig has no ${what}`);
  return Buffer.from(v, 'base64').toString('utf8');
}

/** Reads clusters[0] and users[0] of a kubeconfig with embedded certificates (as knode writes it). */
export async function loadCreds(kubeconfigPath: string): Promise<KubeCreds> {
  const doc = parseYaml(await readFile(kubeconfigPath, 'utf8')) as unknown;
  const server = at(doc, 'clusters', 0, 'cluster', 'server');
  if (typeof server !== 'string') throw new Error(`kubeconfig ${kubeconfigPath} has no clusters[0].cluster.server`);
  const url = new URL(server);
  return {
    host: url.hostname,
    port: Number(url.port || 443),
    ca: b64(doc, 'certificate-authority-data', 'clusters', 0, 'cluster', 'certificate-authority-data'),
    cert: b64(doc, 'client-certificate-data', 'users', 0, 'user', 'client-certificate-data'),
    key: b64(doc, 'client-key-data', 'users', 0, 'user', 'client-key-data'),
  };
}

export interface Timed {
  readonly status: number;
  readonly body: Buffer;
  /** performance.now() just before the request was handed to the socket. */
  readonly sentAt: number;
  /** performance.now() when the last byte of the response arrived. */
  readonly doneAt: number;
}

export interface RequestSpec {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly accept?: string;
  readonly timeoutMs?: number;
}

export interface WatchHandle {
  readonly status: number;
  close(): void;
  /** Resolves when the server or the client ends the stream. */
  readonly ended: Promise<void>;
}

export class KubeHttp {
  readonly agent: Agent;

  constructor(
    private readonly creds: KubeCreds,
    maxSockets: number,
  ) {
    this.agent = new Agent({
      keepAlive: true,
      maxSockets,
      maxFreeSockets: maxSockets,
      ca: creds.ca,
      ...(creds.token === undefined ? { cert: creds.cert, key: creds.key } : {}),
    });
  }

  request(spec: RequestSpec): Promise<Timed> {
    return new Promise((resolve, reject) => {
      const payload = spec.body !== undefined ? Buffer.from(spec.body, 'utf8') : undefined;
      const headers: Record<string, string | number> = { Accept: spec.accept ?? 'application/json', 'User-Agent': 'knode-bench' };
      if (this.creds.token !== undefined) headers['Authorization'] = `Bearer ${this.creds.token}`;
      if (payload !== undefined) {
        headers['Content-Type'] = 'application/json';
        headers['Content-Length'] = payload.length;
      }
      const sentAt = performance.now();
      const req = httpsRequest(
        { host: this.creds.host, port: this.creds.port, method: spec.method, path: spec.path, agent: this.agent, headers, servername: '' },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), sentAt, doneAt: performance.now() }));
        },
      );
      const timeoutMs = spec.timeoutMs ?? 30_000;
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${spec.method} ${spec.path}: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like request(), but throws with the server's message unless the status is 2xx. */
  async ok(spec: RequestSpec): Promise<Timed> {
    const r = await this.request(spec);
    if (r.status < 200 || r.status >= 300) {
      throw new Error(`${spec.method} ${spec.path} answered ${r.status}: ${r.body.toString('utf8').slice(0, 500)}`);
    }
    return r;
  }

  /**
   * Opens a watch stream; `onLine` gets each complete line and the arrival time of the chunk that
   * finished it. Resolves once the response headers arrived.
   */
  watch(path: string, onLine: (line: string, receivedAt: number) => void): Promise<WatchHandle> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: this.creds.host,
          port: this.creds.port,
          method: 'GET',
          path,
          agent: this.agent,
          headers: { Accept: 'application/json', 'User-Agent': 'knode-bench' },
          servername: '',
        },
        (res) => {
          let buf = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const receivedAt = performance.now();
            buf += chunk;
            let nl: number;
            while ((nl = buf.indexOf('\n')) >= 0) {
              const line = buf.slice(0, nl);
              buf = buf.slice(nl + 1);
              if (line.trim() !== '') onLine(line, receivedAt);
            }
          });
          const ended = new Promise<void>((done) => {
            res.once('end', done);
            res.once('close', done);
            res.once('error', () => done());
          });
          resolve({ status: res.statusCode ?? 0, ended, close: () => res.destroy() });
        },
      );
      // Only the wait for headers is bounded; an open stream may stay quiet between writes.
      const timer = setTimeout(() => req.destroy(new Error(`watch ${path}: no headers within 30 s`)), 30_000);
      req.once('response', () => clearTimeout(timer));
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** Runs `concurrency` GETs at once so the agent opens (and keeps) that many connections. */
export async function warmConnections(http: KubeHttp, concurrency: number, path: string): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, () => http.ok({ method: 'GET', path })));
}
