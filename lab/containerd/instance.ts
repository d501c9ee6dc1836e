/**
 * Starts and stops a private containerd instance (config.ts has its layout and settings).
 *
 * Start: write config.toml, launch `containerd --config <file>` detached with its output appended to
 * a log file, inside a network namespace when asked (`nsenter --net=/run/netns/<ns>`: only the
 * network namespace changes; `ip netns exec` would also give containerd a private mount namespace,
 * hiding its rootfs and netns mounts from the host and the kubelet's volume mounts from it), then
 * wait until its socket accepts connections and its CRI answers Version. The instance is identified by pid + start time.
 *
 * Stop: SIGTERM containerd by pid (SIGKILL after a grace period). Its shims and containers outlive
 * it by design (that is what makes a restart harmless), so a full stop then kills the tasks found in
 * its state dir (tasks.ts, each pid verified), removes the shims' sockets and the pods' CNI result
 * cache entries, unmounts everything under its dir (rootfs overlays, /dev/shm of sandboxes, pod
 * netns files) deepest first and removes the dir. Pod network interfaces die with the pods' netns;
 * what a CNI plugin put elsewhere (host-local allocations) is the CNI config owner's to clean. `restartContainerd` stops only the daemon and starts it again on the same dir.
 *
 * Cost: start ~0.3-1 s (containerd loading plugins and its CRI service), stop ~0.1 s plus the time
 * containerd takes to exit on SIGTERM.
 */
import { createConnection } from 'node:net';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { realClock } from '../../lib/clock.js';
import { realExec } from '../../lib/exec.js';
import { connectCri } from '../../kubelet/cri/connect.js';
import type { Exec } from '../../lib/exec.js';
import { unmountUnder } from '../mounts.js';
import { inNetns, isAlive, logTail, procStat, realLauncher, stopProcesses } from '../processes.js';
import type { Launcher } from '../processes.js';
import { PAUSE_IMAGE } from '../images/lab-images.js';
import { MAX_CONTAINERD_SOCKET_PATH, buildContainerdConfig, containerdLayout } from './config.js';
import type { ContainerdLayout } from './config.js';
import { ContainerdConfigError, ContainerdRunningError, ContainerdStartError, ContainerdStopError } from './errors.js';
import { findTasks, ownedTaskProcesses, removeCniResults, removeShimSockets } from './tasks.js';

export interface StartContainerdOptions {
  /** The instance's private dir; created if missing. */
  readonly dir: string;
  /** Default `<dir>/containerd.sock`. */
  readonly socket?: string;
  /** A named network namespace (`ip netns add`) to run in; default: the caller's. */
  readonly netns?: string;
  /** Default knode.local/pause:3.10 (import it before the first sandbox). */
  readonly sandboxImage?: string;
  /** Default /usr/lib/cni (Debian's containernetworking-plugins). */
  readonly cniBinDir?: string;
  /** Default `<dir>/cni/net.d`; containerd loads the first file there and watches for changes. */
  readonly cniConfDir?: string;
  /** Default `<dir>/containerd.log`. */
  readonly logFile?: string;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  readonly streamServerAddress?: string;
  /** How long to wait for the socket; default 20 s. */
  readonly readyTimeoutMs?: number;
  readonly containerdPath?: string;
  /** Variables added to (or replacing in) the daemon's environment, e.g. a PATH for CNI plugins. */
  readonly env?: Readonly<Record<string, string>>;
  /** How the daemon is spawned (default: detached, output to the log file). */
  readonly launcher?: Launcher;
}

export interface ContainerdInstance {
  readonly pid: number;
  /** /proc/<pid>/stat field 22: with the pid, identifies this very process. */
  readonly startTime: string;
  readonly socket: string;
  /** `unix://<socket>`, for CRI clients. */
  readonly address: string;
  readonly layout: ContainerdLayout;
  readonly netns?: string;
  /** What it was started with, for restartContainerd. */
  readonly options: StartContainerdOptions;
}

export interface StopContainerdOptions {
  /** SIGTERM to SIGKILL, default 10 s. */
  readonly graceMs?: number;
  /** Leave shims and containers running (a daemon restart). Implies keepDir. */
  readonly keepContainers?: boolean;
  /** Leave the dir (images, metadata) in place after cleaning up containers. */
  readonly keepDir?: boolean;
  readonly exec?: Exec;
}

export interface StopReport {
  /** Container inits and shims that were killed. */
  readonly killedTasks: number;
  readonly unmounted: readonly string[];
  /** Files removed from /var/lib/cni/results (pods that never got a CNI DEL). */
  readonly cniResultsRemoved: readonly string[];
}

/** True when something accepts connections on the unix socket. */
export function socketAnswers(path: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ path });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

