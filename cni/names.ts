/**
 * Deterministic names and MAC addresses. The host veth's name comes from the attachment key, so DEL and
 * GC find it without any stored state; MACs are chosen by us rather than by the kernel, so ADD can
 * report them without a query after creating the links (one exec less on every pod start). Pure.
 */
import type { AttachmentKey } from './types.js';

/** 64-bit FNV-1a as 16 hex digits (two 32-bit lanes with different offsets). */
export function hash64(s: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0xcbf29ce4;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x01000193 ^ 0x5bd1e995) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

export const HOST_VETH_PREFIX = 'veth';

/** `veth` + 11 hex digits: 15 characters, the kernel's limit. */
export function hostVethName(key: AttachmentKey): string {
  return HOST_VETH_PREFIX + hash64(`${key.containerId}/${key.ifname}`).slice(0, 11);
}

function mac(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

function hexBytes(hex: string, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  return out;
}

/** Pod side: 0a:58 + the IPv4 address, the convention kubenet and OVN use; locally administered. */
export function podMac(ip: string): string {
  return mac([0x0a, 0x58, ...ip.split('.').map(Number)]);
}

/** Host side of the veth: 02 (locally administered, unicast) + 5 bytes of the key's hash. */
export function hostVethMac(key: AttachmentKey): string {
  return mac([0x02, ...hexBytes(hash64(`mac/${key.containerId}/${key.ifname}`), 5)]);
}

/**
 * The bridge gets a fixed address: left alone, a bridge takes the lowest MAC of its ports and changes
 * it as pods come and go, which flushes the pods' neighbour entries for the gateway.
 */
export function bridgeMac(network: string, bridge: string, podCidr: string): string {
  return mac([0x02, ...hexBytes(hash64(`bridge/${network}/${bridge}/${podCidr}`), 5)]);
}
