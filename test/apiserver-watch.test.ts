/**
 * Watch and list semantics over raw HTTP, as client-go's reflectors rely on them: a watch from a
 * resourceVersion replays exactly the later changes in order; selectors turn objects leaving or
 * entering the selection into DELETED/ADDED; bookmarks, timeouts and 410 Expired behave like upstream;
 * paginated lists are one consistent snapshot while others write; Exact lists read the past; many
 * watchers all see an event.
 *
 * One server; every test works in its own namespace so the server's own controllers never add events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { APISERVER_ONLY, CLI, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { adminClient, failureStatus, itemsOf, metaOf, waitUntil } from './helpers/api-client.js';
import type { ApiClient, ApiResponse, WatchEventLine, WatchStream } from './helpers/api-client.js';

let server: TestServer;
let api: ApiClient;

const cmPath = (ns: string, name?: string): string => `/api/v1/namespaces/${ns}/configmaps${name !== undefined ? `/${name}` : ''}`;
const configMap = (name: string, data: Record<string, string>, labels?: Record<string, string>): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, ...(labels ? { labels } : {}) },
  data,
});

async function ok(res: Promise<ApiResponse>, code: number | readonly number[] = [200, 201]): Promise<Record<string, unknown>> {
  const r = await res;
  const codes = typeof code === 'number' ? [code] : code;
  if (!codes.includes(r.status)) throw new Error(`expected HTTP ${codes.join('/')}, got ${r.status}: ${r.text.slice(0, 300)}`);
  return r.body as Record<string, unknown>;
}
const rvOf = (obj: unknown): string => metaOf(obj).resourceVersion ?? '';
const dataOf = (obj: unknown): unknown => (obj as { data?: unknown }).data;
const labelsOf = (obj: unknown): unknown => metaOf(obj).labels;

/** The ConfigMap the control plane publishes in every namespace (as upstream's root-ca-cert-publisher). */
const ROOT_CA = 'kube-root-ca.crt';
const notRootCA = (o: Record<string, unknown>): boolean => metaOf(o).name !== ROOT_CA;

/** Creates the namespace and waits for its kube-root-ca.crt, so later revisions and lists are the test's own. */
async function createNamespace(name: string): Promise<void> {
  await ok(api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } }), 201);
  await waitUntil(`${ROOT_CA} in ${name}`, async () => ((await api.get(cmPath(name, ROOT_CA))).status === 200 ? true : undefined));
}

/** The listed collection's resourceVersion: a watch from here sees only what happens next. */
async function listRv(ns: string): Promise<string> {
  const body = await ok(api.get(cmPath(ns)), 200);
  return String((body['metadata'] as { resourceVersion?: string }).resourceVersion);
}

const summary = (e: WatchEventLine): string => `${e.type} ${metaOf(e.object).name ?? ''}@${rvOf(e.object)}`;

/** `knode server --help`, to run the tests that need a flag only once the server has it. */
const serverHelp = ((): string => {
  const r = spawnSync(process.execPath, [CLI, 'server', '--help'], { encoding: 'utf8' });
  return `${r.stdout}${r.stderr}`;
})();

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  api = await adminClient(server.kubeconfig);
});

afterAll(async () => {
  api?.close();
  await server?.stop();
});

