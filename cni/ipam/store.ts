/**
 * What IPAM and the plugin keep on a node, behind one small interface so the allocator stays pure and
 * tests use `FakeStore` (same semantics, in memory):
 *  - IP reservations: one per address, taken atomically (`reserveIp` is create-if-absent), each naming
 *    its owner attachment so GC and a record-less DEL can find it.
 *  - attachment records: one per (container, ifname), O(1) by key; written before any network change so
 *    a crash at any point leaves something DEL or GC can undo.
 *  - a round-robin hint (the last reserved address), so a freed IP is not handed out again at once.
 * Methods are synchronous: the plugin is a short-lived process and sync file calls skip the thread pool.
 */
import type { AttachmentKey, PortMapping } from '../types.js';

export interface AttachmentRecord extends AttachmentKey {
  readonly ip: string;
  /** The pod CIDR the address came from. */
  readonly podCidr: string;
  /** The host end of the veth pair, in the node's namespace. */
  readonly hostVeth: string;
  readonly netns: string;
  readonly portMappings: readonly PortMapping[];
  /** ms since the epoch; orders host-port claims (the newest wins a conflict). */
  readonly createdAt: number;
}

export interface Reservation {
  readonly ip: string;
  /** undefined when the reservation file is unreadable (treated as an orphan by GC). */
  readonly owner?: AttachmentKey;
}

export interface Store {
  /** Takes `ip` for `owner`; false when anyone (even the same owner) already holds it. */
  reserveIp(ip: string, owner: AttachmentKey): boolean;
  /** The holder of `ip`, or undefined when it is free. */
  ipOwner(ip: string): AttachmentKey | undefined;
  /**
   * Frees `ip` only if `owner` holds it; true when it did. With `owner` undefined it frees only a
   * reservation whose owner cannot be read (GC's last resort).
   */
  releaseIp(ip: string, owner: AttachmentKey | undefined): boolean;
  listReservations(): readonly Reservation[];
  lastReservedIp(): string | undefined;
  setLastReservedIp(ip: string): void;

  getAttachment(key: AttachmentKey): AttachmentRecord | undefined;
  /** Creates or replaces, atomically. */
  putAttachment(rec: AttachmentRecord): void;
  /** No-op when absent. */
  deleteAttachment(key: AttachmentKey): void;
  listAttachments(): readonly AttachmentRecord[];
  /** Only the records with port mappings (kept apart so a host-port change reads few files). */
  listAttachmentsWithPorts(): readonly AttachmentRecord[];
  /** Removes leftovers of writers killed mid-write (GC). Returns how many. */
  sweep(nowMs: number): number;
}

export function sameKey(a: AttachmentKey, b: AttachmentKey): boolean {
  return a.containerId === b.containerId && a.ifname === b.ifname;
}

/** A map key for an attachment. ':' cannot appear in a container ID nor in an interface name. */
export function keyString(k: AttachmentKey): string {
  return `${k.containerId}:${k.ifname}`;
}

/** In-memory store with the file store's semantics. */
export class FakeStore implements Store {
  readonly ips = new Map<string, AttachmentKey>();
  readonly attachments = new Map<string, AttachmentRecord>();
  last: string | undefined;

  reserveIp(ip: string, owner: AttachmentKey): boolean {
    if (this.ips.has(ip)) return false;
    this.ips.set(ip, { containerId: owner.containerId, ifname: owner.ifname });
    return true;
  }
  ipOwner(ip: string): AttachmentKey | undefined {
    return this.ips.get(ip);
  }
  releaseIp(ip: string, owner: AttachmentKey | undefined): boolean {
    const cur = this.ips.get(ip);
    if (cur === undefined || owner === undefined || !sameKey(cur, owner)) return false;
    this.ips.delete(ip);
    return true;
  }
  listReservations(): readonly Reservation[] {
    return [...this.ips].map(([ip, owner]) => ({ ip, owner }));
  }
  lastReservedIp(): string | undefined {
    return this.last;
  }
  setLastReservedIp(ip: string): void {
    this.last = ip;
  }
  getAttachment(key: AttachmentKey): AttachmentRecord | undefined {
    return this.attachments.get(keyString(key));
  }
  putAttachment(rec: AttachmentRecord): void {
    this.attachments.set(keyString(rec), rec);
  }
  deleteAttachment(key: AttachmentKey): void {
    this.attachments.delete(keyString(key));
  }
  listAttachments(): readonly AttachmentRecord[] {
    return [...this.attachments.values()];
  }
  listAttachmentsWithPorts(): readonly AttachmentRecord[] {
    return this.listAttachments().filter((r) => r.portMappings.length > 0);
  }
  sweep(): number {
    return 0;
  }
}
