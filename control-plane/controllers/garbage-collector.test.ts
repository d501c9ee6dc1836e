import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject, OwnerReference } from '../../api/meta.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { AdmissionChain } from '../apiserver/admission.js';
import { Registry } from '../apiserver/registry.js';
import type { ResourceEntry } from '../apiserver/resource-table.js';
import { servedResources } from '../apiserver/resources.js';
import { MemoryStore } from '../storage/memory-store.js';
import { GarbageCollector, planDependentWork, planOwnerWork } from './garbage-collector.js';
import { NamespaceController } from './namespace.js';

const ref = (uid: string): OwnerReference => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid });

describe('planDependentWork', () => {
  const cases: Array<[string, OwnerReference[], string[], ReturnType<typeof planDependentWork>]> = [
    ['no owners: nothing', [], [], { kind: 'none' }],
    ['all owners alive: nothing', [ref('a'), ref('b')], ['a', 'b'], { kind: 'none' }],
    ['all owners gone: delete', [ref('a')], [], { kind: 'delete' }],
    ['some owners gone: drop those references', [ref('a'), ref('b')], ['b'], { kind: 'drop-references', uids: ['a'] }],
  ];
  it.each(cases)('%s', (_n, owners, alive, expected) => {
    expect(planDependentWork(owners, new Set(alive))).toEqual(expected);
  });
});

describe('planOwnerWork', () => {
  const dep = (uid: string, deleting = false): { uid: string; deleting: boolean } => ({ uid, deleting });
  const cases: Array<[string, { deleting: boolean; finalizers: string[] }, Array<{ uid: string; deleting: boolean }>, ReturnType<typeof planOwnerWork>]> = [
    ['not being deleted: nothing', { deleting: false, finalizers: ['orphan'] }, [dep('d')], { kind: 'none' }],
    ['orphan with dependents: orphan them', { deleting: true, finalizers: ['orphan'] }, [dep('d')], { kind: 'orphan-dependents', dependents: ['d'] }],
    ['orphan without dependents: drop the finalizer', { deleting: true, finalizers: ['orphan'] }, [], { kind: 'remove-finalizer', finalizer: 'orphan' }],
    ['foreground with live dependents: delete them', { deleting: true, finalizers: ['foregroundDeletion'] }, [dep('d'), dep('e', true)], { kind: 'delete-dependents', dependents: ['d'] }],
    ['foreground with only terminating dependents: wait', { deleting: true, finalizers: ['foregroundDeletion'] }, [dep('e', true)], { kind: 'wait' }],
    ['foreground without dependents: drop the finalizer', { deleting: true, finalizers: ['foregroundDeletion'] }, [], { kind: 'remove-finalizer', finalizer: 'foregroundDeletion' }],
  ];
  it.each(cases)('%s', (_n, node, deps, expected) => {
    expect(planOwnerWork(node, deps)).toEqual(expected);
  });
});

describe('GarbageCollector with a store', () => {
  const index = servedResources();
  const find = (g: string, p: string): ResourceEntry => {
    const e = index.find(g, g === '' ? 'v1' : 'v1', p);
    if (!e) throw new Error(p);
    return e;
  };
  const rsEntry = find('apps', 'replicasets');
  const cmEntry = find('', 'configmaps');
  const nsEntry = find('', 'namespaces');
  let store: MemoryStore;
  let registry: Registry;
  let abort: AbortController;
  let running: Array<Promise<void>>;
  let clock: FakeClock;

  beforeEach(async () => {
    store = new MemoryStore();
    clock = new FakeClock();
    registry = new Registry(store, new AdmissionChain([]), clock);
    await registry.create(nsEntry, undefined, { metadata: { name: 'default' } });
    abort = new AbortController();
    running = [
      new GarbageCollector(registry, index, clock, silentLogger()).run(abort.signal),
      new NamespaceController(registry, index, clock, silentLogger()).run(abort.signal),
    ];
  });

  afterEach(async () => {
    abort.abort();
    await Promise.all(running);
    await store.close();
  });

  async function owner(name: string): Promise<KubeObject> {
    return registry.create(rsEntry, 'default', {
      metadata: { name },
      spec: { selector: { matchLabels: { a: name } }, template: { metadata: { labels: { a: name } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
    });
  }
  async function dependent(name: string, o: KubeObject): Promise<void> {
    await registry.create(cmEntry, 'default', {
      metadata: {
        name,
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: o.metadata.name ?? '', uid: o.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
    });
  }
  async function until(cond: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 5000;
    while (!(await cond())) {
      if (Date.now() > deadline) throw new Error('condition not met in 5 s');
      // retries wait on the fake clock: move it along
      await clock.advance(100);
      await new Promise((r) => setImmediate(r));
    }
  }
  const gone = (key: string) => async (): Promise<boolean> => (await store.get(key)) === undefined;

  it('deletes dependents of a deleted owner (background)', async () => {
    const rs = await owner('rs');
    await dependent('d1', rs);
    await dependent('d2', rs);
    await registry.delete(rsEntry, 'default', 'rs');
    await until(gone('/registry/configmaps/default/d1'));
    await until(gone('/registry/configmaps/default/d2'));
  });

  it('deletes dependents before the owner (foreground)', async () => {
    const rs = await owner('rs');
    await dependent('d1', rs);
    const marked = await registry.delete(rsEntry, 'default', 'rs', { propagationPolicy: 'Foreground' });
    expect(marked.deleted).toBe(false);
    expect(marked.object.metadata.finalizers).toContain('foregroundDeletion');
    await until(gone('/registry/apps/replicasets/default/rs'));
    expect(await store.get('/registry/configmaps/default/d1')).toBeUndefined();
  });

  it('keeps dependents and strips their references (orphan)', async () => {
    const rs = await owner('rs');
    await dependent('d1', rs);
    await registry.delete(rsEntry, 'default', 'rs', { propagationPolicy: 'Orphan' });
    await until(gone('/registry/apps/replicasets/default/rs'));
    const d1 = await registry.get(cmEntry, 'default', 'd1');
    expect(d1.metadata.ownerReferences).toBeUndefined();
  });

  it('deletes an object created with an owner that never existed', async () => {
    await dependent('orphaned', { metadata: { name: 'ghost', uid: 'no-such-uid' } });
    await until(gone('/registry/configmaps/default/orphaned'));
  });

  it('empties and removes a deleted namespace', async () => {
    await registry.create(nsEntry, undefined, { metadata: { name: 'tmp' } });
    await registry.create(cmEntry, 'tmp', { metadata: { name: 'inside' } });
    const r = await registry.delete(nsEntry, undefined, 'tmp');
    expect((r.object['status'] as { phase: string }).phase).toBe('Terminating');
    await until(gone('/registry/namespaces/tmp'));
    expect(await store.get('/registry/configmaps/tmp/inside')).toBeUndefined();
  });
});
