import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import type { Volume } from './pod.js';
import { defaultPod, podKind } from './pod.js';
import { container, pod } from './test-fixtures.js';

const volumeErrors = (volumes: Volume[]): string[] => podKind.validate(defaultPod(pod({ volumes }))).map((e) => e.field);

describe('volume validation', () => {
  it('accepts each supported source', () => {
    expect(
      volumeErrors([
        { name: 'a', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
        { name: 'b', hostPath: { path: '/var/log', type: 'DirectoryOrCreate' } },
        { name: 'c', secret: { secretName: 's', items: [{ key: 'k', path: 'dir/k', mode: 0o400 }] } },
        { name: 'd', configMap: { name: 'cm' } },
        { name: 'e', downwardAPI: { items: [{ path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'limits.cpu' } }] } },
        {
          name: 'f',
          projected: {
            sources: [
              { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
          },
        },
        { name: 'g', persistentVolumeClaim: { claimName: 'data' } },
      ]),
    ).toEqual([]);
  });

  it.each<[string, Volume[], string[]]>([
    ['a missing name', [{ name: '', emptyDir: {} }], ['spec.volumes[0].name']],
    ['a name that is not a DNS label', [{ name: 'Data', emptyDir: {} }], ['spec.volumes[0].name']],
    ['two volumes with one name', [{ name: 'a', emptyDir: {} }, { name: 'a', emptyDir: {} }], ['spec.volumes[1].name']],
    ['two sources in one volume', [{ name: 'a', emptyDir: {}, hostPath: { path: '/x' } }], ['spec.volumes[0].hostPath']],
    ['a secret without secretName', [{ name: 'a', secret: {} }], ['spec.volumes[0].secret.secretName']],
    ['a configMap without name', [{ name: 'a', configMap: {} }], ['spec.volumes[0].configMap.name']],
    ['a file mode above 0777', [{ name: 'a', configMap: { name: 'cm', defaultMode: 0o1000 } }], ['spec.volumes[0].configMap.defaultMode']],
    ['an absolute item path', [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: '/etc/k' }] } }], ['spec.volumes[0].secret.items[0].path']],
    ['an item path with ..', [{ name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: 'a/../../k' }] } }], ['spec.volumes[0].secret.items[0].path']],
    ['an item path starting with ..', [{ name: 'a', configMap: { name: 'c', items: [{ key: 'k', path: '..data' }] } }], ['spec.volumes[0].configMap.items[0].path']],
    ['an item without key', [{ name: 'a', configMap: { name: 'c', items: [{ key: '', path: 'p' }] } }], ['spec.volumes[0].configMap.items[0].key']],
    ['a hostPath without path', [{ name: 'a', hostPath: { path: '' } }], ['spec.volumes[0].hostPath.path']],
    ['a hostPath type typo', [{ name: 'a', hostPath: { path: '/x', type: 'Dir' as 'Directory' } }], ['spec.volumes[0].hostPath.type']],
    ['a negative emptyDir size', [{ name: 'a', emptyDir: { sizeLimit: '-1Gi' } }], ['spec.volumes[0].emptyDir.sizeLimit']],
    ['a pvc without claimName', [{ name: 'a', persistentVolumeClaim: { claimName: '' } }], ['spec.volumes[0].persistentVolumeClaim.claimName']],
    [
      'a downward API label that is no qualified name',
      [{ name: 'a', downwardAPI: { items: [{ path: 'x', fieldRef: { apiVersion: 'v1', fieldPath: "metadata.labels['a b']" } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].fieldRef'],
    ],
    [
      'a downward API field volumes cannot show',
      [{ name: 'a', downwardAPI: { items: [{ path: 'x', fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath'],
    ],
    [
      'a downward API resource without container',
      [{ name: 'a', downwardAPI: { items: [{ path: 'x', resourceFieldRef: { resource: 'limits.cpu' } }] } }],
      ['spec.volumes[0].downwardAPI.items[0].resourceFieldRef.containerName'],
    ],
    [
      'two projected files at one path',
      [{ name: 'a', projected: { sources: [{ configMap: { name: 'c', items: [{ key: 'k', path: 'p' }] } }, { secret: { name: 's', items: [{ key: 'k', path: 'p' }] } }] } }],
      ['spec.volumes[0].projected.sources[1].secret.items[0].path'],
    ],
    [
      'a projected token living under ten minutes',
      [{ name: 'a', projected: { sources: [{ serviceAccountToken: { path: 't', expirationSeconds: 60 } }] } }],
      ['spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds'],
    ],
  ])('reports %s', (_name, volumes, expected) => expect(volumeErrors(volumes)).toEqual(expected));

  it('a mount of an invalid volume is also reported, since the volume does not count', () => {
    const p = defaultPod(pod({ volumes: [{ name: 'a', secret: {} }], containers: [container({ volumeMounts: [{ name: 'a', mountPath: '/a' }] })] }));
    expect(podKind.validate(p).map((e) => e.field)).toEqual(['spec.volumes[0].secret.secretName', 'spec.containers[0].volumeMounts[0].name']);
  });

  it('words a second source like upstream', () => {
    const [err] = podKind.validate(defaultPod(pod({ volumes: [{ name: 'a', emptyDir: {}, configMap: { name: 'c' } }] })));
    expect(formatFieldError(err!)).toBe('spec.volumes[0].configMap: Forbidden: may not specify more than 1 volume type');
  });
});
