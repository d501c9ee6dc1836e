import { describe, expect, it } from 'vitest';
import type { Container } from '../api/core/pod.js';
import { containerSpecChanged, fnv1a32, hashContainer } from './container-hash.js';

const base: Container = { name: 'app', image: 'busybox:1.36', command: ['sh'], env: [{ name: 'A', value: '1' }] };

describe('hashContainer', () => {
  it('is FNV-1a 32 (reference vectors)', () => {
    expect(fnv1a32(new Uint8Array())).toBe(0x811c9dc5);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    expect(fnv1a32(new TextEncoder().encode('foobar'))).toBe(0xbf9cf968);
  });

  it('is stable lowercase hex', () => {
    const h = hashContainer(base);
    expect(h).toMatch(/^[0-9a-f]{1,8}$/);
    expect(hashContainer({ ...base })).toBe(h);
  });

  it.each<[string, Partial<Container>, boolean]>([
    ['a new image', { image: 'busybox:1.37' }, true],
    ['another name', { name: 'other' }, true],
    ['resources (resized in place)', { resources: { limits: { cpu: '1' } } }, false],
    ['env, command, probes (immutable in a pod, and defaulting must not restart)', { env: [], command: ['x'], livenessProbe: { exec: { command: ['true'] } } }, false],
  ])('changing %s: hash changes = %s', (_what, change, changed) => {
    expect(hashContainer({ ...base, ...change }) !== hashContainer(base)).toBe(changed);
  });

  it('containerSpecChanged compares with the annotation; a missing one counts as changed', () => {
    expect(containerSpecChanged(base, { hash: hashContainer(base) })).toBe(false);
    expect(containerSpecChanged({ ...base, image: 'busybox:2' }, { hash: hashContainer(base) })).toBe(true);
    expect(containerSpecChanged(base, { hash: '' })).toBe(true);
  });
});
