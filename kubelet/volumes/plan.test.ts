import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '../../api/core/configmap.js';
import type { Pod, Volume } from '../../api/core/pod.js';
import type { Secret } from '../../api/core/secret.js';
import { VolumeSetupError } from '../errors.js';
import { PodPaths } from './paths.js';
import { hasTokenProjection, planPodVolumes, planVolumeFiles, tmpfsSizeBytes, tokenKey, volumeReferences } from './plan.js';
import type { FetchedToken, VolumeObjects } from './plan.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const text = (u: Uint8Array): string => Buffer.from(u).toString('utf8');

const objects: VolumeObjects = {
  configMaps: new Map<string, ConfigMap | undefined>([
    ['cfg', { metadata: { name: 'cfg', namespace: 'shop' }, data: { 'app.yaml': 'a: 1\n', 'LOG_LEVEL': 'info' }, binaryData: { 'logo.bin': b64('\x00\x01') } }],
    ['absent', undefined],
  ]),
  secrets: new Map<string, Secret | undefined>([
    ['tls', { metadata: { name: 'tls', namespace: 'shop' }, data: { 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') } }],
    ['nope', undefined],
  ]),
  tokens: new Map<string, FetchedToken>([
    [tokenKey({ expirationSeconds: 3600 }), { token: 'jwt-default-3600' }],
    [tokenKey({ audience: 'vault', expirationSeconds: 7200 }), { token: 'jwt-vault-7200' }],
    [tokenKey({ audience: 'denied', expirationSeconds: 3600 }), { error: 'failed to fetch token: serviceaccounts "robot" is forbidden: no' }],
  ]),
};

const pod = (volumes: Volume[], over: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web', tier: 'front' } },
  spec: { containers: [{ name: 'app', resources: { limits: { memory: '256Mi', cpu: '500m' } } }], volumes, ...over },
});

/** The plan of a single-volume pod as `path mode content` lines. */
function filesOf(v: Volume): string[] {
  const plans = planVolumeFiles(pod([v]), objects, { facts: { nodeName: 'n', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5'] } });
  return (plans[0]?.files ?? []).map((f) => `${f.path} ${f.mode.toString(8)} ${JSON.stringify(text(f.content))}`);
}

function errorOf(v: Volume): VolumeSetupError {
  try {
    planVolumeFiles(pod([v]), objects);
  } catch (err) {
    if (err instanceof VolumeSetupError) return err;
    throw err;
  }
  throw new Error('expected a VolumeSetupError');
}

describe('planVolumeFiles', () => {
  it.each<[string, Volume, string[]]>([
    ['configMap: every key (data and binaryData) with the default mode', { name: 'v', configMap: { name: 'cfg' } }, ['LOG_LEVEL 644 "info"', 'app.yaml 644 "a: 1\\n"', 'logo.bin 644 "\\u0000\\u0001"']],
    [
      'configMap: items map keys to paths, item mode over defaultMode',
      { name: 'v', configMap: { name: 'cfg', defaultMode: 0o400, items: [{ key: 'app.yaml', path: 'conf/app.yaml' }, { key: 'LOG_LEVEL', path: 'level', mode: 0o600 }] } },
      ['conf/app.yaml 400 "a: 1\\n"', 'level 600 "info"'],
    ],
    ['configMap: optional and absent gives an empty volume', { name: 'v', configMap: { name: 'absent', optional: true } }, []],
    ['configMap: optional skips a missing item key', { name: 'v', configMap: { name: 'cfg', optional: true, items: [{ key: 'gone', path: 'g' }, { key: 'LOG_LEVEL', path: 'l' }] } }, ['l 644 "info"']],
    ['secret: keys decoded', { name: 'v', secret: { secretName: 'tls', defaultMode: 0o440 } }, ['tls.crt 440 "CERT"', 'tls.key 440 "KEY"']],
    ['secret: items', { name: 'v', secret: { secretName: 'tls', items: [{ key: 'tls.key', path: 'private/key.pem', mode: 0o400 }] } }, ['private/key.pem 400 "KEY"']],
    ['secret: optional and absent', { name: 'v', secret: { secretName: 'nope', optional: true } }, []],
    [
      'downwardAPI: fields and resources',
      {
        name: 'v',
        downwardAPI: {
          items: [
            { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
            { path: 'name', fieldRef: { fieldPath: 'metadata.name' }, mode: 0o600 },
            { path: 'mem', resourceFieldRef: { containerName: 'app', resource: 'limits.memory', divisor: '1Mi' } },
            { path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu', divisor: '1m' } },
          ],
        },
      },
      ['cpu 644 "500"', 'labels 644 "app=\\"web\\"\\ntier=\\"front\\""', 'mem 644 "256"', 'name 600 "web-0"'],
    ],
    [
      'projected: sources merged, a later source wins a path, one defaultMode',
      {
        name: 'v',
        projected: {
          defaultMode: 0o444,
          sources: [
            { configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: 'shared' }] } },
            { secret: { name: 'tls', items: [{ key: 'tls.crt', path: 'shared' }] } },
            { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } },
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
          ],
        },
      },
      ['ns 444 "shop"', 'shared 444 "CERT"', 'token 444 "jwt-default-3600"'],
    ],
    [
      'projected: each token by its audience and expirationSeconds, the default mode when none is given',
      {
        name: 'v',
        projected: {
          sources: [
            { serviceAccountToken: { path: 'token', expirationSeconds: 3600 } },
            { serviceAccountToken: { path: 'vault/token', audience: 'vault', expirationSeconds: 7200 } },
          ],
        },
      },
      ['token 644 "jwt-default-3600"', 'vault/token 644 "jwt-vault-7200"'],
    ],
    ['paths are cleaned', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: 'a//b/./c' }] } }, ['a/b/c 644 "info"']],
  ])('%s', (_name, v, want) => {
    expect(filesOf(v)).toEqual(want);
  });

  it.each<[string, Volume, string]>([
    ['a missing ConfigMap', { name: 'v', configMap: { name: 'absent' } }, 'configmap "absent" not found'],
    ['a missing ConfigMap key', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'gone', path: 'g' }] } }, 'configmap references non-existent config key: gone'],
    ['a missing Secret', { name: 'v', secret: { secretName: 'nope' } }, 'secret "nope" not found'],
    ['a missing Secret key', { name: 'v', secret: { secretName: 'tls', items: [{ key: 'ca.crt', path: 'ca' }] } }, 'references non-existent secret key: ca.crt'],
    ['a missing projected ConfigMap', { name: 'v', projected: { sources: [{ configMap: { name: 'absent' } }] } }, 'configmap "absent" not found'],
    [
      'a token the apiserver refused',
      { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'denied', expirationSeconds: 3600 } }] } },
      'failed to fetch token: serviceaccounts "robot" is forbidden: no',
    ],
    [
      'a token that was not fetched',
      { name: 'v', projected: { sources: [{ serviceAccountToken: { path: 'token', audience: 'other', expirationSeconds: 3600 } }] } },
      'no service account token was fetched for audience "other"',
    ],
    ['a token path climbing out', { name: 'v', projected: { sources: [{ serviceAccountToken: { path: '../token', expirationSeconds: 3600 } }] } }, "invalid path: must not contain '..': ../token"],
    ['an unsupported downward field', { name: 'v', downwardAPI: { items: [{ path: 'x', fieldRef: { fieldPath: 'spec.restartPolicy' } }] } }, 'unsupported fieldPath: spec.restartPolicy'],
    ['a path climbing out', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: '../escape' }] } }, "invalid path: must not contain '..': ../escape"],
    ['a reserved path', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: '..data' }] } }, "invalid path: must not start with '..': ..data"],
    ['an absolute path', { name: 'v', configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: '/etc/x' }] } }, 'invalid path: must be relative path: /etc/x'],
  ])('fails for %s with upstream message', (_name, v, message) => {
    const err = errorOf(v);
    expect(err.message).toBe(message);
    expect(err.volume).toBe('v');
    expect(err.reason).toBe('FailedMount');
  });

  it('ignores emptyDir and hostPath volumes', () => {
    expect(planVolumeFiles(pod([{ name: 'e', emptyDir: {} }, { name: 'h', hostPath: { path: '/tmp' } }]), objects)).toEqual([]);
  });
});

