/**
 * The lab's pod-network choice, in one place. Default: knode's own plugin (`knode-cni`, built by
 * `npm run build` to dist/cni/knode-cni.js) with a /24 per worker out of 10.244.0.0/16, and the VXLAN
 * overlay run by each worker's `knode agent` between the workers (no routes in the lab namespaces:
 * the agent writes the node state file `<host>/cni/node.json` with the Node's podCIDR and the
 * overlay MTU, which the plugin reads on every ADD). Debian's reference plugins (`bridge` +
 * `host-local`, with static host-gw routes between the workers) stay available as `referenceBridgeCni`.
 *
 * What a runtime needs for knode-cni (cni/README.md): a CNI bin dir holding `knode-cni` and `loopback`.
 * Each worker gets its own bin dir under its host dir (removed with it by `lab down`): the lab links
 * `loopback` there, and the worker's agent writes `knode-cni` itself, as the thin client of the CNI
 * socket it serves (`agentSocket`, one per node under its host dir: cni/agent-server.ts), which runs
 * the built bundle with this lab's `node` when the agent is down. containerd's PATH also gets the
 * directory of the node running the lab (the bundle's shebang runs `node`).
 *
 * Where state goes: every plugin keeps its state (IP reservations, host-port records) under the node's
 * state dir, never /var/lib/cni or /var/lib/knode, so `lab down` removes it with the dir; the network
 * is named after the lab and node (`knode-<lab>-<host>`) so containerd's CNI result cache files
 * (/var/lib/cni/results, `<network>-<container>-<ifname>`) can be found by prefix and removed too.
 * Host-port nftables rules and the bridge live in the worker's namespace and die with it.
 *
 * Pure apart from `LAB_CNI`, which resolves the bundle's path from this module's own location once.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtPluginPath, knodeConflist } from '../cni/install.js';

export { builtPluginPath };

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
  /** The node's CNI bin dir; containerd's CNI bin dir points here. */
  binDir(hostDir: string): string;
  /**
   * Symlinks the lab creates in binDir before containerd starts (name -> absolute target); empty
   * when binDir is a system dir used as it is.
   */
  readonly binLinks: Readonly<Record<string, string>>;
  /** Files that must exist (executable) before `lab up` creates anything. */
  readonly requiredFiles: readonly string[];
  /** Directories prepended to containerd's PATH (the plugins' interpreters). */
  readonly runtimePath: readonly string[];
  /** Whether the lab must route each worker's pod /24 to that worker inside the lab namespaces. */
  readonly staticPodRoutes: boolean;
  /** The single file in the node's CNI conf dir (containerd loads only the first one). */
  readonly confFileName: string;
  /** The network config list, as the file's text. */
  buildConfig(node: CniNodeInput): string;
  /** Where the node agent writes the node state (pod CIDR, MTU); undefined: the config carries them. */
  nodeStateFile?(hostDir: string): string;
  /** Whether each node's agent runs the overlay (and so finds this config and installs the plugin). */
  readonly overlay: boolean;
  /** Where the node's agent serves knode-cni (its `--cni-socket`); undefined: no agent-served plugin. */
  agentSocket?(hostDir: string): string;
}

/** libcni's default cache dir, which containerd 1.6 does not let us move. */
export const CNI_RESULT_CACHE_DIR = '/var/lib/cni/results';

/** Debian's containernetworking-plugins: `loopback` (containerd needs it) and the reference plugins. */
export const SYSTEM_CNI_DIR = '/usr/lib/cni';

export function cniNetworkName(lab: string, host: string): string {
  return `knode-${lab}-${host}`;
}

function render(conf: unknown): string {
  return `${JSON.stringify(conf, null, 2)}\n`;
}

export const referenceBridgeCni: LabCni = {
  description: 'reference bridge + host-local (/usr/lib/cni), host-gw routes between workers',
  binDir: () => SYSTEM_CNI_DIR,
  binLinks: {},
  requiredFiles: ['bridge', 'host-local', 'loopback'].map((p) => join(SYSTEM_CNI_DIR, p)),
  runtimePath: [],
  staticPodRoutes: true,
  overlay: false,
  confFileName: '10-knode-lab.conflist',
  buildConfig(node) {
    return render({
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
    });
  },
};

export interface KnodeCniInput {
  /** Absolute path of the built dist/cni/knode-cni.js. */
  readonly pluginPath: string;
  /** Absolute path of the `node` binary the plugin's shebang must find. */
  readonly nodePath: string;
}

export function knodeCni(input: KnodeCniInput): LabCni {
  return {
    description: 'knode-cni (bridge knode0, host ports in nftables), VXLAN overlay between workers',
    binDir: (hostDir) => join(hostDir, 'cni', 'bin'),
    // knode-cni is written by the node's agent (the thin client of agentSocket), not linked by the lab
    binLinks: { loopback: join(SYSTEM_CNI_DIR, 'loopback') },
    requiredFiles: [input.pluginPath, join(SYSTEM_CNI_DIR, 'loopback')],
    runtimePath: [dirname(input.nodePath)],
    staticPodRoutes: false,
    overlay: true,
    confFileName: '10-knode-lab.conflist',
    nodeStateFile: (hostDir) => join(hostDir, 'cni', 'node.json'),
    agentSocket: (hostDir) => join(hostDir, 'cni', 'knode-cni.sock'),
    buildConfig(node) {
      const state = join(node.hostDir, 'cni');
      // the agent finds this config in the node's conf dir and uses it as it is; the node state file
      // is written by that agent from its Node's spec.podCIDR (the lab registers 10.244.<i>.0/24)
      return render(knodeConflist({ network: cniNetworkName(node.lab, node.host), dataDir: join(state, 'knode'), nodeStateFile: join(state, 'node.json') }));
    },
  };
}

/** The CNI the lab uses. */
export const LAB_CNI: LabCni = knodeCni({ pluginPath: builtPluginPath(fileURLToPath(import.meta.url)), nodePath: process.execPath });
