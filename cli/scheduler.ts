/**
 * `knode scheduler`: the scheduler against any knode (or Kubernetes) apiserver, behind the
 * `kube-system/kube-scheduler` lease, so several can stand by and one takes over within ~15 s when the
 * leader dies. Until SIGTERM or SIGINT, which release the lease.
 */
import { Command } from 'commander';
import { createLogger } from '../lib/log.js';
import { runUntilSignal } from './flags.js';

interface Flags {
  kubeconfig: string;
  leaderElect: boolean;
  schedulerName: string;
}

export function schedulerCommand(): Command {
  return new Command('scheduler')
    .description('run the scheduler (behind the kube-scheduler lease) against an apiserver')
    .requiredOption('--kubeconfig <file>', 'kubeconfig with the credentials to use (e.g. <data-dir>/admin.kubeconfig)')
    .option('--no-leader-elect', 'run without the leader lease (only when no other scheduler runs)')
    .option('--scheduler-name <name>', 'schedule the pods whose spec.schedulerName is this (or unset, for default-scheduler)', 'default-scheduler')
    .action(async (flags: Flags) => {
      const log = createLogger({ component: 'knode-scheduler' });
      const [{ KubeClient }, { runScheduler }, { realClock }, { Registry }] = await Promise.all([
        import('../lib/client/client.js'),
        import('../control-plane/scheduler/scheduler.js'),
        import('../lib/clock.js'),
        import('prom-client'),
      ]);
      const client = await KubeClient.fromKubeconfigFile(flags.kubeconfig, { userAgent: 'knode-scheduler' });
      const abort = new AbortController();
      const { done, handle } = runScheduler(
        {
          client,
          clock: realClock,
          log,
          registry: new Registry(),
          ...(flags.leaderElect ? { leaderElection: {} } : {}),
          scheduler: { schedulerName: flags.schedulerName },
        },
        abort.signal,
      );
      process.stdout.write(`knode scheduler is running as ${handle.identity}\n`);
      await runUntilSignal(abort, done, log, () => client.close());
    });
}