describe('watch from a resourceVersion', () => {
  it('replays exactly the later events, in order, and DELETED carries the last state', async () => {
    const ns = 'watch-replay';
    await createNamespace(ns);
    await ok(api.post(cmPath(ns), configMap('before', { v: '0' })));
    const from = await listRv(ns);

    const expected: string[] = [];
    const a1 = await ok(api.post(cmPath(ns), configMap('a', { v: '1' })));
    expected.push(`ADDED a@${rvOf(a1)}`);
    const a2 = await ok(api.put(cmPath(ns, 'a'), { ...a1, data: { v: '2' } }));
    expected.push(`MODIFIED a@${rvOf(a2)}`);
    const b1 = await ok(api.post(cmPath(ns), configMap('b', { v: '1' })));
    expected.push(`ADDED b@${rvOf(b1)}`);
    const b2 = await ok(api.patch(cmPath(ns, 'b'), '{"data":{"v":"2"}}', 'application/merge-patch+json'));
    expected.push(`MODIFIED b@${rvOf(b2)}`);
    await ok(api.delete(cmPath(ns, 'a')));

    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${from}`);
    try {
      expect(w.status).toBe(200);
      const [deleted] = await w.waitFor((e) => e.type === 'DELETED');
      // the deletion has its own revision, after every earlier write
      expect(Number(rvOf(deleted?.object))).toBeGreaterThan(Number(rvOf(b2)));
      expect(dataOf(deleted?.object)).toEqual({ v: '2' });
      expect(metaOf(deleted?.object).uid).toBe(metaOf(a1).uid);
      expected.push(`DELETED a@${rvOf(deleted?.object)}`);

      // a change made while watching arrives live, after the replay
      const b3 = await ok(api.put(cmPath(ns, 'b'), { ...b2, data: { v: '3' } }));
      expected.push(`MODIFIED b@${rvOf(b3)}`);
      await w.waitFor((e) => e.type === 'MODIFIED' && rvOf(e.object) === rvOf(b3));
      // a sentinel write: once it has arrived, nothing else can still be in flight before it
      const s = await ok(api.post(cmPath(ns), configMap('sentinel', {})));
      expected.push(`ADDED sentinel@${rvOf(s)}`);
      await w.waitFor((e) => metaOf(e.object).name === 'sentinel');

      expect(w.events.map(summary)).toEqual(expected);
      expect(w.badLines).toEqual([]);
      // the object before the watch's resourceVersion is not replayed
      expect(w.events.some((e) => metaOf(e.object).name === 'before')).toBe(false);
    } finally {
      w.close();
    }
  });

  it('a watch without resourceVersion starts with the current objects as ADDED', async () => {
    const ns = 'watch-initial';
    await createNamespace(ns);
    for (const n of ['x', 'y', 'z']) await ok(api.post(cmPath(ns), configMap(n, { n })));
    const w = await api.watch(`${cmPath(ns)}?watch=1`);
    try {
      const added = await w.waitFor((e) => e.type === 'ADDED', 4);
      expect(added.map((e) => metaOf(e.object).name).sort()).toEqual([ROOT_CA, 'x', 'y', 'z']);
    } finally {
      w.close();
    }
  });

  it('a watch of one object by name (fieldSelector metadata.name) sees only that object', async () => {
    const ns = 'watch-one';
    await createNamespace(ns);
    const from = await listRv(ns);
    await ok(api.post(cmPath(ns), configMap('other', {})));
    const mine = await ok(api.post(cmPath(ns), configMap('mine', {})));
    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${from}&fieldSelector=metadata.name%3Dmine`);
    try {
      await w.waitFor((e) => e.type === 'ADDED');
      const s = await ok(api.put(cmPath(ns, 'mine'), { ...mine, data: { k: 'v' } }));
      await w.waitFor((e) => e.type === 'MODIFIED');
      expect(w.events.map(summary)).toEqual([`ADDED mine@${rvOf(mine)}`, `MODIFIED mine@${rvOf(s)}`]);
    } finally {
      w.close();
    }
  });
});

