/**
 * A scripted HTTPS server on loopback for the client's unit tests: a throwaway CA and serving
 * certificate from lib/pki (and a client certificate when a test wants mutual TLS), every request
 * recorded (method, path, query, headers, body, peer certificate CN), and answers from a handler the
 * test sets. Not a fake apiserver in the semantic sense: tests say exactly what it answers.
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { createCA, createClientCert, createServingCert, encodeCertKeyPair } from '../../pki/certs.js';

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** CN of the client certificate, when one was presented and verified. */
  readonly clientCN?: string;
}

export type Handler = (req: RecordedRequest, res: ServerResponse) => void | Promise<void>;

export interface FakeTlsMaterial {
  readonly caPem: string;
  readonly servingCertPem: string;
  readonly servingKeyPem: string;
  readonly clientCertPem: string;
  readonly clientKeyPem: string;
}

/** One CA, a serving cert for 127.0.0.1/localhost, and a client cert `CN=tester, O=testers`. */
export async function makeTlsMaterial(): Promise<FakeTlsMaterial> {
  const ca = await createCA('fake-apiserver-ca');
  const serving = await encodeCertKeyPair(await createServingCert(ca, { commonName: 'fake-apiserver', ips: ['127.0.0.1'], dnsNames: ['localhost'] }));
  const client = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'tester', organizations: ['testers'] }));
  const caPem = (await encodeCertKeyPair(ca)).certPem;
  return { caPem, servingCertPem: serving.certPem, servingKeyPem: serving.keyPem, clientCertPem: client.certPem, clientKeyPem: client.keyPem };
}

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  /** TLS connections accepted so far (keep-alive tests count them). */
  connections = 0;
  private handler: Handler = (_req, res) => sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 404, reason: 'NotFound', message: 'no handler' });
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly tls: FakeTlsMaterial,
  ) {}

  static async start(tls?: FakeTlsMaterial): Promise<FakeApiServer> {
    const material = tls ?? (await makeTlsMaterial());
    let self: FakeApiServer | undefined;
    const server = createServer(
      { cert: material.servingCertPem, key: material.servingKeyPem, ca: material.caPem, requestCert: true, rejectUnauthorized: false },
      (req, res) => {
        void self?.dispatch(req, res);
      },
    );
    server.on('secureConnection', (s: TLSSocket) => {
      if (self) self.connections++;
      self?.sockets.add(s);
      s.once('close', () => self?.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    self = new FakeApiServer(server, `https://127.0.0.1:${port}`, material);
    return self;
  }

  handle(h: Handler): void {
    this.handler = h;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'https://fake');
    const socket = req.socket as TLSSocket;
    const cn = socket.authorized ? socket.getPeerCertificate().subject?.CN : undefined;
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body: Buffer.concat(chunks).toString('utf8'),
      ...(typeof cn === 'string' ? { clientCN: cn } : {}),
    };
    this.requests.push(recorded);
    try {
      await this.handler(recorded, res);
    } catch (err) {
      if (!res.headersSent) sendJson(res, 500, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, message: String(err) });
      else res.end();
    }
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

export function status(code: number, reason: string, message: string): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', code, reason, message };
}

/** Starts a chunked watch response; `send` writes one event line (optionally split in two writes). */
export function startWatch(res: ServerResponse): { send(ev: unknown, split?: boolean): void; end(): void } {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
  res.flushHeaders();
  return {
    send(ev, split = false) {
      const line = `${JSON.stringify(ev)}\n`;
      if (!split) {
        res.write(line);
        return;
      }
      const mid = Math.floor(line.length / 2);
      res.write(line.slice(0, mid));
      res.write(line.slice(mid));
    },
    end() {
      res.end();
    },
  };
}
