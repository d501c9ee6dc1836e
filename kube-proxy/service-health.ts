/**
 * Health-check node ports of externalTrafficPolicy Local Services (upstream's ServiceHealthServer): a
 * cloud load balancer probes `http://<node>:<healthCheckNodePort>/` on every node and sends traffic
 * only to nodes that answer 200, i.e. that have a local endpoint (Local policy drops traffic on the
 * others). One tiny HTTP server per port, answering any path with
 *   {"service":{"namespace":"ns","name":"web"},"localEndpoints":N,"serviceProxyHealthy":true}
 * 200 when N > 0 and the proxy is healthy, else 503; plus the header `X-Load-Balancing-Endpoint-Weight: N`.
 *
 * `planServiceHealth(state)` is pure (port -> Service and local endpoint count); `ServiceHealthServers`
 * reconciles the listening servers with it: opens new ports, closes gone ones, updates the counts of
 * the others in place. A port that cannot be opened (in use) is logged and retried at the next sync.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { Logger } from '../lib/log.js';
import type { ProxyState } from './model.js';
import { selectEndpoints } from './model.js';

export interface ServiceHealth {
  readonly namespace: string;
  readonly name: string;
  /** Distinct usable endpoint IPs on this node over all ports of the Service. */
  readonly localEndpoints: number;
}

/** healthCheckNodePort -> what its server answers. Pure. */
export function planServiceHealth(state: ProxyState): Map<number, ServiceHealth> {
  const byPort = new Map<number, { namespace: string; name: string; ips: Set<string> }>();
  for (const [key, sp] of state.services) {
    if (sp.healthCheckNodePort <= 0) continue;
    let entry = byPort.get(sp.healthCheckNodePort);
    if (entry === undefined) byPort.set(sp.healthCheckNodePort, (entry = { namespace: sp.namespace, name: sp.name, ips: new Set() }));
    for (const ep of selectEndpoints(sp, state.endpoints.get(key) ?? []).local) entry.ips.add(ep.ip);
  }
  return new Map([...byPort].map(([port, e]) => [port, { namespace: e.namespace, name: e.name, localEndpoints: e.ips.size }]));
}

/** Status code, headers and body one health-check port answers. Pure. */
export function serviceHealthResponse(h: ServiceHealth, proxyHealthy: boolean): { code: number; headers: Record<string, string>; body: string } {
  const body = JSON.stringify({ service: { namespace: h.namespace, name: h.name }, localEndpoints: h.localEndpoints, serviceProxyHealthy: proxyHealthy });
  return {
    code: h.localEndpoints > 0 && proxyHealthy ? 200 : 503,
    headers: { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff', 'X-Load-Balancing-Endpoint-Weight': String(h.localEndpoints) },
    body,
  };
}

interface Listener {
  server: Server;
  health: ServiceHealth;
}

export interface ServiceHealthServersOptions {
  /** Where the servers listen; default every address of the node (`0.0.0.0`), as upstream. */
  readonly address?: string;
  readonly proxyHealthy: () => boolean;
  readonly log: Logger;
}

export class ServiceHealthServers {
  private readonly listeners = new Map<number, Listener>();

  constructor(private readonly opts: ServiceHealthServersOptions) {}

  /** Ports currently served. */
  ports(): number[] {
    return [...this.listeners.keys()].sort((a, b) => a - b);
  }

  async sync(plan: ReadonlyMap<number, ServiceHealth>): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const [port, l] of this.listeners) {
      if (plan.has(port)) continue;
      this.listeners.delete(port);
      closing.push(closeServer(l.server));
    }
    for (const [port, health] of plan) {
      const existing = this.listeners.get(port);
      if (existing !== undefined) {
        existing.health = health;
        continue;
      }
      try {
        this.listeners.set(port, await this.listen(port, health));
      } catch (err) {
        this.opts.log.error({ port, service: `${health.namespace}/${health.name}`, err: err instanceof Error ? err.message : String(err) }, 'cannot open the health check node port');
      }
    }
    await Promise.all(closing);
  }

  async close(): Promise<void> {
    const all = [...this.listeners.values()];
    this.listeners.clear();
    await Promise.all(all.map((l) => closeServer(l.server)));
  }

  private async listen(port: number, health: ServiceHealth): Promise<Listener> {
    const listener: Listener = { server: createServer(), health };
    listener.server.on('request', (_req, res) => {
      const r = serviceHealthResponse(listener.health, this.opts.proxyHealthy());
      res.writeHead(r.code, r.headers).end(r.body);
    });
    await new Promise<void>((resolve, reject) => {
      listener.server.once('error', reject);
      listener.server.listen(port, this.opts.address ?? '0.0.0.0', () => {
        listener.server.off('error', reject);
        resolve();
      });
    });
    return listener;
  }
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