describe('volumeReferences', () => {
  it('lists ConfigMaps, Secrets and tokens from plain and projected volumes once', () => {
    const p = pod([
      { name: 'a', configMap: { name: 'cfg' } },
      { name: 'b', secret: { secretName: 'tls' } },
      { name: 'c', projected: { sources: [{ configMap: { name: 'cfg' } }, { secret: { name: 'other' } }, { serviceAccountToken: { path: 't', expirationSeconds: 3607 } }] } },
      { name: 'd', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 3607 } }, { serviceAccountToken: { path: 'u', audience: 'vault' } }] } },
    ]);
    expect(volumeReferences(p)).toEqual({ configMaps: ['cfg'], secrets: ['tls', 'other'], tokens: [{ expirationSeconds: 3607 }, { audience: 'vault' }] });
    expect(p.spec.volumes?.map(hasTokenProjection)).toEqual([false, false, true, true]);
  });

  it('keys tokens by audience and expirationSeconds only', () => {
    expect(tokenKey({ audience: 'a', expirationSeconds: 600 })).toBe(tokenKey({ audience: 'a', expirationSeconds: 600 }));
    expect(tokenKey({ audience: 'a', expirationSeconds: 600 })).not.toBe(tokenKey({ audience: 'a', expirationSeconds: 601 }));
    expect(tokenKey({ expirationSeconds: 600 })).toBe(tokenKey({ audience: '', expirationSeconds: 600 }));
    expect(tokenKey({ audience: 'a' })).not.toBe(tokenKey({ audience: 'b' }));
  });
});

