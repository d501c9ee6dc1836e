/**
 * The plugin's typed vocabulary: parsed requests (one variant per CNI command), the network config after
 * validation, and the version-neutral result that version.ts renders for the version the config asks.
 */

export type CniCommand = 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'GC' | 'STATUS';

export type Protocol = 'tcp' | 'udp' | 'sctp';

/** One `portMappings` capability entry, normalised (lower-case protocol, hostIP only when specific). */
export interface PortMapping {
  readonly hostPort: number;
  readonly containerPort: number;
  readonly protocol: Protocol;
  /** A specific IPv4 host address; absent means every local address. */
  readonly hostIP?: string;
}

/** One attachment: what the runtime's GC list and our stores are keyed by. */
export interface AttachmentKey {
  readonly containerId: string;
  readonly ifname: string;
}

export interface CniDns {
  readonly nameservers?: readonly string[];
  readonly domain?: string;
  readonly search?: readonly string[];
  readonly options?: readonly string[];
}

/** The network config after validation, with every default applied. */
export interface NetConf {
  readonly cniVersion: string;
  readonly name: string;
  readonly type: string;
  /** The node bridge (default `knode0`). */
  readonly bridge: string;
  /** Pod MTU; when absent: the node state's, else the underlay's minus 50 (VXLAN overhead). */
  readonly mtu?: number;
  /** The node's pod CIDR; when absent it is read from `nodeStateFile`. */
  readonly podCIDR?: string;
  /** Written by the node agent: `{"podCIDR": "10.244.1.0/24", "mtu"?: 1450}`. */
  readonly nodeStateFile: string;
  /** Allocations and attachment records (persistent). */
  readonly dataDir: string;
  readonly hairpinMode: boolean;
  /** knode's `gcMinAgeSeconds`: GC leaves attachments younger than this (default 0). */
  readonly gcMinAgeSeconds?: number;
  readonly portMappings: readonly PortMapping[];
  readonly dns?: CniDns;
  readonly prevResult?: CniResult;
  /** GC only: `cni.dev/valid-attachments` (or the older `cni.dev/attachments`). */
  readonly validAttachments?: readonly AttachmentKey[];
}

export interface CniInterface {
  readonly name: string;
  readonly mac: string;
  readonly sandbox?: string;
  readonly mtu?: number;
}

export interface CniIpConfig {
  /** CIDR notation: the address and the subnet's prefix length. */
  readonly address: string;
  readonly gateway?: string;
  /** Index into `interfaces`. */
  readonly interface?: number;
}

export interface CniRoute {
  readonly dst: string;
  readonly gw?: string;
}

/** Version-neutral result; `renderResult` shapes it for one spec version. */
export interface CniResult {
  readonly interfaces: readonly CniInterface[];
  readonly ips: readonly CniIpConfig[];
  readonly routes: readonly CniRoute[];
  readonly dns: CniDns;
}

interface AttachmentRequest extends AttachmentKey {
  /** CNI_ARGS as key/value pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, ...). */
  readonly args: Readonly<Record<string, string>>;
  readonly conf: NetConf;
}

export type CniRequest =
  | (AttachmentRequest & { readonly command: 'ADD'; readonly netns: string })
  | (AttachmentRequest & { readonly command: 'CHECK'; readonly netns: string })
  | (AttachmentRequest & { readonly command: 'DEL'; readonly netns?: string })
  | { readonly command: 'VERSION' }
  | { readonly command: 'GC'; readonly conf: NetConf; readonly validAttachments: readonly AttachmentKey[] }
  | { readonly command: 'STATUS'; readonly conf: NetConf };

export type AddRequest = Extract<CniRequest, { command: 'ADD' }>;
export type DelRequest = Extract<CniRequest, { command: 'DEL' }>;
export type CheckRequest = Extract<CniRequest, { command: 'CHECK' }>;
export type GcRequest = Extract<CniRequest, { command: 'GC' }>;
export type StatusRequest = Extract<CniRequest, { command: 'STATUS' }>;
