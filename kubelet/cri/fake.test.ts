import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../lib/clock.js';
import { CriError, CriNotFoundError, isCriNotFound } from './errors.js';
import { FakeImageService, normalizeImageRef } from './fake-image.js';
import { FakeRuntimeService } from './fake-runtime.js';
import type { RuntimeService } from './services.js';
import type { ContainerConfig } from './types-container.js';
import type { PodSandboxConfig } from './types-sandbox.js';
import { nsToDate } from './time.js';

const podConfig = (name = 'web-0', extra: Partial<PodSandboxConfig> = {}): PodSandboxConfig => ({
  metadata: { name, uid: `uid-${name}`, namespace: 'default', attempt: 0 },
  hostname: name,
  logDirectory: `/var/log/pods/default_${name}_uid-${name}`,
  labels: { 'io.kubernetes.pod.name': name },
  ...extra,
});

const containerConfig = (name = 'app', image = 'knode.local/testserver:1.0', attempt = 0): ContainerConfig => ({
  metadata: { name, attempt },
  image: { image },
  logPath: `${name}/${attempt}.log`,
  labels: { 'io.kubernetes.container.name': name },
});

function setup(): { rt: FakeRuntimeService; images: FakeImageService; clock: FakeClock } {
  const clock = new FakeClock();
  const images = new FakeImageService({ clock });
  images.addImage({ ref: 'knode.local/testserver:1.0' });
  return { rt: new FakeRuntimeService({ clock, images }), images, clock };
}

async function runningContainer(rt: RuntimeService, pod = 'web-0'): Promise<{ sandboxId: string; containerId: string }> {
  const { podSandboxId } = await rt.runPodSandbox({ config: podConfig(pod) });
  const { containerId } = await rt.createContainer({ podSandboxId, config: containerConfig() });
  await rt.startContainer({ containerId });
  return { sandboxId: podSandboxId, containerId };
}

