/**
 * The container spec hash stored in the `io.kubernetes.container.hash` annotation: a running container
 * whose hash differs from the pod spec's is killed and started again.
 *
 * Design: upstream hashes only `name` and `image` (pickFieldsToHash, since 1.31). Every other container
 * field is immutable in a pod spec, except resources, which are resized in place without a restart;
 * hashing the whole struct restarted every container whenever the kubelet learned a new field (an
 * upgrade) or defaulting changed. So only a changed image restarts a container, as upstream.
 * The digest is FNV-1a (32 bit) over the canonical JSON of those fields, printed in lowercase hex like
 * upstream's annotation (its exact value differs: upstream feeds Go's spew dump of the bytes).
 *
 * Cost model: one short string encode and a byte loop per call.
 */
import type { Container } from '../api/core/pod.js';
import type { RuntimeContainer } from './types.js';

const FNV32_OFFSET = 0x811c9dc5;
const FNV32_PRIME = 0x01000193;

export function fnv1a32(bytes: Uint8Array): number {
  let h = FNV32_OFFSET;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, FNV32_PRIME) >>> 0;
  }
  return h >>> 0;
}

const encoder = new TextEncoder();

/** The fields whose change must restart a running container; keys sorted so the JSON is canonical. */
function fieldsToHash(container: Pick<Container, 'name' | 'image'>): string {
  return JSON.stringify({ image: container.image ?? '', name: container.name });
}

/** Hex digest of the restart-relevant part of a container spec. */
export function hashContainer(container: Pick<Container, 'name' | 'image'>): string {
  return fnv1a32(encoder.encode(fieldsToHash(container))).toString(16);
}

/**
 * Whether the runtime container was created from a different spec. A missing annotation (empty hash)
 * counts as changed, as upstream compares against hash 0.
 */
export function containerSpecChanged(container: Pick<Container, 'name' | 'image'>, running: Pick<RuntimeContainer, 'hash'>): boolean {
  return running.hash !== hashContainer(container);
}