describe('watch with a labelSelector', () => {
  it('an object entering the selection is ADDED, leaving it is DELETED (with its last selected state)', async () => {
    const ns = 'watch-labels';
    await createNamespace(ns);
    const from = await listRv(ns);
    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${from}&labelSelector=app%3Dweb`);
    try {
      const path = cmPath(ns, 'moving');
      const mergeLabels = (app: string): Promise<ApiResponse> => api.patch(path, JSON.stringify({ metadata: { labels: { app } } }), 'application/merge-patch+json');
      await ok(api.post(cmPath(ns), configMap('moving', { v: '1' }, { app: 'other' })));
      await ok(api.post(cmPath(ns), configMap('never', { v: '1' }, { app: 'other' })));
      const entered = await ok(mergeLabels('web'));
      const changed = await ok(api.patch(path, '{"data":{"v":"2"}}', 'application/merge-patch+json'));
      const left = await ok(mergeLabels('other'));
      await ok(api.patch(path, '{"data":{"v":"3"}}', 'application/merge-patch+json')); // unselected: no event
      const back = await ok(mergeLabels('web'));
      await ok(api.delete(path));

      const events = await w.waitFor(() => true, 5);
      await w.waitFor((e) => e.type === 'DELETED', 2);
      expect(w.events.map((e) => `${e.type}@${rvOf(e.object)}`)).toEqual([
        `ADDED@${rvOf(entered)}`,
        `MODIFIED@${rvOf(changed)}`,
        `DELETED@${rvOf(left)}`,
        `ADDED@${rvOf(back)}`,
        expect.stringMatching(/^DELETED@\d+$/),
      ]);
      expect(events.every((e) => metaOf(e.object).name === 'moving')).toBe(true);
      // upstream sends the previous (still selected) content, stamped with the event's revision, so a
      // client filtering on the selector locally still sees the object it is told to forget
      const leaving = w.events[2];
      expect(labelsOf(leaving?.object)).toEqual({ app: 'web' });
      expect(dataOf(leaving?.object)).toEqual({ v: '2' });
      expect(dataOf(w.events[3]?.object)).toEqual({ v: '3' });
    } finally {
      w.close();
    }
  });
});

describe('watch lifetime', () => {
  it('timeoutSeconds=2 ends the stream after about two seconds', async () => {
    const ns = 'watch-timeout';
    await createNamespace(ns);
    const started = Date.now();
    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${await listRv(ns)}&timeoutSeconds=2`);
    await Promise.race([
      w.ended,
      new Promise((_, rej) => setTimeout(() => rej(new Error('the watch did not end within 10 s of timeoutSeconds=2')), 10_000)),
    ]);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(1_800);
    expect(elapsed).toBeLessThan(6_000);
    expect(w.badLines).toEqual([]);
  });

  it('allowWatchBookmarks=true yields BOOKMARK events carrying a resourceVersion no older than delivered events', async () => {
    const ns = 'watch-bookmarks';
    await createNamespace(ns);
    const from = await listRv(ns);
    // The server's periodic bookmark interval is 60 s (no flag to shorten it); upstream also sends one
    // shortly before a watch's timeout, which is what a test can wait for.
    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${from}&allowWatchBookmarks=true&timeoutSeconds=4`);
    const created = await ok(api.post(cmPath(ns), configMap('bm', {})));
    const [bookmark] = await w.waitFor((e) => e.type === 'BOOKMARK', 1, 10_000);
    expect(bookmark?.object['kind']).toBe('ConfigMap');
    expect(bookmark?.object['apiVersion']).toBe('v1');
    expect(Number(rvOf(bookmark?.object))).toBeGreaterThanOrEqual(Number(rvOf(created)));
    // a bookmark is only a progress mark: no object content
    expect(dataOf(bookmark?.object)).toBeUndefined();
    expect(w.events.filter((e) => e.type !== 'BOOKMARK').map(summary)).toEqual([`ADDED bm@${rvOf(created)}`]);
    await w.ended;
  });

  it('without allowWatchBookmarks there are no BOOKMARK events', async () => {
    const ns = 'watch-nobookmarks';
    await createNamespace(ns);
    const w = await api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${await listRv(ns)}&timeoutSeconds=2`);
    await ok(api.post(cmPath(ns), configMap('nb', {})));
    await w.ended;
    expect(w.events.map((e) => e.type)).toEqual(['ADDED']);
  });

  const bookmarkFlag = /--bookmark-interval/.test(serverHelp);
  it.skipIf(!bookmarkFlag)('with a short --bookmark-interval, a long watch gets periodic BOOKMARKs', async () => {
    const s = await startServer([...APISERVER_ONLY, '--bookmark-interval', '1s']);
    const c = await adminClient(s.kubeconfig);
    try {
      const w = await c.watch(`${cmPath('default')}?watch=1&allowWatchBookmarks=true&timeoutSeconds=30`);
      await w.waitFor((e) => e.type === 'BOOKMARK', 2, 10_000);
      w.close();
    } finally {
      c.close();
      await s.stop();
    }
  });
});

