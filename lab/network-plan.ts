/**
 * The lab's network as `ip -batch` scripts, built from a LabPlan. Pure: the executor feeds each batch to
 * `ip [-n <netns>] -batch -` (one exec per namespace instead of one per object: ~30 commands become
 * 1 + hosts + 1 execs, see platform.md for the 250x difference on bulk loads).
 *
 * Order matters only between the first batch (root namespace: creates every namespace and veth pair,
 * each end directly in its namespace) and the rest (one per namespace, independent of each other, so
 * they may run in parallel).
 *
 * The root namespace gets exactly one veth with one address: IPv6 address generation is turned off on
 * it (no link-local address appears), and no route, rule or sysctl is added there. Lab namespaces get
 * lo up, net.ipv4.ip_forward=1, their underlay address, (when the CNI choice needs them) routes to
 * the other workers' pod /24s via those workers' underlay addresses, and on workers a route for the
 * Service range onto the underlay: a real node reaches ClusterIPs through its default route, and
 * without any route a packet to a ClusterIP that no kube-proxy rule rewrites (no endpoints, a removed
 * port) would die in routing before the proxy's reject rule sees it. No default route: nothing in the
 * lab can reach beyond the underlay.
 */
import type { LabPlan } from './plan.js';

/** `knode server`'s default --service-cidr, which the lab's server uses. */
export const LAB_SERVICE_CIDR = '10.96.0.0/12';

export interface IpBatch {
  /** null: the root namespace. */
  readonly netns: string | null;
  readonly lines: readonly string[];
}

/** `ip` argv for a batch read from stdin; `force` keeps going past failing lines (teardown). */
export function ipBatchArgv(batch: Pick<IpBatch, 'netns'>, force = false): string[] {
  return ['ip', ...(batch.netns !== null ? ['-n', batch.netns] : []), ...(force ? ['-force'] : []), '-batch', '-'];
}

export function batchText(batch: IpBatch): string {
  return `${batch.lines.join('\n')}\n`;
}

type NetPlan = Pick<LabPlan, 'switchNetns' | 'bridge' | 'root' | 'hosts' | 'prefixLength' | 'cni'>;

export function allNetns(plan: Pick<LabPlan, 'switchNetns' | 'hosts'>): string[] {
  return [plan.switchNetns, ...plan.hosts.map((h) => h.netns)];
}

export function planNetworkSetup(plan: NetPlan): IpBatch[] {
  const namespaces = allNetns(plan);
  const root: string[] = [
    ...namespaces.map((ns) => `netns add ${ns}`),
    ...plan.hosts.map((h) => `link add name ${h.switchPort} netns ${plan.switchNetns} type veth peer name eth0 netns ${h.netns}`),
    `link add name ${plan.root.link} type veth peer name ${plan.root.peer} netns ${plan.switchNetns}`,
    `link set ${plan.root.link} addrgenmode none`,
    `addr add ${plan.root.address}/${plan.prefixLength} dev ${plan.root.link}`,
    `link set ${plan.root.link} up`,
    // `netns exec` inside a batch forks one sysctl per namespace; the setting is per namespace
    ...namespaces.map((ns) => `netns exec ${ns} sysctl -qw net.ipv4.ip_forward=1`),
  ];
  const sw: string[] = [
    'link set lo up',
    `link add name ${plan.bridge} type bridge`,
    `link set ${plan.bridge} addrgenmode none`,
    `link set ${plan.bridge} up`,
    ...[...plan.hosts.map((h) => h.switchPort), plan.root.peer].flatMap((port) => [`link set ${port} master ${plan.bridge}`, `link set ${port} up`]),
  ];
  const perHost: IpBatch[] = plan.hosts.map((h) => ({
    netns: h.netns,
    lines: [
      'link set lo up',
      `addr add ${h.address}/${plan.prefixLength} dev eth0`,
      'link set eth0 up',
      ...(plan.cni.staticPodRoutes
        ? plan.hosts.filter((o) => o.name !== h.name && o.podCidr !== undefined).map((o) => `route add ${o.podCidr ?? ''} via ${o.address} dev eth0`)
        : []),
      ...(h.role === 'worker' ? [`route add ${LAB_SERVICE_CIDR} dev eth0`] : []),
    ],
  }));
  return [{ netns: null, lines: root }, { netns: plan.switchNetns, lines: sw }, ...perHost];
}

/**
 * Deleting the root veth (its peer goes with it) and every namespace. Run with `-force`: a missing
 * object is not an error, so this is safe to repeat and safe after a partial setup. Deleting a
 * namespace deletes the links inside it, asynchronously: the executor waits for them to be gone.
 */
export function planNetworkTeardown(rootLink: string, namespaces: readonly string[]): IpBatch {
  return { netns: null, lines: [`link del ${rootLink}`, ...namespaces.map((ns) => `netns del ${ns}`)] };
}
