/**
 * `knode lab down`: removes everything a lab created, from its state file when there is one and by the
 * lab's naming conventions in any case, so it works after a complete `up`, after a crashed or failed
 * `up`, and a second time (then it finds nothing and succeeds).
 *
 * Order (each stage needs the previous one done):
 *  1. recorded processes, agents first, then containerd, then the server, then the etcd members (the
 *     server's store, so it never loses it while running): SIGTERM, SIGKILL after 5 s (pid + start
 *     time, never by name); etcd members one at a time: a leader stopped together with its followers
 *     tries to hand its leadership to one of them and only gives up after ~7 s, one stopped alone
 *     hands it over at once, and the last finds no peer and stops at once (~40 ms per member);
 *     (containerd through the runtime's full stop when given: shims, containers, their mounts);
 *  2. stray processes: any pid inside a lab network namespace (named ones and pod netns files under
 *     the state dir) or in a lab cgroup tree (containerd's shims, containers); shim sockets outside
 *     the state dir, found from the task bundles inside it;
 *  3. mounts under the state dir, deepest first (snapshots, shm, pod netns files);
 *  4. the root veth and the namespaces (`ip -force -batch`), waiting until the kernel has removed them;
 *  5. the lab's cgroup trees on every hierarchy, deepest first;
 *  6. CNI state outside the state dir (result cache files of the lab's networks);
 *  7. the state dir itself, only when no mount is left under it and it is recognisably the lab's.
 * Then it checks that nothing is left and throws LabTeardownError listing what is.
 */
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { realClock } from '../lib/clock.js';
import type { Clock } from '../lib/clock.js';
import type { Exec } from '../lib/exec.js';
import { cgroupHierarchies, labCgroupRoots, pidsInTree, removeTree } from './cgroups.js';
import { CNI_RESULT_CACHE_DIR, cniNetworkName } from './cni-config.js';
import { findTasks, removeCniResults, removeShimSockets } from './containerd/tasks.js';
import { LabTeardownError } from './errors.js';
import { mountsUnder, readMounts, unmountUnder } from './mounts.js';
import { batchText, ipBatchArgv, planNetworkTeardown } from './network-plan.js';
import { defaultStateDir, isLabNetns, LAB_BPF_ROOT, labCgroupName } from './plan.js';
import { isAlive, netnsInodes, netnsPath, processesInNetns, procStat, stopProcesses } from './processes.js';
import type { LabNodeRuntime } from './node-runtime.js';
import type { Progress } from './progress.js';
import { readLabState } from './state.js';
import type { LabState, ProcessKind, ProcessRecord } from './state.js';

export interface DownTarget {
  readonly name: string;
  readonly stateDir: string;
}

export interface DownDeps {
  readonly exec: Exec;
  readonly progress: Progress;
  readonly clock?: Clock;
  /** Stops recorded containerd instances completely; without it they are stopped by pid only. */
  readonly runtime?: Pick<LabNodeRuntime, 'stopContainerd'>;
}

export interface DownReport {
  readonly hadState: boolean;
  readonly stoppedProcesses: number;
  readonly strayProcesses: number;
  readonly unmounted: number;
  readonly namespaces: readonly string[];
  readonly cgroupsRemoved: number;
}

const STOP_ORDER: readonly ProcessKind[] = ['agent', 'containerd', 'server', 'etcd'];

async function labNamespacesOnMachine(lab: string): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).filter((n) => isLabNetns(lab, n));
  } catch {
    return [];
  }
}

function linkExists(name: string): boolean {
  return existsSync(join('/sys/class/net', name));
}

/** Every pid in any lab cgroup tree, with its start time (pids that vanished meanwhile are dropped). */
async function cgroupProcesses(roots: readonly string[]): Promise<Array<{ pid: number; startTime: string }>> {
  const out: Array<{ pid: number; startTime: string }> = [];
  for (const r of roots) {
    for (const pid of await pidsInTree(r)) {
      if (pid === process.pid) continue;
      const s = await procStat(pid);
      if (s !== undefined && !out.some((o) => o.pid === pid)) out.push({ pid, startTime: s.startTime });
    }
  }
  return out;
}

/** `<stateDir>/<host>/containerd/state` of every worker that has one. */
async function containerdStateDirs(stateDir: string): Promise<string[]> {
  const out: string[] = [];
  for (const host of await readdir(stateDir).catch(() => [])) {
    const dir = join(stateDir, host, 'containerd', 'state');
    if (existsSync(dir)) out.push(dir);
  }
  return out;
}

async function stateDirIsOurs(target: DownTarget, state: LabState | undefined): Promise<boolean> {
  if (state !== undefined) return true;
  if (target.stateDir === defaultStateDir(target.name)) return true;
  // without a state file: ours when it holds nothing but what a lab puts there
  try {
    return (await readdir(target.stateDir)).every((e) => /^(cp|w[1-9]\d?|images|lab\.json(\.tmp-\d+)?)$/.test(e));
  } catch {
    return false;
  }
}

