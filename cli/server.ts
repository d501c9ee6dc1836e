/**
 * `knode server`: the control plane in one process, until SIGTERM or SIGINT.
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { ControllersConfig } from '../control-plane/controller-manager/controllers.js';
import type { EtcdStoreOptions } from '../control-plane/storage/etcd-store.js';
import { createLogger } from '../lib/log.js';
import { DEFAULT_AUTHORIZATION_MODES, parseAuthorizationModes } from '../control-plane/apiserver/authz/index.js';
import type { AuthorizationMode } from '../control-plane/apiserver/authz/index.js';
import { DEFAULT_ISSUER } from '../control-plane/apiserver/auth/service-account.js';
import { cidrFlag, durationFlag, ipFlag, portFlag, portRangeFlag, positiveIntFlag } from './flags.js';

interface ServerFlags {
  dataDir: string;
  bindAddress: string;
  advertiseAddress?: string;
  port: number;
  serviceCidr: string;
  clusterCidr: string;
  nodeCidrMaskSize: number;
  serviceNodePortRange: { min: number; max: number };
  storeSync: 'FULL' | 'NORMAL';
  bookmarkInterval: number;
  compactionInterval: number;
  compactionKeep: number;
  controllers: string[] | false;
  nodeMonitorGracePeriod: number;
  terminatedPodGcThreshold: number;
  dnsPort: number;
  clusterDomain: string;
  dnsUpstreams?: string[];
  authorizationMode: AuthorizationMode[];
  anonymousAuth: boolean;
  serviceAccountIssuer: string;
  etcdServers?: string[];
  etcdCafile?: string;
  etcdCertfile?: string;
  etcdKeyfile?: string;
}

export function serverCommand(): Command {
  return new Command('server')
    .description('run the control plane (apiserver with an embedded store or on etcd, scheduler, controllers) in one process')
    .option('--data-dir <dir>', 'where the store, certificates and admin.kubeconfig live', './knode-data')
    .option('--bind-address <ip>', 'address the apiserver listens on', ipFlag('--bind-address'), '127.0.0.1')
    .option('--advertise-address <ip>', 'address other hosts reach the apiserver at (default: the bind address)', ipFlag('--advertise-address'))
    .option('--port <port>', 'secure port of the apiserver', portFlag('--port'), 6443)
    .option('--service-cidr <cidr>', 'range of Service ClusterIPs', cidrFlag('--service-cidr'), '10.96.0.0/12')
    .option('--cluster-cidr <cidr>', 'range of pod IPs (split into per-node ranges)', cidrFlag('--cluster-cidr'), '10.244.0.0/16')
    .option('--node-cidr-mask-size <bits>', 'prefix length of the pod range each node gets from --cluster-cidr', positiveIntFlag('--node-cidr-mask-size'), 24)
    .option('--service-node-port-range <range>', 'range of NodePorts', portRangeFlag('--service-node-port-range'), { min: 30000, max: 32767 })
    .option('--store-sync <mode>', 'FULL: writes survive power loss; NORMAL: they survive a crash of the process', (v: string) => {
      if (v !== 'FULL' && v !== 'NORMAL') throw new Error(`--store-sync must be FULL or NORMAL, got ${JSON.stringify(v)}.`);
      return v;
    }, 'FULL')
    .option('--bookmark-interval <duration>', 'how often a watch that allows bookmarks gets one', durationFlag('--bookmark-interval'), 60_000)
    .option('--compaction-interval <duration>', 'how often the store discards old revisions (upstream: 5m)', durationFlag('--compaction-interval'), 300_000)
    .option('--compaction-keep <revisions>', 'revisions of history kept for watches and lists at older versions', positiveIntFlag('--compaction-keep'), 10_000)
    .option('--dns-port <port>', 'port of the cluster DNS server on the advertise address, published as Service kube-system/kube-dns (0: no cluster DNS)', dnsPortFlag, 53)
    .option('--cluster-domain <domain>', 'the cluster DNS zone', 'cluster.local')
    .option('--authorization-mode <modes>', 'who may do what: comma-separated, in order, of Node, RBAC, AlwaysAllow, AlwaysDeny', authorizationModeFlag, [...DEFAULT_AUTHORIZATION_MODES])
    .option('--anonymous-auth <bool>', 'requests without credentials are system:anonymous and the authorizers decide (false: 401, but for /healthz, /livez, /readyz, /version)', boolFlag('--anonymous-auth'), true)
    .option('--service-account-issuer <url>', 'the iss claim of service account tokens (also their API audience)', issuerFlag, DEFAULT_ISSUER)
    .option('--dns-upstreams <ip[:port],...>', 'where the cluster DNS forwards names outside the zone (default: the nameservers of /etc/resolv.conf)', dnsUpstreamsFlag)
    .option('--etcd-servers <urls>', 'store everything in this etcd cluster instead of the embedded SQLite: client URLs of its members, comma-separated (http://host:2379,... or all https://)', etcdServersFlag)
    .option('--etcd-cafile <file>', 'CA that signed the etcd members\' certificates (https:// endpoints)')
    .option('--etcd-certfile <file>', 'client certificate for etcd members started with --client-cert-auth')
    .option('--etcd-keyfile <file>', 'key of --etcd-certfile')
    .option('--controllers <names>', 'controllers (and `scheduler`) to run in this process, comma-separated (`*` all, `none` none); `knode controller-manager` and `knode scheduler` can run them elsewhere', controllersFlag, ['*'])
    .option('--node-monitor-grace-period <duration>', 'a node whose kubelet is silent this long turns Ready=Unknown and gets the unreachable taint', durationFlag('--node-monitor-grace-period'), 40_000)
    .option('--terminated-pod-gc-threshold <n>', 'terminated pods kept before the oldest are deleted (0: never)', nonNegativeIntFlag('--terminated-pod-gc-threshold'), 12_500)
    .action(async (flags: ServerFlags) => {
      await checkControllerNames(flags.controllers);
      const etcd = await etcdOptions(flags);
      const log = createLogger({ component: 'knode-server' });
      const cp = await (await import('../control-plane/main.js')).startControlPlane({
        dataDir: flags.dataDir,
        bindAddress: flags.bindAddress,
        ...(flags.advertiseAddress ? { advertiseAddress: flags.advertiseAddress } : {}),
        port: flags.port,
        serviceCIDR: flags.serviceCidr,
        clusterCIDR: flags.clusterCidr,
        nodeCIDRMaskSize: flags.nodeCidrMaskSize,
        nodePortRange: flags.serviceNodePortRange,
        synchronous: flags.storeSync,
        bookmarkIntervalMs: flags.bookmarkInterval,
        compaction: { intervalMs: flags.compactionInterval, keepRevisions: flags.compactionKeep },
        controllers: controllersConfig(flags),
        authorizationModes: flags.authorizationMode,
        anonymousAuth: flags.anonymousAuth,
        serviceAccountIssuer: flags.serviceAccountIssuer,
        ...(etcd !== undefined ? { etcd } : {}),
        ...(flags.dnsPort !== 0 ? { dns: { port: flags.dnsPort, zone: flags.clusterDomain, ...(flags.dnsUpstreams !== undefined ? { upstreams: flags.dnsUpstreams } : {}) } } : {}),
        log,
      });
      process.stdout.write(`knode server is ready at ${cp.url}; kubeconfig: ${cp.kubeconfigPath}\n`);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        log.info({ signal }, 'shutting down');
        cp.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            log.error({ err: String(err) }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}

/** `--dns-port`: 0 (off) or a port. */
export function dnsPortFlag(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) > 65_535) throw new InvalidArgumentError(`--dns-port must be a port number (0 turns cluster DNS off), got ${JSON.stringify(v)}.`);
  return Number(v);
}

