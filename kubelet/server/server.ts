/**
 * The kubelet's HTTPS server (port 10250): what the apiserver and monitoring call on a node.
 *   /healthz                                   `ok` (anonymous allowed, as a liveness check)
 *   /pods                                      PodList of the pods this kubelet runs
 *   /containerLogs/{ns}/{pod}/{container}      container logs (container-logs.ts)
 *   /metrics                                   the kubelet's prom-client registry
 *   /exec/{ns}/{pod}/{container}, /attach/...  WebSocket RemoteCommand streams (exec.ts)
 *   /portForward/{ns}/{pod}[/{uid}]            SPDY port forwarding, plain or WebSocket-tunnelled (port-forward.ts)
 * Every other path needs a client certificate signed by the cluster CA (401 Status otherwise) and
 * passes the optional authorizer (403). Upgrade requests go through the same routing with a
 * response bound to their socket (lib/websocket/upgrade.ts).
 *
 * Cost: one TLS handshake per connection; handlers are O(pods) or stream a file.
 */
import { createServer } from 'node:https';
import type { Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { RuntimeService } from '../cri/services.js';
import type { RuntimePod } from '../types.js';
import { authenticate, requestAttributes, writeForbidden, writeStatus, writeUnauthorized } from './auth.js';
import type { Authorizer } from './auth.js';
import { serveContainerLogs } from './container-logs.js';
import { serveRemoteCommand } from './exec.js';
import type { RemoteCommandDeps } from './exec.js';
import { servePortForward } from './port-forward.js';
import type { PortForwardDeps } from './port-forward.js';
import { responseForUpgrade } from '../../lib/websocket/upgrade.js';

export const DEFAULT_KUBELET_PORT = 10250;

export interface KubeletServerOptions {
  /** Default 0.0.0.0. */
  readonly bindAddress?: string;
  /** Default 10250; 0 picks a free port (tests). */
  readonly port?: number;
  /** The serving certificate (chain) and key, PEM. */
  readonly tls: { readonly certPem: string; readonly keyPem: string };
  /** CA bundle client certificates must chain to (the cluster CA). */
  readonly clientCaPem: string;
  readonly pods: () => readonly Pod[] | Promise<readonly Pod[]>;
  readonly runtimePod: (uid: string) => RuntimePod | undefined | Promise<RuntimePod | undefined>;
  /** portForward is optional: without it /portForward answers 501. */
  readonly runtime: Pick<RuntimeService, 'containerStatus' | 'exec' | 'attach'> & Partial<Pick<RuntimeService, 'portForward'>>;
  readonly metrics?: Registry;
  readonly authorize?: Authorizer;
  /** Default /var/log/pods. */
  readonly podLogsRoot?: string;
  readonly logPollIntervalMs?: number;
  /** How exec/attach reach the runtime's streaming server (tests); default runtime-stream.ts. */
  readonly dialRuntime?: RemoteCommandDeps['dial'];
  /** How port forwarding reaches the runtime's streaming server (tests); default port-forward.ts. */
  readonly dialPortForward?: PortForwardDeps['dial'];
  readonly clock?: Clock;
  readonly log?: Logger;
}

export class KubeletServer {
  private server: Server | undefined;

  constructor(private readonly opts: KubeletServerOptions) {}

  async start(): Promise<AddressInfo> {
    const server = createServer({
      cert: this.opts.tls.certPem,
      key: this.opts.tls.keyPem,
      ca: this.opts.clientCaPem,
      requestCert: true,
      // anonymous clients still connect; authenticate() reads the verdict from the socket
      rejectUnauthorized: false,
    });
    const serve = (req: IncomingMessage, res: ServerResponse): void => {
      this.handle(req, res).catch((err: unknown) => {
        this.opts.log?.error({ err, url: req.url }, 'kubelet server request failed');
        if (!res.headersSent) writeStatus(res, 500, 'InternalError', err instanceof Error ? err.message : String(err));
        else res.destroy();
      });
    };
    server.on('request', serve);
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => serve(req, responseForUpgrade(req, socket, head)));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port ?? DEFAULT_KUBELET_PORT, this.opts.bindAddress ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    return server.address() as AddressInfo;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // log followers hold connections open: end them instead of waiting
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    const user = authenticate(req);
    if (path === '/healthz' && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end('ok');
      return;
    }
    if (!user) return writeUnauthorized(res);
    const attrs = requestAttributes(method, path);
    if (this.opts.authorize && !(await this.opts.authorize(user, attrs))) return writeForbidden(res, user, attrs);
    const segments = path.split('/').slice(1).map((s) => decodeURIComponent(s));
    const streaming = segments[0] === 'exec' || segments[0] === 'attach' || segments[0] === 'portForward';
    const allowed = method === 'GET' || method === 'HEAD' || (streaming && method === 'POST');
    if (!allowed) return writeStatus(res, 405, 'MethodNotAllowed', `method ${method} is not allowed on ${path}`);

    switch (segments[0]) {
      case 'pods':
        if (segments.length !== 1) break;
        return this.writeJson(res, { kind: 'PodList', apiVersion: 'v1', metadata: {}, items: await this.opts.pods() });
      case 'metrics':
        if (segments.length !== 1 || !this.opts.metrics) break;
        return this.writeMetrics(res, this.opts.metrics);
      case 'containerLogs':
        return serveContainerLogs(
          {
            pods: this.opts.pods,
            runtimePod: this.opts.runtimePod,
            runtime: this.opts.runtime,
            clock: this.opts.clock ?? realClock,
            ...(this.opts.podLogsRoot !== undefined ? { podLogsRoot: this.opts.podLogsRoot } : {}),
            ...(this.opts.logPollIntervalMs !== undefined ? { logPollIntervalMs: this.opts.logPollIntervalMs } : {}),
            ...(this.opts.log ? { log: this.opts.log } : {}),
          },
          req,
          res,
          segments.slice(1),
          url.searchParams,
        );
      case 'exec':
      case 'attach':
        return serveRemoteCommand(
          {
            pods: this.opts.pods,
            runtimePod: this.opts.runtimePod,
            runtime: this.opts.runtime,
            ...(this.opts.dialRuntime ? { dial: this.opts.dialRuntime } : {}),
            ...(this.opts.log ? { log: this.opts.log } : {}),
          },
          segments[0],
          req,
          res,
          segments.slice(1),
          url.searchParams,
        );
      case 'portForward':
        return servePortForward(
          {
            pods: this.opts.pods,
            runtimePod: this.opts.runtimePod,
            runtime: this.opts.runtime,
            ...(this.opts.dialPortForward ? { dial: this.opts.dialPortForward } : {}),
            ...(this.opts.log ? { log: this.opts.log } : {}),
          },
          req,
          res,
          segments.slice(1),
          url.searchParams,
        );
      default:
        break;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
    res.end('404 page not found\n');
  }

  private writeJson(res: ServerResponse, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
  }

  private async writeMetrics(res: ServerResponse, registry: Registry): Promise<void> {
    const text = await registry.metrics();
    res.writeHead(200, { 'Content-Type': registry.contentType });
    res.end(text);
  }
}