export async function startContainerd(opts: StartContainerdOptions): Promise<ContainerdInstance> {
  const layout = containerdLayout(opts.dir, {
    ...(opts.socket !== undefined ? { socket: opts.socket } : {}),
    ...(opts.cniConfDir !== undefined ? { cniConfDir: opts.cniConfDir } : {}),
    ...(opts.logFile !== undefined ? { logFile: opts.logFile } : {}),
  });
  if (Buffer.byteLength(layout.socket) > MAX_CONTAINERD_SOCKET_PATH) {
    throw new ContainerdConfigError(`containerd socket path ${layout.socket} is longer than ${MAX_CONTAINERD_SOCKET_PATH} bytes: choose a shorter dir.`);
  }
  if (await socketAnswers(layout.socket)) throw new ContainerdRunningError(layout.socket);
  for (const d of [layout.dir, layout.root, layout.state, layout.runcRoot, layout.cniConfDir, dirname(layout.logFile)]) {
    await mkdir(d, { recursive: true, mode: 0o711 });
  }
  await writeFile(
    layout.config,
    buildContainerdConfig({
      layout,
      sandboxImage: opts.sandboxImage ?? PAUSE_IMAGE,
      cniBinDir: opts.cniBinDir ?? '/usr/lib/cni',
      ...(opts.logLevel !== undefined ? { logLevel: opts.logLevel } : {}),
      ...(opts.streamServerAddress !== undefined ? { streamServerAddress: opts.streamServerAddress } : {}),
    }),
  );
  const argv = [opts.containerdPath ?? 'containerd', '--config', layout.config];
  const launcher = opts.launcher ?? realLauncher;
  let pid: number;
  try {
    ({ pid } = await launcher.start(opts.netns !== undefined ? inNetns(opts.netns, argv) : argv, { logFile: layout.logFile, ...(opts.env !== undefined ? { env: opts.env } : {}) }));
  } catch (err) {
    throw new ContainerdStartError(`cannot start containerd: ${(err as Error).message}. Is the Debian package containerd installed?`, layout.logFile, { cause: err });
  }
  const stat = await procStat(pid);
  const proc = { pid, startTime: stat?.startTime ?? '' };
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 20_000);
  const fail = async (why: string, cause?: unknown): Promise<never> => {
    if (proc.startTime !== '' && (await isAlive(proc))) await stopProcesses([proc], 0);
    throw new ContainerdStartError(
      `containerd (pid ${pid}) did not start: ${why}. Last lines of ${layout.logFile}:\n${await logTail(layout.logFile)}`,
      layout.logFile,
      cause !== undefined ? { cause } : undefined,
    );
  };
  for (;;) {
    if (await socketAnswers(layout.socket, 500)) break;
    if (proc.startTime === '' || !(await isAlive(proc))) await fail('it exited');
    if (Date.now() > deadline) await fail(`its socket ${layout.socket} did not answer within ${opts.readyTimeoutMs ?? 20_000} ms`);
    await realClock.sleep(50);
  }
  // containerd serves its socket even when the CRI plugin failed to load: ask the CRI itself. Right
  // after the socket opens, the CRI may still be recovering its state and answers "server is not
  // initialized yet": that is not ready yet, not a failure, until the deadline.
  for (;;) {
    try {
      (await connectCri({ endpoint: `unix://${layout.socket}`, connectTimeoutMs: Math.max(1_000, deadline - Date.now()) })).close();
      break;
    } catch (err) {
      const initializing = /not initialized yet/.test((err as Error).message);
      if (!initializing || Date.now() > deadline) await fail(`its CRI service does not answer (${(err as Error).message})`, err);
      if (proc.startTime === '' || !(await isAlive(proc))) await fail('it exited');
      await realClock.sleep(50);
    }
  }
  return {
    pid,
    startTime: proc.startTime,
    socket: layout.socket,
    address: `unix://${layout.socket}`,
    layout,
    ...(opts.netns !== undefined ? { netns: opts.netns } : {}),
    options: opts,
  };
}

export async function stopContainerd(inst: ContainerdInstance, opts: StopContainerdOptions = {}): Promise<StopReport> {
  const keepContainers = opts.keepContainers ?? false;
  await stopProcesses([{ pid: inst.pid, startTime: inst.startTime }], opts.graceMs ?? 10_000);
  if (keepContainers) return { killedTasks: 0, unmounted: [], cniResultsRemoved: [] };

  // containerd is gone, so the set of tasks is final
  const tasks = await findTasks(inst.layout.state);
  const owned = await ownedTaskProcesses(tasks, inst.socket);
  await stopProcesses(owned, 0);
  await removeShimSockets(tasks);
  const cniResultsRemoved = await removeCniResults(tasks.map((t) => t.id));

  const { unmounted, left } = await unmountUnder(opts.exec ?? realExec, inst.layout.dir);
  if (left.length > 0) {
    throw new ContainerdStopError(`containerd ${inst.layout.dir}: mounts remain after unmounting: ${left.join(', ')}`, left);
  }
  if (!(opts.keepDir ?? false)) await rm(inst.layout.dir, { recursive: true, force: true });
  return { killedTasks: owned.length, unmounted, cniResultsRemoved };
}

/** Stops the daemon only (its containers keep running) and starts it again on the same dir. */
export async function restartContainerd(inst: ContainerdInstance, graceMs = 10_000): Promise<ContainerdInstance> {
  await stopContainerd(inst, { keepContainers: true, graceMs });
  return startContainerd(inst.options);
}
