import { afterEach, describe, expect, it } from 'vitest';
import type { Container, Pod, Probe } from '../../api/core/pod.js';
import { FakeClock } from '../../lib/clock.js';
import type { ProbeKind, RuntimeContainer, RuntimePod } from '../types.js';
import { ProbeManager } from './manager.js';
import type { ProbeResultChange } from './manager.js';
import { ProberMetrics } from './metrics.js';
import type { ProbeRunner, ProbeTarget, ProbeVerdict } from './prober.js';
import { settle, testPod } from './test-support.js';

type Script = (kind: ProbeKind, target: ProbeTarget) => 'success' | 'failure' | 'error';

class ScriptedRunner implements ProbeRunner {
  readonly calls: Array<{ kind: ProbeKind; containerId: string; podIP: string; at: number }> = [];
  constructor(
    private readonly clock: FakeClock,
    public script: Script,
  ) {}
  async probe(kind: ProbeKind, _probe: Probe, target: ProbeTarget): Promise<ProbeVerdict> {
    this.calls.push({ kind, containerId: target.containerId, podIP: target.podIP, at: this.clock.now().getTime() - T0 });
    const r = this.script(kind, target);
    return r === 'error' ? { result: 'error', error: new Error('boom') } : { result: r, output: '' };
  }
  count(kind: ProbeKind): number {
    return this.calls.filter((c) => c.kind === kind).length;
  }
}

const T0 = Date.UTC(2026, 0, 1);

function podWith(container: Partial<Container>, spec: Partial<Pod['spec']> = {}): Pod {
  return testPod({ spec: { containers: [{ name: 'app', image: 'busybox', ...container }], ...spec } });
}

function runtimePod(containers: Array<Partial<RuntimeContainer> & { id: string }>, ip = '10.244.1.9'): RuntimePod {
  return {
    uid: 'uid-web',
    name: 'web',
    namespace: 'default',
    sandboxes: [{ id: 's1', state: 'ready', attempt: 0, createdAt: T0, ip, hostNetwork: false }],
    containers: containers.map((c) => ({
      name: 'app',
      sandboxId: 's1',
      attempt: 0,
      state: 'running',
      createdAt: T0,
      startedAt: T0,
      image: 'busybox',
      imageRef: 'sha256:1',
      hash: 'h',
      restartCount: 0,
      isInit: false,
      ...c,
    })),
  };
}

interface Harness {
  clock: FakeClock;
  runner: ScriptedRunner;
  changes: ProbeResultChange[];
  manager: ProbeManager;
  metrics: ProberMetrics;
  advance(seconds: number): Promise<void>;
}

const managers: ProbeManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.stop()));
});

function harness(script: Script): Harness {
  const clock = new FakeClock(T0);
  const runner = new ScriptedRunner(clock, script);
  const changes: ProbeResultChange[] = [];
  const metrics = new ProberMetrics();
  const manager = new ProbeManager({ prober: runner, clock, onChange: (c) => changes.push(c), metrics, random: () => 0 });
  managers.push(manager);
  return {
    clock,
    runner,
    changes,
    manager,
    metrics,
    advance: async (seconds) => {
      await clock.advance(seconds * 1000);
      await settle();
    },
  };
}

const fast: Probe = { exec: { command: ['true'] }, periodSeconds: 10 };

