import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { buildContainerConfig } from './container-config.js';
import { hashContainer } from './container-hash.js';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import type { Container as CriContainer, ContainerStatus as CriContainerStatus } from './cri/types-container.js';
import type { PodSandbox, PodSandboxStatus } from './cri/types-sandbox.js';
import { buildRuntimePods, lastLogText, readFileTail, readRuntimeState } from './runtime-state.js';
import { buildSandboxConfig } from './sandbox-config.js';

const NS = 1_000_000n;
const T0 = 1_767_225_600_000n; // 2026-01-01 in ms

const podLabels = (uid: string, name = 'web'): Record<string, string> => ({
  'io.kubernetes.pod.name': name,
  'io.kubernetes.pod.namespace': 'default',
  'io.kubernetes.pod.uid': uid,
});

function listedSandbox(id: string, uid: string, over: Partial<PodSandbox> = {}): PodSandbox {
  return {
    id,
    metadata: { name: 'web', namespace: 'default', uid, attempt: 0 },
    state: 'SANDBOX_READY',
    createdAt: T0 * NS,
    labels: podLabels(uid),
    annotations: {},
    runtimeHandler: '',
    ...over,
  };
}

function listedContainer(id: string, uid: string, name: string, over: Partial<CriContainer> = {}): CriContainer {
  return {
    id,
    podSandboxId: 'sb1',
    metadata: { name, attempt: 0 },
    image: { image: 'docker.io/library/busybox:1.36' },
    imageRef: 'sha256:abc',
    imageId: 'sha256:abc',
    state: 'CONTAINER_RUNNING',
    createdAt: T0 * NS,
    labels: { ...podLabels(uid), 'io.kubernetes.container.name': name },
    annotations: { 'io.kubernetes.container.hash': 'beef', 'io.kubernetes.container.restartCount': '2' },
    ...over,
  };
}

describe('buildRuntimePods', () => {
  it('groups sandboxes and containers by pod UID, newest first', () => {
    const pods = buildRuntimePods(
      [listedSandbox('old', 'u1', { createdAt: T0 * NS, state: 'SANDBOX_NOTREADY' }), listedSandbox('new', 'u1', { createdAt: (T0 + 5000n) * NS }), listedSandbox('x', 'u2')],
      [listedContainer('c-old', 'u1', 'app', { createdAt: T0 * NS }), listedContainer('c-new', 'u1', 'app', { createdAt: (T0 + 9000n) * NS }), listedContainer('c2', 'u2', 'db')],
    );
    expect([...pods.keys()].sort()).toEqual(['u1', 'u2']);
    const u1 = pods.get('u1')!;
    expect(u1).toMatchObject({ uid: 'u1', name: 'web', namespace: 'default' });
    expect(u1.sandboxes.map((s) => [s.id, s.state])).toEqual([
      ['new', 'ready'],
      ['old', 'notready'],
    ]);
    expect(u1.containers.map((c) => c.id)).toEqual(['c-new', 'c-old']);
  });

  it('reads restartCount, hash, init type and times (ns -> ms) from a container list entry', () => {
    const [c] = buildRuntimePods([], [listedContainer('c1', 'u1', 'init1', { labels: { ...podLabels('u1'), 'io.kubernetes.container.name': 'init1', 'io.kubernetes.container.type': 'init' } })]).get('u1')!.containers;
    expect(c).toEqual({
      id: 'c1',
      name: 'init1',
      sandboxId: 'sb1',
      attempt: 0,
      state: 'running',
      createdAt: Number(T0),
      image: 'docker.io/library/busybox:1.36',
      imageRef: 'sha256:abc',
      hash: 'beef',
      restartCount: 2,
      isInit: true,
    });
  });

  it('takes exit code, reason, message and start/finish times from a container status', () => {
    const status: CriContainerStatus & { podSandboxId: string } = {
      id: 'c1',
      podSandboxId: 'sb1',
      metadata: { name: 'app', attempt: 3 },
      state: 'CONTAINER_EXITED',
      createdAt: T0 * NS,
      startedAt: (T0 + 100n) * NS + 999n,
      finishedAt: (T0 + 2000n) * NS,
      exitCode: 137,
      image: { image: 'busybox:1.36' },
      imageRef: 'sha256:abc',
      imageId: 'sha256:abc',
      reason: 'OOMKilled',
      message: 'out of memory',
      labels: { ...podLabels('u1'), 'io.kubernetes.container.name': 'app' },
      annotations: {},
      mounts: [],
      logPath: '',
    };
    const [c] = buildRuntimePods([], [status]).get('u1')!.containers;
    expect(c).toMatchObject({ state: 'exited', attempt: 3, startedAt: Number(T0) + 100, finishedAt: Number(T0) + 2000, exitCode: 137, reason: 'OOMKilled', message: 'out of memory', restartCount: 0, hash: '', isInit: false });
  });

  it('leaves out what a created container does not have yet (0 timestamps, exit code)', () => {
    const status: CriContainerStatus = {
      id: 'c1',
      state: 'CONTAINER_CREATED',
      createdAt: T0 * NS,
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      imageRef: '',
      imageId: '',
      reason: '',
      message: '',
      labels: { ...podLabels('u1'), 'io.kubernetes.container.name': 'app' },
      annotations: {},
      mounts: [],
      logPath: '',
    };
    const [c] = buildRuntimePods([], [status]).get('u1')!.containers;
    expect(c).not.toHaveProperty('startedAt');
    expect(c).not.toHaveProperty('finishedAt');
    expect(c).not.toHaveProperty('exitCode');
    expect(c).not.toHaveProperty('reason');
    expect(c?.sandboxId).toBe('');
  });

  it('reads IP and network mode from a sandbox status', () => {
    const status: PodSandboxStatus = {
      ...listedSandbox('sb1', 'u1'),
      network: { ip: '10.88.0.7', additionalIps: [] },
      linux: { namespaces: { options: { network: 'NODE' } } },
    };
    const [s] = buildRuntimePods([status], []).get('u1')!.sandboxes;
    expect(s).toEqual({ id: 'sb1', state: 'ready', attempt: 0, createdAt: Number(T0), ip: '10.88.0.7', hostNetwork: true });
  });

  it('ignores objects without the pod UID label (not made by a kubelet)', () => {
    const c = listedContainer('c1', 'u1', 'app', { labels: {} });
    const s = listedSandbox('s1', 'u1', { labels: {}, metadata: { name: 'x', namespace: 'y', uid: 'u9', attempt: 0 } });
    const pods = buildRuntimePods([s], [c]);
    // the sandbox falls back to its CRI metadata uid; the unlabeled container is skipped
    expect([...pods.keys()]).toEqual(['u9']);
    expect(pods.get('u9')!.containers).toEqual([]);
  });
});

