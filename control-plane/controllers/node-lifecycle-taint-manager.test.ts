/**
 * The taint manager loop on a FakeClock: informers fed by FakeListerWatchers, a recording fake of the
 * two client calls it makes (pods/status patch, pod delete). Checks the timing (tolerationSeconds from
 * the taint's timeAdded, pacing by the pods/s bucket) and the writes, with no real waits.
 */
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import type { Toleration } from '../../api/core/scheduling.js';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { EventRecorder } from '../../lib/client/events.js';
import { Informer } from '../../lib/client/informer.js';
import { FakeListerWatcher } from '../../lib/client/testing/fake-lister-watcher.js';
import { silentLogger } from '../../lib/log.js';
import type { ControllerContext } from '../controller-manager/controller.js';
import { ControllerMetrics } from '../controller-manager/controller.js';
import type { SharedInformerFactory } from '../../lib/client/shared-informer-factory.js';
import { PodsByNode, TaintManager } from './node-lifecycle-taint-manager.js';
import { TAINT_UNREACHABLE } from './node-lifecycle-taints.js';

const T0 = Date.UTC(2026, 0, 1);

interface Harness {
  readonly clock: FakeClock;
  readonly deleted: string[];
  readonly patched: Array<{ name: string; body: unknown }>;
  readonly events: string[];
  readonly manager: TaintManager;
  readonly stop: AbortController;
}

const stops: AbortController[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s.abort();
});

const settle = async (): Promise<void> => {
  for (let i = 0; i < 50; i++) await new Promise<void>((r) => setImmediate(r));
};

async function start(nodes: Node[], pods: Pod[], rate = 10, burst = 10): Promise<Harness> {
  const clock = new FakeClock(T0);
  const deleted: string[] = [];
  const patched: Array<{ name: string; body: unknown }> = [];
  const events: string[] = [];
  const client = {
    patch: async (_ref: unknown, name: string, body: unknown) => {
      patched.push({ name, body });
      return {} as KubeObject;
    },
    delete: async (_ref: unknown, name: string) => {
      deleted.push(name);
      return {} as KubeObject;
    },
  } as unknown as KubeClient;
  const recorder = new EventRecorder(
    {
      create: async (ev) => {
        events.push(`${ev.reason}: ${ev.message}`);
        return ev;
      },
      patchCount: async () => undefined,
    },
    'test',
    clock,
    silentLogger(),
  );
  const ctx: ControllerContext = { client, informers: {} as SharedInformerFactory, clock, log: silentLogger(), metrics: new ControllerMetrics(new Registry()), events: recorder };
  const source = <T extends KubeObject>(items: T[]): Informer<T> => {
    const lw = new FakeListerWatcher<T>();
    lw.nextList({ items, resourceVersion: '1' });
    return new Informer<T>(lw, { clock, name: 'test' });
  };
  const nodeInformer = source(nodes);
  const podInformer = source(pods);
  const manager = new TaintManager(ctx, nodeInformer, podInformer, new PodsByNode(podInformer), { podEvictionRate: rate, podEvictionBurst: burst });
  const stop = new AbortController();
  stops.push(stop);
  void nodeInformer.run(stop.signal);
  void podInformer.run(stop.signal);
  await Promise.all([nodeInformer.waitForSync(), podInformer.waitForSync()]);
  void manager.run(stop.signal);
  await settle();
  await recorder.flush();
  return { clock, deleted, patched, events, manager, stop };
}

const taintedNode = (name: string, addedAt = T0): Node => ({
  metadata: { name },
  spec: { taints: [{ key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: rfc3339(new Date(addedAt)) }] },
});
const pod = (name: string, node: string, tolerations: Toleration[] = []): Pod => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, resourceVersion: '1' },
  spec: { nodeName: node, containers: [{ name: 'c', image: 'i' }], tolerations },
});
const tolerate = (seconds?: number): Toleration[] => [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', ...(seconds !== undefined ? { tolerationSeconds: seconds } : {}) }];

describe('TaintManager', () => {
  it('evicts the untolerated pod at once, the 2 s one at timeAdded + 2 s, never the forever one', async () => {
    const h = await start(
      [taintedNode('n1'), { metadata: { name: 'n2' }, spec: {} }],
      [pod('none', 'n1'), pod('two', 'n1', tolerate(2)), pod('forever', 'n1', tolerate()), pod('other', 'n2')],
    );
    expect(h.deleted).toEqual(['none']);
    expect(h.patched).toEqual([
      {
        name: 'none',
        body: { status: { conditions: [{ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: rfc3339(new Date(T0)) }] } },
      },
    ]);
    expect(h.events).toContain('TaintManagerEviction: Marking for deletion Pod ns/none');
    expect(h.manager.pendingPods()).toEqual(['ns/two']);

    await h.clock.advance(1_999);
    await settle();
    expect(h.deleted).toEqual(['none']);
    await h.clock.advance(1);
    await settle();
    expect(h.deleted).toEqual(['none', 'two']);

    await h.clock.advance(3_600_000);
    await settle();
    expect(h.deleted).toEqual(['none', 'two']);
  });

  it('counts from timeAdded: a taint added 10 s before a 5 s toleration evicts at once', async () => {
    const h = await start([taintedNode('n1', T0 - 10_000)], [pod('five', 'n1', tolerate(5))]);
    expect(h.deleted).toEqual(['five']);
  });

  it('paces deletions with the pods/s bucket: 10 at once, then 10 per second', async () => {
    const pods = Array.from({ length: 25 }, (_, i) => pod(`p${String(i).padStart(2, '0')}`, 'n1'));
    const h = await start([taintedNode('n1')], pods, 10, 10);
    expect(h.deleted).toHaveLength(10);
    await h.clock.advance(500);
    await settle();
    expect(h.deleted).toHaveLength(15);
    await h.clock.advance(1_000);
    await settle();
    expect(h.deleted).toHaveLength(25);
    expect(new Set(h.deleted).size).toBe(25);
  });
});
