/**
 * `knode lab up`: carries out a LabPlan step by step. The plan is saved before anything is created and
 * the state file is rewritten after each step, so `down` can always clean up; on a failed step, up
 * runs `down` itself (unless told not to) and reports what failed.
 *
 * Each step is one case of the exhaustive switch in runStep: the network (a few `ip -batch` execs),
 * the images (built once per lab), with `--etcd n` the etcd members in the cp namespace (ready when
 * each answers /health with a leader), the control plane (knode server in the cp namespace, ready when
 * it prints its ready line), the bootstrap token, then per worker containerd, image import and (once it
 * exists) knode agent. Long-running processes are recorded (pid + start time) and put into the lab's
 * tracking cgroup the moment they start.
 *
 * Cost on the 2-core reference VM: dominated by the server's start (Node start-up + PKI) and the
 * containerd starts; see the README for measured times.
 */
import { access, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { dirname, join } from 'node:path';
import { realClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import { mustRun } from '../lib/exec.js';
import type { Exec } from '../lib/exec.js';
import { cgroupHierarchies, ensureTrackingCgroup, joinCgroup, trackingHierarchy } from './cgroups.js';
import { LAB_CNI } from './cni-config.js';
import { LabExistsError, LabPrerequisiteError, LabStepError } from './errors.js';
import { createBootstrapToken, generateBootstrapToken, listNodes } from './kube-api.js';
import { readMounts } from './mounts.js';
import { batchText, ipBatchArgv, planNetworkSetup } from './network-plan.js';
import type { LabNodeRuntime } from './node-runtime.js';
import { downCommand, hostByName, isLabNetns, labCgroupName, planLab, stepTitle } from './plan.js';
import type { LabOptions, LabPlan, LabStep, PlannedProcess } from './plan.js';
import { inNetns, logTail, procStat, waitFor } from './processes.js';
import type { Launcher } from './processes.js';
import type { Progress } from './progress.js';
import { LabStateStore, readLabState, stepId } from './state.js';
import type { LabState, ProcessKind } from './state.js';
import { usedPrefixes } from './underlay.js';
import type { UsedPrefix } from './underlay.js';
import { labDown } from './down.js';

export interface UpOptions extends Omit<LabOptions, 'bootstrapToken'> {
  /** Run `down` when a step fails (default true). */
  readonly rollback?: boolean;
  readonly serverTimeoutMs?: number;
  /** How long each etcd member has to report healthy (default 30 s). */
  readonly etcdTimeoutMs?: number;
  readonly nodesTimeoutMs?: number;
}

export interface LabDeps {
  readonly exec: Exec;
  readonly launcher: Launcher;
  readonly runtime: LabNodeRuntime;
  readonly progress: Progress;
  readonly clock?: Clock;
}

const REQUIRED_TOOLS = ['ip', 'nsenter', 'umount', 'containerd', 'runc', 'ctr'];

async function findInPath(tool: string): Promise<boolean> {
  for (const dir of (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    try {
      await access(join(dir, tool), constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Refuses before anything is created: not root, missing tools or CNI plugins, an existing lab. */
async function checkPrerequisites(opts: UpOptions): Promise<void> {
  if (process.getuid?.() !== 0) throw new LabPrerequisiteError('knode lab needs root (it creates network namespaces and starts containerd).');
  const missing = [];
  const tools = (opts.etcdMembers ?? 0) > 0 ? [...REQUIRED_TOOLS, 'etcd'] : REQUIRED_TOOLS;
  for (const t of tools) if (!(await findInPath(t))) missing.push(t);
  for (const f of LAB_CNI.requiredFiles) {
    try {
      await access(f, constants.X_OK);
    } catch {
      missing.push(f);
    }
  }
  if (missing.length > 0) {
    const build = missing.some((m) => m.endsWith('knode-cni.js')) ? ' and `npm run build` for dist/cni/knode-cni.js' : '';
    const etcd = missing.includes('etcd') ? ' etcd-server' : '';
    throw new LabPrerequisiteError(`missing: ${missing.join(', ')} (Debian: apt-get install iproute2 util-linux containerd runc containernetworking-plugins${etcd}${build}).`);
  }
  const existing = await readLabState(opts.stateDir);
  if (existing !== undefined) {
    throw new LabExistsError(
      `lab ${JSON.stringify(opts.name)} already exists (phase ${existing.phase}, state in ${opts.stateDir}); run \`${downCommand(opts.name, opts.stateDir)}\` first.`,
    );
  }
  let names: string[] = [];
  try {
    names = (await readdir('/run/netns')).filter((n) => isLabNetns(opts.name, n));
  } catch {
    // no /run/netns yet: no namespaces
  }
  if (names.length > 0) {
    throw new LabExistsError(`namespaces of a lab ${JSON.stringify(opts.name)} exist without its state (${names.join(', ')}); run \`${downCommand(opts.name, opts.stateDir)}\` first.`);
  }
}

/**
 * Fills the node's CNI bin dir with symlinks (a symlink, not a copy, so the plugin bundle keeps its
 * own dist/cni/package.json). Replaces stale links so a re-run after a crash points at this build.
 */
async function prepareCniBinDir(dir: string, links: Readonly<Record<string, string>>): Promise<void> {
  const entries = Object.entries(links);
  if (entries.length === 0) return;
  await mkdir(dir, { recursive: true });
  for (const [name, target] of entries) {
    const path = join(dir, name);
    await rm(path, { force: true });
    await symlink(target, path);
  }
}

export async function readMachinePrefixes(exec: Exec): Promise<UsedPrefix[]> {
  const routes = await mustRun(exec, ['ip', '-4', '-j', 'route', 'show', 'table', 'all']);
  const addrs = await mustRun(exec, ['ip', '-4', '-j', 'addr', 'show']);
  const parse = (text: string): unknown => (text.trim() === '' ? [] : JSON.parse(text));
  return usedPrefixes(parse(routes.stdout), parse(addrs.stdout));
}

/** Whether the etcd member at `clientUrl` says it is healthy (it has a leader): GET /health, 1 s. */
async function etcdHealthy(clientUrl: string): Promise<boolean> {
  try {
    const res = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { health?: unknown };
    return body.health === 'true';
  } catch {
    return false; // not listening yet, or no answer
  }
}

class Runner {
  private images: readonly string[] = [];
  private readonly clock: Clock;
  constructor(
    private readonly plan: LabPlan,
    private readonly store: LabStateStore,
    private readonly deps: LabDeps,
    private readonly opts: UpOptions,
  ) {
    this.clock = deps.clock ?? realClock;
  }

  /** Creates the tracking cgroup (recorded first), moves the pid in, records the process. */
  private async track(
    host: string,
    kind: ProcessKind,
    pid: number,
    argv: readonly string[],
    logFile: string,
    extra: { readonly handle?: unknown; readonly member?: string } = {},
  ): Promise<void> {
    const h = trackingHierarchy(cgroupHierarchies(await readMounts()));
    if (h !== undefined) {
      const dir = join(h.mountPoint, labCgroupName(this.plan.name), host);
      if (!this.store.current.cgroups.includes(dir)) await this.store.update((s) => ({ ...s, cgroups: [...s.cgroups, dir] }));
      await ensureTrackingCgroup(h, labCgroupName(this.plan.name), host);
      await joinCgroup(dir, pid).catch(() => undefined); // it may already have exited: reported below
    }
    const what = extra.member !== undefined ? `${kind} member ${extra.member}` : kind;
    const st = await procStat(pid);
    if (st === undefined) throw new Error(`${what} on ${host} exited at once; log ${logFile}:\n${await logTail(logFile)}`);
    const record = {
      host,
      kind,
      ...(extra.member !== undefined ? { member: extra.member } : {}),
      pid,
      startTime: st.startTime,
      argv,
      logFile,
      ...(extra.handle !== undefined ? { handle: extra.handle } : {}),
    };
    await this.store.update((s) => ({ ...s, processes: [...s.processes, record] }));
  }

  private async launch(p: PlannedProcess): Promise<number> {
    const host = hostByName(this.plan, p.host);
    await mkdir(host.dir, { recursive: true });
    const argv = inNetns(host.netns, p.argv);
    const { pid } = await this.deps.launcher.start(argv, { logFile: p.logFile });
    await this.track(p.host, p.kind, pid, argv, p.logFile, p.member !== undefined ? { member: p.member } : {});
    return pid;
  }

  private planned(kind: PlannedProcess['kind'], host: string, member?: string): PlannedProcess {
    const p = this.plan.processes.find((x) => x.kind === kind && x.host === host && x.member === member);
    if (p === undefined) throw new Error(`no ${kind}${member !== undefined ? ` member ${member}` : ''} planned on ${host}`);
    return p;
  }

  /** Waits until an etcd member answers /health with a leader; fails at once when it exits. */
  private async waitEtcdHealthy(m: NonNullable<LabPlan['etcd']>['members'][number], pid: number): Promise<void> {
    const startTime = this.store.current.processes.find((x) => x.pid === pid)?.startTime;
    const timeoutMs = this.opts.etcdTimeoutMs ?? 30_000;
    await waitFor(
      async () => {
        if (await etcdHealthy(m.clientUrl)) return true;
        const now = await procStat(pid);
        if (now === undefined || now.startTime !== startTime || now.state === 'Z') {
          throw new Error(`etcd member ${m.name} exited; log ${m.logFile}:\n${await logTail(m.logFile)}`);
        }
        return undefined;
      },
      timeoutMs,
      async () => new Error(`etcd member ${m.name} (${m.clientUrl}) did not report healthy within ${timeoutMs / 1000} s; log ${m.logFile}:\n${await logTail(m.logFile)}`),
      this.clock,
      100,
    );
  }

  private worker(host: string): LabPlan['workers'][number] {
    const w = this.plan.workers.find((x) => x.host === host);
    if (w === undefined) throw new Error(`no worker ${host}`);
    return w;
  }

  async runStep(step: LabStep): Promise<string | undefined> {
    switch (step.kind) {
      case 'network': {
        const [first, ...rest] = planNetworkSetup(this.plan);
        if (first !== undefined) await mustRun(this.deps.exec, ipBatchArgv(first), { stdin: batchText(first) });
        await Promise.all(rest.map((b) => mustRun(this.deps.exec, ipBatchArgv(b), { stdin: batchText(b) })));
        return `${this.plan.hosts.length} hosts, root ${this.plan.root.address}`;
      }
      case 'images':
        await mkdir(this.plan.imagesDir, { recursive: true });
        this.images = await this.deps.runtime.buildImages(this.plan.imagesDir);
        return `${this.images.length} images`;
      case 'etcd': {
        const members = (this.plan.etcd?.members ?? []).filter((m) => m.host === step.host);
        if (members.length === 0) throw new Error(`no etcd member planned on ${step.host}`);
        // all first: a member becomes healthy only once a quorum of them runs
        const pids: number[] = [];
        await mkdir(hostByName(this.plan, step.host).dir, { recursive: true });
        for (const m of members) {
          await mkdir(dirname(m.dataDir), { recursive: true, mode: 0o700 });
          pids.push(await this.launch(this.planned('etcd', step.host, m.name)));
        }
        for (const [i, m] of members.entries()) await this.waitEtcdHealthy(m, pids[i] ?? 0);
        return `${members.length} member${members.length === 1 ? '' : 's'}: ${members.map((m) => m.clientUrl).join(', ')}`;
      }
      case 'server': {
        const p = this.planned('server', step.host);
        const pid = await this.launch(p);
        const st = this.store.current.processes.find((x) => x.pid === pid);
        await waitFor(
          async () => {
            const tail = await logTail(p.logFile, 50);
            if (/knode server is ready at /.test(tail)) return true;
            const now = await procStat(pid);
            if (now === undefined || now.startTime !== st?.startTime || now.state === 'Z') {
              throw new Error(`knode server exited; log ${p.logFile}:\n${await logTail(p.logFile)}`);
            }
            return undefined;
          },
          this.opts.serverTimeoutMs ?? 45_000,
          async () => new Error(`knode server did not print its ready line in time; log ${p.logFile}:\n${await logTail(p.logFile)}`),
          this.clock,
        );
        return `pid ${pid}, ${this.plan.api.url}`;
      }
      case 'bootstrap-token':
        await createBootstrapToken(this.plan.api.kubeconfig, this.plan.bootstrapToken, this.plan.name);
        return undefined;
      case 'containerd': {
        const w = this.worker(step.host);
        const host = hostByName(this.plan, step.host);
        await mkdir(w.cniConfDir, { recursive: true });
        await prepareCniBinDir(w.cniBinDir, LAB_CNI.binLinks);
        await writeFile(
          join(w.cniConfDir, LAB_CNI.confFileName),
          LAB_CNI.buildConfig({ lab: this.plan.name, host: host.name, podCidr: host.podCidr ?? '', hostDir: host.dir }),
        );
        const logFile = join(host.dir, 'containerd.log');
        const { pid, handle } = await this.deps.runtime.startContainerd({ lab: this.plan.name, netns: host.netns, worker: w, logFile });
        await this.track(step.host, 'containerd', pid, ['containerd', '--address', w.socket], logFile, { handle });
        return `pid ${pid}`;
      }
      case 'import-images': {
        const w = this.worker(step.host);
        for (const tar of this.images) await this.deps.runtime.importImage(w, tar);
        return `${this.images.length} images`;
      }
      case 'agent': {
        if (step.skip !== undefined) return undefined;
        const pid = await this.launch(this.planned('agent', step.host));
        return `pid ${pid}`;
      }
      case 'wait-nodes': {
        if (step.skip !== undefined) return undefined;
        const want = this.plan.workers.map((w) => w.host);
        await waitFor(
          async () => {
            const nodes = await listNodes(this.plan.api.kubeconfig).catch(() => []);
            return want.every((n) => nodes.some((x) => x.name === n && x.ready === 'True')) ? true : undefined;
          },
          this.opts.nodesTimeoutMs ?? 60_000,
          () => new Error(`nodes ${want.join(', ')} were not all Ready in time`),
          this.clock,
          500,
        );
        return undefined;
      }
      default: {
        const never: never = step;
        return never;
      }
    }
  }
}

/** Creates the lab; returns its state once every step is done. */
export async function labUp(opts: UpOptions, deps: LabDeps): Promise<LabState> {
  const clock = deps.clock ?? realClock;
  const started = clock.now().getTime();
  await checkPrerequisites(opts);
  const plan = planLab({ ...opts, bootstrapToken: generateBootstrapToken() }, await readMachinePrefixes(deps.exec));
  const store = await LabStateStore.create(plan, () => clock.now());
  const runner = new Runner(plan, store, deps, opts);
  const total = plan.steps.length;
  for (const [i, step] of plan.steps.entries()) {
    const report = deps.progress.step(i + 1, total, stepTitle(step, plan));
    if ('skip' in step && step.skip !== undefined) {
      report.skipped(step.skip);
      continue;
    }
    try {
      const detail = await runner.runStep(step);
      report.ok(detail);
      await store.update((s) => ({ ...s, completedSteps: [...s.completedSteps, stepId(step)] }));
    } catch (err) {
      report.failed(err);
      const failure = new LabStepError(stepTitle(step, plan), err);
      await store.update((s) => ({ ...s, phase: 'failed', error: failure.message })).catch(() => undefined);
      if (opts.rollback === false) {
        deps.progress.info(`left as it is for inspection (state in ${plan.stateDir}); remove it with \`${downCommand(plan.name, plan.stateDir)}\`.`);
        throw failure;
      }
      deps.progress.info('rolling back ...');
      try {
        await labDown({ name: plan.name, stateDir: plan.stateDir }, deps);
        deps.progress.info('rolled back: nothing of the lab is left.');
      } catch (downErr) {
        deps.progress.info(`rollback incomplete (${downErr instanceof Error ? downErr.message : String(downErr)}); run \`${downCommand(plan.name, plan.stateDir)}\`.`);
      }
      throw failure;
    }
  }
  const upSeconds = Math.round((clock.now().getTime() - started) / 100) / 10;
  return store.update((s) => ({ ...s, phase: 'ready', upSeconds }));
}