/** A `true`/`false` flag value (`--anonymous-auth=false`, as upstream writes it). */
export function boolFlag(name: string): (v: string) => boolean {
  return (v) => {
    if (v === 'true') return true;
    if (v === 'false') return false;
    throw new InvalidArgumentError(`${name} must be true or false, got ${JSON.stringify(v)}.`);
  };
}

/** `--authorization-mode`: known modes, each once. */
export function authorizationModeFlag(v: string): AuthorizationMode[] {
  try {
    return parseAuthorizationModes(v);
  } catch (err) {
    throw new InvalidArgumentError(`--authorization-mode: ${(err as Error).message}.`);
  }
}

/** `--service-account-issuer`: a URL (upstream requires one when the value has a colon; knode always). */
export function issuerFlag(v: string): string {
  try {
    new URL(v);
  } catch {
    throw new InvalidArgumentError(`--service-account-issuer must be a URL such as https://kubernetes.default.svc.cluster.local, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** `--dns-upstreams`: comma-separated IPv4 addresses, each with an optional :port. */
export function dnsUpstreamsFlag(v: string): string[] {
  const list = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  const ok = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}(:\d{1,5})?$/;
  if (list.length === 0 || list.some((u) => !ok.test(u) || Number(u.split(':')[1] ?? 53) > 65_535 || Number(u.split(':')[1] ?? 53) === 0)) {
    throw new InvalidArgumentError(`--dns-upstreams must be comma-separated IPv4 addresses with an optional :port, got ${JSON.stringify(v)}.`);
  }
  return list;
}

/** `--etcd-servers`: comma-separated http(s) URLs (checked in full when the store connects). */
export function etcdServersFlag(v: string): string[] {
  const urls = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (urls.length === 0 || urls.some((u) => !/^https?:\/\/[^/\s]+\/?$/.test(u))) {
    throw new InvalidArgumentError(`--etcd-servers must be comma-separated URLs like http://10.0.0.1:2379, got ${JSON.stringify(v)}.`);
  }
  return urls;
}

/** The etcd store's options from the flags, with the TLS files read; undefined: the embedded store. */
export async function etcdOptions(flags: Pick<ServerFlags, 'etcdServers' | 'etcdCafile' | 'etcdCertfile' | 'etcdKeyfile'>): Promise<EtcdStoreOptions | undefined> {
  const files = { '--etcd-cafile': flags.etcdCafile, '--etcd-certfile': flags.etcdCertfile, '--etcd-keyfile': flags.etcdKeyfile };
  if (flags.etcdServers === undefined) {
    const given = Object.entries(files).filter(([, f]) => f !== undefined).map(([n]) => n);
    if (given.length > 0) throw new InvalidArgumentError(`${given.join(', ')} need --etcd-servers.`);
    return undefined;
  }
  const read = async (name: string, file: string | undefined): Promise<Buffer | undefined> => {
    if (file === undefined) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new InvalidArgumentError(`${name} ${file}: ${(err as Error).message}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read('--etcd-cafile', flags.etcdCafile), read('--etcd-certfile', flags.etcdCertfile), read('--etcd-keyfile', flags.etcdKeyfile)]);
  const tls = { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) };
  return { endpoints: flags.etcdServers, ...(Object.keys(tls).length > 0 ? { tls } : {}) };
}

/** `*`, `none`, or a comma-separated list of controller names (checked against the known ones at start). */
export function controllersFlag(v: string): string[] | false {
  const names = v.split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (names.length === 1 && names[0] === 'none') return false;
  if (names.length === 0 || names.some((n) => !/^(\*|[a-z][a-z0-9-]*)$/.test(n))) {
    throw new InvalidArgumentError(`--controllers must be *, none, or comma-separated controller names, got ${JSON.stringify(v)}.`);
  }
  return names;
}

/** Throws naming the names that are no controller (the list is loaded lazily: agents never need it). */
export async function checkControllerNames(names: readonly string[] | false): Promise<void> {
  if (names === false) return;
  const { CONTROLLERS } = await import('../control-plane/controller-manager/controllers.js');
  // the scheduler runs beside the controllers (its own lease), and is named like one
  const known = new Set([...CONTROLLERS.map(([n]) => n), 'scheduler']);
  const bad = names.filter((n) => n !== '*' && !known.has(n));
  if (bad.length > 0) {
    throw new InvalidArgumentError(`--controllers: unknown controller ${bad.map((b) => JSON.stringify(b)).join(', ')}; known: ${[...known].join(', ') || '(none yet)'}, or * or none.`);
  }
}

/** What `--controllers`, `--node-monitor-grace-period` and `--terminated-pod-gc-threshold` ask for. */
export function controllersConfig(flags: { controllers: string[] | false; nodeMonitorGracePeriod: number; terminatedPodGcThreshold: number }): false | ControllersConfig {
  if (flags.controllers === false) return false;
  return {
    ...(flags.controllers.includes('*') ? {} : { enabled: flags.controllers }),
    nodeMonitorGracePeriodMs: flags.nodeMonitorGracePeriod,
    terminatedPodGCThreshold: flags.terminatedPodGcThreshold,
  };
}

export function nonNegativeIntFlag(name: string): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a whole number (0 or more), got ${JSON.stringify(v)}.`);
    return Number(v);
  };
}
