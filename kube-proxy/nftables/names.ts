/**
 * Stable names for the per-service objects of the table. A name is a short hash of what it stands
 * for followed by a readable tail (`service-3f2a9c1e-default/web/tcp/http`): the hash keeps names
 * unique whatever the tail looks like, the tail makes `nft list` readable. The same service port
 * always gets the same names, which is what lets a partial sync find and replace exactly its chains.
 * nft identifiers may hold letters, digits and `/ - _ .`; Kubernetes names and IPv4 addresses fit.
 * Kernel limit: 256 bytes per chain or set name; the longest possible tail here is about 180.
 */
import { createHash } from 'node:crypto';
import type { ServicePortInfo } from '../model.js';

function hash8(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, 8);
}

function tail(sp: ServicePortInfo): string {
  return `${sp.namespace}/${sp.name}/${sp.protocol.toLowerCase()}/${sp.portName !== '' ? sp.portName : String(sp.port)}`;
}

export interface ServicePortNames {
  /** Balances over the cluster-wide endpoints. */
  readonly cluster: string;
  /** Balances over this node's endpoints (internal or external traffic policy Local). */
  readonly local: string;
  /** Entry for node ports, external IPs and load-balancer IPs. */
  readonly external: string;
  /** The per-endpoint chain (and the affinity set beside it). */
  endpoint(ip: string, port: number): { readonly chain: string; readonly affinitySet: string };
}

export function servicePortNames(sp: ServicePortInfo): ServicePortNames {
  const h = hash8(sp.key);
  const t = tail(sp);
  return {
    cluster: `service-${h}-${t}`,
    local: `local-${h}-${t}`,
    external: `external-${h}-${t}`,
    endpoint(ip, port) {
      const eh = hash8(`${sp.key}@${ip}:${port}`);
      const et = `${t}__${ip}/${port}`;
      return { chain: `endpoint-${eh}-${et}`, affinitySet: `affinity-${eh}-${et}` };
    },
  };
}

/**
 * Which of `tables` service tables holds a service port: its key's hash (the one in its chain names)
 * modulo the count, so it is the same on every sync and after restarts while the count is unchanged.
 */
export function serviceTableIndex(key: string, tables: number): number {
  return Number.parseInt(hash8(key), 16) % tables;
}
