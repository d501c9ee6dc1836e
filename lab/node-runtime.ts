/**
 * What the lab needs from a worker's container runtime and from the image builder, as one interface,
 * so up/down are tested with a fake and the real thing (lab/containerd + lab/images) is plugged in by
 * the CLI. The real adapter lives in node-runtime-real.ts.
 */
import type { WorkerRuntime } from './plan.js';

export interface ContainerdStart {
  readonly lab: string;
  readonly netns: string;
  readonly worker: WorkerRuntime;
  readonly logFile: string;
}

export interface LabNodeRuntime {
  /** Builds (or reuses) the lab's images in `dir`; returns the docker-archive tars to import. */
  buildImages(dir: string): Promise<readonly string[]>;
  /**
   * Starts the worker's containerd inside its namespace and waits until it answers. `handle` is
   * plain JSON saved in the lab state and handed back to stopContainerd by `down`.
   */
  startContainerd(opts: ContainerdStart): Promise<{ readonly pid: number; readonly handle: unknown }>;
  /** Full stop of a containerd started by startContainerd: daemon, its shims and containers, mounts. */
  stopContainerd(handle: unknown): Promise<void>;
  /** Imports a docker-archive tar into the worker's containerd (namespace k8s.io). */
  importImage(worker: WorkerRuntime, tarPath: string): Promise<void>;
}

/** Records calls; images are "built" as `<dir>/<name>.tar`, containerd "starts" with increasing pids. */
export class FakeNodeRuntime implements LabNodeRuntime {
  readonly calls: string[] = [];
  private nextPid = 40_000;
  constructor(private readonly failOn?: string) {}
  private note(call: string): void {
    this.calls.push(call);
    if (this.failOn !== undefined && call.startsWith(this.failOn)) throw new Error(`fake failure in ${call}`);
  }
  buildImages(dir: string): Promise<readonly string[]> {
    try {
      this.note(`build ${dir}`);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve([`${dir}/pause.tar`, `${dir}/testserver.tar`]);
  }
  startContainerd(opts: ContainerdStart): Promise<{ readonly pid: number; readonly handle: unknown }> {
    try {
      this.note(`containerd ${opts.worker.host} ${opts.netns}`);
    } catch (err) {
      return Promise.reject(err);
    }
    const pid = this.nextPid++;
    return Promise.resolve({ pid, handle: { pid, host: opts.worker.host } });
  }
  stopContainerd(handle: unknown): Promise<void> {
    this.calls.push(`stop ${JSON.stringify(handle)}`);
    return Promise.resolve();
  }
  importImage(worker: WorkerRuntime, tarPath: string): Promise<void> {
    try {
      this.note(`import ${worker.host} ${tarPath}`);
    } catch (err) {
      return Promise.reject(err);
    }
    return Promise.resolve();
  }
}
