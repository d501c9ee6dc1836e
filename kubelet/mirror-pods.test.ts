import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../api/core/node.js';
import type { Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import { resources } from '../lib/client/resource.js';
import { buildMirrorPod, isMirrorPod, MirrorPodManager, planMirrorPods } from './mirror-pods.js';
import type { MirrorPodOp, NodeRef } from './mirror-pods.js';
import { apiError, FakeApi } from './node/fake-api.js';
import { buildStaticPod } from './static-pods.js';

const NODE: NodeRef = { name: 'n1', uid: 'node-uid' };

function staticPod(name: string, image = 'busybox'): Pod {
  return buildStaticPod(
    { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { containers: [{ name: 'c', image }] } },
    { nodeName: 'n1', source: `/m/${name}.yaml` },
  );
}

function liveMirror(sp: Pod, over: Partial<Pod['metadata']> = {}): Pod {
  const m = buildMirrorPod(sp, NODE);
  return { ...m, metadata: { ...m.metadata, uid: `mirror-${sp.metadata.name ?? ''}`, ...over } };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

describe('buildMirrorPod', () => {
  it('copies the static pod with the mirror annotation and a controller reference to the Node', () => {
    const sp = staticPod('web');
    const m = buildMirrorPod(sp, NODE);
    expect(m.metadata.name).toBe('web-n1');
    expect(m.metadata.uid).toBeUndefined();
    expect(m.metadata.labels).toEqual({ app: 'web' });
    expect(m.metadata.annotations?.['kubernetes.io/config.mirror']).toBe(sp.metadata.uid);
    expect(m.metadata.annotations?.['kubernetes.io/config.source']).toBe('file');
    expect(m.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true }]);
    expect(m.spec).toEqual(sp.spec);
    expect(m.status).toBeUndefined();
    expect(isMirrorPod(m)).toBe(true);
    expect(isMirrorPod(sp)).toBe(false);
  });
});

describe('planMirrorPods', () => {
  const web = staticPod('web');
  const api = staticPod('api');
  const summary = (ops: MirrorPodOp[]): string[] => ops.map((o) => (o.kind === 'create' ? `create ${o.pod.metadata.name ?? ''}` : `delete ${o.name} (${o.reason})`));

  it.each<[string, Pod[], Pod[], NodeRef | undefined, string[]]>([
    ['creates missing mirrors', [web, api], [], NODE, ['create web-n1', 'create api-n1']],
    ['leaves matching mirrors alone', [web], [liveMirror(web)], NODE, []],
    ['replaces a mirror of an older manifest', [staticPod('web', 'nginx')], [liveMirror(web)], NODE, ['delete web-n1 (outdated)', 'create web-n1']],
    ['deletes a terminating mirror and waits for it to go', [web], [liveMirror(web, { deletionTimestamp: '2026-01-01T00:00:00Z' })], NODE, ['delete web-n1 (terminating)']],
    ['deletes orphans', [], [liveMirror(web)], NODE, ['delete web-n1 (orphaned)']],
    ['creates nothing without a Node, but still cleans up', [web], [liveMirror(api)], undefined, ['delete api-n1 (orphaned)']],
  ])('%s', (_name, statics, mirrors, node, want) => {
    expect(summary(planMirrorPods(statics, mirrors, node))).toEqual(want);
  });

  it('deletes with the uid of the mirror it saw', () => {
    const [op] = planMirrorPods([], [liveMirror(web)], NODE);
    expect(op).toEqual({ kind: 'delete', namespace: 'default', name: 'web-n1', uid: 'mirror-web-n1', reason: 'orphaned' });
  });
});

describe('MirrorPodManager', () => {
  let clock: FakeClock;
  let api: FakeApi;
  let manager: MirrorPodManager;
  let ac: AbortController;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    clock = new FakeClock();
    api = new FakeApi(() => clock.now());
    manager = new MirrorPodManager({ client: api, nodeName: 'n1', clock });
    ac = new AbortController();
    running = undefined;
  });
  afterEach(async () => {
    ac.abort();
    await running;
  });

  const addNode = (): string => api.put<Node>(resources.nodes, { metadata: { name: 'n1' } }).metadata.uid ?? '';
  const mirrorNames = (): Array<string | undefined> => api.objects<Pod>(resources.pods).filter(isMirrorPod).map((p) => p.metadata.name);
  const start = async (): Promise<void> => {
    running = manager.run(ac.signal);
    await settle();
  };

  it('creates mirror pods owned by the Node and remembers them by static UID', async () => {
    const uid = addNode();
    const web = staticPod('web');
    manager.setStaticPods([web]);
    expect(await manager.sync()).toEqual({ created: 1, deleted: 0, failed: 0 });
    const stored = api.object<Pod>(resources.pods, 'web-n1', 'default');
    expect(stored?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Node', name: 'n1', uid, controller: true });
    expect(manager.mirrorPodOf(web.metadata.uid ?? '')?.metadata.uid).toBe(stored?.metadata.uid);
    expect(await manager.sync()).toEqual({ created: 0, deleted: 0, failed: 0 });
  });

  it('waits for the Node before creating mirrors', async () => {
    manager.setStaticPods([staticPod('web')]);
    await manager.sync();
    expect(mirrorNames()).toEqual([]);
    addNode();
    await manager.sync();
    expect(mirrorNames()).toEqual(['web-n1']);
  });

  it('recreates a mirror deleted by a user at the next resync (10 s)', async () => {
    addNode();
    manager.setStaticPods([staticPod('web')]);
    await start();
    expect(mirrorNames()).toEqual(['web-n1']);
    await api.delete(resources.pods, 'web-n1', { namespace: 'default' });
    await clock.advance(10_000);
    expect(mirrorNames()).toEqual(['web-n1']);
  });

  it('follows static pod changes at once: replaced when edited, deleted when removed', async () => {
    addNode();
    manager.setStaticPods([staticPod('web')]);
    await start();
    const before = api.object<Pod>(resources.pods, 'web-n1', 'default')?.metadata.uid;
    const edited = staticPod('web', 'nginx');
    manager.setStaticPods([edited]);
    await settle();
    const after = api.object<Pod>(resources.pods, 'web-n1', 'default');
    expect(after?.metadata.uid).not.toBe(before);
    expect(after?.metadata.annotations?.['kubernetes.io/config.mirror']).toBe(edited.metadata.uid);
    manager.setStaticPods([]);
    await settle();
    expect(mirrorNames()).toEqual([]);
    expect(manager.stats.deleted).toBe(2);
  });

  it("never touches a user's pod of the same name, and counts the failure", async () => {
    addNode();
    api.put<Pod>(resources.pods, { metadata: { name: 'web-n1', namespace: 'default' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] } });
    manager.setStaticPods([staticPod('web')]);
    expect(await manager.sync()).toEqual({ created: 0, deleted: 0, failed: 1 });
    expect(api.object<Pod>(resources.pods, 'web-n1', 'default')?.spec?.containers[0]?.image).toBe('x');
    expect(manager.stats.lastError).toContain('already exists');
  });

  it('survives an apiserver failure and retries at the next round', async () => {
    addNode();
    api.failNext('list', apiError(503, 'ServiceUnavailable', 'unavailable'));
    manager.setStaticPods([staticPod('web')]);
    await start();
    expect(mirrorNames()).toEqual([]);
    expect(manager.stats.failures).toBe(1);
    await clock.advance(10_000);
    expect(mirrorNames()).toEqual(['web-n1']);
  });
});
