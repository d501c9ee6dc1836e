import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node, NodeCondition } from '../../api/core/node.js';
import { FakeClock } from '../../lib/clock.js';
import { resources } from '../../lib/client/resource.js';
import { FakeRuntimeService } from '../cri/fake-runtime.js';
import { apiError, FakeApi } from './fake-api.js';
import type { HostProbe, MachineInfo, PressureStats } from './host-info.js';
import { NodeStatusReporter } from './status-reporter.js';

const machine: MachineInfo = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  hugepages: {},
  ephemeralStorageBytes: 20 * 1024 ** 3,
  machineID: 'm',
  systemUUID: 'u',
  bootID: 'b',
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
};

class StubHost implements HostProbe {
  stats: PressureStats = { memoryAvailableBytes: 2 * 1024 ** 3 };
  async machineInfo(): Promise<MachineInfo> {
    return machine;
  }
  async pressureStats(): Promise<PressureStats> {
    return this.stats;
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

const ready = (n: Node | undefined): NodeCondition | undefined => n?.status?.conditions?.find((c) => c.type === 'Ready');
const unavailable = () => apiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');

describe('NodeStatusReporter', () => {
  let clock: FakeClock;
  let api: FakeApi;
  let runtime: FakeRuntimeService;
  let host: StubHost;
  let reporter: NodeStatusReporter;
  let ac: AbortController;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    clock = new FakeClock();
    api = new FakeApi(() => clock.now());
    runtime = new FakeRuntimeService({ clock });
    host = new StubHost();
    reporter = new NodeStatusReporter({ client: api, runtime, host, clock, config: { nodeName: 'n1', nodeIPs: ['10.0.0.11'] } });
    ac = new AbortController();
    running = undefined;
  });

  afterEach(async () => {
    ac.abort();
    await running;
  });

  const start = async (): Promise<void> => {
    running = reporter.run(ac.signal);
    await settle();
  };
  const stored = (): Node | undefined => api.object<Node>(resources.nodes, 'n1');

  it('registers a new Node that is Ready, with labels and addresses', async () => {
    await start();
    const node = stored();
    expect(node?.metadata.labels?.['kubernetes.io/hostname']).toBe('n1');
    expect(node?.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.0.0.11' },
      { type: 'Hostname', address: 'n1' },
    ]);
    expect(ready(node)).toMatchObject({ status: 'True', reason: 'KubeletReady' });
    expect((await reporter.registered).metadata.uid).toBe(node?.metadata.uid);
    expect(reporter.stats.registrations).toBe(1);
  });

  it('on AlreadyExists fetches the Node and reconciles its default labels', async () => {
    api.put(resources.nodes, { metadata: { name: 'n1', labels: { 'kubernetes.io/hostname': 'old', keep: 'me' } } });
    await start();
    expect(stored()?.metadata.labels).toMatchObject({ 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux', keep: 'me' });
    expect(api.callsOf('patch', 'nodes').filter((c) => c.subresource === undefined)).toHaveLength(1);
    // the status was not there: the first check fills it in
    expect(ready(stored())?.status).toBe('True');
  });

  it('retries registration with back-off until the apiserver answers', async () => {
    api.failNext('create', unavailable(), 2);
    await start();
    expect(stored()).toBeUndefined();
    await clock.advance(100);
    expect(stored()).toBeUndefined();
    await clock.advance(200);
    expect(stored()).toBeDefined();
    expect(reporter.stats.failures).toBe(2);
  });

  it('does not patch an unchanged status until the report frequency (1 min) passes', async () => {
    await start();
    const patches = (): number => api.callsOf('patch', 'nodes').length;
    const before = patches();
    await clock.advance(50_000);
    expect(patches()).toBe(before);
    await clock.advance(10_000);
    expect(patches()).toBe(before + 1);
    expect(ready(stored())?.lastHeartbeatTime).toBe('2026-01-01T00:01:00Z');
    expect(ready(stored())?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
  });

  it('turns NotReady with upstream message at the next check when the network plugin is not ready', async () => {
    await start();
    runtime.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'Network plugin returns error: cni plugin not initialized');
    await clock.advance(10_000);
    expect(ready(stored())).toMatchObject({
      status: 'False',
      reason: 'KubeletNotReady',
      message: 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized',
      lastTransitionTime: '2026-01-01T00:00:10Z',
    });
    runtime.setCondition('NetworkReady', true);
    await clock.advance(10_000);
    expect(ready(stored())).toMatchObject({ status: 'True', lastTransitionTime: '2026-01-01T00:00:20Z' });
  });

  it('reports the runtime down after 30 s without an answer', async () => {
    await start();
    runtime.recorder.failNext('status', new Error('connection refused'), 10);
    await clock.advance(20_000);
    expect(ready(stored())?.status).toBe('True');
    await clock.advance(10_000);
    expect(ready(stored())).toMatchObject({ status: 'False', message: 'container runtime is down' });
  });

  it('reports memory pressure from the host figures', async () => {
    await start();
    host.stats = { memoryAvailableBytes: 50 * 1024 * 1024 };
    await clock.advance(10_000);
    expect(stored()?.status?.conditions?.find((c) => c.type === 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
  });

  it('registers the Node again when it was deleted', async () => {
    await start();
    const firstUid = stored()?.metadata.uid;
    await api.delete(resources.nodes, 'n1');
    await clock.advance(10_000);
    expect(stored()?.metadata.uid).toBeDefined();
    expect(stored()?.metadata.uid).not.toBe(firstUid);
    expect(reporter.stats.registrations).toBe(2);
  });

  it('makes five attempts per check, counts the failure and keeps going', async () => {
    await start();
    api.failNext('get', unavailable(), 5);
    await clock.advance(10_000);
    expect(reporter.stats.failures).toBe(1);
    expect(reporter.stats.lastError).toContain('unable to handle');
    runtime.setCondition('NetworkReady', false, 'X', 'y');
    await clock.advance(10_000);
    expect(ready(stored())?.status).toBe('False');
  });

  it('stops when aborted', async () => {
    await start();
    ac.abort();
    await running;
    const calls = api.calls.length;
    await clock.advance(60_000);
    expect(api.calls.length).toBe(calls);
    expect(clock.pendingSleepers()).toBe(0);
  });
});