export async function labDown(target: DownTarget, deps: DownDeps): Promise<DownReport> {
  const clock = deps.clock ?? realClock;
  let state: LabState | undefined;
  try {
    state = await readLabState(target.stateDir);
  } catch (err) {
    deps.progress.info(`warning: ${err instanceof Error ? err.message : String(err)}; removing what the lab's names point to.`);
  }
  const lab = state?.name ?? target.name;
  const rootLink = state?.plan.root.link ?? `knode-${lab}`;
  const recordedNs = state !== undefined ? [state.plan.switchNetns, ...state.plan.hosts.map((h) => h.netns)] : [];
  const namespaces = [...new Set([...recordedNs, ...(await labNamespacesOnMachine(lab))])];
  const hierarchies = cgroupHierarchies(await readMounts());
  const cgroupRoots = [...new Set([...labCgroupRoots(hierarchies, labCgroupName(lab)), ...(state?.cgroups ?? []).map((d) => join(d, '..'))])];

  // 1. recorded processes
  let stopped = 0;
  const recorded: readonly ProcessRecord[] = state?.processes ?? [];
  for (const kind of STOP_ORDER) {
    const group = recorded.filter((p) => p.kind === kind);
    if (kind === 'containerd' && deps.runtime !== undefined) {
      // the runtime's stop also ends shims and containers and removes their sockets and mounts
      for (const p of group) {
        if (p.handle === undefined) continue;
        const wasAlive = await isAlive(p);
        try {
          await deps.runtime.stopContainerd(p.handle);
          if (wasAlive) stopped++;
        } catch (err) {
          deps.progress.info(`warning: stopping containerd on ${p.host}: ${err instanceof Error ? err.message : String(err)}; continuing by pid`);
        }
      }
    }
    const alive = [];
    for (const p of group) if (await isAlive(p)) alive.push(p);
    if (alive.length === 0) continue;
    if (kind === 'etcd') for (const p of alive) await stopProcesses([p], 5_000, clock);
    else await stopProcesses(alive, 5_000, clock);
    stopped += alive.length;
  }

  // 2. strays: inside the lab's namespaces (named and pod netns files under the state dir) or cgroups
  const nsFiles = [...namespaces.map(netnsPath), ...mountsUnder(await readMounts(), target.stateDir).filter((m) => m.fsType === 'nsfs').map((m) => m.mountPoint)];
  const strays = [...(await processesInNetns(await netnsInodes(nsFiles))), ...(await cgroupProcesses(cgroupRoots))];
  const uniqueStrays = strays.filter((p, i) => strays.findIndex((q) => q.pid === p.pid) === i);
  if (uniqueStrays.length > 0) await stopProcesses(uniqueStrays, 2_000, clock);

  // shims' sockets live outside the state dir (/run/containerd/s); their task bundles say where
  for (const state of await containerdStateDirs(target.stateDir)) {
    const tasks = await findTasks(state);
    await removeShimSockets(tasks);
    await removeCniResults(tasks.map((t) => t.id));
  }

  // 3. mounts under the state dir
  const mounts = await unmountUnder(deps.exec, target.stateDir);

  // 4. network
  const teardown = planNetworkTeardown(rootLink, namespaces);
  await deps.exec.run(ipBatchArgv(teardown, true), { stdin: batchText(teardown) });
  const deadline = clock.now().getTime() + 10_000;
  while ((linkExists(rootLink) || (await labNamespacesOnMachine(lab)).length > 0) && clock.now().getTime() < deadline) await clock.sleep(50);

  // 5. cgroups (a cgroup empties a moment after its last process is reaped)
  let cgroupsRemoved = 0;
  for (const r of cgroupRoots) {
    if (!existsSync(r)) continue;
    let left = await removeTree(r);
    const until = clock.now().getTime() + 3_000;
    while (left.length > 0 && clock.now().getTime() < until) {
      await clock.sleep(50);
      left = await removeTree(r);
    }
    if (left.length === 0) cgroupsRemoved++;
  }

  // 6. CNI result cache of the lab's networks (host-local's allocations are inside the state dir)
  const hosts = state?.plan.hosts.map((h) => h.name) ?? [];
  try {
    const prefixes = hosts.length > 0 ? hosts.map((h) => `${cniNetworkName(lab, h)}-`) : [`${cniNetworkName(lab, '')}`];
    for (const f of await readdir(CNI_RESULT_CACHE_DIR)) {
      if (prefixes.some((p) => f.startsWith(p))) await rm(join(CNI_RESULT_CACHE_DIR, f), { force: true });
    }
  } catch {
    // no cache dir: nothing cached
  }

  // 6b. the nodes' fast path pins (programs and maps; the tc filters went with the namespaces)
  await rm(join(LAB_BPF_ROOT, lab), { recursive: true, force: true }).catch(() => undefined);
  await rmdir(LAB_BPF_ROOT).catch(() => undefined);

  // 7. the state dir: never while something is mounted below it (rm would descend into the mount)
  const leftovers: string[] = [];
  if (mounts.left.length === 0 && existsSync(target.stateDir)) {
    if (await stateDirIsOurs(target, state)) {
      await rm(target.stateDir, { recursive: true, force: true });
      // the default parent (/var/lib/knode-lab) was created for the lab too: remove it once empty
      if (target.stateDir === defaultStateDir(target.name)) await rmdir(join(target.stateDir, '..')).catch(() => undefined);
    }
    else leftovers.push(`state dir ${target.stateDir} (not recognisably this lab's: left alone)`);
  }

  // verify
  for (const m of mounts.left) leftovers.push(`mount ${m}`);
  for (const ns of await labNamespacesOnMachine(lab)) leftovers.push(`namespace ${ns}`);
  if (linkExists(rootLink)) leftovers.push(`link ${rootLink}`);
  for (const p of [...recorded, ...uniqueStrays]) if (await isAlive(p)) leftovers.push(`process ${p.pid}`);
  for (const r of cgroupRoots) {
    try {
      await stat(r);
      leftovers.push(`cgroup ${r}`);
    } catch {
      // gone
    }
  }
  if (leftovers.length > 0) throw new LabTeardownError(leftovers);
  return {
    hadState: state !== undefined,
    stoppedProcesses: stopped,
    strayProcesses: uniqueStrays.length,
    unmounted: mounts.unmounted.length,
    namespaces,
    cgroupsRemoved,
  };
}
