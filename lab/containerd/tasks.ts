/**
 * The processes and files a containerd instance leaves behind on its own: containerd-shim-runc-v2
 * shims (they outlive containerd by design, so a restarted containerd reconnects to its
 * containers), the containers' init processes, the shims' sockets under /run/containerd/s and
 * libcni's result cache entries. Found from the instance itself, never by process name:
 * - task bundles `<state>/io.containerd.runtime.v2.task/<namespace>/<id>/` hold `init.pid` and
 *   `address` (the shim socket); containerd 1.6 writes no shim.pid and runs all of a pod's
 *   containers under the sandbox's shim;
 * - shims are the processes whose command line carries `-address <this instance's socket>`;
 * - an init is killed only when its parent is one of those shims, so a recycled pid never is.
 * Killing a container's init ends its pid namespace (pause ends the pod's).
 * Cost: a few small file reads per task plus one cmdline read per process on the machine (~5 ms).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { procStat } from '../processes.js';

/** libcni's default cache dir; containerd 1.6 cannot move it. */
export const CNI_RESULTS_DIR = '/var/lib/cni/results';

export interface TaskBundle {
  readonly namespace: string;
  /** Container or sandbox id. */
  readonly id: string;
  readonly initPid?: number;
  /** Path of the shim's socket file. */
  readonly shimSocket?: string;
}

export interface OwnedProcess {
  readonly pid: number;
  readonly startTime: string;
}

async function listDir(path: string): Promise<string[]> {
  try {
    return await readdir(path);
  } catch {
    return [];
  }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    return undefined;
  }
}

/** Every task bundle under the state dir with the init pid and shim socket it records. */
export async function findTasks(stateDir: string): Promise<TaskBundle[]> {
  const base = join(stateDir, 'io.containerd.runtime.v2.task');
  const out: TaskBundle[] = [];
  for (const namespace of await listDir(base)) {
    for (const id of await listDir(join(base, namespace))) {
      const bundle = join(base, namespace, id);
      const pid = Number(await readText(join(bundle, 'init.pid')));
      const address = (await readText(join(bundle, 'address')))?.replace(/^unix:\/\//, '');
      out.push({
        namespace,
        id,
        ...(Number.isInteger(pid) && pid > 1 ? { initPid: pid } : {}),
        ...(address ? { shimSocket: address } : {}),
      });
    }
  }
  return out;
}

/** Shims of the instance whose containerd socket is `socket`. */
export async function findShims(socket: string): Promise<OwnedProcess[]> {
  const out: OwnedProcess[] = [];
  for (const name of await listDir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = (await readText(`/proc/${name}/cmdline`))?.split('\0') ?? [];
    const i = argv.indexOf('-address');
    if (i < 0 || argv[i + 1] !== socket || !basename(argv[0] ?? '').startsWith('containerd-shim')) continue;
    const s = await procStat(Number(name));
    if (s) out.push({ pid: Number(name), startTime: s.startTime });
  }
  return out;
}

async function parentOf(pid: number): Promise<number | undefined> {
  const text = await readText(`/proc/${pid}/stat`);
  if (text === undefined) return undefined;
  const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** The instance's container inits (children of its shims) followed by the shims themselves. */
export async function ownedTaskProcesses(tasks: readonly TaskBundle[], socket: string): Promise<OwnedProcess[]> {
  const shims = await findShims(socket);
  const shimPids = new Set(shims.map((s) => s.pid));
  const inits: OwnedProcess[] = [];
  for (const t of tasks) {
    if (t.initPid === undefined || !shimPids.has((await parentOf(t.initPid)) ?? -1)) continue;
    const s = await procStat(t.initPid);
    if (s) inits.push({ pid: t.initPid, startTime: s.startTime });
  }
  return [...inits, ...shims];
}

/** Removes the shims' socket files (a SIGKILLed shim cannot). */
export async function removeShimSockets(tasks: readonly TaskBundle[]): Promise<void> {
  for (const t of tasks) if (t.shimSocket?.startsWith('/run/containerd/s/')) await rm(t.shimSocket, { force: true });
}

/**
 * Removes libcni's cached results of these sandboxes (`<network>-<id>-<ifname>`), which a CNI DEL
 * would have removed had the pods been stopped through the CRI.
 */
export async function removeCniResults(ids: readonly string[], dir = CNI_RESULTS_DIR): Promise<string[]> {
  const wanted = ids.filter((id) => /^[0-9a-f]{64}$/.test(id));
  const removed: string[] = [];
  for (const f of await listDir(dir)) {
    if (!wanted.some((id) => f.includes(`-${id}-`))) continue;
    await rm(join(dir, f), { force: true });
    removed.push(f);
  }
  return removed;
}
