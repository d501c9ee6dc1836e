/**
 * `knode proxy`: kube-proxy on its own (`knode agent` runs the same proxier by default), until SIGTERM
 * or SIGINT. Stopping it leaves the rules in place, so Services keep working while it restarts.
 *   knode proxy --kubeconfig proxy.kubeconfig --node-name w1 --node-ip 10.0.0.11
 *   knode proxy --proxy-mode iptables ...   the same in iptables (iptables-restore, KNODE- chains)
 *   knode proxy --cleanup        deletes `table ip knode-proxy`, the `knode-proxy-svc-N` tables and the KNODE-
 *                                iptables chains (only those), exits
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../lib/log.js';
import { cidrFlag, durationFlag, ipFlag, portFlag } from './flags.js';
import type { ProxyMode } from '../kube-proxy/main.js';

interface ProxyFlags {
  kubeconfig?: string;
  nodeName?: string;
  nodeIp?: string;
  proxyMode: ProxyMode;
  clusterCidr?: string;
  masqueradeAll: boolean;
  minSyncPeriod: number;
  syncPeriod: number;
  healthzPort: number;
  cleanup: boolean;
}

/** A port, or 0 to turn the server off. */
export function healthzPortFlag(v: string): number {
  if (v === '0') return 0;
  return portFlag('--healthz-port')(v);
}

export function proxyModeOption(): Option {
  return new Option('--proxy-mode <mode>', 'how Services are programmed: nftables, iptables or none').choices(['nftables', 'iptables', 'none']).default('nftables');
}

export function minSyncPeriodOption(): Option {
  return new Option('--min-sync-period <duration>', 'kube-proxy: at most one rules sync per this period').argParser(durationFlag('--min-sync-period')).default(1_000, '1s');
}

export function proxyCommand(): Command {
  return new Command('proxy')
    .description('run kube-proxy alone: program this node\'s Services in nftables or iptables (knode agent runs it too)')
    .option('--kubeconfig <file>', 'kubeconfig with the credentials to use')
    .option('--node-name <name>', 'name of this Node (its endpoints are local)')
    .option('--node-ip <ip>', 'this node\'s IP (node ports answer on every local address; /healthz listens here)', ipFlag('--node-ip'))
    .addOption(proxyModeOption())
    .option('--cluster-cidr <cidr>', 'the pod range: traffic to a cluster IP from outside it is masqueraded', cidrFlag('--cluster-cidr'))
    .option('--masquerade-all', 'masquerade all traffic to cluster IPs', false)
    .addOption(minSyncPeriodOption())
    .addOption(new Option('--sync-period <duration>', 'full resync of the rules every this period').argParser(durationFlag('--sync-period')).default(30_000, '30s'))
    .option('--healthz-port <port>', 'port of /healthz (and /metrics) on the node IP; 0 turns it off', healthzPortFlag, 10256)
    .option('--cleanup', 'delete the proxy\'s rules of both modes (nftables table, iptables KNODE- chains; nothing else) and exit', false)
    .action(async (flags: ProxyFlags) => {
      const main = await import('../kube-proxy/main.js');
      if (flags.cleanup) {
        await main.cleanupProxyRules();
        process.stdout.write('removed the nft tables ip knode-proxy and knode-proxy-svc-N and the KNODE- iptables chains (conntrack entries left alone)\n');
        return;
      }
      if (flags.kubeconfig === undefined || flags.nodeName === undefined || flags.nodeIp === undefined) {
        throw new InvalidArgumentError('knode proxy needs --kubeconfig, --node-name and --node-ip (or --cleanup).');
      }
      const log = createLogger({ app: 'knode-proxy', node: flags.nodeName });
      const [{ KubeClient }, { SharedInformerFactory }, { realClock }, { Registry, collectDefaultMetrics }] = await Promise.all([
        import('../lib/client/client.js'),
        import('../lib/client/shared-informer-factory.js'),
        import('../lib/clock.js'),
        import('prom-client'),
      ]);
      const client = await KubeClient.fromKubeconfigFile(flags.kubeconfig, { userAgent: `knode-proxy/${flags.nodeName}` });
      const registry = new Registry();
      collectDefaultMetrics({ register: registry });
      const factory = new SharedInformerFactory(client, { clock: realClock, log });
      const proxier = main.createProxier(
        {
          mode: flags.proxyMode,
          ...(flags.clusterCidr !== undefined ? { clusterCIDR: flags.clusterCidr } : {}),
          masqueradeAll: flags.masqueradeAll,
          minSyncPeriodMs: flags.minSyncPeriod,
          syncPeriodMs: flags.syncPeriod,
          healthzPort: flags.healthzPort,
        },
        { factory, nodeName: flags.nodeName, nodeIPs: [flags.nodeIp], registry, clock: realClock, log, serveMetrics: true },
      );
      if (proxier === undefined) {
        process.stdout.write('--proxy-mode none: nothing to do\n');
        client.close();
        return;
      }
      const abort = new AbortController();
      factory.start(abort.signal);
      const done = proxier.run(abort.signal);
      process.stdout.write(`knode proxy is running on ${flags.nodeName} (${flags.proxyMode})\n`);
      const stop = (signal: string): void => {
        if (abort.signal.aborted) return;
        log.info({ signal }, 'shutting down (the rules stay in place)');
        abort.abort();
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      await done;
      await factory.stopped().catch(() => undefined);
      client.close();
    });
}
