import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeClock } from '../lib/clock.js';
import { healthResponse, ProxierHealth, startHealthzServer } from './healthz.js';

const PERIOD = 30_000;

describe('ProxierHealth (upstream semantics: unhealthy when work waits longer than 2 sync periods)', () => {
  it('is healthy with nothing queued, even before the first sync', () => {
    const h = new ProxierHealth(new FakeClock(), 2 * PERIOD);
    expect(h.status()).toMatchObject({ healthy: true, lastUpdated: undefined });
  });

  it('turns unhealthy once queued work waits 2 periods, healthy again after a successful sync', async () => {
    const clock = new FakeClock();
    const h = new ProxierHealth(clock, 2 * PERIOD);
    h.queued();
    await clock.advance(2 * PERIOD - 1);
    expect(h.status().healthy).toBe(true);
    await clock.advance(1);
    expect(h.status().healthy).toBe(false);
    h.syncStarting();
    h.synced();
    expect(h.status()).toMatchObject({ healthy: true, lastUpdated: clock.now() });
  });

  it('a failed sync puts its work back with its original age', async () => {
    const clock = new FakeClock();
    const h = new ProxierHealth(clock, 2 * PERIOD);
    h.queued();
    await clock.advance(PERIOD);
    h.syncStarting();
    h.syncFailed();
    h.queued();
    await clock.advance(PERIOD);
    expect(h.status().healthy).toBe(false);
  });

  it('work queued during a sync is not cleared by that sync', async () => {
    const clock = new FakeClock();
    const h = new ProxierHealth(clock, 2 * PERIOD);
    h.queued();
    h.syncStarting();
    await clock.advance(1_000);
    h.queued();
    h.synced();
    await clock.advance(2 * PERIOD);
    expect(h.status().healthy).toBe(false);
  });

  it('/healthz also needs the node to be eligible; /livez does not', () => {
    const s = { healthy: true, nodeEligible: false, lastUpdated: new Date(0), currentTime: new Date(1_000) };
    expect(healthResponse(s, true)).toEqual({ code: 503, body: '{"lastUpdated":"1970-01-01T00:00:00.000Z","currentTime":"1970-01-01T00:00:01.000Z","nodeEligible":false}' });
    expect(healthResponse(s, false).code).toBe(200);
    expect(healthResponse({ ...s, healthy: false, nodeEligible: true }, false).code).toBe(503);
  });
});

describe('the healthz server', () => {
  it('answers /healthz with JSON and 200/503, /metrics when given a registry, 404 otherwise', async () => {
    const clock = new FakeClock();
    const health = new ProxierHealth(clock, 2 * PERIOD);
    const registry = new Registry();
    const server = await startHealthzServer({ address: '127.0.0.1', port: 0, health, registry });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      let r = await fetch(`${url}/healthz`);
      expect(r.status).toBe(200);
      expect(r.headers.get('content-type')).toBe('application/json');
      expect(await r.json()).toMatchObject({ lastUpdated: '', nodeEligible: true });
      health.queued();
      await clock.advance(2 * PERIOD);
      r = await fetch(`${url}/healthz`);
      expect(r.status).toBe(503);
      expect((await fetch(`${url}/metrics`)).status).toBe(200);
      expect((await fetch(`${url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});
