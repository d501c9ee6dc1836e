import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { findOrphans, isStaticPod, PodSources } from './pod-sources.js';
import type { PodInformerLike, PodSink } from './pod-sources.js';

type Handlers = Parameters<PodInformerLike['addEventHandler']>[0];

class FakeInformer implements PodInformerLike {
  h: Handlers = {};
  synced = false;
  addEventHandler(h: Handlers): () => void {
    this.h = h;
    return () => {
      this.h = {};
    };
  }
  hasSynced(): boolean {
    return this.synced;
  }
}

class Sink implements PodSink {
  events: string[] = [];
  update(pod: Pod): void {
    this.events.push(`update ${pod.metadata.uid ?? ''}`);
  }
  remove(uid: string, pod?: Pod): void {
    this.events.push(`remove ${uid}${pod ? ` ${pod.metadata.name ?? ''}` : ''}`);
  }
}

const pod = (uid: string, name = `p-${uid}`, annotations?: Record<string, string>, deleting = false): Pod => ({
  metadata: { uid, name, namespace: 'default', ...(annotations ? { annotations } : {}), ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { containers: [] },
});

function setup(staticPods = false) {
  const inf = new FakeInformer();
  const sink = new Sink();
  const mirrorChanges: string[] = [];
  const s = new PodSources(sink, inf, { staticPods, onMirrorChange: (m) => mirrorChanges.push(m.metadata.name ?? '') });
  s.start();
  return { inf, sink, s, mirrorChanges };
}

describe('PodSources', () => {
  it('hands API adds, updates and deletes to the sink', () => {
    const { inf, sink, s } = setup();
    inf.h.onAdd?.(pod('a'));
    inf.h.onUpdate?.(pod('a'), pod('a'));
    inf.h.onDelete?.(pod('a'));
    expect(sink.events).toEqual(['update a', 'update a', 'remove a p-a']);
    expect(s.has('a')).toBe(false);
  });

  it('never runs mirror pods but finds them for their static pod', () => {
    const { inf, sink, s } = setup(true);
    const mirror = pod('m', 'etcd-w1', { 'kubernetes.io/config.mirror': 'h' });
    inf.h.onAdd?.(mirror);
    const st = pod('static1', 'etcd-w1', { 'kubernetes.io/config.source': 'file' });
    s.setStaticPods([st]);
    expect(sink.events).toEqual(['update static1']);
    expect(s.mirrorPodOf(st)?.metadata.uid).toBe('m');
    expect(isStaticPod(st)).toBe(true);
    inf.h.onDelete?.(mirror);
    expect(s.mirrorPodOf(st)).toBeUndefined();
  });

  it('reports a mirror pod being deleted so it is replaced at once', () => {
    const { inf, mirrorChanges } = setup(true);
    const mirror = pod('m', 'etcd-w1', { 'kubernetes.io/config.mirror': 'h' });
    inf.h.onAdd?.(mirror);
    inf.h.onUpdate?.(mirror, { ...mirror, metadata: { ...mirror.metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } });
    expect(mirrorChanges).toEqual(['etcd-w1']);
  });

  it('removes static pods whose manifest went away and updates only changed ones', () => {
    const { sink, s } = setup(true);
    const a = pod('a', 'a', { 'kubernetes.io/config.source': 'file' });
    const b = pod('b', 'b', { 'kubernetes.io/config.source': 'file' });
    s.setStaticPods([a, b]);
    s.setStaticPods([a]);
    expect(sink.events).toEqual(['update a', 'update b', 'remove b b']);
  });

  it('is synced once the informer listed and the manifests were read', () => {
    const { inf, s } = setup(true);
    expect(s.synced()).toBe(false);
    inf.synced = true;
    expect(s.synced()).toBe(false);
    s.setStaticPods([]);
    expect(s.synced()).toBe(true);
  });

  it('counts pods being deleted as inactive', () => {
    const { inf, s } = setup();
    inf.h.onAdd?.(pod('a'));
    inf.h.onAdd?.(pod('b', 'b', undefined, true));
    expect([...s.activeUids()]).toEqual(['a']);
  });
});

describe('findOrphans', () => {
  it('reports live runtime pods that no source knows and no worker handles', () => {
    expect(findOrphans(['a', 'b', 'c'], (u) => u === 'a', (u) => u === 'b')).toEqual(['c']);
  });
});
