import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../clock.js';
import { KubeClient } from './client.js';
import { clientListerWatcher } from './list-watch.js';
import { resources } from './resource.js';
import { SharedInformerFactory } from './shared-informer-factory.js';
import type { RecordedRequest } from './testing/fake-apiserver.js';
import { FakeApiServer, sendJson, startWatch, status } from './testing/fake-apiserver.js';

let server: FakeApiServer;
let client: KubeClient;

beforeAll(async () => {
  server = await FakeApiServer.start();
  client = new KubeClient({ server: server.url, caPem: server.tls.caPem, token: 't' });
});

afterAll(async () => {
  client.close();
  await server.close();
});

beforeEach(() => {
  server.requests.length = 0;
});

const node = (name: string, rv: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, resourceVersion: rv } });
const isWatch = (r: RecordedRequest): boolean => r.query.get('watch') === '1';

describe('clientListerWatcher', () => {
  it('follows continue tokens and reports the snapshot resourceVersion', async () => {
    server.handle((req, res) => {
      const cont = req.query.get('continue');
      if (cont === null) sendJson(res, 200, { metadata: { resourceVersion: '50', continue: 'page2' }, items: [node('a', '1')] });
      else sendJson(res, 200, { metadata: { resourceVersion: '50' }, items: [node('b', '2')] });
    });
    const lw = clientListerWatcher(client, resources.nodes, { labelSelector: 'role=worker' }, { pageSize: 1 });
    const listed = await lw.list(new AbortController().signal);
    expect(listed.items.map((n) => n.metadata.name)).toEqual(['a', 'b']);
    expect(listed.resourceVersion).toBe('50');
    expect(server.requests.map((r) => [r.query.get('limit'), r.query.get('continue'), r.query.get('labelSelector')])).toEqual([
      ['1', null, 'role=worker'],
      ['1', 'page2', 'role=worker'],
    ]);
  });

  it('falls back to one unpaginated list when a continue token has expired', async () => {
    server.handle((req, res) => {
      if (req.query.get('continue') !== null) sendJson(res, 410, status(410, 'Expired', 'The provided continue parameter is too old'));
      else if (req.query.get('limit') !== null) sendJson(res, 200, { metadata: { resourceVersion: '5', continue: 'old' }, items: [node('a', '1')] });
      else sendJson(res, 200, { metadata: { resourceVersion: '9' }, items: [node('a', '1'), node('b', '2')] });
    });
    const listed = await clientListerWatcher(client, resources.nodes, {}, { pageSize: 1 }).list(new AbortController().signal);
    expect(listed.items).toHaveLength(2);
    expect(listed.resourceVersion).toBe('9');
    expect(server.requests).toHaveLength(3);
  });

  it('watches with bookmarks from the given resourceVersion and a server-side timeout', async () => {
    server.handle((_req, res) => {
      const w = startWatch(res);
      w.send({ type: 'ADDED', object: node('a', '8') });
      w.end();
    });
    const lw = clientListerWatcher(client, resources.pods, { namespace: 'default', fieldSelector: 'spec.nodeName=w1' }, { watchTimeoutSeconds: () => 300 });
    const events = [];
    for await (const ev of lw.watch('7', new AbortController().signal)) events.push(ev.type);
    expect(events).toEqual(['ADDED']);
    const q = server.requests[0]?.query;
    expect(server.requests[0]?.path).toBe('/api/v1/namespaces/default/pods');
    expect([q?.get('resourceVersion'), q?.get('allowWatchBookmarks'), q?.get('timeoutSeconds'), q?.get('fieldSelector')]).toEqual(['7', 'true', '300', 'spec.nodeName=w1']);
  });
});

describe('SharedInformerFactory', () => {
  it('hands the same informer to consumers of the same selection and another one for another selection', () => {
    const factory = new SharedInformerFactory(client, { clock: new FakeClock() });
    const a = factory.informerFor(resources.pods, { fieldSelector: 'spec.nodeName=w1' });
    const b = factory.informerFor(resources.pods, { fieldSelector: 'spec.nodeName=w1' });
    const c = factory.informerFor(resources.pods, { fieldSelector: 'spec.nodeName=w2' });
    const d = factory.informerFor(resources.nodes);
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toBe(d);
  });

  it('serves two consumers from one list and one watch', async () => {
    server.handle((req, res) => {
      if (!isWatch(req)) {
        sendJson(res, 200, { metadata: { resourceVersion: '10' }, items: [node('w1', '3')] });
        return;
      }
      const w = startWatch(res);
      w.send({ type: 'ADDED', object: node('w2', '11') });
      // keep the watch open until the client goes away
    });
    const factory = new SharedInformerFactory(client, { clock: new FakeClock() });
    const first: string[] = [];
    const second: string[] = [];
    factory.informerFor(resources.nodes).addEventHandler({ onAdd: (n) => first.push(n.metadata.name ?? '') });
    factory.informerFor(resources.nodes).addEventHandler({ onAdd: (n) => second.push(n.metadata.name ?? '') });
    const abort = new AbortController();
    factory.start(abort.signal);
    await factory.waitForCacheSync();
    for (let i = 0; i < 50 && first.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    await factory.stopped();
    expect(first).toEqual(['w1', 'w2']);
    expect(second).toEqual(['w1', 'w2']);
    expect(server.requests.filter((r) => !isWatch(r))).toHaveLength(1);
    expect(server.requests.filter(isWatch)).toHaveLength(1);
  });
});
