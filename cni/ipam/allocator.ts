/**
 * IPAM over a `Store`: which address a new attachment gets, which ones a DEL frees, and what GC may
 * reclaim. Decisions only; the store's atomic `reserveIp` makes concurrent allocators safe (a loser of a
 * race simply tries the next address).
 *
 * Cost: allocation starts after the last reserved address (round-robin, as host-local does), so on a
 * node that is not nearly full it succeeds at the first or second try: O(1) expected, O(range) worst.
 * A DEL with its record is O(1); without one (a crash before the record was written) it scans the
 * reservations once.
 */
import { CniTryAgainError } from '../errors.js';
import type { AttachmentKey } from '../types.js';
import { formatCidr, formatIPv4, nextInRange, parseIPv4, rangeSize, type PodRange } from './ipv4.js';
import { keyString, sameKey, type AttachmentRecord, type Reservation, type Store } from './store.js';

export interface Allocation {
  readonly ip: string;
  /** true when the attachment already held this address (an ADD retried for the same container). */
  readonly reused: boolean;
}

export function allocateIp(store: Store, range: PodRange, owner: AttachmentKey): Allocation {
  const existing = store.getAttachment(owner)?.ip;
  if (existing !== undefined) {
    const n = parseIPv4(existing);
    const holder = store.ipOwner(existing);
    if (n !== undefined && n >= range.first && n <= range.last && holder !== undefined && sameKey(holder, owner)) {
      return { ip: existing, reused: true };
    }
  }
  const hint = parseIPv4(store.lastReservedIp() ?? '');
  let candidate = nextInRange(range, hint ?? range.last);
  for (let i = 0; i < rangeSize(range); i++) {
    const ip = formatIPv4(candidate);
    if (store.reserveIp(ip, owner)) {
      store.setLastReservedIp(ip);
      return { ip, reused: false };
    }
    candidate = nextInRange(range, candidate);
  }
  throw new CniTryAgainError(
    'ERR_CNI_RANGE_FULL',
    `no free IP address in pod CIDR ${formatCidr(range.cidr)}: all ${rangeSize(range)} pod addresses are allocated`,
  );
}

/**
 * Frees what `owner` holds: the record's address when known, otherwise every reservation naming it.
 * Returns the freed addresses. Freeing nothing is fine (DEL is idempotent).
 */
export function releaseIps(store: Store, owner: AttachmentKey, recordIp?: string): string[] {
  if (recordIp !== undefined) return store.releaseIp(recordIp, owner) ? [recordIp] : [];
  const freed: string[] = [];
  for (const r of store.listReservations()) {
    if (r.owner !== undefined && sameKey(r.owner, owner) && store.releaseIp(r.ip, owner)) freed.push(r.ip);
  }
  return freed;
}

export interface GcPlan {
  /** Records of attachments the runtime no longer knows: their network and host ports go too. */
  readonly staleAttachments: readonly AttachmentRecord[];
  /** Reservations to free: owner gone, owner unknown, or not the address its owner's record names. */
  readonly orphanIps: readonly Reservation[];
}

/**
 * What GC removes, given the runtime's valid attachments. A reservation survives only if its owner is
 * valid and that owner's record names this very address; this also frees an address reserved by an ADD
 * killed before it wrote its record and then retried under the same key.
 */
export function planGc(
  valid: readonly AttachmentKey[],
  attachments: readonly AttachmentRecord[],
  reservations: readonly Reservation[],
  /** Records created after this instant (ms) count as valid: an ADD may still be running for them. */
  youngSinceMs?: number,
): GcPlan {
  const validKeys = new Set(valid.map(keyString));
  const byKey = new Map<string, AttachmentRecord>();
  for (const a of attachments) byKey.set(keyString(a), a);
  if (youngSinceMs !== undefined) for (const a of attachments) if (a.createdAt >= youngSinceMs) validKeys.add(keyString(a));
  const staleAttachments = [...byKey.values()].filter((a) => !validKeys.has(keyString(a)));
  const orphanIps = reservations.filter((r) => {
    if (r.owner === undefined) return true;
    const k = keyString(r.owner);
    return !validKeys.has(k) || byKey.get(k)?.ip !== r.ip;
  });
  return { staleAttachments, orphanIps };
}
