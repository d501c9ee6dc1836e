/**
 * The runtime's view of pods: CRI sandboxes and containers grouped by pod UID into RuntimePods, read
 * back from the labels and annotations the kubelet wrote on them (see DESIGN.md, "The kubelet's memory
 * is in the runtime"), so a restarted agent sees exactly what it left.
 *
 *  - `buildRuntimePods` is pure: lists (or statuses) in, `Map<uid, RuntimePod>` out. Sandboxes and
 *    containers are ordered newest first, as upstream's FindContainerStatusByName expects.
 *  - `readRuntimeState` is the one effect: list sandboxes and containers, then ask ContainerStatus of
 *    every container (exit code, reason, start/finish times are only there) and PodSandboxStatus of
 *    every ready sandbox (IP and network namespace mode), and read termination messages of exited
 *    containers from the host file behind `terminationMessagePath` (or the log tail with
 *    FallbackToLogsOnError), as upstream's getPodContainerStatuses does.
 *
 * Objects without the `io.kubernetes.pod.uid` label were not made by a kubelet and are ignored.
 * CRI timestamps are bigint nanoseconds; RuntimePod carries milliseconds.
 *
 * Cost model: 2 list calls + one status call per container + one per ready sandbox, run concurrently;
 * one small file read per exited container that has a termination message mount.
 */
import { open } from 'node:fs/promises';
import type { ContainerState, PodSandboxState } from './cri/types-common.js';
import type { Container as CriContainer, ContainerStatus as CriContainerStatus, Mount } from './cri/types-container.js';
import type { PodSandbox, PodSandboxStatus } from './cri/types-sandbox.js';
import type { RuntimeService } from './cri/services.js';
import { CriNotFoundError } from './cri/errors.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_CONTAINER_TYPE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from './types.js';
import type { RuntimeContainer, RuntimeContainerState, RuntimePod, RuntimeSandbox } from './types.js';

/** A sandbox as listed, or its status (which adds the IP and namespace modes). */
export type SandboxInput = PodSandbox | PodSandboxStatus;

/** A container as listed, or its status; a status carries no sandbox id, so callers add it. */
export type ContainerInput = CriContainer | (CriContainerStatus & { readonly podSandboxId?: string });

const nsToMs = (ns: bigint): number => Number(ns / 1_000_000n);

function sandboxState(s: PodSandboxState): RuntimeSandbox['state'] {
  return s === 'SANDBOX_READY' ? 'ready' : 'notready';
}

function containerState(s: ContainerState): RuntimeContainerState {
  switch (s) {
    case 'CONTAINER_CREATED':
      return 'created';
    case 'CONTAINER_RUNNING':
      return 'running';
    case 'CONTAINER_EXITED':
      return 'exited';
    case 'CONTAINER_UNKNOWN':
      return 'unknown';
    default: {
      const never: never = s;
      return never;
    }
  }
}

function isSandboxStatus(s: SandboxInput): s is PodSandboxStatus {
  return 'network' in s || 'linux' in s;
}

function isContainerStatus(c: ContainerInput): c is CriContainerStatus & { readonly podSandboxId?: string } {
  return 'startedAt' in c;
}

function toRuntimeSandbox(s: SandboxInput): RuntimeSandbox {
  const status = isSandboxStatus(s) ? s : undefined;
  // a status without a network block says nothing about the IP; an empty `ip` means "has none"
  const ip = status?.network ? { ip: status.network.ip } : {};
  return {
    id: s.id,
    state: sandboxState(s.state),
    attempt: s.metadata?.attempt ?? 0,
    createdAt: nsToMs(s.createdAt),
    ...ip,
    hostNetwork: status?.linux?.namespaces?.options?.network === 'NODE',
  };
}

