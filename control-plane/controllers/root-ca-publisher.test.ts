import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { AdmissionChain } from '../apiserver/admission.js';
import { ApiError } from '../apiserver/errors.js';
import { Registry } from '../apiserver/registry.js';
import type { ResourceEntry } from '../apiserver/resource-table.js';
import { servedResources } from '../apiserver/resources.js';
import { MemoryStore } from '../storage/memory-store.js';
import { ROOT_CA_CONFIGMAP, RootCAPublisher } from './root-ca-publisher.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfakeCA\n-----END CERTIFICATE-----\n';
const DESCRIPTION_KEY = 'kubernetes.io/description';

interface ConfigMap extends KubeObject {
  readonly data?: Record<string, string>;
}

describe('RootCAPublisher', () => {
  const index = servedResources();
  const find = (plural: string): ResourceEntry => {
    const e = index.find('', 'v1', plural);
    if (e === undefined) throw new Error(`${plural} not served`);
    return e;
  };
  const namespaces = find('namespaces');
  const configMaps = find('configmaps');
  let store: MemoryStore;
  let registry: Registry;
  let clock: FakeClock;
  let abort: AbortController;
  let publisher: RootCAPublisher;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    abort = new AbortController();
    store = new MemoryStore();
    clock = new FakeClock();
    registry = new Registry(store, new AdmissionChain([]), clock);
    publisher = new RootCAPublisher(registry, index, clock, silentLogger(), PEM);
    running = undefined;
  });
  afterEach(async () => {
    abort.abort();
    await running;
    await store.close();
  });

  const createNamespace = (name: string): Promise<KubeObject> => registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } } as KubeObject);
  const terminate = async (name: string): Promise<void> => {
    const r = await registry.delete(namespaces, undefined, name);
    expect(r.deleted).toBe(false);
    expect(r.object.metadata.deletionTimestamp).toBeDefined();
  };
  const configMapIn = async (ns: string): Promise<ConfigMap | undefined> => {
    try {
      return (await registry.get(configMaps, ns, ROOT_CA_CONFIGMAP)) as ConfigMap;
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return undefined;
      throw err;
    }
  };
  const published = async (ns: string): Promise<boolean> => {
    const cm = await configMapIn(ns);
    return cm !== undefined && JSON.stringify(cm.data) === JSON.stringify({ 'ca.crt': PEM });
  };
  const start = (): void => {
    running = publisher.run(abort.signal);
  };

  it('needs namespaces and configmaps to be served', () => {
    const empty = { find: () => undefined } as unknown as typeof index;
    expect(() => new RootCAPublisher(registry, empty, clock, silentLogger(), PEM)).toThrow('namespaces and configmaps must be served');
  });

  it('publishes kube-root-ca.crt in the namespaces that exist when it starts', async () => {
    await createNamespace('default');
    await createNamespace('team-a');
    start();
    await expect.poll(() => published('default')).toBe(true);
    await expect.poll(() => published('team-a')).toBe(true);
    const cm = await configMapIn('team-a');
    expect(cm?.data).toEqual({ 'ca.crt': PEM });
    expect(cm?.metadata.annotations?.[DESCRIPTION_KEY]).toMatch(/^Contains a CA bundle that can be used to verify the kube-apiserver/);
    expect(cm?.metadata.namespace).toBe('team-a');
  });

  it('publishes in a namespace created while it runs', async () => {
    start();
    await createNamespace('late');
    await expect.poll(() => published('late')).toBe(true);
  });

  it('puts a deleted kube-root-ca.crt back', async () => {
    await createNamespace('default');
    start();
    await expect.poll(() => published('default')).toBe(true);
    const before = await configMapIn('default');
    await registry.delete(configMaps, 'default', ROOT_CA_CONFIGMAP);
    expect(before?.metadata.uid).toBeDefined();
    await expect
      .poll(async () => {
        const uid = (await configMapIn('default'))?.metadata.uid;
        return uid !== undefined && uid !== before?.metadata.uid;
      })
      .toBe(true);
    expect(await published('default')).toBe(true);
  });

  it('repairs an edited kube-root-ca.crt: a changed ca.crt, and an extra key', async () => {
    await createNamespace('default');
    start();
    await expect.poll(() => published('default')).toBe(true);
    const uid = (await configMapIn('default'))?.metadata.uid;

    await registry.update(configMaps, 'default', ROOT_CA_CONFIGMAP, (cur) => ({ ...cur, data: { 'ca.crt': 'evil' } }) as KubeObject);
    await expect.poll(() => published('default')).toBe(true);

    await registry.update(configMaps, 'default', ROOT_CA_CONFIGMAP, (cur) => ({ ...cur, data: { 'ca.crt': PEM, extra: 'x' } }) as KubeObject);
    await expect.poll(async () => (await configMapIn('default'))?.data).toEqual({ 'ca.crt': PEM });

    // repaired in place, not recreated
    expect((await configMapIn('default'))?.metadata.uid).toBe(uid);
  });

  it('skips a terminating namespace, while serving the others', async () => {
    await createNamespace('going');
    await terminate('going');
    start();
    await createNamespace('after');
    await expect.poll(() => published('after')).toBe(true);
    // 'going' was queued (from the initial list) before 'after', so it has been synced by now
    expect(await configMapIn('going')).toBeUndefined();

    // a namespace that starts terminating while running gets nothing new either
    await createNamespace('later');
    await expect.poll(() => published('later')).toBe(true);
    await terminate('later');
    await registry.delete(configMaps, 'later', ROOT_CA_CONFIGMAP);
    await createNamespace('last');
    await expect.poll(() => published('last')).toBe(true);
    expect(await configMapIn('later')).toBeUndefined();
  });

  it('sync() creates and repairs directly, and does nothing in a missing or terminating namespace', async () => {
    await publisher.sync('nowhere');
    expect((await store.list(configMaps.storagePrefix)).items).toEqual([]);

    await createNamespace('going');
    await terminate('going');
    await publisher.sync('going');
    expect(await configMapIn('going')).toBeUndefined();

    await createNamespace('ok');
    await publisher.sync('ok');
    expect(await published('ok')).toBe(true);
    const rev = (await configMapIn('ok'))?.metadata.resourceVersion;
    await publisher.sync('ok');
    // an up-to-date configmap is not rewritten
    expect((await configMapIn('ok'))?.metadata.resourceVersion).toBe(rev);
    // the description annotation is put back too, as upstream
    await registry.update(configMaps, 'ok', 'kube-root-ca.crt', (cur) => ({ ...cur, metadata: { ...cur.metadata, annotations: {} } }));
    await publisher.sync('ok');
    expect((await configMapIn('ok'))?.metadata.annotations?.['kubernetes.io/description']).toContain('Contains a CA bundle');
  });

  it('returns when its signal aborts', async () => {
    start();
    abort.abort();
    await expect(running).resolves.toBeUndefined();
  });
});
