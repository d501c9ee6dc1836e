import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { effectiveGracePeriod, needsRetry, shouldPull } from './executor.js';

const pod = (grace?: number, deletionGrace?: number): Pod => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u', ...(deletionGrace !== undefined ? { deletionGracePeriodSeconds: deletionGrace } : {}) },
  spec: { containers: [], ...(grace !== undefined ? { terminationGracePeriodSeconds: grace } : {}) },
});

describe('shouldPull', () => {
  it.each([
    ['Always pulls even a present image', 'Always', true, 'pull'],
    ['IfNotPresent uses a present image', 'IfNotPresent', true, 'use'],
    ['IfNotPresent pulls a missing image', 'IfNotPresent', false, 'pull'],
    ['Never uses a present image', 'Never', true, 'use'],
    ['Never refuses a missing image', 'Never', false, 'never-missing'],
  ])('%s', (_n, policy, present, want) => {
    expect(shouldPull(policy, present)).toBe(want);
  });
});

describe('effectiveGracePeriod', () => {
  it.each([
    ['an override wins', pod(30, 10), 5, 5],
    ['then the deletion grace period', pod(30, 10), undefined, 10],
    ['then the spec', pod(7), undefined, 7],
    ['then the fallback (30 s, or what an orphan container recorded)', undefined, undefined, 30],
    ['never below 2 s, as upstream', pod(30, 0), undefined, 2],
  ])('%s', (_n, p, override, want) => {
    expect(effectiveGracePeriod(p, override)).toBe(want);
  });
});

describe('needsRetry', () => {
  it('asks for a quick retry after any failed step only', () => {
    expect(needsRetry({ errors: [] })).toBe(false);
    expect(needsRetry({ errors: [{ step: 'StartContainer', container: 'c', reason: 'ErrImagePull', message: 'x' }] })).toBe(true);
  });
});
