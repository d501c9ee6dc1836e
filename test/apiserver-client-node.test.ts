/**
 * @kubernetes/client-node 1.4.0 as a second real client: it loads the admin kubeconfig the server
 * wrote, uses the generated typed APIs (JSON over fetch), the streaming Watch and the informer, and
 * pages lists with limit/continue. Where kubectl forgives a server quirk, this client's strict JSON
 * decoding and its own watch parser often do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, Watch, makeInformer, setHeaderOptions } from '@kubernetes/client-node';
import type { V1ConfigMap } from '@kubernetes/client-node';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let kc: KubeConfig;
let core: CoreV1Api;
let apps: AppsV1Api;
const NS = 'client-node';

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
});

afterAll(async () => {
  await server?.stop();
});

function configMap(name: string, data: Record<string, string>, labels: Record<string, string> = {}): V1ConfigMap {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: NS, labels }, data };
}

/** The HTTP status of a rejected call, so a test can assert on it. */
async function statusOf(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (err) {
    if (err instanceof ApiException) return err.code;
    throw err;
  }
  return 200;
}

describe('@kubernetes/client-node against knode', () => {
  it('loads the admin kubeconfig and lists namespaces', async () => {
    expect(kc.getCurrentCluster()?.server).toBe(server.url);
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    expect(names).toEqual(expect.arrayContaining(['default', 'kube-system', 'kube-public', 'kube-node-lease', NS]));
    expect(list.metadata?.resourceVersion).toMatch(/^\d+$/);
    expect(list.items.find((n) => n.metadata?.name === 'default')?.status?.phase).toBe('Active');
  });

  it('creates, reads and lists ConfigMaps, and reports conflicts and absences with their HTTP status', async () => {
    const created = await core.createNamespacedConfigMap({ namespace: NS, body: configMap('crud', { a: '1' }, { kind: 'crud' }) });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.metadata?.creationTimestamp).toBeInstanceOf(Date);

    const read = await core.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    expect(read.data).toEqual({ a: '1' });
    expect(read.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);

    const list = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'kind=crud' });
    expect(list.items.map((c) => c.metadata?.name)).toEqual(['crud']);

    expect(await statusOf(core.createNamespacedConfigMap({ namespace: NS, body: configMap('crud', {}) }))).toBe(409);
    expect(await statusOf(core.readNamespacedConfigMap({ name: 'absent', namespace: NS }))).toBe(404);

    const replaced = await core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: { ...read, data: { a: '2' } } });
    expect(replaced.data).toEqual({ a: '2' });
    // The old resourceVersion is stale now: optimistic concurrency must refuse it.
    expect(await statusOf(core.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: { ...read, data: { a: '3' } } }))).toBe(409);
  });

  it('watches ConfigMaps and sees ADDED, MODIFIED and DELETED in order', async () => {
    const start = await core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'watched=yes' });
    const events: Array<[string, string | undefined, string | undefined]> = [];
    let ended: unknown = undefined;
    const watch = new Watch(kc);
    const controller = await watch.watch(
      `/api/v1/namespaces/${NS}/configmaps`,
      { labelSelector: 'watched=yes', resourceVersion: start.metadata?.resourceVersion },
      (type, obj: V1ConfigMap) => {
        events.push([type, obj.metadata?.name, obj.data?.['v']]);
      },
      (err) => {
        ended = err ?? 'closed';
      },
    );
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('w', { v: '1' }, { watched: 'yes' }) });
      await core.patchNamespacedConfigMap(
        { name: 'w', namespace: NS, body: { data: { v: '2' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      await core.deleteNamespacedConfigMap({ name: 'w', namespace: NS });
      await waitFor('ADDED, MODIFIED and DELETED events', () => (events.length >= 3 ? true : undefined), { timeoutMs: 15_000 });
      expect(events).toEqual([
        ['ADDED', 'w', '1'],
        ['MODIFIED', 'w', '2'],
        ['DELETED', 'w', '2'],
      ]);
      expect(ended).toBeUndefined();
    } finally {
      controller.abort();
    }
  });

  it('keeps an informer cache in step with the server', async () => {
    const informer = makeInformer(kc, `/api/v1/namespaces/${NS}/configmaps`, () =>
      core.listNamespacedConfigMap({ namespace: NS, labelSelector: 'cached=yes' }), 'cached=yes');
    const added: string[] = [];
    informer.on('add', (obj) => {
      added.push(String(obj.metadata?.name));
    });
    await core.createNamespacedConfigMap({ namespace: NS, body: configMap('cached-before', { a: '1' }, { cached: 'yes' }) });
    await informer.start();
    try {
      await core.createNamespacedConfigMap({ namespace: NS, body: configMap('cached-after', { a: '1' }, { cached: 'yes' }) });
      await waitFor('the informer to see both configmaps', () => (added.length >= 2 ? true : undefined), { timeoutMs: 15_000 });
      expect(added.sort()).toEqual(['cached-after', 'cached-before']);
      expect(informer.get('cached-after', NS)?.data).toEqual({ a: '1' });
      await core.deleteNamespacedConfigMap({ name: 'cached-before', namespace: NS });
      await waitFor('the informer to drop the deleted configmap', () => (informer.get('cached-before', NS) === undefined ? true : undefined), {
        timeoutMs: 15_000,
      });
    } finally {
      await informer.stop();
    }
  });

  it('creates a Deployment with AppsV1Api and reads it back with defaults applied', async () => {
    const created = await apps.createNamespacedDeployment({
      namespace: NS,
      body: {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.25' }] } },
        },
      },
    });
    expect(created.metadata?.generation).toBe(1);
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    expect(created.spec?.revisionHistoryLimit).toBe(10);
    expect(created.spec?.progressDeadlineSeconds).toBe(600);
    expect(created.spec?.template.spec?.restartPolicy).toBe('Always');

    const listed = await apps.listNamespacedDeployment({ namespace: NS, labelSelector: 'app=web' });
    expect(listed.items.map((d) => d.metadata?.name)).toEqual(['web']);
    const invalid = await statusOf(
      apps.createNamespacedDeployment({
        namespace: NS,
        body: {
          metadata: { name: 'bad' },
          spec: {
            selector: { matchLabels: { app: 'x' } },
            template: { metadata: { labels: { app: 'y' } }, spec: { containers: [{ name: 'c', image: 'i' }] } },
          },
        },
      }),
    );
    expect(invalid).toBe(422);
  });

  it('pages a list of 25 by 10 with limit/continue: 3 pages, every name once', async () => {
    await core.createNamespace({ body: { metadata: { name: 'paging' } } });
    const names = Array.from({ length: 25 }, (_, i) => `page-${String(i).padStart(2, '0')}`);
    for (const n of names) {
      await core.createNamespacedConfigMap({ namespace: 'paging', body: { metadata: { name: n, labels: { paged: 'yes' } }, data: { n } } });
    }

    const bySelector = await pageAll('paging', 'paged=yes');
    expect(bySelector.sizes).toEqual([10, 10, 5]);
    expect(bySelector.names.sort()).toEqual(names);
    // With a selector the server cannot know how many items remain, so upstream leaves the count unset.
    expect(bySelector.remaining).toEqual([undefined, undefined, undefined]);

    // Without a selector the count is exact. Other publishers may add objects to a namespace (upstream
    // puts kube-root-ca.crt in each), so the total comes from an unpaged list.
    const total = (await core.listNamespacedConfigMap({ namespace: 'paging' })).items.length;
    const all = await pageAll('paging', undefined);
    expect(all.names).toHaveLength(total);
    expect(new Set(all.names).size).toBe(total);
    const expectedRemaining = all.sizes.map((_, i) => {
      const left = total - all.sizes.slice(0, i + 1).reduce((a, b) => a + b, 0);
      return left > 0 ? left : undefined;
    });
    expect(all.remaining).toEqual(expectedRemaining);
  });

  it('refuses a continue token that does not belong to the list with 400', async () => {
    expect(await statusOf(core.listNamespacedConfigMap({ namespace: NS, limit: 1, _continue: 'not-a-token' }))).toBe(400);
  });
});

async function pageAll(
  namespace: string,
  labelSelector: string | undefined,
): Promise<{ names: string[]; sizes: number[]; remaining: Array<number | undefined> }> {
  const names: string[] = [];
  const sizes: number[] = [];
  const remaining: Array<number | undefined> = [];
  let token: string | undefined = undefined;
  do {
    const page: Awaited<ReturnType<CoreV1Api['listNamespacedConfigMap']>> = await core.listNamespacedConfigMap({
      namespace,
      limit: 10,
      ...(labelSelector !== undefined ? { labelSelector } : {}),
      ...(token !== undefined ? { _continue: token } : {}),
    });
    sizes.push(page.items.length);
    remaining.push(page.metadata?.remainingItemCount);
    names.push(...page.items.map((c) => String(c.metadata?.name)));
    token = page.metadata?._continue || undefined;
  } while (token !== undefined && sizes.length < 20);
  return { names, sizes, remaining };
}
