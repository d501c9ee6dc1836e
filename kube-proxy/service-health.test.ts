import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Service } from '../api/core/service-types.js';
import { silentLogger } from '../lib/log.js';
import { planServiceHealth, ServiceHealthServers, serviceHealthResponse } from './service-health.js';
import { NODE, OTHER_NODE, service, slice, state } from './testing/fixtures.js';

const lb = (name: string, hc: number, policy: 'Local' | 'Cluster' = 'Local'): Service =>
  service(name, {
    type: 'LoadBalancer',
    clusterIP: '10.96.0.30',
    externalTrafficPolicy: policy,
    healthCheckNodePort: hc,
    ports: [
      { name: 'http', port: 80, nodePort: 30080 },
      { name: 'https', port: 443, nodePort: 30443 },
    ],
  });
const lbSlice = (name: string, eps: Array<{ ip: string; node: string }>) =>
  slice(name, [{ name: 'http', port: 8080 }, { name: 'https', port: 8443 }], eps);

describe('planServiceHealth', () => {
  it('one entry per health check port, counting distinct local endpoints over all ports', () => {
    const plan = planServiceHealth(
      state(
        [lb('web', 32001), lb('api', 32002), lb('cluster', 32003, 'Cluster')],
        [
          lbSlice('web', [
            { ip: '10.244.1.5', node: NODE },
            { ip: '10.244.1.6', node: NODE },
            { ip: '10.244.2.7', node: OTHER_NODE },
          ]),
          lbSlice('api', [{ ip: '10.244.2.8', node: OTHER_NODE }]),
        ],
      ),
    );
    expect([...plan]).toEqual([
      [32001, { namespace: 'default', name: 'web', localEndpoints: 2 }],
      [32002, { namespace: 'default', name: 'api', localEndpoints: 0 }],
    ]);
  });

  it('answers 200 with local endpoints, 503 without (or when the proxy is unhealthy)', () => {
    const h = { namespace: 'default', name: 'web', localEndpoints: 2 };
    expect(serviceHealthResponse(h, true)).toMatchObject({
      code: 200,
      body: '{"service":{"namespace":"default","name":"web"},"localEndpoints":2,"serviceProxyHealthy":true}',
      headers: { 'X-Load-Balancing-Endpoint-Weight': '2' },
    });
    expect(serviceHealthResponse({ ...h, localEndpoints: 0 }, true).code).toBe(503);
    expect(serviceHealthResponse(h, false).code).toBe(503);
  });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('ServiceHealthServers', () => {
  it('opens, updates and closes one server per port', async () => {
    const servers = new ServiceHealthServers({ address: '127.0.0.1', proxyHealthy: () => true, log: silentLogger() });
    const port = await freePort();
    try {
      await servers.sync(new Map([[port, { namespace: 'default', name: 'web', localEndpoints: 1 }]]));
      let r = await fetch(`http://127.0.0.1:${port}/`);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ service: { namespace: 'default', name: 'web' }, localEndpoints: 1, serviceProxyHealthy: true });
      await servers.sync(new Map([[port, { namespace: 'default', name: 'web', localEndpoints: 0 }]]));
      r = await fetch(`http://127.0.0.1:${port}/anything`);
      expect(r.status).toBe(503);
      expect(servers.ports()).toEqual([port]);
      await servers.sync(new Map());
      expect(servers.ports()).toEqual([]);
      await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();
    } finally {
      await servers.close();
    }
  });

  it('a port in use is skipped (and tried again at the next sync)', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as AddressInfo).port;
    const servers = new ServiceHealthServers({ address: '127.0.0.1', proxyHealthy: () => true, log: silentLogger() });
    try {
      await servers.sync(new Map([[port, { namespace: 'default', name: 'web', localEndpoints: 1 }]]));
      expect(servers.ports()).toEqual([]);
      await new Promise<void>((r) => busy.close(() => r()));
      await servers.sync(new Map([[port, { namespace: 'default', name: 'web', localEndpoints: 1 }]]));
      expect(servers.ports()).toEqual([port]);
    } finally {
      await servers.close();
    }
  });
});
