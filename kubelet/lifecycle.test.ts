import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import { computeGracePeriod, graceAfterPreStop, killContainer, runLifecycleHandler, startContainerWithHooks } from './lifecycle.js';
import type { KillReason, LifecycleDeps } from './lifecycle.js';
import { PostStartHookError } from './probes/errors.js';
import type { ContainerEvent } from './probes/settings.js';
import { ServerPool, runningFakeContainer, settle, testPod } from './probes/test-support.js';

const pool = new ServerPool();
afterEach(() => pool.closeAll());

describe('computeGracePeriod', () => {
  const liveness: Container = { name: 'app', livenessProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 5 } };
  const cases: Array<{ name: string; pod: Pod; container?: Container; reason: KillReason; want: number }> = [
    { name: 'the pod terminationGracePeriodSeconds by default', pod: testPod(), reason: 'Unknown', want: 30 },
    {
      name: 'deletionGracePeriodSeconds wins while the pod is deleted',
      pod: testPod({ metadata: { deletionGracePeriodSeconds: 7 } }),
      container: liveness,
      reason: 'LivenessProbe',
      want: 7,
    },
    { name: 'a liveness kill uses the probe-level grace', pod: testPod(), container: liveness, reason: 'LivenessProbe', want: 5 },
    { name: 'a probe-level grace is ignored for other kills', pod: testPod(), container: liveness, reason: 'Unknown', want: 30 },
    {
      name: 'a startup kill uses the startup probe grace',
      pod: testPod(),
      container: { name: 'app', startupProbe: { exec: { command: ['x'] }, terminationGracePeriodSeconds: 9 } },
      reason: 'StartupProbe',
      want: 9,
    },
    { name: 'the 2 s minimum when nothing is set', pod: { metadata: { name: 'web' }, spec: { containers: [{ name: 'app' }] } }, reason: 'Unknown', want: 2 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(computeGracePeriod(c.pod, c.container, c.reason)).toBe(c.want);
    });
  }
});

describe('graceAfterPreStop', () => {
  it.each([
    [30, 5, undefined, 25],
    [30, 29, undefined, 2],
    [10, 12, undefined, 2],
    [0, 0, undefined, 2],
    [30, 5, 0, 0],
  ])('grace %s after a %s s preStop (override %s) leaves %s s', (grace, elapsed, override, want) => {
    expect(graceAfterPreStop(grace, elapsed, override)).toBe(want);
  });
});

function setup(container: Partial<Container> = {}) {
  const clock = new FakeClock();
  const rt = new FakeRuntimeService({ clock });
  const events: ContainerEvent[] = [];
  const deps: LifecycleDeps = { runtime: rt, clock, events: (e) => events.push(e) };
  const pod = testPod({ spec: { containers: [{ name: 'app', image: 'busybox', ...container }] } });
  return { clock, rt, events, deps, pod, container: pod.spec.containers[0] as Container };
}

