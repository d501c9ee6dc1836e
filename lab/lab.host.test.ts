/**
 * The lab for real (root): `knode lab up --nodes 2` through the built CLI, checked from the outside the
 * way a user would (namespaces, kubectl from the root namespace, ctr against each worker's containerd,
 * ping across the underlay), then `knode lab down`, checked to leave nothing behind. A second suite
 * makes `up` fail half-way (in process, with a runtime that fails) and checks both the automatic
 * rollback and `down` after a failed `up` left everything in place.
 *
 * Each lab gets a random name (`ht<digits>`) and a temporary state dir; afterAll runs `down` whatever
 * happened. Needs the bundle (built here when it lacks the lab command).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realExec } from '../lib/exec.js';
import { labDown } from './down.js';
import { readMounts, mountsUnder } from './mounts.js';
import { FakeNodeRuntime } from './node-runtime.js';
import { connectCri } from '../kubelet/cri/connect.js';
import { cgroupHierarchies, pidsInTree, trackingHierarchy } from './cgroups.js';
import { isAlive, procStat, realLauncher } from './processes.js';
import { RecordingProgress } from './progress.js';
import { readLabState } from './state.js';
import type { LabState } from './state.js';
import { labUp } from './up.js';

const REPO = resolve(import.meta.dirname, '..');
const KNODE = join(REPO, 'bin', 'knode.js');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(argv: readonly string[], timeoutMs = 90_000): Promise<Run> {
  const [file, ...args] = argv;
  return new Promise((res) => {
    execFile(file ?? 'false', args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

const knode = (...args: string[]): Promise<Run> => run([process.execPath, KNODE, ...args]);
const labName = (): string => `ht${Math.floor(Math.random() * 1e6)}`;

/** Everything of a lab still on the machine, by its names and recorded pids; [] when clean. */
async function leftovers(name: string, stateDir: string, pids: readonly { pid: number; startTime: string }[]): Promise<string[]> {
  const out: string[] = [];
  for (const ns of await readdir('/run/netns').catch(() => [])) if (ns.startsWith(`knode-${name}-`)) out.push(`netns ${ns}`);
  for (const l of await readdir('/sys/class/net')) if (l.startsWith(`knode-${name}`)) out.push(`link ${l}`);
  for (const p of pids) if (await isAlive(p)) out.push(`pid ${p.pid}`);
  for (const m of mountsUnder(await readMounts(), stateDir)) out.push(`mount ${m.mountPoint}`);
  for (const h of await readdir('/sys/fs/cgroup').catch(() => [])) {
    if (existsSync(join('/sys/fs/cgroup', h, `knode-${name}`))) out.push(`cgroup ${h}/knode-${name}`);
  }
  if (existsSync(join('/sys/fs/cgroup', `knode-${name}`))) out.push(`cgroup knode-${name}`);
  if (existsSync(stateDir)) out.push(`state dir ${stateDir}`);
  return out;
}

beforeAll(async () => {
  const help = await knode('lab', '--help');
  if (help.code !== 0) {
    const b = await run([process.execPath, join(REPO, 'scripts', 'build.mjs')]);
    expect(b.code, b.stderr).toBe(0);
  }
}, 120_000);

