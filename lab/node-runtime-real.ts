/**
 * The real LabNodeRuntime: lab/images builds the images (cached by content in the lab's images dir)
 * and imports them with ctr; lab/containerd starts each worker's private containerd inside the
 * worker's namespace with the lab's CNI plugin dir and conf dir, and stops it completely (daemon,
 * shims, containers, shim sockets, mounts, its dir). The containerd handle kept in the lab state is
 * lab/containerd's ContainerdInstance, which is plain JSON.
 */
import type { Exec } from '../lib/exec.js';
import { startContainerd, stopContainerd } from './containerd/instance.js';
import type { ContainerdInstance } from './containerd/instance.js';
import { importImage } from './images/import.js';
import { ensureLabImages } from './images/lab-images.js';
import type { LabNodeRuntime } from './node-runtime.js';

function asInstance(handle: unknown): ContainerdInstance {
  const h = handle as Partial<ContainerdInstance> | null;
  if (typeof h !== 'object' || h === null || typeof h.pid !== 'number' || typeof h.startTime !== 'string' || typeof h.layout?.dir !== 'string') {
    throw new Error(`not a containerd instance record: ${JSON.stringify(handle).slice(0, 200)}`);
  }
  return h as ContainerdInstance;
}

export function realNodeRuntime(exec: Exec): LabNodeRuntime {
  return {
    async buildImages(dir) {
      return (await ensureLabImages(dir, { exec })).all;
    },
    async startContainerd(opts) {
      const inst = await startContainerd({
        dir: opts.worker.dir,
        socket: opts.worker.socket,
        netns: opts.netns,
        cniBinDir: opts.worker.cniBinDir,
        cniConfDir: opts.worker.cniConfDir,
        logFile: opts.logFile,
        ...(opts.worker.runtimePath !== undefined && opts.worker.runtimePath.length > 0
          ? { env: { PATH: [...opts.worker.runtimePath, process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin'].join(':') } }
          : {}),
      });
      return { pid: inst.pid, handle: inst };
    },
    async stopContainerd(handle) {
      await stopContainerd(asInstance(handle), { graceMs: 5_000, exec });
    },
    async importImage(worker, tarPath) {
      await importImage({ address: worker.socket, tarPath, exec });
    },
  };
}