describe('runLifecycleHandler', () => {
  it('exec succeeds on exit 0, runs without a timeout', async () => {
    const s = setup();
    const { containerId } = await runningFakeContainer(s.rt);
    expect(await runLifecycleHandler(s.deps, { exec: { command: ['sh', '-c', 'echo hi'] } }, { pod: s.pod, container: s.container, containerId })).toEqual({ ok: true });
    expect(s.rt.recorder.requestsOf('execSync')).toEqual([{ containerId, cmd: ['sh', '-c', 'echo hi'], timeout: 0 }]);
  });

  it('exec fails on a non-zero exit with upstream wording', async () => {
    const s = setup();
    const { containerId } = await runningFakeContainer(s.rt);
    s.rt.onExecSync(() => ({ stdout: 'out', stderr: 'boom', exitCode: 2 }));
    const r = await runLifecycleHandler(s.deps, { exec: { command: ['sh', '-c', 'exit 2'] } }, { pod: s.pod, container: s.container, containerId });
    expect(r).toMatchObject({
      ok: false,
      message: `Exec lifecycle hook ([sh -c exit 2]) for Container "app" in Pod "web_default(uid-web)" failed - error: command 'sh -c exit 2' exited with 2: boom, message: "outboom"`,
    });
  });

  it('httpGet counts any answer as success, even a 500', async () => {
    const s = setup();
    let path = '';
    const port = await pool.listen(
      createServer((req, res) => {
        path = req.url ?? '';
        res.writeHead(500).end();
      }),
    );
    const r = await runLifecycleHandler(s.deps, { httpGet: { port, path: '/started' } }, { pod: s.pod, container: s.container, containerId: 'c', podIP: '127.0.0.1' });
    expect(r).toEqual({ ok: true });
    expect(path).toBe('/started');
  });

  it('httpGet fails when nothing answers', async () => {
    const s = setup();
    const port = await pool.listen(createServer());
    await pool.closeAll();
    const r = await runLifecycleHandler(s.deps, { httpGet: { port, path: '/started' } }, { pod: s.pod, container: s.container, containerId: 'c', podIP: '127.0.0.1' });
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toBe(
      `HTTP lifecycle hook (/started) for Container "app" in Pod "web_default(uid-web)" failed - error: Get "http://127.0.0.1:${port}/started": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    );
  });

  it('httpGet over HTTPS to a plain HTTP server falls back to HTTP and says so', async () => {
    const s = setup();
    const seen: Array<string | undefined> = [];
    const port = await pool.listen(
      createServer((req, res) => {
        seen.push(req.headers.authorization);
        res.end('ok');
      }),
    );
    const handler = { httpGet: { port, scheme: 'HTTPS' as const, httpHeaders: [{ name: 'Authorization', value: 'Bearer x' }] } };
    expect(await runLifecycleHandler(s.deps, handler, { pod: s.pod, container: s.container, containerId: 'c', podIP: '127.0.0.1' })).toEqual({ ok: true });
    expect(seen).toEqual([undefined]);
    expect(s.events.map((e) => e.reason)).toEqual(['LifecycleHTTPFallback']);
  });

  it('httpGet without host needs the pod IP', async () => {
    const s = setup();
    const r = await runLifecycleHandler(s.deps, { httpGet: { port: 80 } }, { pod: s.pod, container: s.container, containerId: 'c' });
    expect(!r.ok && r.message).toMatch(/failed to find networking container/);
  });

  it('sleep waits on the clock', async () => {
    const s = setup();
    let done = false;
    const p = runLifecycleHandler(s.deps, { sleep: { seconds: 5 } }, { pod: s.pod, container: s.container, containerId: 'c' }).then((r) => {
      done = true;
      return r;
    });
    await s.clock.advance(4_999);
    await settle();
    expect(done).toBe(false);
    await s.clock.advance(1);
    expect(await p).toEqual({ ok: true });
  });

  it('tcpSocket handlers are not run, as upstream', async () => {
    const s = setup();
    const r = await runLifecycleHandler(s.deps, { tcpSocket: { port: 80 } }, { pod: s.pod, container: s.container, containerId: 'c' });
    expect(!r.ok && r.message).toMatch(/^Cannot run handler: invalid handler/);
  });
});

describe('startContainerWithHooks', () => {
  async function createdContainer(rt: FakeRuntimeService): Promise<string> {
    const { podSandboxId } = await rt.runPodSandbox({ config: { metadata: { name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0 } } });
    return (await rt.createContainer({ podSandboxId, config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } } })).containerId;
  }

  it('starts the container and runs postStart', async () => {
    const s = setup({ lifecycle: { postStart: { exec: { command: ['touch', '/started'] } } } });
    const containerId = await createdContainer(s.rt);
    await startContainerWithHooks(s.deps, { pod: s.pod, container: s.container, containerId });
    expect(s.rt.recorder.calls.map((c) => c.method)).toEqual(['runPodSandbox', 'createContainer', 'startContainer', 'execSync']);
  });

  it('a failing postStart kills the container with FailedPostStartHook and rejects with PostStartHookError', async () => {
    const s = setup({ lifecycle: { postStart: { exec: { command: ['false'] } } } });
    const containerId = await createdContainer(s.rt);
    s.rt.onExecSync(() => ({ exitCode: 1 }));
    const err = await startContainerWithHooks(s.deps, { pod: s.pod, container: s.container, containerId }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PostStartHookError);
    expect((err as PostStartHookError).reason).toBe('PostStartHookError');
    expect((err as Error).message).toMatch(/^Exec lifecycle hook \(\[false\]\) for Container "app"/);
    expect(s.rt.recorder.requestsOf('stopContainer')).toEqual([{ containerId, timeout: 30 }]);
    expect(s.events.map((e) => [e.type, e.reason, e.message])).toEqual([
      ['Warning', 'FailedPostStartHook', 'PostStartHook failed'],
      ['Normal', 'Killing', 'FailedPostStartHook'],
    ]);
  });
});

describe('killContainer', () => {
  it('without preStop stops with the full grace period and records Killing', async () => {
    const s = setup();
    const { containerId } = await runningFakeContainer(s.rt);
    expect(await killContainer(s.deps, { pod: s.pod, container: s.container, containerId })).toEqual({ timeoutSeconds: 30 });
    expect(s.rt.recorder.requestsOf('stopContainer')).toEqual([{ containerId, timeout: 30 }]);
    expect(s.events.map((e) => e.message)).toEqual(['Stopping container app']);
  });

  it('a preStop sleep of 5 s leaves 25 s for StopContainer', async () => {
    const s = setup({ lifecycle: { preStop: { sleep: { seconds: 5 } } } });
    const { containerId } = await runningFakeContainer(s.rt);
    const p = killContainer(s.deps, { pod: s.pod, container: s.container, containerId }, { message: 'Container app failed liveness probe, will be restarted', reason: 'LivenessProbe' });
    await settle();
    expect(s.rt.recorder.requestsOf('stopContainer')).toEqual([]);
    await s.clock.advance(5_000);
    expect(await p).toEqual({ timeoutSeconds: 25 });
    expect(s.rt.recorder.requestsOf('stopContainer')).toEqual([{ containerId, timeout: 25 }]);
  });

  it('a preStop outliving the grace period is cut off and the container still gets 2 s', async () => {
    const s = setup({ lifecycle: { preStop: { exec: { command: ['sleep', '600'] } } } });
    const { containerId } = await runningFakeContainer(s.rt);
    s.rt.onExecSync(() => new Promise(() => undefined));
    const pod = testPod({ metadata: { deletionGracePeriodSeconds: 10 }, spec: { containers: [s.container] } });
    const p = killContainer(s.deps, { pod, container: s.container, containerId });
    await settle();
    await s.clock.advance(10_000);
    expect(await p).toEqual({ timeoutSeconds: 2 });
    expect(s.events.map((e) => e.reason)).toEqual(['Killing']);
  });

  it('a failing preStop records FailedPreStopHook and stops anyway', async () => {
    const s = setup({ lifecycle: { preStop: { exec: { command: ['false'] } } } });
    const { containerId } = await runningFakeContainer(s.rt);
    s.rt.onExecSync(() => ({ exitCode: 1 }));
    expect(await killContainer(s.deps, { pod: s.pod, container: s.container, containerId })).toEqual({ timeoutSeconds: 30 });
    expect(s.events.map((e) => e.reason)).toEqual(['Killing', 'FailedPreStopHook']);
  });

  it('a grace override replaces the computed grace', async () => {
    const s = setup();
    const { containerId } = await runningFakeContainer(s.rt);
    expect(await killContainer(s.deps, { pod: s.pod, container: s.container, containerId }, { gracePeriodOverride: 0 })).toEqual({ timeoutSeconds: 0 });
  });
});
