import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Container, Pod, PodSpec, Volume } from '../../../api/core/pod.js';
import type { KubeObject } from '../../../api/meta.js';
import { FakeClock } from '../../../lib/clock.js';
import { MemoryStore } from '../../storage/memory-store.js';
import { AdmissionChain } from '../admission.js';
import type { AdmissionContext } from '../admission.js';
import { Registry } from '../registry.js';
import type { ResourceEntry } from '../resource-table.js';
import { servedResources } from '../resources.js';
import {
  API_ACCESS_TOKEN_SECONDS,
  apiAccessVolume,
  mountServiceAccountToken,
  SERVICE_ACCOUNT_MOUNT_PATH,
  ServiceAccountAdmission,
} from './service-account.js';

const container = (name: string, over: Partial<Container> = {}): Container => ({ name, image: 'busybox:1.36', ...over });

function pod(spec: Partial<PodSpec> = {}, annotations?: Record<string, string>): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', ...(annotations !== undefined ? { annotations } : {}) },
    spec: { containers: [container('app')], ...spec },
  };
}

const MOUNT = (suffix = 'abcde') => ({ name: `kube-api-access-${suffix}`, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH });

const EXPECTED_VOLUME = (suffix = 'abcde'): Volume =>
  ({
    name: `kube-api-access-${suffix}`,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  }) as Volume;

describe('mountServiceAccountToken', () => {
  it('adds the kube-api-access projected volume and a read-only mount to every container and init container', () => {
    const input = pod({
      initContainers: [container('init')],
      containers: [container('app', { volumeMounts: [{ name: 'data', mountPath: '/data' }] }), container('sidecar')],
      volumes: [{ name: 'data', emptyDir: {} } as Volume],
    });
    const out = mountServiceAccountToken(input, undefined, 'abcde');
    expect(API_ACCESS_TOKEN_SECONDS).toBe(3607);
    expect(apiAccessVolume('kube-api-access-abcde')).toEqual(EXPECTED_VOLUME());
    expect(out?.spec.volumes).toEqual([{ name: 'data', emptyDir: {} }, EXPECTED_VOLUME()]);
    expect(out?.spec.containers.map((c) => c.volumeMounts)).toEqual([[{ name: 'data', mountPath: '/data' }, MOUNT()], [MOUNT()]]);
    expect(out?.spec.initContainers?.map((c) => c.volumeMounts)).toEqual([[MOUNT()]]);
    // the input is not mutated
    expect(input.spec.volumes).toHaveLength(1);
    expect(input.spec.containers[1]?.volumeMounts).toBeUndefined();
    expect(input.spec.initContainers?.[0]?.volumeMounts).toBeUndefined();
    // the rest of the pod is kept
    expect({ ...out, spec: undefined }).toEqual({ ...input, spec: undefined });
  });

  it('does not add initContainers to a pod without them', () => {
    const out = mountServiceAccountToken(pod(), undefined, 'abcde');
    expect(out?.spec).not.toHaveProperty('initContainers');
    expect(out?.spec.containers[0]?.volumeMounts).toEqual([MOUNT()]);
  });

  it('picks a random 5-character suffix from upstream alphabet when none is given', () => {
    const names = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const name = mountServiceAccountToken(pod(), undefined)?.spec.volumes?.[0]?.name ?? '';
      expect(name).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      names.add(name);
    }
    expect(names.size).toBeGreaterThan(1);
  });

  it('skips a container that already mounts something at the service account path', () => {
    const own = { name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
    const out = mountServiceAccountToken(
      pod({ containers: [container('custom', { volumeMounts: [own] }), container('plain')], initContainers: [container('init', { volumeMounts: [own] })] }),
      undefined,
      'abcde',
    );
    expect(out?.spec.containers.map((c) => c.volumeMounts)).toEqual([[own], [MOUNT()]]);
    expect(out?.spec.initContainers?.map((c) => c.volumeMounts)).toEqual([[own]]);
  });

  it('adds no volume when every container already mounts something at that path', () => {
    const own = { name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH };
    expect(mountServiceAccountToken(pod({ containers: [container('custom', { volumeMounts: [own] })] }), undefined, 'abcde')).toBeUndefined();
  });

  it('gets nothing when the pod says automountServiceAccountToken: false, whatever the account says', () => {
    expect(mountServiceAccountToken(pod({ automountServiceAccountToken: false }), undefined)).toBeUndefined();
    expect(mountServiceAccountToken(pod({ automountServiceAccountToken: false }), true)).toBeUndefined();
  });

  it('gets nothing when the account says false, unless the pod says true', () => {
    expect(mountServiceAccountToken(pod(), false)).toBeUndefined();
    expect(mountServiceAccountToken(pod({ automountServiceAccountToken: true }), false, 'abcde')?.spec.volumes).toEqual([EXPECTED_VOLUME()]);
    expect(mountServiceAccountToken(pod(), true, 'abcde')?.spec.volumes).toEqual([EXPECTED_VOLUME()]);
  });

  it('leaves mirror pods alone', () => {
    expect(mountServiceAccountToken(pod({}, { 'kubernetes.io/config.mirror': 'abc123' }), undefined)).toBeUndefined();
    expect(mountServiceAccountToken(pod({}, { 'kubernetes.io/config.mirror': '' }), true)).toBeUndefined();
  });

  it('leaves a pod that already has a kube-api-access-* volume alone', () => {
    const existing = pod({ volumes: [EXPECTED_VOLUME('zzzzz')] });
    expect(mountServiceAccountToken(existing, undefined, 'abcde')).toBeUndefined();
  });

  it('leaves a pod without a spec alone', () => {
    const bare = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x', namespace: 'default' } } as unknown as Pod;
    expect(mountServiceAccountToken(bare, undefined)).toBeUndefined();
  });
});