describe('FakeRuntimeService lifecycle', () => {
  it('takes a container CREATED -> RUNNING -> EXITED with timestamps and a log path under the pod log directory', async () => {
    const { rt, clock } = setup();
    const { podSandboxId } = await rt.runPodSandbox({ config: podConfig() });
    expect(podSandboxId).toMatch(/^[0-9a-f]{64}$/);
    const { containerId } = await rt.createContainer({ podSandboxId, config: containerConfig() });
    let s = (await rt.containerStatus({ containerId })).status;
    expect(s).toMatchObject({ state: 'CONTAINER_CREATED', startedAt: 0n, finishedAt: 0n, logPath: '/var/log/pods/default_web-0_uid-web-0/app/0.log' });
    await clock.advance(1_000);
    await rt.startContainer({ containerId });
    s = (await rt.containerStatus({ containerId })).status;
    expect(s?.state).toBe('CONTAINER_RUNNING');
    expect(nsToDate(s?.startedAt ?? 0n).getTime() - nsToDate(s?.createdAt ?? 0n).getTime()).toBe(1_000);
    rt.exitContainer(containerId, 3);
    s = (await rt.containerStatus({ containerId })).status;
    expect(s).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 3, reason: 'Error' });
    expect(s && s.finishedAt > s.startedAt).toBe(true);
  });

  it.each([
    ['a graceful stop', 30, 0, 'Completed'],
    ['a stop without grace period (SIGKILL)', 0, 137, 'Error'],
  ])('records %s as exit code %i', async (_name, timeout, exitCode, reason) => {
    const { rt } = setup();
    const { containerId } = await runningContainer(rt);
    await rt.stopContainer({ containerId, timeout });
    await rt.stopContainer({ containerId, timeout }); // idempotent
    expect((await rt.containerStatus({ containerId })).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode, reason });
  });

  it('stopping a sandbox kills its containers and makes it NOTREADY; creating in it then fails', async () => {
    const { rt } = setup();
    const { sandboxId, containerId } = await runningContainer(rt);
    await rt.stopPodSandbox({ podSandboxId: sandboxId });
    await rt.stopPodSandbox({ podSandboxId: sandboxId });
    expect((await rt.containerStatus({ containerId })).status).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 137 });
    expect((await rt.podSandboxStatus({ podSandboxId: sandboxId })).status?.state).toBe('SANDBOX_NOTREADY');
    await expect(rt.createContainer({ podSandboxId: sandboxId, config: containerConfig('second') })).rejects.toThrow(/not ready/);
  });

  it('removing a sandbox removes its containers; removing again (or anything missing) succeeds', async () => {
    const { rt } = setup();
    const { sandboxId, containerId } = await runningContainer(rt);
    await rt.removePodSandbox({ podSandboxId: sandboxId });
    await rt.removePodSandbox({ podSandboxId: sandboxId });
    await rt.removeContainer({ containerId });
    expect((await rt.listContainers({})).containers).toEqual([]);
    expect((await rt.listPodSandbox({})).items).toEqual([]);
  });

  it.each<[string, (rt: RuntimeService) => Promise<unknown>]>([
    ['ContainerStatus', (rt) => rt.containerStatus({ containerId: 'nope' })],
    ['PodSandboxStatus', (rt) => rt.podSandboxStatus({ podSandboxId: 'nope' })],
    ['StartContainer', (rt) => rt.startContainer({ containerId: 'nope' })],
    ['StopContainer', (rt) => rt.stopContainer({ containerId: 'nope' })],
    ['StopPodSandbox', (rt) => rt.stopPodSandbox({ podSandboxId: 'nope' })],
    ['CreateContainer in a missing sandbox', (rt) => rt.createContainer({ podSandboxId: 'nope', config: containerConfig() })],
  ])('rejects %s of an unknown id with CriNotFoundError', async (_name, call) => {
    const { rt } = setup();
    const err = await call(rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriNotFoundError);
    expect(isCriNotFound(err)).toBe(true);
  });

  it('requires the image to be present to create a container, until it is pulled', async () => {
    const { rt, images } = setup();
    const { podSandboxId } = await rt.runPodSandbox({ config: podConfig() });
    const cfg = containerConfig('app', 'knode.local/other:1');
    await expect(rt.createContainer({ podSandboxId, config: cfg })).rejects.toBeInstanceOf(CriNotFoundError);
    const pullErr = await images.pullImage({ image: { image: 'knode.local/other:1' } }).catch((e: unknown) => e);
    expect(pullErr).toBeInstanceOf(CriError);
    expect(pullErr).not.toBeInstanceOf(CriNotFoundError);
    expect((pullErr as Error).message).toContain('failed to pull and unpack image "knode.local/other:1"');
    images.allowPull({ ref: 'knode.local/other:1' });
    const { imageRef } = await images.pullImage({ image: { image: 'knode.local/other:1' } });
    const { containerId } = await rt.createContainer({ podSandboxId, config: cfg });
    expect((await rt.containerStatus({ containerId })).status?.imageRef).toBe(imageRef);
  });

  it.each([
    ['the same sandbox name and attempt twice', async (rt: RuntimeService) => {
      await rt.runPodSandbox({ config: podConfig() });
      await rt.runPodSandbox({ config: podConfig() });
    }, /reserve sandbox name/],
    ['the same container name and attempt twice', async (rt: RuntimeService) => {
      const { podSandboxId } = await rt.runPodSandbox({ config: podConfig() });
      await rt.createContainer({ podSandboxId, config: containerConfig() });
      await rt.createContainer({ podSandboxId, config: containerConfig() });
    }, /reserve container name/],
    ['a hostNetwork sandbox with a hostname', async (rt: RuntimeService) => {
      await rt.runPodSandbox({ config: podConfig('h', { linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }) });
    }, /empty hostname/],
    ['an unknown runtime handler', async (rt: RuntimeService) => {
      await rt.runPodSandbox({ config: podConfig(), runtimeHandler: 'kata' });
    }, /no runtime for "kata"/],
    ['starting a running container', async (rt: RuntimeService) => {
      const { containerId } = await runningContainer(rt);
      await rt.startContainer({ containerId });
    }, /CONTAINER_RUNNING state/],
    ['ExecSync in an exited container', async (rt: RuntimeService) => {
      const { containerId } = await runningContainer(rt);
      await rt.stopContainer({ containerId, timeout: 0 });
      await rt.execSync({ containerId, cmd: ['true'] });
    }, /CONTAINER_EXITED state/],
  ])('refuses %s', async (_name, act, message) => {
    const { rt } = setup();
    const err = await act(rt).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriError);
    expect((err as Error).message).toMatch(message);
  });

  it('gives pod-network sandboxes distinct IPs and hostNetwork sandboxes none', async () => {
    const { rt } = setup();
    const a = await rt.runPodSandbox({ config: podConfig('a') });
    const b = await rt.runPodSandbox({ config: podConfig('b') });
    const h = await rt.runPodSandbox({ config: podConfig('h', { hostname: '', linux: { securityContext: { namespaceOptions: { network: 'NODE' } } } }) });
    const ipOf = async (id: string): Promise<string | undefined> => (await rt.podSandboxStatus({ podSandboxId: id })).status?.network?.ip;
    expect(await ipOf(a.podSandboxId)).toBe('10.88.0.2');
    expect(await ipOf(b.podSandboxId)).toBe('10.88.0.3');
    expect(await ipOf(h.podSandboxId)).toBeUndefined();
    expect((await rt.podSandboxStatus({ podSandboxId: h.podSandboxId })).status?.linux?.namespaces?.options?.network).toBe('NODE');
  });

  it('filters lists by id prefix, state, sandbox and labels', async () => {
    const { rt } = setup();
    const one = await runningContainer(rt, 'one');
    const two = await runningContainer(rt, 'two');
    await rt.stopContainer({ containerId: two.containerId, timeout: 0 });
    const ids = async (f: Parameters<RuntimeService['listContainers']>[0]): Promise<string[]> => (await rt.listContainers(f)).containers.map((c) => c.id);
    expect(await ids({ filter: { state: { state: 'CONTAINER_RUNNING' } } })).toEqual([one.containerId]);
    expect(await ids({ filter: { podSandboxId: two.sandboxId } })).toEqual([two.containerId]);
    expect(await ids({ filter: { id: one.containerId.slice(0, 12) } })).toEqual([one.containerId]);
    expect(await ids({ filter: { labelSelector: { 'io.kubernetes.container.name': 'app' } } })).toHaveLength(2);
    expect(await ids({ filter: { labelSelector: { 'io.kubernetes.container.name': 'db' } } })).toEqual([]);
    const pods = await rt.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.name': 'two' } } });
    expect(pods.items.map((p) => p.id)).toEqual([two.sandboxId]);
  });

  it('answers ExecSync from the scripted handler, non-zero exits included', async () => {
    const { rt } = setup();
    const { containerId } = await runningContainer(rt);
    rt.onExecSync((req) => (req.cmd[0] === 'hostname' ? { stdout: 'web-0\n' } : { stderr: 'not found', exitCode: 127 }));
    const ok = await rt.execSync({ containerId, cmd: ['hostname'] });
    expect(Buffer.from(ok.stdout).toString()).toBe('web-0\n');
    const bad = await rt.execSync({ containerId, cmd: ['nope'] });
    expect([bad.exitCode, Buffer.from(bad.stderr).toString()]).toEqual([127, 'not found']);
  });

  it('records calls and replays scripted failures', async () => {
    const { rt } = setup();
    const boom = new CriError({ operation: 'RunPodSandbox', grpcCode: 2, details: 'cni failed' });
    rt.recorder.failNext('runPodSandbox', boom);
    await expect(rt.runPodSandbox({ config: podConfig() })).rejects.toBe(boom);
    await rt.runPodSandbox({ config: podConfig() });
    expect(rt.recorder.calls.map((c) => c.method)).toEqual(['runPodSandbox', 'runPodSandbox']);
    expect(rt.recorder.requestsOf('runPodSandbox')[1]).toMatchObject({ config: { metadata: { name: 'web-0' } } });
  });

  it('reports scripted runtime conditions and version', async () => {
    const { rt } = setup();
    rt.setCondition('NetworkReady', false, 'NetworkPluginNotReady', 'cni config uninitialized');
    rt.setVersion({ version: '0.2.0' });
    const st = await rt.status({});
    expect(st.status?.conditions.find((c) => c.type === 'NetworkReady')).toMatchObject({ status: false, reason: 'NetworkPluginNotReady' });
    expect((await rt.version({})).version).toBe('0.2.0');
  });

  it('hands out strictly increasing creation times even when the clock stands still', async () => {
    const { rt } = setup();
    const a = await rt.runPodSandbox({ config: podConfig('a') });
    const b = await rt.runPodSandbox({ config: podConfig('b') });
    const items = (await rt.listPodSandbox({})).items;
    const sa = items.find((x) => x.id === a.podSandboxId);
    const sb = items.find((x) => x.id === b.podSandboxId);
    expect((sb?.createdAt ?? 0n) > (sa?.createdAt ?? 0n)).toBe(true);
  });
});

