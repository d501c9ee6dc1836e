/**
 * Where a node's pod CIDR comes from. The node agent writes `/run/knode/cni/<network>/node.json`
 * (path overridable with `nodeStateFile`), atomically (temp file + rename):
 *
 *   {"podCIDR": "10.244.1.0/24", "mtu": 1450}      mtu optional: else detected (underlay - 50)
 *
 * A `podCIDR` in the network config wins over the file (tests, the lab, static setups). Until the file
 * exists, ADD answers code 11 (try again later) and STATUS code 50 (not available): a node whose agent
 * has not been assigned a CIDR yet cannot start pods, and should say so rather than guess.
 */
import { CniInvalidConfigError, CniTryAgainError } from './errors.js';
import { parseCidr, podRangeOf, type PodRange } from './ipam/ipv4.js';
import type { NodeHost } from './node-host.js';
import type { NetConf } from './types.js';

export interface PodNetwork {
  readonly podCidr: string;
  readonly range: PodRange;
  /** From the node state file, when the agent set one. */
  readonly mtu?: number;
}

/** Parses node.json's text; throws code 7 naming the file when it is malformed. */
export function parseNodeState(text: string, file: string): { podCIDR: string; mtu?: number } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniInvalidConfigError(`node state file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as { podCIDR?: unknown; mtu?: unknown };
  if (typeof o.podCIDR !== 'string') throw new CniInvalidConfigError(`node state file ${file} has no "podCIDR" string`);
  if (o.mtu !== undefined && (!Number.isInteger(o.mtu) || (o.mtu as number) < 576 || (o.mtu as number) > 65535)) {
    throw new CniInvalidConfigError(`node state file ${file}: "mtu" must be an integer between 576 and 65535`);
  }
  return { podCIDR: o.podCIDR, ...(o.mtu !== undefined ? { mtu: o.mtu as number } : {}) };
}

export function resolvePodNetwork(host: NodeHost, conf: NetConf): PodNetwork {
  let podCidr = conf.podCIDR;
  let mtu: number | undefined;
  let source = 'the network config';
  if (podCidr === undefined) {
    const text = host.readFile(conf.nodeStateFile);
    if (text === undefined) {
      throw new CniTryAgainError(
        'ERR_CNI_NO_POD_CIDR',
        `no pod CIDR for this node yet: ${conf.nodeStateFile} has not been written by the node agent (or set "podCIDR" in the network config)`,
      );
    }
    const state = parseNodeState(text, conf.nodeStateFile);
    podCidr = state.podCIDR;
    mtu = state.mtu;
    source = conf.nodeStateFile;
  }
  const cidr = parseCidr(podCidr);
  const range = cidr !== undefined ? podRangeOf(cidr) : undefined;
  if (range === undefined) throw new CniInvalidConfigError(`pod CIDR "${podCidr}" from ${source} is not an IPv4 network of /30 or larger`);
  return { podCidr, range, ...(mtu !== undefined ? { mtu } : {}) };
}