describe('knode lab up --nodes 2, then down', () => {
  const name = labName();
  let stateDir = '';
  let state: LabState | undefined;
  let upSeconds = 0;

  beforeAll(async () => {
    stateDir = join(await mkdtemp('/tmp/knode-lab-'), name);
    const t0 = Date.now();
    const up = await knode('lab', 'up', '--nodes', '2', '--name', name, '--state-dir', stateDir);
    upSeconds = (Date.now() - t0) / 1000;
    expect(up.code, `lab up failed:\n${up.stderr}`).toBe(0);
    process.stderr.write(`${up.stderr}knode lab up took ${upSeconds.toFixed(1)}s (wall, including node start-up)\n`);
    state = await readLabState(stateDir);
  }, 120_000);

  afterAll(async () => {
    await knode('lab', 'down', '--name', name, '--state-dir', stateDir);
    await rm(join(stateDir, '..'), { recursive: true, force: true });
  }, 60_000);

  it('finishes in under a minute and reports every step', () => {
    expect(upSeconds).toBeLessThan(60);
    expect(state?.phase).toBe('ready');
  });

  it('creates a switch, a control-plane host and two worker namespaces', async () => {
    const ns = (await readdir('/run/netns')).filter((n) => n.startsWith(`knode-${name}-`)).sort();
    expect(ns).toEqual([`knode-${name}-cp`, `knode-${name}-sw`, `knode-${name}-w1`, `knode-${name}-w2`]);
  });

  it('lets kubectl in the root namespace reach the apiserver through the printed kubeconfig', async () => {
    const kc = await knode('lab', 'kubeconfig', '--name', name, '--state-dir', stateDir);
    expect(kc.code).toBe(0);
    const r = await run(['kubectl', '--kubeconfig', kc.stdout.trim(), 'get', 'ns', '-o', 'name'], 30_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('namespace/kube-system');
  });

  it('runs a containerd per worker that answers and holds the lab images', async () => {
    for (const w of state?.plan.workers ?? []) {
      const v = await run(['ctr', '--address', w.socket, 'version'], 20_000);
      expect(v.code, v.stderr).toBe(0);
      const imgs = await run(['ctr', '--address', w.socket, '-n', 'k8s.io', 'images', 'ls', '-q'], 20_000);
      expect(imgs.stdout).toContain('knode.local/pause:3.10');
      expect(imgs.stdout).toContain('knode.local/testserver:1.0');
      expect(imgs.stdout).toContain('knode.local/testserver:2.0');
    }
    expect(state?.plan.workers).toHaveLength(2);
  });

  it('connects the hosts over the underlay, and nothing routes out of the lab', async () => {
    const [cp, w1, w2] = state?.plan.hosts ?? [];
    for (const [from, to] of [
      [w1, cp],
      [w1, w2],
      [w2, cp],
    ]) {
      const r = await run(['ip', 'netns', 'exec', from?.netns ?? '', 'busybox', 'ping', '-c', '1', '-W', '2', to?.address ?? ''], 10_000);
      expect(r.code, `${from?.name} -> ${to?.name}: ${r.stdout}${r.stderr}`).toBe(0);
    }
    for (const h of state?.plan.hosts ?? []) {
      const routes = await run(['ip', '-n', h.netns, '-j', 'route', 'show', 'table', 'all']);
      expect(routes.stdout).not.toContain('"dst":"default"');
    }
  });

  it('gives the root namespace one veth with one address and no route to pod or service ranges', async () => {
    const addrs = JSON.parse((await run(['ip', '-j', 'addr', 'show', 'dev', `knode-${name}`])).stdout) as Array<{ addr_info: Array<{ local: string }> }>;
    expect(addrs[0]?.addr_info.map((a) => a.local)).toEqual([state?.plan.root.address]);
    const routes = (await run(['ip', '-4', 'route', 'show', 'table', 'all'])).stdout;
    expect(routes).not.toMatch(/^10\.(244|96)\./m);
  });

  it('shows hosts, live processes and the apiserver in status', async () => {
    const s = await knode('lab', 'status', '--name', name, '--state-dir', stateDir, '--json');
    expect(s.code, s.stderr).toBe(0);
    const doc = JSON.parse(s.stdout) as { hosts: Array<{ netnsExists: boolean }>; processes: Array<{ kind: string; alive: boolean }>; nodes: unknown };
    expect(doc.hosts.every((h) => h.netnsExists)).toBe(true);
    expect(doc.processes.map((p) => [p.kind, p.alive])).toEqual([
      ['server', true],
      ['containerd', true],
      ['containerd', true],
      ['agent', true],
      ['agent', true],
    ]);
    expect(Array.isArray(doc.nodes)).toBe(true);
    expect((doc.nodes as unknown[]).length).toBe(2);
  });

  it('refuses a second up on the same lab, naming the down command', async () => {
    const again = await knode('lab', 'up', '--name', name, '--state-dir', stateDir);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain(`knode lab down --name ${name}`);
  });

  it('imports a user image into every worker', async () => {
    const tars = (await readdir(state?.plan.imagesDir ?? '')).filter((f) => f.endsWith('.tar'));
    expect(tars.length).toBeGreaterThan(0);
    const r = await knode('lab', 'image', 'import', join(state?.plan.imagesDir ?? '', tars[0] ?? ''), '--name', name, '--state-dir', stateDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('imported into w1, w2');
  });

  it('runs pods (through each worker\'s CRI) that reach each other across workers', async () => {
    const ips: string[] = [];
    for (const w of state?.plan.workers ?? []) {
      const cri = await connectCri({ endpoint: `unix://${w.socket}` });
      try {
        const config = {
          metadata: { name: `web-${w.host}`, uid: `uid-${w.host}`, namespace: 'default', attempt: 0 },
          hostname: `web-${w.host}`,
          logDirectory: join(w.dir, '..', 'pod-logs'),
          linux: { cgroupParent: `/knode-${name}/${w.host}/pod-web` },
        };
        const sb = await cri.runtime.runPodSandbox({ config });
        const ct = await cri.runtime.createContainer({
          podSandboxId: sb.podSandboxId,
          config: { metadata: { name: 'web', attempt: 0 }, image: { image: 'knode.local/testserver:1.0' }, logPath: 'web.log' },
          sandboxConfig: config,
        });
        await cri.runtime.startContainer({ containerId: ct.containerId });
        ips.push((await cri.runtime.podSandboxStatus({ podSandboxId: sb.podSandboxId })).status?.network?.ip ?? '');
      } finally {
        cri.close();
      }
    }
    expect(ips.map((ip) => ip.split('.').slice(0, 3).join('.'))).toEqual(['10.244.1', '10.244.2']);
    const [w1] = state?.plan.hosts.filter((h) => h.role === 'worker') ?? [];
    for (const [ip, pod] of [
      [ips[1], 'web-w2'],
      [ips[0], 'web-w1'],
    ]) {
      let answer: Run = { code: 1, stdout: '', stderr: '' };
      for (let i = 0; i < 50 && answer.stdout !== pod; i++) {
        answer = await run(['ip', 'netns', 'exec', w1?.netns ?? '', 'curl', '-s', '-m', '2', `http://${ip ?? ''}:8083/hostname`], 5_000);
        if (answer.stdout !== pod) await new Promise((r) => setTimeout(r, 100));
      }
      expect(answer.stdout).toBe(pod);
    }
    expect(mountsUnder(await readMounts(), stateDir).length).toBeGreaterThan(0);
  }, 60_000);

  it('down removes everything, and a second down is a no-op', async () => {
    // every process of the lab, including containerd's shims and the pods, is in its cgroup trees
    const inCgroups = [];
    const tracking = trackingHierarchy(cgroupHierarchies(await readMounts()));
    for (const pid of await pidsInTree(join(tracking?.mountPoint ?? '/sys/fs/cgroup/pids', `knode-${name}`))) {
      const st = await procStat(pid);
      if (st !== undefined) inCgroups.push({ pid, startTime: st.startTime });
    }
    expect(inCgroups.length).toBeGreaterThan(3);
    const recorded = [...(state?.processes ?? []), ...inCgroups];
    const down = await knode('lab', 'down', '--name', name, '--state-dir', stateDir);
    expect(down.code, down.stderr).toBe(0);
    expect(await leftovers(name, stateDir, recorded)).toEqual([]);
    const again = await knode('lab', 'down', '--name', name, '--state-dir', stateDir);
    expect(again.code, again.stderr).toBe(0);
  }, 60_000);
});

describe('a failed up', () => {
  const deps = (failOn: string) => ({
    exec: realExec,
    launcher: realLauncher,
    runtime: new FakeNodeRuntime(failOn),
    progress: new RecordingProgress(),
  });
  const opts = (name: string, stateDir: string, rollback: boolean) => ({
    name,
    workers: 1,
    stateDir,
    knodeCommand: [process.execPath, KNODE],
    agentAvailable: false,
    rollback,
  });
  const dirs: string[] = [];
  const labs: Array<{ name: string; stateDir: string }> = [];
  afterAll(async () => {
    for (const l of labs) await labDown(l, { exec: realExec, progress: new RecordingProgress() }).catch(() => undefined);
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }, 60_000);

  it('rolls back everything it created when a step fails', async () => {
    const name = labName();
    const dir = await mkdtemp('/tmp/knode-lab-');
    dirs.push(dir);
    const stateDir = join(dir, name);
    labs.push({ name, stateDir });
    const d = deps('containerd w1');
    await expect(labUp(opts(name, stateDir, true), d)).rejects.toMatchObject({ code: 'ERR_LAB_STEP_FAILED', step: 'starting containerd on w1' });
    expect(d.progress.lines).toContain('rolled back: nothing of the lab is left.');
    expect(await leftovers(name, stateDir, [])).toEqual([]);
  }, 60_000);

  it('leaves a crashed-looking lab that `down` then removes completely', async () => {
    const name = labName();
    const dir = await mkdtemp('/tmp/knode-lab-');
    dirs.push(dir);
    const stateDir = join(dir, name);
    labs.push({ name, stateDir });
    await expect(labUp(opts(name, stateDir, false), deps('containerd w1'))).rejects.toThrow(/starting containerd on w1 failed/);
    const st = await readLabState(stateDir);
    expect(st?.phase).toBe('failed');
    expect(st?.processes.map((p) => p.kind)).toEqual(['server']);
    expect(await isAlive(st?.processes[0] ?? { pid: 0, startTime: '' })).toBe(true);
    expect(JSON.parse(await readFile(join(stateDir, 'lab.json'), 'utf8'))).toMatchObject({ completedSteps: ['network', 'images', 'server:cp', 'bootstrap-token'] });
    await labDown({ name, stateDir }, { exec: realExec, progress: new RecordingProgress() });
    expect(await leftovers(name, stateDir, st?.processes ?? [])).toEqual([]);
  }, 60_000);
});
