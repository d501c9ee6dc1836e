/**
 * The set-up the controller benches share: a fresh `knode server --controllers none` (the built CLI,
 * stopped and its data dir removed by `cleanup` in every case) and the controllers under test run in
 * this process through runControllerManager, as `knode controller-manager` would run them.
 */
import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { realClock } from '../../lib/clock.js';
import { KubeClient } from '../../lib/client/client.js';
import { silentLogger } from '../../lib/log.js';
import type { Controller, ControllerContext } from '../../control-plane/controller-manager/controller.js';
import { runControllerManager } from '../../control-plane/controller-manager/manager.js';
import { startServer } from '../../test/helpers/server.js';
import type { Cleanup } from './cleanup.js';
import type { Progress } from './progress.js';

export interface ControllerBench {
  /** The server's pid (for CPU accounting). */
  readonly serverPid: number;
  /** The bench's own client (the controllers have theirs). */
  readonly client: KubeClient;
  readonly registry: Registry;
  /** Stops the controllers and closes both clients; the server goes with `cleanup`. */
  stop(): Promise<void>;
}

export async function startControllerBench(cleanup: Cleanup, progress: Progress, controllers: (ctx: ControllerContext) => Controller[]): Promise<ControllerBench> {
  progress.note('starting knode server --controllers none');
  const server = await startServer(['--controllers', 'none']);
  const pid = server.proc.pid ?? 0;
  cleanup.add({
    what: `stop knode server (pid ${pid}) and remove ${server.dataDir}`,
    async: () => server.stop(),
    sync: () => {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
      rmSync(server.dataDir, { recursive: true, force: true });
    },
  });
  const ctlClient = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  const client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  const registry = new Registry();
  const ac = new AbortController();
  const manager = runControllerManager({ client: ctlClient, clock: realClock, log: silentLogger(), registry, component: 'kube-controller-manager', controllers }, ac.signal);
  return {
    serverPid: pid,
    client,
    registry,
    async stop() {
      ac.abort();
      await manager.done;
      ctlClient.close();
      client.close();
    },
  };
}

/** knode_controller_syncs_total of the run, as "controller result count, ...". */
export async function syncCounts(registry: Registry): Promise<string> {
  const metric = await registry.getSingleMetric('knode_controller_syncs_total')?.get();
  const parts = (metric?.values ?? []).map((v) => `${String(v.labels['controller'])} ${String(v.labels['result'])} ${v.value}`);
  return parts.length > 0 ? parts.join(', ') : 'none recorded';
}
