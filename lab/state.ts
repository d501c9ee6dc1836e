/**
 * The lab's memory: one JSON file (`<stateDir>/lab.json`) holding the plan (every name, address and
 * path `up` will create) and what has been done (completed steps, started processes with their pids).
 *
 * `up` writes the plan BEFORE it creates anything and rewrites the file after every step, so after a
 * crash at any point `down` finds every name it may have to remove. Writes are atomic: a temp file in
 * the same dir, fsync, rename over the old one, fsync of the dir; a reader sees the old or the new
 * file, never half of one. Cost: ~1 ms per write (a few KiB).
 */
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LabStateError } from './errors.js';
import type { LabPlan, LabStep } from './plan.js';

export const STATE_FILE = 'lab.json';
export const STATE_VERSION = 1;

export type ProcessKind = 'etcd' | 'server' | 'containerd' | 'agent';

export interface ProcessRecord {
  readonly host: string;
  readonly kind: ProcessKind;
  /** etcd only: the member's name (`etcd0`, ...). */
  readonly member?: string;
  readonly pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells our process from a reused pid. */
  readonly startTime: string;
  readonly argv: readonly string[];
  readonly logFile: string;
  /** containerd only: the runtime's own record of the instance (LabNodeRuntime.stopContainerd takes it). */
  readonly handle?: unknown;
}

export type LabPhase = 'creating' | 'ready' | 'failed';

export interface LabState {
  readonly version: number;
  readonly name: string;
  readonly stateDir: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly phase: LabPhase;
  readonly plan: LabPlan;
  readonly completedSteps: readonly string[];
  readonly processes: readonly ProcessRecord[];
  /** Cgroup dirs the lab created to track its processes (removed by `down`). */
  readonly cgroups: readonly string[];
  readonly error?: string;
  /** How long `up` took, once ready. */
  readonly upSeconds?: number;
}

export function stepId(step: LabStep): string {
  return 'host' in step ? `${step.kind}:${step.host}` : step.kind;
}

export function stateFilePath(stateDir: string): string {
  return join(stateDir, STATE_FILE);
}

/** Reads the state, or undefined when the file does not exist. Throws LabStateError when unreadable. */
export async function readLabState(stateDir: string): Promise<LabState | undefined> {
  const path = stateFilePath(stateDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabStateError(`cannot read the lab state ${path}: ${(err as Error).message}`, { cause: err });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LabStateError(`the lab state ${path} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null) throw new LabStateError(`the lab state ${path} is not a JSON object.`);
  const rec = doc as Record<string, unknown>;
  if (rec['version'] !== STATE_VERSION) {
    throw new LabStateError(`the lab state ${path} has version ${JSON.stringify(rec['version'])}; this knode reads version ${STATE_VERSION}.`);
  }
  if (typeof rec['name'] !== 'string' || typeof rec['plan'] !== 'object' || !Array.isArray(rec['processes'])) {
    throw new LabStateError(`the lab state ${path} lacks name, plan or processes.`);
  }
  // written only by this module, version checked: the remaining shape is ours
  return doc as LabState;
}

/** Writes `data` to `path` atomically (temp file, fsync, rename, fsync of the directory). */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = join(path, '..');
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Holds the current state and persists every change before returning. Updates are serialized. */
export class LabStateStore {
  private state: LabState;
  private chain: Promise<void> = Promise.resolve();
  private constructor(state: LabState, private readonly now: () => Date) {
    this.state = state;
  }

  /** Creates the state dir and writes the initial state (phase `creating`). */
  static async create(plan: LabPlan, now: () => Date = () => new Date()): Promise<LabStateStore> {
    await mkdir(plan.stateDir, { recursive: true, mode: 0o700 });
    const t = now().toISOString();
    const store = new LabStateStore(
      { version: STATE_VERSION, name: plan.name, stateDir: plan.stateDir, createdAt: t, updatedAt: t, phase: 'creating', plan, completedSteps: [], processes: [], cgroups: [] },
      now,
    );
    await store.update((s) => s);
    return store;
  }

  get current(): LabState {
    return this.state;
  }

  update(fn: (s: LabState) => LabState): Promise<LabState> {
    const run = this.chain.then(async () => {
      const next = { ...fn(this.state), updatedAt: this.now().toISOString() };
      await writeFileAtomic(stateFilePath(next.stateDir), `${JSON.stringify(next, null, 2)}\n`);
      this.state = next;
    });
    this.chain = run.catch(() => undefined);
    return run.then(() => this.state);
  }
}