describe('FakeImageService', () => {
  it.each([
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['registry.k8s.io/pause:3.10', 'registry.k8s.io/pause:3.10'],
    ['localhost:5000/app', 'localhost:5000/app:latest'],
    ['knode.local/testserver', 'knode.local/testserver:latest'],
    ['user/app:v1', 'docker.io/user/app:v1'],
  ])('normalises %s to %s', (ref, want) => {
    expect(normalizeImageRef(ref)).toBe(want);
  });

  it('finds an image by tag, short name or id; reports absence without error; removes idempotently', async () => {
    const images = new FakeImageService();
    const img = images.addImage({ ref: 'busybox:1.36', size: 123, uid: 0 });
    for (const ref of ['busybox:1.36', 'docker.io/library/busybox:1.36', img.id]) {
      expect((await images.imageStatus({ image: { image: ref } })).image?.id).toBe(img.id);
    }
    expect((await images.imageStatus({ image: { image: 'busybox:9' } })).image).toBeUndefined();
    expect((await images.listImages({})).images).toHaveLength(1);
    await images.removeImage({ image: { image: 'busybox:1.36' } });
    await images.removeImage({ image: { image: 'busybox:1.36' } });
    expect((await images.listImages({})).images).toEqual([]);
    expect((await images.imageFsInfo({})).imageFilesystems[0]?.usedBytes?.value).toBe(0);
  });

  it('moves a tag to a newly added image with the same reference', () => {
    const images = new FakeImageService();
    const v1 = images.addImage({ ref: 'knode.local/app:latest', id: 'sha256:1' });
    const v2 = images.addImage({ ref: 'knode.local/app:latest', id: 'sha256:2' });
    expect(images.resolve('knode.local/app:latest')?.id).toBe(v2.id);
    expect(images.resolve(v1.id)?.repoTags).toEqual([]);
  });
});
