/**
 * Chain names of the iptables proxy, upstream's scheme with our prefix: `KNODE-SVC-` followed by 16
 * base32 characters of a SHA-256 of what the chain stands for. iptables limits chain names to 28
 * characters (XT_EXTENSION_MAXNAMELEN 29 with the NUL), which rules out readable tails; the comments
 * on the dispatch rules name the Service instead. The same service port always gets the same names,
 * which is what lets a partial sync rewrite exactly its chains. The SVC, SVL and EXT chains of one
 * service port share a hash, so they sort together in iptables-save.
 */
import { createHash } from 'node:crypto';
import type { ServicePortInfo } from '../model.js';
import { CHAIN_PREFIX } from './ir.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** The first 16 characters of the RFC 4648 base32 encoding of SHA-256(s) (= its first 10 bytes). */
export function hash16(s: string): string {
  const digest = createHash('sha256').update(s).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (let i = 0; out.length < 16; i++) {
    value = (value << 8) | (digest[i] ?? 0);
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return out;
}

export interface IptablesChainNames {
  /** Balances over the cluster-wide endpoints. */
  readonly svc: string;
  /** Balances over this node's endpoints (internal or external traffic policy Local). */
  readonly svl: string;
  /** Entry for node ports, external IPs and load-balancer IPs. */
  readonly ext: string;
  /** The per-endpoint chain; also the name of its `recent` list for ClientIP affinity. */
  sep(ip: string, port: number): string;
}

export function iptablesChainNames(sp: ServicePortInfo): IptablesChainNames {
  const h = hash16(sp.key);
  return {
    svc: `${CHAIN_PREFIX}SVC-${h}`,
    svl: `${CHAIN_PREFIX}SVL-${h}`,
    ext: `${CHAIN_PREFIX}EXT-${h}`,
    sep: (ip, port) => `${CHAIN_PREFIX}SEP-${hash16(`${sp.key}|${ip}:${port}`)}`,
  };
}

/** `ns/name:port` as upstream writes it in comments (`ns/name` for an unnamed port). */
export function servicePortLabel(sp: ServicePortInfo): string {
  return sp.portName !== '' ? `${sp.namespace}/${sp.name}:${sp.portName}` : `${sp.namespace}/${sp.name}`;
}
