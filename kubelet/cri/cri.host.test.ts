/**
 * The CRI client against a real containerd 1.6 (root only).
 *
 * Everything runs in a throwaway network namespace `knode-t-<random>`: a private containerd
 * (lab/containerd) started there with the reference bridge CNI (pods on 10.244.254.0/24, a range
 * that exists only inside that namespace; it has no link out), the lab images imported, then a pod
 * driven through the CRI like a kubelet would, including a containerd restart mid-way. Cleanup
 * (afterAll) stops containerd and every shim/container by pid, unmounts, removes the namespace,
 * the dir and the CNI cache files, even when a step failed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import { readMounts, mountsUnder } from '../../lab/mounts.js';
import { restartContainerd, startContainerd, stopContainerd } from '../../lab/containerd/instance.js';
import type { ContainerdInstance } from '../../lab/containerd/instance.js';
import { findShims } from '../../lab/containerd/tasks.js';
import { importImage } from '../../lab/images/import.js';
import { PAUSE_IMAGE, TESTSERVER_IMAGE, ensureLabImages } from '../../lab/images/lab-images.js';
import { connectCri } from './connect.js';
import type { CriConnection } from './connect.js';
import { CriError, CriNotFoundError, CriUnavailableError } from './errors.js';
import { FakeImageService } from './fake-image.js';
import { FakeRuntimeService } from './fake-runtime.js';
import type { RuntimeService } from './services.js';
import type { ContainerConfig } from './types-container.js';
import type { PodSandboxConfig } from './types-sandbox.js';

const isRoot = process.getuid?.() === 0;
const POD_SUBNET = '10.244.254.0/24';

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const inNs = (ns: string, argv: readonly string[]): string[] => ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];

describe.skipIf(!isRoot)('CRI client against a private containerd (host)', () => {
  const ns = `knode-t-${randomBytes(3).toString('hex')}`;
  const network = `knode-t-cri-${randomBytes(3).toString('hex')}`;
  let dir = '';
  let inst: ContainerdInstance | undefined;
  let conn: CriConnection | undefined;
  let nsCreated = false;
  const latency: Record<string, number> = {};

  let podConfig: PodSandboxConfig = {
    metadata: { name: 'echo-0', uid: 'uid-echo-0', namespace: 'default', attempt: 0 },
    hostname: 'echo-0',
    labels: { 'io.kubernetes.pod.name': 'echo-0', 'io.kubernetes.pod.uid': 'uid-echo-0' },
    annotations: { 'kubernetes.io/config.source': 'api' },
    dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  let sandboxId = '';
  let containerId = '';
  let podIp = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'knode-cri-'));
    await mustRun(realExec, ['ip', 'netns', 'add', ns]);
    nsCreated = true;
    await mustRun(realExec, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const confDir = join(dir, 'containerd', 'cni', 'net.d');
    mkdirSync(confDir, { recursive: true });
    writeFileSync(
      join(confDir, '10-test.conflist'),
      JSON.stringify({
        cniVersion: '1.0.0',
        name: network,
        plugins: [
          {
            type: 'bridge',
            bridge: 'cni0',
            isGateway: true,
            ipMasq: false,
            ipam: { type: 'host-local', ranges: [[{ subnet: POD_SUBNET }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: join(dir, 'ipam') },
          },
        ],
      }),
    );
    const images = await ensureLabImages(join(dir, 'images'));
    let t0 = performance.now();
    inst = await startContainerd({ dir: join(dir, 'containerd'), netns: ns, sandboxImage: PAUSE_IMAGE });
    latency['containerd start (to CRI ready)'] = performance.now() - t0;
    t0 = performance.now();
    for (const tar of images.all) await importImage({ address: inst.socket, tarPath: tar });
    latency['import 3 images'] = performance.now() - t0;
    conn = await connectCri({ endpoint: inst.address });
    mkdirSync(join(dir, 'logs'), { recursive: true });
  });

  afterAll(async () => {
    conn?.close();
    try {
      if (inst) {
        await stopContainerd(inst, { graceMs: 5_000 });
        expect(await findShims(inst.socket)).toEqual([]);
        expect(mountsUnder(await readMounts(), dir)).toEqual([]);
      }
    } finally {
      if (nsCreated) await realExec.run(['ip', 'netns', 'del', ns]);
      rmSync(dir, { recursive: true, force: true });
      console.log(`CRI latencies (ms): ${JSON.stringify(Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, Math.round(v * 100) / 100])))}`);
    }
  });

  it('speaks CRI 0.1.0 and answers Version in well under a millisecond or two (p50)', async () => {
    const rt = conn!.runtime;
    expect(conn!.version).toMatchObject({ version: '0.1.0', runtimeName: 'containerd', runtimeApiVersion: 'v1' });
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await rt.version({ version: '0.1.0' });
      samples.push(performance.now() - t);
    }
    latency['Version p50'] = percentile(samples, 50);
    latency['Version p99'] = percentile(samples, 99);
    expect(latency['Version p50']).toBeLessThan(20);
    const status = await rt.status({});
    expect(status.status?.conditions.find((c) => c.type === 'RuntimeReady')?.status).toBe(true);
  });

  it('lists the imported images with their ids', async () => {
    const { images } = await conn!.image.listImages({});
    expect(images.flatMap((i) => i.repoTags)).toEqual(expect.arrayContaining([PAUSE_IMAGE, TESTSERVER_IMAGE, 'knode.local/testserver:2.0']));
    const st = await conn!.image.imageStatus({ image: { image: TESTSERVER_IMAGE } });
    expect(st.image?.id).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect((await conn!.image.imageStatus({ image: { image: 'knode.local/missing:1' } })).image).toBeUndefined();
  });

  it('runs a pod sandbox on the pod network with its own IP', async () => {
    podConfig = { ...podConfig, logDirectory: join(dir, 'logs', 'default_echo-0_uid-echo-0') };
    mkdirSync(podConfig.logDirectory!, { recursive: true });
    const t = performance.now();
    sandboxId = (await conn!.runtime.runPodSandbox({ config: podConfig })).podSandboxId;
    latency['RunPodSandbox'] = performance.now() - t;
    const st = (await conn!.runtime.podSandboxStatus({ podSandboxId: sandboxId })).status;
    expect(st).toMatchObject({ id: sandboxId, state: 'SANDBOX_READY', metadata: podConfig.metadata, labels: podConfig.labels, annotations: podConfig.annotations });
    podIp = st?.network?.ip ?? '';
    expect(podIp).toMatch(/^10\.244\.254\.\d+$/);
    expect(typeof st?.createdAt).toBe('bigint');
    expect(Math.abs(Number(st!.createdAt / 1_000_000n) - Date.now())).toBeLessThan(60_000);
  });

  it('creates and starts the testserver, which serves HTTP and UDP as the pod', async () => {
    const config: ContainerConfig = {
      metadata: { name: 'echo', attempt: 0 },
      image: { image: TESTSERVER_IMAGE },
      envs: [{ key: 'POD_NAME', value: 'echo-0' }],
      labels: { 'io.kubernetes.container.name': 'echo' },
      annotations: { 'io.kubernetes.container.restartCount': '0' },
      logPath: 'echo/0.log',
      linux: { resources: { cpuShares: 256, memoryLimitInBytes: 64 * 1024 * 1024 }, securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    const t = performance.now();
    containerId = (await conn!.runtime.createContainer({ podSandboxId: sandboxId, config, sandboxConfig: podConfig })).containerId;
    await conn!.runtime.startContainer({ containerId });
    latency['CreateContainer+StartContainer'] = performance.now() - t;

    const st = (await conn!.runtime.containerStatus({ containerId })).status;
    expect(st).toMatchObject({ state: 'CONTAINER_RUNNING', exitCode: 0, metadata: { name: 'echo', attempt: 0 }, labels: config.labels });
    expect(st!.startedAt > st!.createdAt).toBe(true);
    expect(st?.finishedAt).toBe(0n);
    expect(st?.imageRef).toMatch(/^sha256:/);
    expect(st?.logPath).toBe(join(dir, 'logs', 'default_echo-0_uid-echo-0', 'echo', '0.log'));

    const exec = await conn!.runtime.execSync({ containerId, cmd: ['hostname'], timeout: 10 });
    expect([Buffer.from(exec.stdout).toString().trim(), exec.exitCode]).toEqual(['echo-0', 0]);
    const failing = await conn!.runtime.execSync({ containerId, cmd: ['sh', '-c', 'echo oops >&2; exit 3'], timeout: 10 });
    expect([Buffer.from(failing.stderr).toString().trim(), failing.exitCode]).toEqual(['oops', 3]);

    // from the node's namespace, over the CNI bridge (no `wget -T`: it segfaults in Debian 12's busybox 1.35)
    const http = await mustRun(realExec, inNs(ns, ['busybox', 'wget', '-qO-', `http://${podIp}:8083/hostname`]), { timeoutMs: 5_000 });
    expect(http.stdout).toBe('echo-0');
    const udp = await conn!.runtime.execSync({ containerId, cmd: ['/testserver', 'udp', podIp, '8081', 'hostname'], timeout: 10 });
    expect(Buffer.from(udp.stdout).toString().trim()).toBe('echo-0');
  });

  it('writes the container log in the CRI format at the log path', async () => {
    const path = (await conn!.runtime.containerStatus({ containerId })).status!.logPath;
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^\S+ stdout F testserver 1\.0 on echo-0: http :8083 udp :8081$/);
    expect(lines.some((l) => l.includes('http GET /hostname'))).toBe(true);
  });

  it('keeps working across a containerd restart: the channel reconnects and the container survives', async () => {
    inst = await restartContainerd(inst!, 5_000);
    const t = performance.now();
    for (;;) {
      const r = await conn!.runtime.version({}).catch((e: unknown) => e);
      if (!(r instanceof Error)) break;
      expect(r).toBeInstanceOf(CriUnavailableError);
      if (performance.now() - t > 15_000) throw r;
      await new Promise((res) => setTimeout(res, 100));
    }
    latency['reconnect after restart'] = performance.now() - t;
    expect((await conn!.runtime.containerStatus({ containerId })).status?.state).toBe('CONTAINER_RUNNING');
    const exec = await conn!.runtime.execSync({ containerId, cmd: ['hostname'], timeout: 10 });
    expect(Buffer.from(exec.stdout).toString().trim()).toBe('echo-0');
  });

  it('stops the container gracefully (exit 0 on SIGTERM) and removes it idempotently', async () => {
    await conn!.runtime.stopContainer({ containerId, timeout: 10 });
    const st = (await conn!.runtime.containerStatus({ containerId })).status;
    expect(st).toMatchObject({ state: 'CONTAINER_EXITED', exitCode: 0, reason: 'Completed' });
    expect(st!.finishedAt > st!.startedAt).toBe(true);
    await conn!.runtime.removeContainer({ containerId });
    await conn!.runtime.removeContainer({ containerId });
    await expect(conn!.runtime.containerStatus({ containerId })).rejects.toBeInstanceOf(CriNotFoundError);
  });

  it('stops and removes the sandbox', async () => {
    await conn!.runtime.stopPodSandbox({ podSandboxId: sandboxId });
    expect((await conn!.runtime.podSandboxStatus({ podSandboxId: sandboxId })).status?.state).toBe('SANDBOX_NOTREADY');
    await conn!.runtime.removePodSandbox({ podSandboxId: sandboxId });
    await conn!.runtime.removePodSandbox({ podSandboxId: sandboxId });
    await expect(conn!.runtime.podSandboxStatus({ podSandboxId: sandboxId })).rejects.toBeInstanceOf(CriNotFoundError);
    expect((await conn!.runtime.listPodSandbox({})).items).toEqual([]);
  });

  it('agrees with FakeRuntimeService on what is an error, a not-found, or a success', async () => {
    const fakeImages = new FakeImageService();
    fakeImages.addImage({ ref: TESTSERVER_IMAGE });
    const fake = new FakeRuntimeService({ images: fakeImages });
    const missing = 'f'.repeat(64);
    const cases: Array<[string, (rt: RuntimeService) => Promise<unknown>]> = [
      ['ContainerStatus of a missing container', (rt) => rt.containerStatus({ containerId: missing })],
      ['PodSandboxStatus of a missing sandbox', (rt) => rt.podSandboxStatus({ podSandboxId: missing })],
      ['StopContainer of a missing container', (rt) => rt.stopContainer({ containerId: missing, timeout: 0 })],
      ['StopPodSandbox of a missing sandbox', (rt) => rt.stopPodSandbox({ podSandboxId: missing })],
      ['RemoveContainer of a missing container', (rt) => rt.removeContainer({ containerId: missing })],
      ['RemovePodSandbox of a missing sandbox', (rt) => rt.removePodSandbox({ podSandboxId: missing })],
      ['StartContainer of a missing container', (rt) => rt.startContainer({ containerId: missing })],
      ['CreateContainer in a missing sandbox', (rt) => rt.createContainer({ podSandboxId: missing, config: { metadata: { name: 'x', attempt: 0 }, image: { image: TESTSERVER_IMAGE } } })],
      ['ExecSync in a missing container', (rt) => rt.execSync({ containerId: missing, cmd: ['true'] })],
    ];
    const outcome = (p: Promise<unknown>): Promise<string> =>
      p.then(
        () => 'ok',
        (e: unknown) => (e instanceof CriNotFoundError ? 'not found' : e instanceof CriError ? 'error' : `unexpected ${String(e)}`),
      );
    for (const [name, call] of cases) {
      expect(`${name}: ${await outcome(call(fake))}`).toBe(`${name}: ${await outcome(call(conn!.runtime))}`);
    }
    const absent = 'knode.local/absent:1';
    expect(await outcome(fakeImages.pullImage({ image: { image: absent } }))).toBe(await outcome(conn!.image.pullImage({ image: { image: absent } }, { timeoutMs: 20_000 })));
    expect(await outcome(fakeImages.removeImage({ image: { image: absent } }))).toBe(await outcome(conn!.image.removeImage({ image: { image: absent } })));
  });

  it('runs a hostNetwork pod (empty hostname) in the node namespace', async () => {
    const config: PodSandboxConfig = {
      metadata: { name: 'host-0', uid: 'uid-host-0', namespace: 'default', attempt: 0 },
      hostname: '',
      logDirectory: join(dir, 'logs', 'default_host-0'),
      linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    mkdirSync(config.logDirectory!, { recursive: true });
    const sb = (await conn!.runtime.runPodSandbox({ config })).podSandboxId;
    const st = (await conn!.runtime.podSandboxStatus({ podSandboxId: sb })).status;
    expect(st?.linux?.namespaces?.options?.network).toBe('NODE');
    const c = (
      await conn!.runtime.createContainer({
        podSandboxId: sb,
        sandboxConfig: config,
        config: { metadata: { name: 'srv', attempt: 0 }, image: { image: TESTSERVER_IMAGE }, args: ['--http-port=18083', '--udp-port=18081'], logPath: 'srv.log' },
      })
    ).containerId;
    await conn!.runtime.startContainer({ containerId: c });
    const deadline = Date.now() + 10_000;
    let body = '';
    while (Date.now() < deadline) {
      const r = await realExec.run(inNs(ns, ['busybox', 'wget', '-qO-', 'http://127.0.0.1:18083/healthz']), { timeoutMs: 2_000 });
      if (r.code === 0) {
        body = r.stdout;
        break;
      }
      await new Promise((res) => setTimeout(res, 50));
    }
    if (body !== 'ok') {
      console.log(JSON.stringify((await conn!.runtime.containerStatus({ containerId: c })).status, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
      console.log(readFileSync(join(config.logDirectory!, 'srv.log'), 'utf8'));
      console.log((await realExec.run(inNs(ns, ['ss', '-lntup']))).stdout);
    }
    expect(body).toBe('ok');
    await conn!.runtime.stopPodSandbox({ podSandboxId: sb });
    await conn!.runtime.removePodSandbox({ podSandboxId: sb });
    await expect(conn!.runtime.containerStatus({ containerId: c })).rejects.toBeInstanceOf(CriNotFoundError);
  });
});
