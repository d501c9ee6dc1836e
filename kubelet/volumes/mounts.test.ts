import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../api/core/pod.js';
import { ContainerConfigError } from '../errors.js';
import { planContainerMounts, terminationMessagePath } from './mounts.js';

const V = '/var/lib/kubelet/pods/u1/volumes';
const volumes = new Map([
  ['scratch', `${V}/kubernetes.io~empty-dir/scratch`],
  ['cfg', `${V}/kubernetes.io~configmap/cfg`],
  ['certs', `${V}/kubernetes.io~secret/certs`],
  ['info', `${V}/kubernetes.io~downward-api/info`],
  ['token', `${V}/kubernetes.io~projected/token`],
  ['logs', '/var/log'],
]);
const pod = (container: Container): Pod => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'u1' },
  spec: {
    containers: [container],
    volumes: [
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cfg' } },
      { name: 'certs', secret: { secretName: 'tls' } },
      { name: 'info', downwardAPI: {} },
      { name: 'token', projected: {} },
      { name: 'logs', hostPath: { path: '/var/log' } },
    ],
  },
});
const HOSTS = '/var/lib/kubelet/pods/u1/etc-hosts';

describe('planContainerMounts', () => {
  it.each<[string, Container['volumeMounts'], { hostPath: string; containerPath: string; readOnly: boolean }[]]>([
    ['an emptyDir, read-write', [{ name: 'scratch', mountPath: '/scratch' }], [{ hostPath: volumes.get('scratch') ?? '', containerPath: '/scratch', readOnly: false }]],
    ['an emptyDir the user marks read-only', [{ name: 'scratch', mountPath: '/s', readOnly: true }], [{ hostPath: volumes.get('scratch') ?? '', containerPath: '/s', readOnly: true }]],
    [
      'API-data volumes, always read-only',
      [
        { name: 'cfg', mountPath: '/etc/cfg' },
        { name: 'certs', mountPath: '/etc/certs', readOnly: false },
        { name: 'info', mountPath: '/etc/info' },
        { name: 'token', mountPath: '/var/run/secrets/token' },
      ],
      [
        { hostPath: volumes.get('cfg') ?? '', containerPath: '/etc/cfg', readOnly: true },
        { hostPath: volumes.get('certs') ?? '', containerPath: '/etc/certs', readOnly: true },
        { hostPath: volumes.get('info') ?? '', containerPath: '/etc/info', readOnly: true },
        { hostPath: volumes.get('token') ?? '', containerPath: '/var/run/secrets/token', readOnly: true },
      ],
    ],
    ['a hostPath', [{ name: 'logs', mountPath: '/host/logs' }], [{ hostPath: '/var/log', containerPath: '/host/logs', readOnly: false }]],
    ['a subPath joined onto the volume', [{ name: 'cfg', mountPath: '/etc/app.yaml', subPath: 'app.yaml' }], [{ hostPath: `${volumes.get('cfg') ?? ''}/app.yaml`, containerPath: '/etc/app.yaml', readOnly: true }]],
  ])('%s', (_name, volumeMounts, want) => {
    const container: Container = { name: 'app', ...(volumeMounts ? { volumeMounts } : {}) };
    expect(planContainerMounts({ pod: pod(container), container, volumes }).mounts).toEqual(want);
  });

  it('adds the managed /etc/hosts after the volumes', () => {
    const container: Container = { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/s' }] };
    expect(planContainerMounts({ pod: pod(container), container, volumes, etcHostsPath: HOSTS }).mounts.at(-1)).toEqual({
      hostPath: HOSTS,
      containerPath: '/etc/hosts',
      readOnly: false,
    });
  });

  it('leaves /etc/hosts alone for a container that mounts its own', () => {
    const container: Container = { name: 'app', volumeMounts: [{ name: 'logs', mountPath: '/etc/hosts', subPath: 'hosts' }] };
    const mounts = planContainerMounts({ pod: pod(container), container, volumes, etcHostsPath: HOSTS }).mounts;
    expect(mounts.map((m) => m.hostPath)).toEqual(['/var/log/hosts']);
  });

  it('lists subPaths to prepare', () => {
    const container: Container = { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/data', subPath: 'a/b' }] };
    expect(planContainerMounts({ pod: pod(container), container, volumes }).subPaths).toEqual([
      { volumeRoot: volumes.get('scratch'), hostPath: `${volumes.get('scratch') ?? ''}/a/b`, volume: 'scratch' },
    ]);
  });

  it('expands subPathExpr from the env', () => {
    const container: Container = { name: 'app', volumeMounts: [{ name: 'scratch', mountPath: '/data', subPathExpr: 'pods/$(POD_NAME)' }] };
    const plan = planContainerMounts({ pod: pod(container), container, volumes, env: [{ name: 'POD_NAME', value: 'web-0' }] });
    expect(plan.mounts[0]?.hostPath).toBe(`${volumes.get('scratch') ?? ''}/pods/web-0`);
  });

  it.each<[string, NonNullable<Container['volumeMounts']>[number], string]>([
    ['an unknown volume', { name: 'nope', mountPath: '/x' }, 'cannot find volume "nope" to mount into container "app"'],
    ['an absolute subPath', { name: 'scratch', mountPath: '/x', subPath: '/etc' }, 'error SubPath `/etc` must not be an absolute path'],
    ['a subPath with ..', { name: 'scratch', mountPath: '/x', subPath: 'a/../../etc' }, "unable to provision SubPath `a/../../etc`: must not contain '..'"],
    ['a subPathExpr with a missing variable', { name: 'scratch', mountPath: '/x', subPathExpr: '$(NOPE)' }, 'missing value for NOPE'],
  ])('refuses %s', (_name, m, message) => {
    const container: Container = { name: 'app', volumeMounts: [m] };
    expect(() => planContainerMounts({ pod: pod(container), container, volumes })).toThrow(ContainerConfigError);
    expect(() => planContainerMounts({ pod: pod(container), container, volumes })).toThrow(message);
  });
});

describe('terminationMessagePath', () => {
  it('defaults to /dev/termination-log and honours an explicit path', () => {
    expect(terminationMessagePath({ name: 'a' })).toBe('/dev/termination-log');
    expect(terminationMessagePath({ name: 'a', terminationMessagePath: '/tmp/msg' })).toBe('/tmp/msg');
  });
});