describe('lastLogText', () => {
  it('joins partial lines, keeps the last N lines and the last bytes', () => {
    const raw = [
      '2026-01-01T00:00:00.000000000Z stdout F one',
      '2026-01-01T00:00:00.000000000Z stderr P tw',
      '2026-01-01T00:00:00.000000000Z stderr F o',
      'garbage',
      '2026-01-01T00:00:00.000000000Z stdout F three',
      '',
    ].join('\n');
    expect(lastLogText(raw)).toBe('one\ntwo\nthree\n');
    expect(lastLogText(raw, 2)).toBe('two\nthree\n');
    expect(lastLogText(raw, 80, 6)).toBe('three\n');
  });
});

describe('readRuntimeState (FakeRuntimeService)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-runtime-state-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const pod: Pod = {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1' },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36', terminationMessagePolicy: 'FallbackToLogsOnError' }] },
  };

  async function startApp(runtime: FakeRuntimeService, clock: FakeClock, restartCount: number, mounts: { hostPath: string }[] = []): Promise<{ sandboxId: string; containerId: string }> {
    const sandboxId = (await runtime.listPodSandbox({})).items[0]?.id ?? (await runtime.runPodSandbox({ config: buildSandboxConfig(pod, { attempt: 0, podLogsDir: dir }) })).podSandboxId;
    await clock.advance(1000);
    const config = buildContainerConfig(pod, pod.spec.containers[0]!, {
      restartCount,
      envs: [],
      mounts: mounts.map((m) => ({ hostPath: m.hostPath, containerPath: '/dev/termination-log', readOnly: false })),
      memoryCapacity: 1 << 30,
    });
    const { containerId } = await runtime.createContainer({ podSandboxId: sandboxId, config });
    await runtime.startContainer({ containerId });
    return { sandboxId, containerId };
  }

  it('rebuilds the pod the config builders described, with exit details and the termination message file', async () => {
    const clock = new FakeClock();
    const runtime = new FakeRuntimeService({ clock });
    const msgFile = join(dir, 'termination-log');
    await writeFile(msgFile, 'bye from app');
    const first = await startApp(runtime, clock, 0, [{ hostPath: msgFile }]);
    await clock.advance(2000);
    runtime.exitContainer(first.containerId, 3);
    const second = await startApp(runtime, clock, 1);

    const pods = await readRuntimeState(runtime);
    const p = pods.get('uid-1')!;
    expect(p).toMatchObject({ name: 'web', namespace: 'default' });
    expect(p.sandboxes).toEqual([expect.objectContaining({ id: first.sandboxId, state: 'ready', hostNetwork: false, ip: expect.stringMatching(/^10\.88\.0\./) })]);
    expect(p.containers.map((c) => [c.id, c.state, c.restartCount])).toEqual([
      [second.containerId, 'running', 1],
      [first.containerId, 'exited', 0],
    ]);
    const dead = p.containers[1]!;
    expect(dead).toMatchObject({ exitCode: 3, reason: 'Error', message: 'bye from app', sandboxId: first.sandboxId, hash: hashContainer(pod.spec.containers[0]!) });
    expect(dead.finishedAt! - dead.startedAt!).toBe(2000);
  });

  it('falls back to the log tail for FallbackToLogsOnError when the message file is empty', async () => {
    const clock = new FakeClock();
    const runtime = new FakeRuntimeService({ clock });
    const msgFile = join(dir, 'termination-log');
    await writeFile(msgFile, '');
    const { containerId } = await startApp(runtime, clock, 0, [{ hostPath: msgFile }]);
    runtime.exitContainer(containerId, 1);
    const logs = new Map([[`${dir}/default_web_uid-1/app/0.log`, '2026-01-01T00:00:00Z stderr F panic: boom\n']]);
    const pods = await readRuntimeState(runtime, {
      readTail: async (path, max) => (logs.has(path) ? logs.get(path) : readFileTail(path, max)),
    });
    expect(pods.get('uid-1')!.containers[0]?.message).toBe('panic: boom\n');
  });
});

describe('readFileTail', () => {
  it('returns the last bytes of a file, and undefined for a missing one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-tail-'));
    try {
      await writeFile(join(dir, 'f'), 'abcdef');
      expect(await readFileTail(join(dir, 'f'), 4)).toBe('cdef');
      expect(await readFileTail(join(dir, 'f'), 100)).toBe('abcdef');
      expect(await readFileTail(join(dir, 'missing'), 4)).toBeUndefined();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