describe('ServiceAccountAdmission with a Registry over a MemoryStore', () => {
  const index = servedResources();
  const find = (plural: string, group = ''): ResourceEntry => {
    const e = index.find(group, 'v1', plural);
    if (e === undefined) throw new Error(`${plural} not served`);
    return e;
  };
  const pods = find('pods');
  const serviceAccounts = find('serviceaccounts');
  const configMaps = find('configmaps');
  let store: MemoryStore;
  let registry: Registry;
  const plugin = new ServiceAccountAdmission(() => serviceAccounts);

  beforeEach(() => {
    store = new MemoryStore();
    registry = new Registry(store, new AdmissionChain([]), new FakeClock());
  });
  afterEach(async () => {
    await store.close();
  });

  const ctx = (entry: ResourceEntry, subresource?: string): AdmissionContext => ({ entry, registry, dryRun: false, ...(subresource !== undefined ? { subresource } : {}) });
  const createSA = (name: string, automount?: boolean): Promise<KubeObject> =>
    registry.create(serviceAccounts, 'default', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name },
      ...(automount !== undefined ? { automountServiceAccountToken: automount } : {}),
    } as KubeObject);
  const mounted = (r: { obj: KubeObject } | undefined): string[] =>
    ((r?.obj as unknown as Pod | undefined)?.spec.volumes ?? []).map((v) => v.name).filter((n) => n.startsWith('kube-api-access-'));

  it('mounts the token for a pod of an account that allows it, and of an account that does not exist yet', async () => {
    await createSA('default');
    expect(mounted(await plugin.admitCreate(ctx(pods), pod() as unknown as KubeObject))).toHaveLength(1);
    expect(mounted(await plugin.admitCreate(ctx(pods), pod({ serviceAccountName: 'missing' }) as unknown as KubeObject))).toHaveLength(1);
  });

  it('reads automountServiceAccountToken: false from the pod’s service account (default when unnamed)', async () => {
    await createSA('quiet', false);
    await createSA('default', false);
    expect(await plugin.admitCreate(ctx(pods), pod({ serviceAccountName: 'quiet' }) as unknown as KubeObject)).toBeUndefined();
    expect(await plugin.admitCreate(ctx(pods), pod() as unknown as KubeObject)).toBeUndefined();
    // the pod's own true wins over the account's false
    expect(mounted(await plugin.admitCreate(ctx(pods), pod({ serviceAccountName: 'quiet', automountServiceAccountToken: true }) as unknown as KubeObject))).toHaveLength(1);
  });

  it('mounts when the ServiceAccount resource is not served', async () => {
    const without = new ServiceAccountAdmission(() => undefined);
    expect(mounted(await without.admitCreate(ctx(pods), pod() as unknown as KubeObject))).toHaveLength(1);
  });

  it('leaves non-pod entries and pod subresources untouched', async () => {
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: {} } as KubeObject;
    expect(await plugin.admitCreate(ctx(configMaps), cm)).toBeUndefined();
    expect(await plugin.admitCreate(ctx(serviceAccounts), { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'x', namespace: 'default' } } as KubeObject)).toBeUndefined();
    expect(await plugin.admitCreate(ctx(pods, 'binding'), pod() as unknown as KubeObject)).toBeUndefined();
  });

  it('as part of the admission chain: a created pod is stored with the volume and passes validation', async () => {
    const withPlugin = new Registry(store, new AdmissionChain([plugin]), new FakeClock());
    const created = (await withPlugin.create(pods, 'default', pod({ initContainers: [container('init')] }) as unknown as KubeObject)) as unknown as Pod;
    const volume = created.spec.volumes?.find((v) => v.name.startsWith('kube-api-access-'));
    expect(volume?.projected?.sources).toEqual(EXPECTED_VOLUME().projected?.sources);
    expect(created.spec.containers[0]?.volumeMounts).toEqual([{ name: volume?.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);
    expect(created.spec.initContainers?.[0]?.volumeMounts).toEqual([{ name: volume?.name, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }]);

    await createSA('quiet', false);
    const quiet = (await withPlugin.create(pods, 'default', { ...pod({ serviceAccountName: 'quiet' }), metadata: { name: 'quiet', namespace: 'default' } } as unknown as KubeObject)) as unknown as Pod;
    expect(quiet.spec.volumes ?? []).toEqual([]);
  });
});
