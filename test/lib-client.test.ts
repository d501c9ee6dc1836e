/**
 * lib/client against a real `knode server`: the typed client's verbs, its error mapping, watches with
 * bookmarks, and the informer following a real apiserver, with the admin kubeconfig the server wrote.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../api/meta.js';
import { realClock } from '../lib/clock.js';
import { KubeClient } from '../lib/client/client.js';
import { isAlreadyExists, isConflict, isGone, isInvalid, isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import { SharedInformerFactory } from '../lib/client/shared-informer-factory.js';
import type { WatchEvent } from '../lib/client/watch-decoder.js';
import { startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const NS = 'lib-client';
let server: TestServer;
let client: KubeClient;

interface ConfigMap extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

const cm = (name: string, data: Record<string, string> = {}, labels: Record<string, string> = {}): ConfigMap => ({
  metadata: { name, namespace: NS, labels },
  data,
});

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
}

beforeAll(async () => {
  server = await startServer(['--bookmark-interval', '1s']);
  client = await KubeClient.fromKubeconfigFile(server.kubeconfig);
  await client.create(resources.namespaces, { metadata: { name: NS } });
});

afterAll(async () => {
  client?.close();
  await server?.stop();
});

describe('KubeClient against knode', () => {
  it('creates, gets, updates and deletes a ConfigMap', async () => {
    const created = await client.create(resources.configMaps, cm('crud', { a: '1' }));
    expect(created.metadata.uid).toBeTruthy();
    const got = await client.get<ConfigMap>(resources.configMaps, 'crud', { namespace: NS });
    expect(got.data).toEqual({ a: '1' });
    const updated = await client.update<ConfigMap>(resources.configMaps, { ...got, data: { a: '2' } });
    expect(updated.data).toEqual({ a: '2' });
    await client.delete(resources.configMaps, 'crud', { namespace: NS });
    expect(isNotFound(await failure(client.get(resources.configMaps, 'crud', { namespace: NS })))).toBe(true);
  });

  it('maps the server Status to AlreadyExists, Conflict, Invalid and NotFound', async () => {
    const first = await client.create(resources.configMaps, cm('errs'));
    expect(isAlreadyExists(await failure(client.create(resources.configMaps, cm('errs'))))).toBe(true);
    await client.update(resources.configMaps, { ...first, data: { x: 'y' } });
    const stale = await failure(client.update(resources.configMaps, { ...first, data: { x: 'z' } }));
    expect(isConflict(stale)).toBe(true);
    expect(isInvalid(await failure(client.create(resources.configMaps, cm('Not_Valid'))))).toBe(true);
    expect(isNotFound(await failure(client.delete(resources.configMaps, 'missing', { namespace: NS })))).toBe(true);
    const pre = await failure(client.delete(resources.configMaps, 'errs', { namespace: NS, preconditions: { uid: 'not-the-uid' } }));
    expect(isConflict(pre)).toBe(true);
  });

  it('patches with merge, strategic, JSON and server-side apply', async () => {
    await client.create(resources.configMaps, cm('patched', { a: '1' }));
    const ref = resources.configMaps;
    await client.patch(ref, 'patched', { data: { b: '2' } }, { type: 'merge', namespace: NS });
    await client.patch(ref, 'patched', { metadata: { labels: { tier: 'x' } } }, { type: 'strategic', namespace: NS });
    await client.patch(ref, 'patched', [{ op: 'remove', path: '/data/a' }], { type: 'json', namespace: NS });
    const applied = await client.patch<ConfigMap>(ref, 'patched', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'patched', namespace: NS }, data: { c: '3' } }, { type: 'apply', namespace: NS, fieldManager: 'lib-client-test', force: true });
    expect(applied.data).toEqual({ b: '2', c: '3' });
    expect(applied.metadata.labels).toEqual({ tier: 'x' });
  });

  it('pages a list with limit and continue, consistently', async () => {
    for (let i = 0; i < 5; i++) await client.create(resources.configMaps, cm(`page-${i}`, {}, { set: 'paged' }));
    const names: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await client.list(resources.configMaps, { namespace: NS, labelSelector: 'set=paged', limit: 2, ...(cont !== undefined ? { continue: cont } : {}) });
      names.push(...page.items.map((i) => i.metadata.name ?? ''));
      cont = page.metadata.continue || undefined;
      pages++;
    } while (cont !== undefined);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4']);
    expect(pages).toBe(3);
  });

  it('updates node status through the status subresource', async () => {
    // created with a podCIDR, so the node IPAM controller does not write it (and bump resourceVersion) meanwhile
    const n = await client.create(resources.nodes, { metadata: { name: 'client-node' }, spec: { podCIDR: '10.244.200.0/24', podCIDRs: ['10.244.200.0/24'] } });
    const withStatus = await client.updateStatus(resources.nodes, { ...n, status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } });
    expect((withStatus['status'] as { conditions: unknown[] }).conditions).toHaveLength(1);
  });

  it('watches from a resourceVersion and sees changes, bookmarks and deletions', async () => {
    const start = await client.list(resources.configMaps, { namespace: NS });
    const abort = new AbortController();
    const seen: WatchEvent[] = [];
    const watching = (async () => {
      for await (const ev of client.watch(resources.configMaps, { namespace: NS, resourceVersion: start.metadata.resourceVersion ?? '', allowWatchBookmarks: true, signal: abort.signal })) {
        seen.push(ev);
      }
    })();
    const created = await client.create(resources.configMaps, cm('watched'));
    await client.update(resources.configMaps, { ...created, data: { v: '1' } });
    await client.delete(resources.configMaps, 'watched', { namespace: NS });
    await waitFor('DELETED and a BOOKMARK', () => seen.some((e) => e.type === 'DELETED') && seen.some((e) => e.type === 'BOOKMARK'));
    abort.abort();
    await watching;
    const types = seen.flatMap((e) => (e.type === 'ADDED' || e.type === 'MODIFIED' || e.type === 'DELETED' ? [`${e.type}:${e.object.metadata.name ?? ''}`] : []));
    expect(types).toEqual(['ADDED:watched', 'MODIFIED:watched', 'DELETED:watched']);
  });

  it('throws the Status when the server refuses a watch', async () => {
    const err = await failure(
      (async () => {
        for await (const _ev of client.watch(resources.configMaps, { namespace: NS, fieldSelector: 'spec.nope=1' })) break;
      })(),
    );
    expect((err as Error).message).toBe('field label not supported: spec.nope');
  });
});

describe('informers against knode', () => {
  it('sync the current objects, then follow adds, updates and deletes', async () => {
    await client.create(resources.configMaps, cm('inf-a', { v: '1' }, { set: 'informed' }));
    const factory = new SharedInformerFactory(client, { clock: realClock });
    const informer = factory.informerFor<ConfigMap>(resources.configMaps, { namespace: NS, labelSelector: 'set=informed' });
    const log: string[] = [];
    informer.addEventHandler({
      onAdd: (o) => log.push(`add ${o.metadata.name ?? ''}`),
      onUpdate: (_old, o) => log.push(`update ${o.metadata.name ?? ''} ${o.data?.['v'] ?? ''}`),
      onDelete: (o) => log.push(`delete ${o.metadata.name ?? ''}`),
    });
    const abort = new AbortController();
    factory.start(abort.signal);
    await factory.waitForCacheSync();
    expect(informer.getByName('inf-a', NS)?.data).toEqual({ v: '1' });
    const b = await client.create(resources.configMaps, cm('inf-b', { v: '1' }, { set: 'informed' }));
    await client.update(resources.configMaps, { ...b, data: { v: '2' } });
    await client.delete(resources.configMaps, 'inf-a', { namespace: NS });
    // leaving the selection counts as a delete, as upstream's watch reports it
    await client.patch(resources.configMaps, 'inf-b', { metadata: { labels: { set: 'other' } } }, { type: 'merge', namespace: NS });
    await waitFor(() => `informer events, got ${JSON.stringify(log)}`, () => log.length >= 5);
    abort.abort();
    await factory.stopped();
    expect(log).toEqual(['add inf-a', 'add inf-b', 'update inf-b 2', 'delete inf-a', 'delete inf-b']);
    expect(informer.list()).toEqual([]);
  });
});