describe('expired revisions (410)', () => {
  // Compaction runs every 5 minutes and keeps 10000 revisions, with no flag or endpoint to trigger it,
  // so these run only once the server offers --compaction-interval and --compaction-keep.
  const compactionFlags = /--compaction-interval/.test(serverHelp) && /--compaction-keep/.test(serverHelp);
  it.skipIf(!compactionFlags)('a watch from a compacted revision gets an ERROR event with code 410, and LIST continue/Exact get 410', async () => {
    const s = await startServer([...APISERVER_ONLY, '--compaction-interval', '1s', '--compaction-keep', '5']);
    const c = await adminClient(s.kubeconfig);
    try {
      const first = await ok(c.post(cmPath('default'), configMap('old-0', {})));
      const oldRv = rvOf(first);
      await ok(c.post(cmPath('default'), configMap('old-1', {})));
      // two objects, one per page: the first page carries a continue token
      const page = await ok(c.get(`${cmPath('default')}?limit=1`), 200);
      for (let i = 2; i <= 30; i++) await ok(c.post(cmPath('default'), configMap(`old-${i}`, {})));
      // wait for a compaction pass to discard oldRv
      let w: WatchStream | undefined;
      const deadline = Date.now() + 20_000;
      for (;;) {
        w = await c.watch(`${cmPath('default')}?watch=1&resourceVersion=${oldRv}`);
        const opening = await w.waitFor(() => true, 1, 5_000).catch(() => []);
        if (opening[0]?.type === 'ERROR') break;
        w.close();
        if (Date.now() > deadline) throw new Error('no compaction within 20 s');
        await ok(c.post(cmPath('default'), configMap(`more-${Date.now()}`, {})));
      }
      const err = w.events[0]?.object;
      expect(err).toMatchObject({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
      w.close();
      const cont = (page['metadata'] as { continue?: string }).continue;
      expect(cont).toBeDefined();
      const listed = await c.get(`${cmPath('default')}?limit=1&continue=${encodeURIComponent(cont ?? '')}`);
      expect(listed.status).toBe(410);
      expect(failureStatus(listed).reason).toBe('Expired');
      const exact = await c.get(`${cmPath('default')}?resourceVersion=${oldRv}&resourceVersionMatch=Exact`);
      expect(exact.status).toBe(410);
    } finally {
      c.close();
      await s.stop();
    }
  });

  it('a LIST at a resourceVersion far in the future answers 504 "Too large resource version", not a stale list', async () => {
    const ns = 'watch-future';
    await createNamespace(ns);
    const current = Number(await listRv(ns));
    const res = await api.get(`${cmPath(ns)}?resourceVersion=${current + 1_000_000}`);
    // upstream: 504 Timeout "Too large resource version" for a LIST that cannot be served yet
    expect(res.status).toBe(504);
    expect(failureStatus(res).message).toContain('Too large resource version');
  });
});

describe('paginated lists', () => {
  it('limit/continue across 250 objects is one snapshot at the first page, while others write', async () => {
    const ns = 'page';
    await createNamespace(ns);
    const names = Array.from({ length: 250 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
    const createdRv = new Map<string, string>();
    for (let i = 0; i < names.length; i += 25) {
      await Promise.all(
        names.slice(i, i + 25).map(async (n) => {
          createdRv.set(n, rvOf(await ok(api.post(cmPath(ns), configMap(n, { v: '0' })))));
        }),
      );
    }

    const first = await ok(api.get(`${cmPath(ns)}?limit=40`), 200);
    const snapshot = (first['metadata'] as { resourceVersion: string }).resourceVersion;
    // 250 and the namespace's kube-root-ca.crt
    expect((first['metadata'] as { remainingItemCount?: number }).remainingItemCount).toBe(211);
    const seen: Array<Record<string, unknown>> = [...itemsOf(first)];
    let cont = (first['metadata'] as { continue?: string }).continue;
    let page = 0;
    let writes = 0;
    while (cont) {
      // between pages: create new objects, delete and update objects of later pages
      page++;
      await Promise.all([
        ok(api.post(cmPath(ns), configMap(`late-${page}`, {}))),
        ok(api.delete(cmPath(ns, names[249 - page] ?? ''))),
        ok(api.patch(cmPath(ns, names[200 - page] ?? ''), '{"data":{"v":"changed"}}', 'application/merge-patch+json')),
        ok(api.post(cmPath(ns), configMap(`cm-${200 + page}x`, {}))), // sorts into the pages not yet read
      ]);
      writes += 4;
      const next = await ok(api.get(`${cmPath(ns)}?limit=40&continue=${encodeURIComponent(cont)}`), 200);
      expect((next['metadata'] as { resourceVersion: string }).resourceVersion).toBe(snapshot);
      seen.push(...itemsOf(next));
      cont = (next['metadata'] as { continue?: string }).continue;
    }
    expect(page).toBe(6);
    expect(writes).toBeGreaterThan(0);
    const seenNames = seen.filter(notRootCA).map((o) => metaOf(o).name ?? '');
    expect(new Set(seenNames).size).toBe(seenNames.length);
    expect(seenNames).toEqual(names);
    for (const o of seen.filter(notRootCA)) {
      expect(rvOf(o)).toBe(createdRv.get(metaOf(o).name ?? ''));
      expect(dataOf(o)).toEqual({ v: '0' });
    }

    // a fresh list shows the writes
    const now = itemsOf(await ok(api.get(cmPath(ns)), 200)).filter(notRootCA).map((o) => metaOf(o).name ?? '');
    expect(now).toContain('late-1');
    expect(now).not.toContain(names[248]);
    expect(now).toContain('cm-201x');
    expect(now.length).toBe(250 - 6 + 6 + 6);
  });

  it('resourceVersionMatch=Exact lists the collection as it was at an old revision', async () => {
    const ns = 'exact';
    await createNamespace(ns);
    const a1 = await ok(api.post(cmPath(ns), configMap('a', { v: '1' })));
    const old = rvOf(a1);
    await ok(api.put(cmPath(ns, 'a'), { ...a1, data: { v: '2' } }));
    await ok(api.post(cmPath(ns), configMap('b', { v: '1' })));

    const past = await ok(api.get(`${cmPath(ns)}?resourceVersion=${old}&resourceVersionMatch=Exact`), 200);
    expect((past['metadata'] as { resourceVersion: string }).resourceVersion).toBe(old);
    expect(itemsOf(past).filter(notRootCA).map((o) => [metaOf(o).name, rvOf(o), dataOf(o)])).toEqual([['a', old, { v: '1' }]]);

    const notOlder = await ok(api.get(`${cmPath(ns)}?resourceVersion=${old}&resourceVersionMatch=NotOlderThan`), 200);
    expect(itemsOf(notOlder).filter(notRootCA).map((o) => [metaOf(o).name, dataOf(o)])).toEqual([
      ['a', { v: '2' }],
      ['b', { v: '1' }],
    ]);
    expect(Number((notOlder['metadata'] as { resourceVersion: string }).resourceVersion)).toBeGreaterThan(Number(old));

    // pages of an Exact list stay at that revision
    const p1 = await ok(api.get(`${cmPath(ns)}?resourceVersion=${old}&resourceVersionMatch=Exact&limit=1`), 200);
    expect(itemsOf(p1).map((o) => dataOf(o))).toEqual([{ v: '1' }]);
  });
});

describe('many watchers', () => {
  it('100 concurrent watchers all receive the same event', async () => {
    const ns = 'watch-many';
    await createNamespace(ns);
    const from = await listRv(ns);
    const watchers = await Promise.all(Array.from({ length: 100 }, () => api.watch(`${cmPath(ns)}?watch=1&resourceVersion=${from}`)));
    try {
      expect(watchers.every((w) => w.status === 200)).toBe(true);
      const created = await ok(api.post(cmPath(ns), configMap('broadcast', { k: 'v' })));
      const got = await Promise.all(watchers.map((w) => w.waitFor((e) => e.type === 'ADDED', 1, 20_000)));
      for (const [ev] of got) {
        expect(metaOf(ev?.object).name).toBe('broadcast');
        expect(rvOf(ev?.object)).toBe(rvOf(created));
      }
    } finally {
      for (const w of watchers) w.close();
    }
  });
});
