import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readlink, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../api/core/configmap.js';
import type { Container, Pod } from '../../api/core/pod.js';
import type { Secret } from '../../api/core/secret.js';
import type { Service } from '../../api/core/service.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import { ContainerConfigError, VolumeSetupError } from '../errors.js';
import type { ObjectLookup, PodRuntimeFacts } from '../types.js';
import { HostVolumeManager } from './manager.js';
import { FakeMounter } from './mounter.js';
import { ServiceAccountTokenManager } from './tokens.js';
import type { TokenRequest } from './tokens.js';

class MapLookup implements ObjectLookup {
  readonly configMaps = new Map<string, ConfigMap>();
  readonly secrets = new Map<string, Secret>();
  getConfigMap(ns: string, name: string): Promise<ConfigMap | undefined> {
    return Promise.resolve(this.configMaps.get(`${ns}/${name}`));
  }
  getSecret(ns: string, name: string): Promise<Secret | undefined> {
    return Promise.resolve(this.secrets.get(`${ns}/${name}`));
  }
  listServices(): Promise<readonly Service[]> {
    return Promise.resolve([]);
  }
}

const facts: PodRuntimeFacts = { nodeName: 'node-a', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5'] };
const app: Container = { name: 'app', volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg' }] };

function makePod(root: string, over: Partial<Pod['spec']> = {}): Pod {
  return {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' } },
    spec: {
      containers: [app],
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'certs', secret: { secretName: 'tls' } },
        { name: 'info', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
        { name: 'host', hostPath: { path: join(root, 'host-data'), type: 'DirectoryOrCreate' } },
      ],
      ...over,
    },
  };
}

describe('HostVolumeManager (tmp dir, fake mounter)', () => {
  let root = '';
  let lookup: MapLookup;
  let mounter: FakeMounter;
  let mgr: HostVolumeManager;
  let ids = 0;
  const clock = new FakeClock(Date.UTC(2026, 0, 1));

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'knode-volumes-'));
    lookup = new MapLookup();
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 1\n' } });
    lookup.secrets.set('shop/tls', { metadata: { name: 'tls', namespace: 'shop' }, data: { 'tls.key': Buffer.from('KEY').toString('base64') } });
    mounter = new FakeMounter();
    ids = 0;
    mgr = new HostVolumeManager({ rootDir: root, lookup, clock, mounter, randomId: () => `id${++ids}` });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const vol = (plugin: string, name: string): string => join(root, 'pods', 'uid-1', 'volumes', `kubernetes.io~${plugin}`, name);

  it('sets up every volume and returns where each one lives', async () => {
    const pod = makePod(root);
    const volumes = await mgr.setUpPod(pod, facts);
    expect(Object.fromEntries(volumes)).toEqual({
      scratch: vol('empty-dir', 'scratch'),
      cache: vol('empty-dir', 'cache'),
      cfg: vol('configmap', 'cfg'),
      certs: vol('secret', 'certs'),
      info: vol('downward-api', 'info'),
      host: join(root, 'host-data'),
    });
    expect((await stat(vol('empty-dir', 'scratch'))).mode & 0o777).toBe(0o777);
    expect(await readFile(join(vol('configmap', 'cfg'), 'app.yaml'), 'utf8')).toBe('v: 1\n');
    expect(await readFile(join(vol('secret', 'certs'), 'tls.key'), 'utf8')).toBe('KEY');
    expect(await readFile(join(vol('downward-api', 'info'), 'labels'), 'utf8')).toBe('app="web"');
    expect((await stat(join(root, 'host-data'))).isDirectory()).toBe(true);
    // memory-backed: the emptyDir with its size limit, the secret and the downward API volume
    expect(mounter.calls).toEqual([
      `mount tmpfs ${vol('empty-dir', 'cache')} size=${16 * 1024 * 1024}`,
      `mount tmpfs ${vol('secret', 'certs')}`,
      `mount tmpfs ${vol('downward-api', 'info')}`,
    ]);
  });

  it('does not mount twice and propagates ConfigMap changes on the next sync', async () => {
    const pod = makePod(root);
    await mgr.setUpPod(pod, facts);
    const firstData = await readlink(join(vol('configmap', 'cfg'), '..data'));
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 2\n', extra: 'e' } });
    await clock.advance(2000);
    await mgr.setUpPod(pod, facts);
    expect(await readFile(join(vol('configmap', 'cfg'), 'app.yaml'), 'utf8')).toBe('v: 2\n');
    expect(await readFile(join(vol('configmap', 'cfg'), 'extra'), 'utf8')).toBe('e');
    expect(await readlink(join(vol('configmap', 'cfg'), '..data'))).not.toBe(firstData);
    expect(mounter.calls.filter((c) => c.startsWith('mount'))).toHaveLength(3);
  });

  it('fails with FailedMount naming the volume when a ConfigMap is missing', async () => {
    lookup.configMaps.clear();
    const err = await mgr.setUpPod(makePod(root), facts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeSetupError);
    expect((err as VolumeSetupError).volume).toBe('cfg');
    expect((err as VolumeSetupError).message).toBe('configmap "cfg" not found');
  });

  it('reports a hostPath type mismatch as FailedMount', async () => {
    const pod = makePod(root, { volumes: [{ name: 'h', hostPath: { path: '/dev/null', type: 'Directory' } }] });
    await expect(mgr.setUpPod(pod, facts)).rejects.toThrow("hostPath type check failed: /dev/null is not a directory, it's a CharDevice");
  });

  it('writes the managed /etc/hosts and mounts it with a termination log per start', async () => {
    const pod = makePod(root, { hostAliases: [{ ip: '10.1.1.1', hostnames: ['db.local'] }] });
    const volumes = await mgr.setUpPod(pod, facts);
    const hostsPath = join(root, 'pods', 'uid-1', 'etc-hosts');
    const hosts = await readFile(hostsPath, 'utf8');
    expect(hosts.startsWith('# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n')).toBe(true);
    expect(hosts).toContain('10.244.1.5\tweb-0\n\n# Entries added by HostAliases.\n10.1.1.1\tdb.local\n');
    expect((await stat(hostsPath)).mode & 0o777).toBe(0o644);

    const mounts = mgr.mountsFor(pod, app, volumes);
    const termination = join(root, 'pods', 'uid-1', 'containers', 'app', 'id1');
    expect(mounts).toEqual([
      { hostPath: vol('configmap', 'cfg'), containerPath: '/etc/cfg', readOnly: true },
      { hostPath: hostsPath, containerPath: '/etc/hosts', readOnly: false },
      { hostPath: termination, containerPath: '/dev/termination-log', readOnly: false },
    ]);
    expect((await stat(termination)).mode & 0o777).toBe(0o666);
    // a restart gets a fresh termination-log file
    expect(mgr.mountsFor(pod, app, volumes).at(-1)?.hostPath).toBe(join(root, 'pods', 'uid-1', 'containers', 'app', 'id2'));
  });

  it('rewrites /etc/hosts in place when the pod IP changes, so running containers see it', async () => {
    const pod = makePod(root);
    await mgr.setUpPod(pod, facts);
    const hostsPath = join(root, 'pods', 'uid-1', 'etc-hosts');
    const inode = (await stat(hostsPath)).ino;
    await mgr.setUpPod(pod, { ...facts, podIP: '10.244.2.9', podIPs: ['10.244.2.9'] });
    expect(await readFile(hostsPath, 'utf8')).toContain('10.244.2.9\tweb-0\n');
    expect((await stat(hostsPath)).ino).toBe(inode);
  });

  it('manages no /etc/hosts for a hostNetwork pod or before the pod has an IP', async () => {
    const hostNet = makePod(root, { hostNetwork: true });
    const volumes = await mgr.setUpPod(hostNet, facts);
    expect(existsSync(join(root, 'pods', 'uid-1', 'etc-hosts'))).toBe(false);
    expect(mgr.mountsFor(hostNet, app, volumes).map((m) => m.containerPath)).toEqual(['/etc/cfg', '/dev/termination-log']);

    const other = { ...makePod(root), metadata: { ...makePod(root).metadata, uid: 'uid-2' } };
    await mgr.setUpPod(other, { ...facts, podIP: '', podIPs: [] });
    expect(mgr.mountsFor(other, app, volumes).map((m) => m.containerPath)).not.toContain('/etc/hosts');
  });

  it('skips the termination log when the path is explicitly empty', async () => {
    const pod = makePod(root);
    const volumes = await mgr.setUpPod(pod, facts);
    const c: Container = { ...app, terminationMessagePath: '' };
    expect(mgr.mountsFor(pod, c, volumes).map((m) => m.containerPath)).not.toContain('/dev/termination-log');
  });

  it('creates a missing subPath and refuses one that leaves the volume through a symlink', async () => {
    const pod = makePod(root);
    const volumes = await mgr.setUpPod(pod, facts);
    const c: Container = { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/data', subPath: 'a/b' }] };
    const [m] = mgr.mountsFor(pod, c, volumes);
    expect(m?.hostPath).toBe(join(vol('empty-dir', 'scratch'), 'a', 'b'));
    expect((await stat(join(vol('empty-dir', 'scratch'), 'a', 'b'))).isDirectory()).toBe(true);

    const outside = join(root, 'outside');
    await mkdir(outside);
    await symlink(outside, join(vol('empty-dir', 'scratch'), 'evil'));
    const bad: Container = { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/x', subPath: 'evil/created-by-kubelet' }] };
    expect(() => mgr.mountsFor(pod, bad, volumes)).toThrow(ContainerConfigError);
    expect(() => mgr.mountsFor(pod, bad, volumes)).toThrow('failed to prepare subPath for volumeMount "scratch" of container "app"');
    expect(existsSync(join(outside, 'created-by-kubelet'))).toBe(false);
  });

  it('tears down: unmounts everything below the pod and removes its directory, twice without error', async () => {
    await mgr.setUpPod(makePod(root), facts);
    mounter.calls.length = 0;
    await mgr.tearDownPod('uid-1');
    expect(mounter.calls.sort()).toEqual([`umount ${vol('downward-api', 'info')}`, `umount ${vol('empty-dir', 'cache')}`, `umount ${vol('secret', 'certs')}`].sort());
    expect(existsSync(join(root, 'pods', 'uid-1'))).toBe(false);
    // the hostPath is the node's, not the pod's: it stays
    expect(existsSync(join(root, 'host-data'))).toBe(true);
    await mgr.tearDownPod('uid-1');
  });

  it('refuses UIDs that are not a single safe path segment', async () => {
    await expect(mgr.tearDownPod('../etc')).rejects.toThrow(VolumeSetupError);
    const pod = { ...makePod(root), metadata: { name: 'x', namespace: 'shop', uid: '../../x' } };
    await expect(mgr.setUpPod(pod, facts)).rejects.toThrow(VolumeSetupError);
  });
});

describe('HostVolumeManager service account token volumes', () => {
  let root = '';
  let lookup: MapLookup;
  let clock: FakeClock;
  let requests: TokenRequest[];
  let failWith: Error | undefined;
  let tokens: ServiceAccountTokenManager;
  let mgr: HostVolumeManager;

  const tokenPod = (): Pod => ({
    metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1' },
    spec: {
      serviceAccountName: 'robot',
      containers: [app],
      volumes: [
        { name: 'cfg', configMap: { name: 'cfg' } },
        {
          name: 'kube-api-access',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
      ],
    },
  });
  const apiAccess = (): string => join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~projected', 'kube-api-access');

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'knode-tokens-'));
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    lookup = new MapLookup();
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 1\n' } });
    lookup.configMaps.set('shop/kube-root-ca.crt', { metadata: { name: 'kube-root-ca.crt', namespace: 'shop' }, data: { 'ca.crt': 'CA' } });
    requests = [];
    failWith = undefined;
    tokens = new ServiceAccountTokenManager({
      clock,
      request: async (_ns, _sa, tr) => {
        requests.push(tr);
        if (failWith) throw failWith;
        const exp = clock.now().getTime() + tr.spec.expirationSeconds * 1000;
        return { ...tr, status: { token: `jwt-${requests.length}`, expirationTimestamp: rfc3339(new Date(exp)) } };
      },
    });
    // (API-data refreshes are another test's subject: far apart here, so only tokens drive rewrites)
    mgr = new HostVolumeManager({ rootDir: root, lookup, tokens, clock, mounter: new FakeMounter(), randomId: () => 'id', apiDataRefreshMs: 10 * 86_400_000 });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('projects the bound token with the projected default mode beside the CA and namespace', async () => {
    await mgr.setUpPod(tokenPod(), facts);
    expect(await readFile(join(apiAccess(), 'token'), 'utf8')).toBe('jwt-1');
    expect((await stat(join(apiAccess(), 'token'))).mode & 0o777).toBe(0o644);
    expect(await readFile(join(apiAccess(), 'ca.crt'), 'utf8')).toBe('CA');
    expect(await readFile(join(apiAccess(), 'namespace'), 'utf8')).toBe('shop');
    expect(requests.map((r) => r.spec)).toEqual([{ audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'uid-1' } }]);
  });

  it('rewrites the token volume of a running pod only once the token is due (80% of 3607 s)', async () => {
    await mgr.setUpPod(tokenPod(), facts);
    const first = await readlink(join(apiAccess(), '..data'));
    await clock.advance(2885 * 1000);
    await mgr.refreshVolumes(tokenPod(), facts);
    expect(await readlink(join(apiAccess(), '..data'))).toBe(first);
    expect(requests).toHaveLength(1);

    await clock.advance(1000);
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 2\n' } });
    await mgr.refreshVolumes(tokenPod(), facts);
    expect(requests).toHaveLength(2);
    expect(await readFile(join(apiAccess(), 'token'), 'utf8')).toBe('jwt-2');
    expect(await readFile(join(apiAccess(), 'ca.crt'), 'utf8')).toBe('CA');
    expect(await readlink(join(apiAccess(), '..data'))).not.toBe(first);
    // only the volumes holding tokens are rewritten
    expect(await readFile(join(root, 'pods', 'uid-1', 'volumes', 'kubernetes.io~configmap', 'cfg', 'app.yaml'), 'utf8')).toBe('v: 1\n');
  });

  it('keeps the written token while refreshes fail, then fails naming the volume once it expired', async () => {
    await mgr.setUpPod(tokenPod(), facts);
    failWith = new Error('serviceaccounts "robot" is forbidden: node "w1" can only create tokens for pods bound to itself');
    await clock.advance(3000 * 1000);
    await mgr.refreshVolumes(tokenPod(), facts);
    expect(await readFile(join(apiAccess(), 'token'), 'utf8')).toBe('jwt-1');
    await clock.advance(607 * 1000);
    const err = await mgr.refreshVolumes(tokenPod(), facts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeSetupError);
    expect((err as VolumeSetupError).volume).toBe('kube-api-access');
    expect((err as VolumeSetupError).message).toBe('token expired and refresh failed: ' + failWith.message);
    failWith = undefined;
    await mgr.refreshVolumes(tokenPod(), facts);
    expect(await readFile(join(apiAccess(), 'token'), 'utf8')).toBe('jwt-4');
  });

  it('fails setup with FailedMount naming the volume when no token can be had', async () => {
    failWith = new Error('serviceaccounts "robot" not found');
    const err = await mgr.setUpPod(tokenPod(), facts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeSetupError);
    expect((err as VolumeSetupError).volume).toBe('kube-api-access');
    expect((err as VolumeSetupError).reason).toBe('FailedMount');
    expect((err as VolumeSetupError).message).toBe('failed to fetch token: serviceaccounts "robot" not found');
    const bare = new HostVolumeManager({ rootDir: root, lookup, clock, mounter: new FakeMounter() });
    await expect(bare.setUpPod(tokenPod(), facts)).rejects.toThrow(/no API connection to request service account tokens/);
  });

  it('requests no token for pods without token volumes, and forgets the tokens of a torn down pod', async () => {
    await mgr.refreshVolumes(makePod(root, { volumes: [{ name: 'cfg', configMap: { name: 'cfg' } }] }), facts);
    expect(requests).toHaveLength(0);
    await mgr.setUpPod(tokenPod(), facts);
    expect(tokens.size).toBe(1);
    await mgr.tearDownPod('uid-1');
    expect(tokens.size).toBe(0);
  });
});