describe('ProbeManager: readiness', () => {
  it('publishes failure at start, then success after the first good probe, reporting both changes', async () => {
    const h = harness(() => 'success');
    h.manager.updatePod(podWith({ readinessProbe: fast }), runtimePod([{ id: 'c1' }]));
    await settle();
    expect(h.manager.get('c1', 'readiness')).toBe('success');
    expect(h.changes.map((c) => [c.containerName, c.containerId, c.kind, c.result])).toEqual([
      ['app', 'c1', 'readiness', 'failure'],
      ['app', 'c1', 'readiness', 'success'],
    ]);
    expect(h.runner.calls[0]).toMatchObject({ kind: 'readiness', containerId: 'c1', podIP: '10.244.1.9', at: 0 });
  });

  it('probes every periodSeconds and flips to failure only after failureThreshold failures', async () => {
    let healthy = true;
    const h = harness(() => (healthy ? 'success' : 'failure'));
    h.manager.updatePod(podWith({ readinessProbe: { ...fast, failureThreshold: 2 } }), runtimePod([{ id: 'c1' }]));
    await settle();
    healthy = false;
    await h.advance(10);
    expect(h.manager.get('c1', 'readiness')).toBe('success');
    await h.advance(10);
    expect(h.manager.get('c1', 'readiness')).toBe('failure');
    expect(h.runner.calls.map((c) => c.at)).toEqual([0, 10_000, 20_000]);
  });

  it('a pod update re-probes a running, unready container at once instead of waiting a period', async () => {
    let healthy = false;
    const h = harness(() => (healthy ? 'success' : 'failure'));
    const pod = podWith({ readinessProbe: { ...fast, periodSeconds: 100, failureThreshold: 1 } });
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    healthy = true;
    await h.advance(1);
    expect(h.manager.get('c1', 'readiness')).toBe('failure');
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    expect(h.manager.get('c1', 'readiness')).toBe('success');
    expect(h.runner.calls.map((c) => c.at)).toEqual([0, 1_000]);
  });

  it('honours initialDelaySeconds', async () => {
    const h = harness(() => 'success');
    h.manager.updatePod(podWith({ readinessProbe: { ...fast, initialDelaySeconds: 15 } }), runtimePod([{ id: 'c1' }]));
    await settle();
    await h.advance(10);
    expect(h.runner.count('readiness')).toBe(0);
    expect(h.manager.get('c1', 'readiness')).toBe('failure');
    await h.advance(10);
    expect(h.runner.calls.map((c) => c.at)).toEqual([20_000]);
  });

  it('a container that exited under restartPolicy Never reads as failure and its worker ends', async () => {
    const h = harness(() => 'success');
    const pod = podWith({ readinessProbe: fast }, { restartPolicy: 'Never' });
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    h.manager.updatePod(pod, runtimePod([{ id: 'c1', state: 'exited', exitCode: 0 }]));
    await h.advance(10);
    expect(h.manager.workersOf('uid-web')).toEqual([]);
    expect(h.changes.at(-1)).toMatchObject({ kind: 'readiness', result: 'failure' });
    // the finished worker cleaned up after itself and is not recreated by later updates
    expect(h.manager.get('c1', 'readiness')).toBe('unknown');
    h.manager.updatePod(pod, runtimePod([{ id: 'c1', state: 'exited', exitCode: 0 }]));
    expect(h.manager.workersOf('uid-web')).toEqual([]);
  });
});

describe('ProbeManager: liveness', () => {
  it('publishes failure after 3 failures, then holds until the container is replaced', async () => {
    const h = harness(() => 'failure');
    const pod = podWith({ livenessProbe: fast });
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    expect(h.manager.get('c1', 'liveness')).toBe('success');
    await h.advance(10);
    await h.advance(10);
    expect(h.manager.get('c1', 'liveness')).toBe('failure');
    await h.advance(30);
    expect(h.runner.count('liveness')).toBe(3);
    // the pod worker restarted the container
    h.manager.updatePod(pod, runtimePod([{ id: 'c2', restartCount: 1 }, { id: 'c1', state: 'exited', exitCode: 137 }]));
    await h.advance(10);
    expect(h.manager.get('c2', 'liveness')).toBe('success');
    expect(h.manager.get('c1', 'liveness')).toBe('unknown');
    expect(h.runner.calls.at(-1)).toMatchObject({ containerId: 'c2' });
    expect(h.changes.map((c) => `${c.containerId}:${c.result}`)).toEqual(['c1:success', 'c1:failure', 'c2:success']);
  });

  it('errored probes never count towards the threshold', async () => {
    const h = harness(() => 'error');
    h.manager.updatePod(podWith({ livenessProbe: { ...fast, failureThreshold: 1 } }), runtimePod([{ id: 'c1' }]));
    await settle();
    await h.advance(30);
    expect(h.runner.count('liveness')).toBe(4);
    expect(h.manager.get('c1', 'liveness')).toBe('success');
  });

  it('stops with success once the pod is being deleted', async () => {
    const h = harness(() => 'failure');
    const pod = podWith({ livenessProbe: { ...fast, failureThreshold: 2 } });
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    h.manager.updatePod({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: '2026-01-01T00:00:05Z' } }, runtimePod([{ id: 'c1' }]));
    await h.advance(10);
    expect(h.runner.count('liveness')).toBe(1);
    expect(h.manager.workersOf('uid-web')).toEqual([]);
    expect(h.changes.map((c) => c.result)).toEqual(['success']);
  });
});

