/**
 * `knode controller-manager`: the workload controllers against any knode (or Kubernetes) apiserver,
 * behind the `kube-system/kube-controller-manager` lease, so it can stand by next to `knode server`
 * (which runs the same controllers in-process unless started with --controllers none) and take over
 * within ~15 s when the leader dies. Until SIGTERM or SIGINT, which release the lease.
 */
import { Command } from 'commander';
import { createLogger } from '../lib/log.js';
import { durationFlag, runUntilSignal } from './flags.js';
import { checkControllerNames, controllersConfig, controllersFlag, nonNegativeIntFlag } from './server.js';

interface Flags {
  kubeconfig: string;
  controllers: string[] | false;
  leaderElect: boolean;
  nodeMonitorGracePeriod: number;
  terminatedPodGcThreshold: number;
}

export function controllerManagerCommand(): Command {
  return new Command('controller-manager')
    .description('run the workload controllers (behind a leader lease) against an apiserver')
    .requiredOption('--kubeconfig <file>', 'kubeconfig with the credentials to use (e.g. <data-dir>/admin.kubeconfig)')
    .option('--controllers <names>', 'controllers to run, comma-separated (`*` all)', controllersFlag, ['*'])
    .option('--no-leader-elect', 'run without the leader lease (only when no other controller manager runs)')
    .option('--node-monitor-grace-period <duration>', 'a node whose kubelet is silent this long turns Ready=Unknown', durationFlag('--node-monitor-grace-period'), 40_000)
    .option('--terminated-pod-gc-threshold <n>', 'terminated pods kept before the oldest are deleted (0: never)', nonNegativeIntFlag('--terminated-pod-gc-threshold'), 12_500)
    .action(async (flags: Flags) => {
      await checkControllerNames(flags.controllers);
      const log = createLogger({ component: 'knode-controller-manager' });
      const [{ KubeClient }, { runControllerManager }, { buildControllers }, { realClock }, { Registry }] = await Promise.all([
        import('../lib/client/client.js'),
        import('../control-plane/controller-manager/manager.js'),
        import('../control-plane/controller-manager/controllers.js'),
        import('../lib/clock.js'),
        import('prom-client'),
      ]);
      const client = await KubeClient.fromKubeconfigFile(flags.kubeconfig, { userAgent: 'knode-controller-manager' });
      const abort = new AbortController();
      const cfg = controllersConfig(flags) || {};
      const { done, handle } = runControllerManager(
        {
          client,
          clock: realClock,
          log,
          registry: new Registry(),
          component: 'kube-controller-manager',
          ...(flags.leaderElect ? { leaderElection: { namespace: 'kube-system', name: 'kube-controller-manager' } } : {}),
          controllers: (ctx) => (flags.controllers === false ? [] : buildControllers(ctx, cfg)),
        },
        abort.signal,
      );
      process.stdout.write(`knode controller-manager is running as ${handle.identity}\n`);
      await runUntilSignal(abort, done, log, () => client.close());
    });
}
