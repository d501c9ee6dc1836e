/**
 * HTTPS to one apiserver: a keep-alive agent holding the TLS identity (CA, client certificate/key),
 * bearer-token and content headers, per-request timeouts and cancellation, and error mapping (no answer
 * -> ClientConnectionError, too slow -> ClientTimeoutError, aborted -> the signal's reason).
 *
 * Cost model: one TLS handshake per pooled socket, reused across requests (keep-alive); a watch holds
 * its socket for as long as it runs, so `maxSockets` is left unbounded. Bodies of ordinary requests are
 * buffered whole; watch bodies are handed over as a stream.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { ClientConfig } from './config.js';
import { DEFAULT_TIMEOUT_MS, validateClientConfig } from './config.js';
import { ClientConnectionError, ClientTimeoutError } from './errors.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface TransportRequest {
  readonly method: HttpMethod;
  /** Path and query, e.g. `/api/v1/pods?limit=10`. */
  readonly path: string;
  readonly body?: string;
  readonly contentType?: string;
  /** Overrides the config's default; 0 disables the timeout. For streams it covers only the headers. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface TransportResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
}

export interface StreamResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body as it arrives; iteration ends when the server closes the stream. */
  readonly body: AsyncIterable<Buffer>;
  /** Stops reading and frees the socket. */
  close(): void;
}

/** What the client needs from HTTP; a test may substitute its own. */
export interface Transport {
  request(req: TransportRequest): Promise<TransportResponse>;
  stream(req: TransportRequest): Promise<StreamResponse>;
  /** Closes idle pooled sockets; in-flight requests finish. */
  close(): void;
}

export class HttpsTransport implements Transport {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly prefix: string;
  private readonly defaultTimeoutMs: number;

  constructor(private readonly config: ClientConfig) {
    validateClientConfig(config);
    this.base = new URL(config.server);
    this.prefix = this.base.pathname.replace(/\/+$/, '');
    this.defaultTimeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.agent = new Agent({
      keepAlive: true,
      ...(config.caPem !== undefined ? { ca: config.caPem } : {}),
      ...(config.certPem !== undefined ? { cert: config.certPem } : {}),
      ...(config.keyPem !== undefined ? { key: config.keyPem } : {}),
      ...(config.tlsServerName !== undefined ? { servername: config.tlsServerName } : {}),
      rejectUnauthorized: config.insecureSkipTlsVerify !== true,
      minVersion: 'TLSv1.2',
    });
  }

  close(): void {
    this.agent.destroy();
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const { res, finish } = await this.send(req, true);
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      return { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') };
    } catch (err) {
      throw finish.translate(err);
    } finally {
      finish.done();
    }
  }

  async stream(req: TransportRequest): Promise<StreamResponse> {
    const { res, finish } = await this.send(req, false);
    finish.done();
    const close = (): void => {
      res.destroy();
    };
    req.signal?.addEventListener('abort', close, { once: true });
    res.once('close', () => req.signal?.removeEventListener('abort', close));
    return { status: res.statusCode ?? 0, headers: res.headers, body: res, close };
  }

  /**
   * Sends the request and resolves with the response once its headers are in. With `wholeBody`, the
   * timeout keeps running until the caller calls `finish.done()` after reading the body.
   */
  private send(req: TransportRequest, wholeBody: boolean): Promise<{ res: IncomingMessage; finish: Finisher }> {
    const signal = req.signal;
    const url = new URL(this.prefix + req.path, this.base);
    const timeoutMs = req.timeoutMs ?? this.defaultTimeoutMs;
    const headers: Record<string, string | number> = {
      Accept: 'application/json',
      'User-Agent': this.config.userAgent ?? 'knode/0.1.0',
    };
    if (this.config.token !== undefined) headers['Authorization'] = `Bearer ${this.config.token}`;
    if (req.body !== undefined) {
      headers['Content-Type'] = req.contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(req.body);
    }
    return new Promise((resolve, reject) => {
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      let timedOut = false;
      let timer: NodeJS.Timeout | undefined;
      const clientReq = httpsRequest(url, { method: req.method, headers, agent: this.agent });
      const onAbort = (): void => {
        clientReq.destroy();
      };
      const translate = (err: unknown): unknown => {
        if (signal?.aborted) return signal.reason;
        if (timedOut) return new ClientTimeoutError(req.method, req.path, timeoutMs);
        return err instanceof ClientConnectionError ? err : new ClientConnectionError(req.method, req.path, { cause: err });
      };
      const done = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      if (timeoutMs > 0) {
        timer = setTimeout(() => {
          timedOut = true;
          clientReq.destroy();
        }, timeoutMs);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      clientReq.once('error', (err) => {
        done();
        reject(translate(err));
      });
      clientReq.once('response', (res) => {
        if (!wholeBody) done();
        // errors while reading the body surface through the body's iterator, translated by the caller
        clientReq.removeAllListeners('error');
        clientReq.on('error', () => undefined);
        resolve({ res, finish: { done, translate } });
      });
      clientReq.end(req.body);
    });
  }
}

interface Finisher {
  done(): void;
  translate(err: unknown): unknown;
}
