/**
 * The lab's pod-network choice, in one place. Today: Debian's reference plugins (`bridge` with
 * `host-local` IPAM, from containernetworking-plugins) with a /24 per worker out of 10.244.0.0/16, and
 * static "host-gw" routes between the lab namespaces so pods on different workers reach each other
 * over the underlay. When knode's own CNI plugin (bridge + VXLAN overlay) lands, this file is what
 * changes: a new `LabCni` value with its plugin dir, config and `staticPodRoutes: false`.
 *
 * Where state goes: host-local keeps its allocations under the node's state dir (not the default
 * /var/lib/cni/networks), so `lab down` removes them with the dir; the network is named after the lab
 * and node (`knode-<lab>-<host>`) so containerd's CNI result cache files (/var/lib/cni/results,
 * `<network>-<container>-<ifname>`) can be found by prefix and removed too.
 */
import { join } from 'node:path';

export interface CniNodeInput {
  readonly lab: string;
  readonly host: string;
  /** 10.244.<i>.0/24 */
  readonly podCidr: string;
  /** The node's own state dir (<stateDir>/<host>). */
  readonly hostDir: string;
}

export interface LabCni {
  /** Shown by `lab status`. */
  readonly description: string;
  /** Where the plugin binaries live; containerd's CNI bin dir points here. */
  readonly pluginDir: string;
  /** Binaries that must exist in pluginDir (containerd itself needs `loopback`). */
  readonly requiredPlugins: readonly string[];
  /** Whether the lab must route each worker's pod /24 to that worker inside the lab namespaces. */
  readonly staticPodRoutes: boolean;
  /** The single file in the node's CNI conf dir (containerd loads only the first one). */
  readonly confFileName: string;
  /** The network config list, as the file's text. */
  buildConfig(node: CniNodeInput): string;
}

/** libcni's default cache dir, which containerd 1.6 does not let us move. */
export const CNI_RESULT_CACHE_DIR = '/var/lib/cni/results';

export function cniNetworkName(lab: string, host: string): string {
  return `knode-${lab}-${host}`;
}

export const referenceBridgeCni: LabCni = {
  description: 'reference bridge + host-local (/usr/lib/cni), host-gw routes between workers',
  pluginDir: '/usr/lib/cni',
  requiredPlugins: ['bridge', 'host-local', 'loopback'],
  staticPodRoutes: true,
  confFileName: '10-knode-lab.conflist',
  buildConfig(node) {
    const conf = {
      cniVersion: '1.0.0',
      name: cniNetworkName(node.lab, node.host),
      plugins: [
        {
          type: 'bridge',
          bridge: 'cni0',
          isGateway: true,
          // pods must see each other's real addresses (no NAT between pods)
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: node.podCidr }]],
            routes: [{ dst: '0.0.0.0/0' }],
            dataDir: join(node.hostDir, 'cni', 'ipam'),
          },
        },
      ],
    };
    return `${JSON.stringify(conf, null, 2)}\n`;
  },
};

/** The CNI the lab uses. */
export const LAB_CNI: LabCni = referenceBridgeCni;
