/**
 * The proxy's own health, upstream's semantics (pkg/proxy/healthcheck/proxier_health.go): the proxy
 * is healthy unless some work has been waiting longer than `timeoutMs` (2 x the sync period) for a
 * successful sync. Work is queued by every Service/EndpointSlice change and by every periodic resync
 * deadline, so a proxy whose syncs keep failing (or stopped) turns unhealthy within 2 periods, and an
 * idle one whose periodic resyncs succeed stays healthy. A change that arrives while a sync runs is
 * not cleared by that sync's success (upstream clears it; we track the in-flight work apart).
 *
 * `/healthz` also fails while the node is being deleted (upstream's `nodeEligible`, for load
 * balancers draining the node); `/livez` answers the proxy's health alone. Both answer JSON:
 *   {"lastUpdated": "<last successful sync>", "currentTime": "<now>", "nodeEligible": true}
 * with 200 or 503. The server listens on the node IP (`--healthz-port`, default 10256) and, in the
 * standalone `knode proxy`, serves `/metrics` too.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Clock } from '../lib/clock.js';

export const DEFAULT_HEALTHZ_PORT = 10256;

export interface HealthStatus {
  readonly healthy: boolean;
  readonly nodeEligible: boolean;
  readonly lastUpdated: Date | undefined;
  readonly currentTime: Date;
}

export class ProxierHealth {
  private lastUpdated: number | undefined;
  private oldestQueued: number | undefined;
  private inFlight: number | undefined;
  private nodeEligible = true;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
  ) {}

  /** Work arrived (a change, a periodic deadline). */
  queued(): void {
    this.oldestQueued ??= this.clock.now().getTime();
  }

  /** A sync starts: the work queued so far is in flight. */
  syncStarting(): void {
    if (this.oldestQueued !== undefined) this.inFlight = Math.min(this.inFlight ?? this.oldestQueued, this.oldestQueued);
    this.oldestQueued = undefined;
  }

  /** The sync that started last succeeded. */
  synced(): void {
    this.inFlight = undefined;
    this.lastUpdated = this.clock.now().getTime();
  }

  /** The sync that started last failed: its work is queued again. */
  syncFailed(): void {
    if (this.inFlight !== undefined) this.oldestQueued = Math.min(this.inFlight, this.oldestQueued ?? this.inFlight);
    this.inFlight = undefined;
  }

  setNodeEligible(eligible: boolean): void {
    this.nodeEligible = eligible;
  }

  status(): HealthStatus {
    const now = this.clock.now().getTime();
    const pendingSince = Math.min(this.oldestQueued ?? Number.POSITIVE_INFINITY, this.inFlight ?? Number.POSITIVE_INFINITY);
    return {
      healthy: !Number.isFinite(pendingSince) || now - pendingSince < this.timeoutMs,
      nodeEligible: this.nodeEligible,
      lastUpdated: this.lastUpdated !== undefined ? new Date(this.lastUpdated) : undefined,
      currentTime: new Date(now),
    };
  }
}

/** The JSON body and status code of `/healthz` (withNode) or `/livez`. Pure. */
export function healthResponse(s: HealthStatus, withNode: boolean): { code: number; body: string } {
  const ok = s.healthy && (!withNode || s.nodeEligible);
  const body = JSON.stringify({ lastUpdated: s.lastUpdated?.toISOString() ?? '', currentTime: s.currentTime.toISOString(), nodeEligible: s.nodeEligible });
  return { code: ok ? 200 : 503, body };
}

export interface HealthzServerOptions {
  readonly address: string;
  readonly port: number;
  readonly health: ProxierHealth;
  /** Serve this registry on /metrics too (the standalone proxy). */
  readonly registry?: Registry;
}

export interface RunningHealthzServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthzServer(opts: HealthzServerOptions): Promise<RunningHealthzServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/livez') {
      const r = healthResponse(opts.health.status(), path === '/healthz');
      res.writeHead(r.code, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(r.body);
      return;
    }
    if (path === '/metrics' && opts.registry !== undefined) {
      const registry = opts.registry;
      registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
      return;
    }
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.address, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