function parseCount(text: string | undefined): number {
  const n = text === undefined ? NaN : Number.parseInt(text, 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function toRuntimeContainer(c: ContainerInput): RuntimeContainer {
  const name = c.labels[LABEL_CONTAINER_NAME] ?? c.metadata?.name ?? '';
  const base = {
    id: c.id,
    name,
    sandboxId: c.podSandboxId ?? '',
    attempt: c.metadata?.attempt ?? 0,
    state: containerState(c.state),
    createdAt: nsToMs(c.createdAt),
    image: c.image?.image ?? '',
    imageRef: c.imageRef,
    hash: c.annotations[ANNOTATION_CONTAINER_HASH] ?? '',
    restartCount: parseCount(c.annotations[ANNOTATION_RESTART_COUNT]),
    isInit: c.labels[LABEL_CONTAINER_TYPE] === 'init',
  };
  if (!isContainerStatus(c)) return base;
  const exited = c.state === 'CONTAINER_EXITED';
  return {
    ...base,
    ...(c.startedAt !== 0n ? { startedAt: nsToMs(c.startedAt) } : {}),
    ...(c.finishedAt !== 0n ? { finishedAt: nsToMs(c.finishedAt) } : {}),
    ...(exited ? { exitCode: c.exitCode } : {}),
    ...(c.reason !== '' ? { reason: c.reason } : {}),
    ...(c.message !== '' ? { message: c.message } : {}),
  };
}

interface PodBuilder {
  uid: string;
  name: string;
  namespace: string;
  sandboxes: RuntimeSandbox[];
  containers: RuntimeContainer[];
}

/** Groups CRI sandboxes and containers by pod UID. Pure. */
export function buildRuntimePods(sandboxes: readonly SandboxInput[], containers: readonly ContainerInput[]): Map<string, RuntimePod> {
  const pods = new Map<string, PodBuilder>();
  const podFor = (uid: string, labels: Readonly<Record<string, string>>, fallback?: { name?: string; namespace?: string }): PodBuilder => {
    let p = pods.get(uid);
    if (!p) {
      p = { uid, name: '', namespace: '', sandboxes: [], containers: [] };
      pods.set(uid, p);
    }
    if (p.name === '') p.name = labels[LABEL_POD_NAME] ?? fallback?.name ?? '';
    if (p.namespace === '') p.namespace = labels[LABEL_POD_NAMESPACE] ?? fallback?.namespace ?? '';
    return p;
  };
  for (const s of sandboxes) {
    const uid = s.labels[LABEL_POD_UID] ?? s.metadata?.uid;
    if (!uid) continue;
    podFor(uid, s.labels, s.metadata).sandboxes.push(toRuntimeSandbox(s));
  }
  for (const c of containers) {
    const uid = c.labels[LABEL_POD_UID];
    if (!uid) continue;
    podFor(uid, c.labels).containers.push(toRuntimeContainer(c));
  }
  const out = new Map<string, RuntimePod>();
  for (const [uid, p] of pods) {
    // newest first; ties broken by attempt so a restart created in the same millisecond sorts first
    p.sandboxes.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    p.containers.sort((a, b) => b.createdAt - a.createdAt || b.attempt - a.attempt);
    out.set(uid, { uid, name: p.name, namespace: p.namespace, sandboxes: p.sandboxes, containers: p.containers });
  }
  return out;
}

// ---- effects ---------------------------------------------------------------------------------------

/** Upstream's limits: 4 KiB of termination message, or the last 80 lines / 2 KiB of log. */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
export const MAX_TERMINATION_LOG_LINES = 80;
export const MAX_TERMINATION_LOG_BYTES = 2048;

export interface ReadRuntimeStateOptions {
  /** The last `maxBytes` of a file, or undefined when it does not exist. Default: node:fs. */
  readonly readTail?: (path: string, maxBytes: number) => Promise<string | undefined>;
  readonly signal?: AbortSignal;
}

/** Reads the last `maxBytes` of a file; undefined when it is missing. */
export async function readFileTail(path: string, maxBytes: number): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await fh.stat();
    const length = Math.min(size, maxBytes);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, size - length);
    return buf.toString('utf8');
  } finally {
    await fh.close();
  }
}

