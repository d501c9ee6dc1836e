/**
 * The `pod-template-hash` a Deployment stamps on each ReplicaSet (name suffix, label, selector term) and
 * on its pods, computed like upstream's ComputeHash: FNV-32a over the template, then the collision count
 * (4 bytes little-endian padded to 8, as upstream writes it) when the Deployment has one, and the decimal
 * sum re-spelled with rand.SafeEncodeString's alphabet (no vowels, no 0/1/3, so never a word).
 *
 * Upstream feeds FNV the Go struct printed by spew; we feed it canonical JSON (keys sorted, empty values
 * dropped so semantically equal templates hash alike). The value differs from upstream's for the same
 * template, which nothing depends on: the controller finds a Deployment's ReplicaSet by comparing
 * templates, and uses the hash only to name a new one. It is stable across processes and releases.
 */
import type { PodTemplateSpec } from '../../api/core/pod.js';

const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** JSON with sorted keys and without null/empty members: one spelling per semantic value. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const parts: string[] = [];
    for (const k of Object.keys(v).sort()) {
      const x = (v as Record<string, unknown>)[k];
      if (isEmpty(x)) continue;
      parts.push(`${JSON.stringify(k)}:${canonicalJson(x)}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

function isEmpty(x: unknown): boolean {
  if (x === undefined || x === null) return true;
  if (Array.isArray(x)) return x.length === 0;
  return typeof x === 'object' && Object.keys(x).length === 0;
}

/** FNV-1a, 32 bits. */
export function fnv32a(bytes: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Upstream rand.SafeEncodeString. */
export function safeEncode(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHABET[(ch.codePointAt(0) ?? 0) % SAFE_ALPHABET.length];
  return out;
}

export function computeTemplateHash(template: PodTemplateSpec, collisionCount?: number): string {
  let h = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined) {
    const extra = new Uint8Array(8);
    new DataView(extra.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32a(extra, h);
  }
  return safeEncode(String(h));
}
