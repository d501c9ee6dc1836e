import { describe, expect, it } from 'vitest';
import type { Pod, PodStatus } from '../api/core/pod.js';
import { resources } from '../lib/client/resource.js';
import { apiError, FakeApi } from './node/fake-api.js';
import { canonicalJson, statusDiffers, statusMergePatch, StatusManager } from './status-manager.js';

const running: PodStatus = { phase: 'Running', podIP: '10.244.1.5', conditions: [{ type: 'Ready', status: 'True' }] };

function apiPod(fake: FakeApi, name = 'web', status?: PodStatus): Pod {
  return fake.put<Pod>(resources.pods, {
    metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'i' }] },
    ...(status !== undefined ? { status } : {}),
  });
}

describe('canonicalJson', () => {
  it('encodes objects with the same entries in any key order the same way', () => {
    expect(canonicalJson({ b: 1, a: [{ y: 1, x: 2 }] })).toBe(canonicalJson({ a: [{ x: 2, y: 1 }], b: 1 }));
  });
  it('drops undefined members', () => {
    expect(canonicalJson({ a: undefined, b: 1 })).toBe('{"b":1}');
  });
});

describe('statusMergePatch', () => {
  it.each([
    ['sets new keys', undefined, running, { ...running }],
    ['nulls keys the new status dropped', { phase: 'Pending', message: 'x', reason: 'y' } as PodStatus, { phase: 'Running' } as PodStatus, { phase: 'Running', message: null, reason: null }],
  ])('%s', (_n, current, next, want) => {
    expect(statusMergePatch(current, next).status).toEqual(want);
  });
});

describe('statusDiffers', () => {
  it('is false for the same status with keys reordered and true for a change', () => {
    expect(statusDiffers({ podIP: '10.244.1.5', phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }, running)).toBe(false);
    expect(statusDiffers(running, { ...running, phase: 'Failed' })).toBe(true);
  });
});

describe('StatusManager', () => {
  it('patches pods/<name>/status when the status changed, and only then', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake);
    const sm = new StatusManager({ client: fake });
    expect(await sm.setStatus(pod, running)).toBe(true);
    expect(await sm.setStatus(pod, { ...running })).toBe(true);
    const patches = fake.callsOf('patch', 'pods');
    expect(patches).toHaveLength(1);
    expect(patches[0]?.subresource).toBe('status');
    expect(fake.object<Pod>(resources.pods, 'web', 'default')?.status).toEqual(running);
    expect(sm.stats).toMatchObject({ patches: 1, unchanged: 1 });
  });

  it('writes nothing when the apiserver already holds the status (after an agent restart)', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake, 'web', running);
    const sm = new StatusManager({ client: fake });
    await sm.setStatus(pod, running);
    expect(fake.callsOf('patch')).toHaveLength(0);
  });

  it('clears status fields the new status no longer has', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake, 'web', { phase: 'Pending', reason: 'Old', message: 'old' });
    const sm = new StatusManager({ client: fake });
    await sm.setStatus(pod, running);
    expect(fake.object<Pod>(resources.pods, 'web', 'default')?.status).toEqual(running);
  });

  it('retries a failed write on the next call', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake);
    const sm = new StatusManager({ client: fake });
    fake.failNext('patch', apiError(500, 'InternalError', 'boom'));
    expect(await sm.setStatus(pod, running)).toBe(false);
    expect(await sm.setStatus(pod, running)).toBe(true);
    expect(fake.callsOf('patch')).toHaveLength(2);
    expect(sm.stats.failures).toBe(1);
  });

  it('writes the status of a static pod to its mirror pod, and nothing without one', async () => {
    const fake = new FakeApi();
    const mirror = apiPod(fake, 'etcd-w1');
    const staticPod: Pod = { metadata: { name: 'etcd-w1', namespace: 'default', uid: 'static-uid' }, spec: { containers: [] } };
    let haveMirror = false;
    const sm = new StatusManager({ client: fake, isStaticPod: (p) => p.metadata.uid === 'static-uid', mirrorPodOf: () => (haveMirror ? mirror : undefined) });
    await sm.setStatus(staticPod, running);
    expect(fake.callsOf('patch')).toHaveLength(0);
    haveMirror = true;
    await sm.setStatus(staticPod, running);
    expect(fake.object<Pod>(resources.pods, 'etcd-w1', 'default')?.status).toEqual(running);
    expect(sm.lastGenerated('static-uid')).toEqual(running);
  });

  it('confirms a deletion with grace 0 and the UID precondition, treating a replaced pod as done', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake);
    const sm = new StatusManager({ client: fake });
    expect(await sm.confirmDeletion({ ...pod, metadata: { ...pod.metadata, uid: 'someone-else' } })).toBe(true);
    expect(fake.object(resources.pods, 'web', 'default')).toBeDefined();
    expect(await sm.confirmDeletion(pod)).toBe(true);
    expect(fake.object(resources.pods, 'web', 'default')).toBeUndefined();
    expect(await sm.confirmDeletion(pod)).toBe(true);
  });

  it('reports a failed deletion so the worker retries', async () => {
    const fake = new FakeApi();
    const pod = apiPod(fake);
    const sm = new StatusManager({ client: fake });
    fake.failNext('delete', apiError(503, 'ServiceUnavailable', 'later'));
    expect(await sm.confirmDeletion(pod)).toBe(false);
  });
});