/**
 * The text of the last lines of a CRI log file (`<time> <stream> <P|F> <text>` per line, P marking a
 * partial line continued by the next), limited as upstream's readLastStringFromContainerLogs.
 */
export function lastLogText(raw: string, maxLines = MAX_TERMINATION_LOG_LINES, maxBytes = MAX_TERMINATION_LOG_BYTES): string {
  const lines: string[] = [];
  let pending = '';
  for (const line of raw.split('\n')) {
    const m = /^\S+ (?:stdout|stderr) ([PF]) ?(.*)$/.exec(line);
    if (!m) continue;
    pending += m[2] ?? '';
    if (m[1] === 'F') {
      lines.push(`${pending}\n`);
      pending = '';
    }
  }
  const text = lines.slice(-maxLines).join('');
  const bytes = Buffer.from(text, 'utf8');
  return bytes.length <= maxBytes ? text : bytes.subarray(bytes.length - maxBytes).toString('utf8');
}

/** Upstream's getTerminationMessage + log fallback; '' when there is nothing to add. */
async function terminationMessage(
  status: CriContainerStatus,
  readTail: (path: string, maxBytes: number) => Promise<string | undefined>,
): Promise<string> {
  const path = status.annotations[ANNOTATION_TERMINATION_MESSAGE_PATH] ?? '';
  const fallbackToLogs =
    status.annotations[ANNOTATION_TERMINATION_MESSAGE_POLICY] === 'FallbackToLogsOnError' && status.exitCode !== 0 && status.reason !== 'ContainerCannotRun';
  let checkLogs = fallbackToLogs;
  let message = '';
  const mount: Mount | undefined = path === '' ? undefined : status.mounts.find((m) => m.containerPath === path);
  if (mount) {
    try {
      const data = await readTail(mount.hostPath, MAX_TERMINATION_MESSAGE_BYTES);
      message = data ?? '';
      checkLogs = fallbackToLogs && message === '';
    } catch (err) {
      return `Error on reading termination log ${mount.hostPath}: ${(err as Error).message}`;
    }
  }
  if (checkLogs && status.logPath !== '') {
    // CRI lines carry ~40 bytes of prefix each: read enough raw bytes for 80 lines of 2 KiB of text
    const raw = await readTail(status.logPath, 64 * 1024).catch(() => undefined);
    if (raw !== undefined) message = lastLogText(raw);
  }
  return message;
}

/**
 * Lists the runtime and builds the RuntimePods. A container or sandbox that vanishes between the list
 * and its status call keeps its list entry (the next relist will drop it).
 */
export async function readRuntimeState(runtime: RuntimeService, opts: ReadRuntimeStateOptions = {}): Promise<Map<string, RuntimePod>> {
  const call = opts.signal ? { signal: opts.signal } : {};
  const readTail = opts.readTail ?? readFileTail;
  const [{ items }, { containers }] = await Promise.all([runtime.listPodSandbox({}, call), runtime.listContainers({}, call)]);
  const sandboxes = await Promise.all(
    items.map(async (s): Promise<SandboxInput> => {
      if (s.state !== 'SANDBOX_READY') return s;
      try {
        return (await runtime.podSandboxStatus({ podSandboxId: s.id }, call)).status ?? s;
      } catch (err) {
        if (err instanceof CriNotFoundError) return s;
        throw err;
      }
    }),
  );
  const statuses = await Promise.all(
    containers.map(async (c): Promise<ContainerInput> => {
      let status: CriContainerStatus | undefined;
      try {
        status = (await runtime.containerStatus({ containerId: c.id }, call)).status;
      } catch (err) {
        if (err instanceof CriNotFoundError) return c;
        throw err;
      }
      if (!status) return c;
      if (status.state === 'CONTAINER_EXITED') {
        const extra = await terminationMessage(status, readTail);
        if (extra !== '') status = { ...status, message: status.message === '' ? extra : `${status.message}: ${extra}` };
      }
      return { ...status, podSandboxId: c.podSandboxId };
    }),
  );
  return buildRuntimePods(sandboxes, statuses);
}
