/**
 * The volume manager against the real host, as root: real tmpfs mounts through mount(8), real
 * atomic swaps, real teardown. Everything lives in a fresh tmp dir and is unmounted and removed
 * afterwards, even when an assertion fails.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../api/core/configmap.js';
import type { Pod } from '../../api/core/pod.js';
import type { Secret } from '../../api/core/secret.js';
import type { Service } from '../../api/core/service.js';
import { realClock } from '../../lib/clock.js';
import { realExec } from '../../lib/exec.js';
import type { ObjectLookup, PodRuntimeFacts } from '../types.js';
import { HostVolumeManager } from './manager.js';
import { ExecMounter, parseMountInfo } from './mounter.js';

const isRoot = process.getuid?.() === 0;

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

/** The mountinfo line of a mount point, or undefined. */
async function mountLine(dir: string): Promise<string | undefined> {
  const text = await readFile('/proc/self/mountinfo', 'utf8');
  return text.split('\n').find((l) => parseMountInfo(l)[0] === dir);
}

describe.skipIf(!isRoot)('HostVolumeManager on the host (root)', () => {
  let root = '';
  const lookup = new MapLookup();
  let mgr: HostVolumeManager;
  const facts: PodRuntimeFacts = { nodeName: 'node-a', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5'] };
  const pod: Pod = {
    metadata: { name: 'web-0', namespace: 'shop', uid: 'host-test-uid' },
    spec: {
      containers: [{ name: 'app' }],
      volumes: [
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '8Mi' } },
        { name: 'cfg', configMap: { name: 'cfg' } },
        { name: 'certs', secret: { secretName: 'tls' } },
      ],
    },
  };
  const volDir = (plugin: string, name: string): string => join(root, 'pods', 'host-test-uid', 'volumes', `kubernetes.io~${plugin}`, name);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'knode-volumes-host-'));
    lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'version: 1\n' } });
    lookup.secrets.set('shop/tls', { metadata: { name: 'tls', namespace: 'shop' }, data: { 'tls.key': Buffer.from('KEY').toString('base64') } });
    mgr = new HostVolumeManager({ rootDir: root, lookup, clock: realClock, exec: realExec });
  });

  afterAll(async () => {
    // whatever a failed assertion left mounted must not outlive the test
    const mounter = new ExecMounter(realExec);
    for (const m of await mounter.mountPointsUnder(root)) await mounter.unmount(m).catch(() => undefined);
    if ((await mounter.mountPointsUnder(root)).length === 0) await rm(root, { recursive: true, force: true });
  });

  it('mounts a memory emptyDir as a sized tmpfs and keeps secrets off the disk', async () => {
    const volumes = await mgr.setUpPod(pod, facts);
    const cache = volumes.get('cache') ?? '';
    const line = await mountLine(cache);
    expect(line).toMatch(/ - tmpfs tmpfs .*size=8192k/);
    await writeFile(join(cache, 'scratch'), 'hello');
    expect(await readFile(join(cache, 'scratch'), 'utf8')).toBe('hello');

    expect(await mountLine(volDir('secret', 'certs'))).toMatch(/ - tmpfs /);
    expect(await readFile(join(volDir('secret', 'certs'), 'tls.key'), 'utf8')).toBe('KEY');
    expect(await mountLine(volDir('configmap', 'cfg'))).toBeUndefined();
  });

  it('a second sync keeps the same tmpfs (content survives, no stacked mount)', async () => {
    await mgr.setUpPod(pod, facts);
    expect(await readFile(join(volDir('empty-dir', 'cache'), 'scratch'), 'utf8')).toBe('hello');
    const text = await readFile('/proc/self/mountinfo', 'utf8');
    expect(parseMountInfo(text).filter((m) => m === volDir('empty-dir', 'cache'))).toHaveLength(1);
  });

  it('updates a configMap volume atomically: a reader of the old version is undisturbed', async () => {
    const dir = volDir('configmap', 'cfg');
    const oldData = await readlink(join(dir, '..data'));
    // a process that opened the file before the update keeps reading the old, complete content
    const held = await open(join(dir, 'app.yaml'), 'r');
    try {
      lookup.configMaps.set('shop/cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'version: 2\n', 'new.txt': 'n' } });
      // the timestamped directory name has second resolution plus a random suffix; no wait needed
      await mgr.setUpPod(pod, facts);
      expect((await held.readFile('utf8')).toString()).toBe('version: 1\n');
    } finally {
      await held.close();
    }
    expect(await readFile(join(dir, 'app.yaml'), 'utf8')).toBe('version: 2\n');
    expect(await readFile(join(dir, 'new.txt'), 'utf8')).toBe('n');
    const newData = await readlink(join(dir, '..data'));
    expect(newData).not.toBe(oldData);
    expect((await readdir(dir)).filter((n) => n.startsWith('..20'))).toEqual([newData]);
  });

  it('tears down: tmpfs mounts gone, pod directory removed', async () => {
    await mgr.tearDownPod('host-test-uid');
    expect(await mountLine(volDir('empty-dir', 'cache'))).toBeUndefined();
    expect(await mountLine(volDir('secret', 'certs'))).toBeUndefined();
    expect(existsSync(join(root, 'pods', 'host-test-uid'))).toBe(false);
  });
});