describe('tmpfsSizeBytes', () => {
  const Mi = 1024 * 1024;
  it.each<[string, string | undefined, string | undefined, number | undefined]>([
    ['pod limit below allocatable', undefined, '8Gi', 256 * Mi],
    ['sizeLimit below pod limit', '64Mi', '8Gi', 64 * Mi],
    ['sizeLimit above pod limit is ignored', '1Gi', '8Gi', 256 * Mi],
    ['without allocatable the pod limit applies', undefined, undefined, 256 * Mi],
  ])('%s', (_name, sizeLimit, alloc, want) => {
    expect(tmpfsSizeBytes(pod([]), sizeLimit, alloc !== undefined ? { memory: alloc } : undefined)).toBe(want);
  });

  it('uses allocatable when a container has no memory limit, and nothing without it', () => {
    const p = pod([], { containers: [{ name: 'a' }] });
    expect(tmpfsSizeBytes(p, undefined, { memory: '2Gi' })).toBe(2048 * Mi);
    expect(tmpfsSizeBytes(p, undefined, undefined)).toBeUndefined();
  });
});

describe('planPodVolumes', () => {
  const paths = new PodPaths('/var/lib/kubelet');
  const root = '/var/lib/kubelet/pods/uid-1/volumes';

  it('plans every kind of volume in spec order', () => {
    const steps = planPodVolumes(
      pod([
        { name: 'scratch', emptyDir: {} },
        { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'host', hostPath: { path: '/var/log', type: 'Directory' } },
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'LOG_LEVEL', path: 'level' }] } },
        { name: 'certs', secret: { secretName: 'tls' } },
        { name: 'implicit' },
      ]),
      objects,
      paths,
    ).map((s) => (s.kind === 'files' ? { ...s, files: s.files.map((f) => f.path) } : s));
    expect(steps).toEqual([
      { kind: 'emptyDir', volume: 'scratch', dir: `${root}/kubernetes.io~empty-dir/scratch`, medium: 'disk' },
      { kind: 'emptyDir', volume: 'cache', dir: `${root}/kubernetes.io~empty-dir/cache`, medium: 'memory', sizeBytes: 64 * 1024 * 1024 },
      { kind: 'hostPath', volume: 'host', path: '/var/log', type: 'Directory' },
      { kind: 'files', volume: 'cfg', plugin: 'configmap', dir: `${root}/kubernetes.io~configmap/cfg`, medium: 'disk', files: ['level'] },
      { kind: 'files', volume: 'certs', plugin: 'secret', dir: `${root}/kubernetes.io~secret/certs`, medium: 'memory', sizeBytes: 256 * 1024 * 1024, files: ['tls.crt', 'tls.key'] },
      { kind: 'emptyDir', volume: 'implicit', dir: `${root}/kubernetes.io~empty-dir/implicit`, medium: 'disk' },
    ]);
  });

  it('keeps secrets on disk when memory backing is off', () => {
    const [step] = planPodVolumes(pod([{ name: 'certs', secret: { secretName: 'tls' } }]), objects, paths, { memoryBackedSecrets: false });
    expect(step).toMatchObject({ kind: 'files', medium: 'disk' });
  });

  it.each<[string, Volume, string]>([
    ['a PVC', { name: 'data', persistentVolumeClaim: { claimName: 'c' } }, 'volume "data": persistentVolumeClaim volumes are not supported by knode'],
    ['hugepages', { name: 'hp', emptyDir: { medium: 'HugePages' } }, 'volume "hp": HugePages emptyDir volumes are not supported by knode'],
    ['a hostPath with ..', { name: 'h', hostPath: { path: '/var/../etc' } }, "invalid HostPath `/var/../etc`: must not contain '..'"],
  ])('refuses %s', (_name, v, message) => {
    expect(() => planPodVolumes(pod([v]), objects, paths)).toThrow(message);
  });
});