describe('ProbeManager: startup gating', () => {
  it('liveness and readiness wait for the startup probe; startup stops once it succeeded', async () => {
    let up = false;
    const h = harness((kind) => (kind === 'startup' ? (up ? 'success' : 'failure') : 'success'));
    const pod = podWith({ startupProbe: { ...fast, failureThreshold: 30 }, livenessProbe: fast, readinessProbe: fast });
    h.manager.updatePod(pod, runtimePod([{ id: 'c1' }]));
    await settle();
    await h.advance(10);
    expect(h.runner.calls.map((c) => c.kind)).toEqual(['startup', 'startup']);
    expect(h.manager.containerProbeStatus('uid-web', 'app', 'c1', true)).toEqual({ started: false, ready: false });
    up = true;
    await h.advance(10);
    expect(h.manager.get('c1', 'startup')).toBe('success');
    await h.advance(10);
    expect(h.runner.calls.filter((c) => c.kind === 'startup').map((c) => c.at)).toEqual([0, 10_000, 20_000]);
    const others = h.runner.calls.filter((c) => c.kind !== 'startup');
    expect(others.length).toBeGreaterThanOrEqual(2);
    expect(others.every((c) => c.at >= 20_000)).toBe(true);
    expect(h.manager.containerProbeStatus('uid-web', 'app', 'c1', true)).toEqual({ started: true, ready: true });
  });
});

describe('ProbeManager: bookkeeping', () => {
  it('creates one worker per declared probe of regular containers and sidecars only', () => {
    const h = harness(() => 'success');
    const pod = testPod({
      spec: {
        initContainers: [
          { name: 'init', image: 'busybox', readinessProbe: fast },
          { name: 'sidecar', image: 'busybox', restartPolicy: 'Always', startupProbe: fast },
        ],
        containers: [{ name: 'app', image: 'busybox', livenessProbe: fast, readinessProbe: fast }],
      },
    });
    h.manager.updatePod(pod, undefined);
    expect(h.manager.workersOf('uid-web')).toEqual(['app/liveness', 'app/readiness', 'sidecar/startup']);
  });

  it('removePod stops the workers and drops their results and metric series', async () => {
    const h = harness(() => 'success');
    h.manager.updatePod(podWith({ readinessProbe: fast, livenessProbe: fast }), runtimePod([{ id: 'c1' }]));
    await settle();
    expect(await h.metrics.registry.getSingleMetricAsString('prober_probe_total')).toContain(
      'prober_probe_total{probe_type="Readiness",container="app",pod="web",namespace="default",pod_uid="uid-web",result="successful"} 1',
    );
    h.manager.removePod('uid-web');
    await settle();
    expect(h.manager.results.size()).toBe(0);
    expect(h.manager.workersOf('uid-web')).toEqual([]);
    expect(await h.metrics.registry.getSingleMetricAsString('prober_probe_total')).not.toContain('pod="web"');
    await h.advance(30);
    expect(h.runner.calls).toHaveLength(2);
  });

  it('probes hostNetwork pods at the node IP', async () => {
    const clock = new FakeClock(T0);
    const runner = new ScriptedRunner(clock, () => 'success');
    const manager = new ProbeManager({ prober: runner, clock, nodeIP: '192.168.50.11', random: () => 0 });
    managers.push(manager);
    const rp = runtimePod([{ id: 'c1' }]);
    manager.updatePod(podWith({ readinessProbe: fast }, { hostNetwork: true }), { ...rp, sandboxes: [{ id: 's1', state: 'ready', attempt: 0, createdAt: T0, hostNetwork: true }] });
    await settle();
    expect(runner.calls[0]?.podIP).toBe('192.168.50.11');
  });

  it('spreads the first probes over one period right after the kubelet started', async () => {
    const clock = new FakeClock(T0);
    const runner = new ScriptedRunner(clock, () => 'success');
    const manager = new ProbeManager({ prober: runner, clock, random: () => 0.5 });
    managers.push(manager);
    manager.updatePod(podWith({ readinessProbe: fast }), runtimePod([{ id: 'c1' }]));
    await settle();
    expect(runner.calls).toHaveLength(0);
    await clock.advance(5_000);
    await settle();
    expect(runner.calls.map((c) => c.at)).toEqual([5_000]);
  });

  it('containerProbeStatus: without probes a running container is started and ready', () => {
    const h = harness(() => 'success');
    h.manager.updatePod(podWith({}), runtimePod([{ id: 'c1' }]));
    expect(h.manager.containerProbeStatus('uid-web', 'app', 'c1', true)).toEqual({ started: true, ready: true });
    expect(h.manager.containerProbeStatus('uid-web', 'app', 'c1', false)).toEqual({ started: false, ready: false });
  });
});