describe('HostVolumeManager: a running pod\'s ConfigMap, Secret and downward API volumes follow the API', () => {
  let root = '';
  let lookup: MapLookup;
  let clock: FakeClock;
  let mgr: HostVolumeManager;
  const file = (volumeKind: string, volume: string, name: string): string => join(root, 'pods', 'uid-1', 'volumes', volumeKind, volume, name);

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'knode-refresh-'));
    clock = new FakeClock(Date.UTC(2026, 0, 1));
    lookup = new MapLookup();
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 1\n' } });
    lookup.secrets.set('shop/tls', { metadata: { name: 'tls', namespace: 'shop' }, data: { 'tls.key': Buffer.from('KEY').toString('base64') } });
    mgr = new HostVolumeManager({ rootDir: root, lookup, clock, mounter: new FakeMounter(), randomId: () => 'id', apiDataRefreshMs: 60_000 });
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const pod = (labels: Record<string, string> = { app: 'web' }): Pod => {
    const p = makePod(root);
    return { ...p, metadata: { ...p.metadata, labels }, spec: { ...p.spec, volumes: (p.spec.volumes ?? []).filter((v) => v.hostPath === undefined) } };
  };

  it('an edited ConfigMap or Secret and new labels reach the volumes at the first refresh a period after the last projection', async () => {
    await mgr.setUpPod(pod(), facts);
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'v: 2\n' } });
    lookup.secrets.set('shop/tls', { metadata: { name: 'tls', namespace: 'shop' }, data: { 'tls.key': Buffer.from('NEWKEY').toString('base64') } });
    await clock.advance(59_000);
    await mgr.refreshVolumes(pod({ app: 'web', tier: 'front' }), facts);
    expect(await readFile(file('kubernetes.io~configmap', 'cfg', 'app.yaml'), 'utf8')).toBe('v: 1\n');
    await clock.advance(1_000);
    await mgr.refreshVolumes(pod({ app: 'web', tier: 'front' }), facts);
    expect(await readFile(file('kubernetes.io~configmap', 'cfg', 'app.yaml'), 'utf8')).toBe('v: 2\n');
    expect(await readFile(file('kubernetes.io~secret', 'certs', 'tls.key'), 'utf8')).toBe('NEWKEY');
    expect(await readFile(file('kubernetes.io~downward-api', 'info', 'labels'), 'utf8')).toBe('app="web"\ntier="front"');
  });

  it('a ConfigMap deleted meanwhile keeps the volume as it was and fails naming the volume, once per period', async () => {
    await mgr.setUpPod(pod(), facts);
    lookup.configMaps.delete('shop/cfg');
    await clock.advance(60_000);
    const err = await mgr.refreshVolumes(pod(), facts).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VolumeSetupError);
    expect((err as VolumeSetupError).volume).toBe('cfg');
    expect(await readFile(file('kubernetes.io~configmap', 'cfg', 'app.yaml'), 'utf8')).toBe('v: 1\n');
    // not retried on every sync: the next attempt is a period later
    await clock.advance(10_000);
    await expect(mgr.refreshVolumes(pod(), facts)).resolves.toBeUndefined();
  });
});
