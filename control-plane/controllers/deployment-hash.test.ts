import { describe, expect, it } from 'vitest';
import type { PodTemplateSpec } from '../../api/core/pod.js';
import { canonicalJson, computeTemplateHash, fnv32a, safeEncode } from './deployment-hash.js';

const template: PodTemplateSpec = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } };

describe('computeTemplateHash', () => {
  it('is a valid label value made of the safe alphabet, at most 10 characters', () => {
    const h = computeTemplateHash(template);
    expect(h).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
  });
  it('is stable: same template, same hash; key order and empty members do not matter', () => {
    const reordered = { spec: { containers: [{ image: 'x', name: 'c', env: [] }], volumes: [] }, metadata: { annotations: {}, labels: { app: 'web' } } } as PodTemplateSpec;
    expect(computeTemplateHash(reordered)).toBe(computeTemplateHash(template));
    // pinned so a change of the algorithm (which would rename every new ReplicaSet) is deliberate
    expect(computeTemplateHash(template)).toBe('fdf6cb4cd');
  });
  it('changes with the template and with the collision count', () => {
    const other = { ...template, spec: { containers: [{ name: 'c', image: 'y' }] } };
    expect(computeTemplateHash(other)).not.toBe(computeTemplateHash(template));
    expect(computeTemplateHash(template, 1)).not.toBe(computeTemplateHash(template));
    expect(computeTemplateHash(template, 1)).not.toBe(computeTemplateHash(template, 2));
  });
});

describe('pieces', () => {
  it('FNV-1a 32 test vectors', () => {
    const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
    expect(fnv32a(enc(''))).toBe(0x811c9dc5);
    expect(fnv32a(enc('a'))).toBe(0xe40c292c);
    expect(fnv32a(enc('foobar'))).toBe(0xbf9cf968);
  });
  it('safeEncode maps each character into the alphabet (upstream rand.SafeEncodeString)', () => {
    // '0' is code 48, 48 % 27 = 21 -> '4'; '9' is 57 % 27 = 3 -> 'f'
    expect(safeEncode('09')).toBe('4f');
  });
  it('canonicalJson sorts keys and drops empty members', () => {
    expect(canonicalJson({ b: 1, a: { z: [], y: null, x: 'v' }, c: {} })).toBe('{"a":{"x":"v"},"b":1}');
  });
});
