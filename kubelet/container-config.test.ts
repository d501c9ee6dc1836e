import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/core/pod.js';
import {
  buildContainerConfig,
  containerAnnotations,
  criMounts,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  expandCommandAndArgs,
  expandVars,
  linuxResourcesFor,
  linuxSecurityContext,
  milliCpuToQuota,
  milliCpuToShares,
  oomScoreAdjust,
} from './container-config.js';
import type { ContainerConfigOptions } from './container-config.js';
import { hashContainer } from './container-hash.js';
import { ContainerConfigError } from './errors.js';

const GiB = 1024 ** 3;
const app: Container = { name: 'app', image: 'busybox:1.36' };

function basePod(spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return { metadata: { name: 'web', namespace: 'default', uid: 'uid-1', ...meta }, spec: { containers: [app], ...spec } };
}

const opts = (over: Partial<ContainerConfigOptions> = {}): ContainerConfigOptions => ({ restartCount: 0, envs: [], mounts: [], memoryCapacity: 4 * GiB, ...over });

describe('buildContainerConfig', () => {
  it('describes a plain container', () => {
    const c: Container = { ...app, command: ['sh', '-c'], args: ['echo $(GREETING)'], workingDir: '/work', stdin: true, tty: true };
    const config = buildContainerConfig(basePod({ containers: [c] }), c, opts({ restartCount: 3, envs: [{ name: 'GREETING', value: 'hi' }], imageRef: 'sha256:abc' }));
    expect(config).toEqual({
      metadata: { name: 'app', attempt: 3 },
      image: { image: 'sha256:abc', userSpecifiedImage: 'busybox:1.36' },
      command: ['sh', '-c'],
      args: ['echo hi'],
      workingDir: '/work',
      envs: [{ key: 'GREETING', value: 'hi' }],
      mounts: [],
      labels: {
        'io.kubernetes.pod.name': 'web',
        'io.kubernetes.pod.namespace': 'default',
        'io.kubernetes.pod.uid': 'uid-1',
        'io.kubernetes.container.name': 'app',
        'io.kubernetes.container.type': 'regular',
      },
      annotations: {
        'io.kubernetes.container.hash': hashContainer(c),
        'io.kubernetes.container.restartCount': '3',
        'io.kubernetes.container.terminationMessagePath': '/dev/termination-log',
        'io.kubernetes.container.terminationMessagePolicy': 'File',
      },
      logPath: 'app/3.log',
      stdin: true,
      stdinOnce: false,
      tty: true,
      linux: {
        resources: { cpuShares: 2, cpuPeriod: 100_000, cpuQuota: 0, oomScoreAdj: 1000 },
        securityContext: {
          privileged: false,
          namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' },
          runAsUser: { value: 0 },
          readonlyRootfs: false,
          noNewPrivs: false,
          maskedPaths: [...DEFAULT_MASKED_PATHS],
          readonlyPaths: [...DEFAULT_READONLY_PATHS],
          seccomp: { profileType: 'Unconfined' },
        },
      },
    });
  });

  it('puts an ephemeral container with a target into that container\'s process namespace (CRI TARGET)', () => {
    const config = buildContainerConfig(basePod({ shareProcessNamespace: false }), app, opts({ targetId: 'c0ffee' }));
    expect(config.linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'TARGET', ipc: 'POD', targetId: 'c0ffee' });
    expect(buildContainerConfig(basePod(), app, opts()).linux?.securityContext?.namespaceOptions).toEqual({ network: 'POD', pid: 'CONTAINER', ipc: 'POD' });
  });

  it('labels init containers as such, so a restarted kubelet can tell them apart', () => {
    expect(buildContainerConfig(basePod(), app, opts({ isInit: true })).labels?.['io.kubernetes.container.type']).toBe('init');
  });

  it('without command or args the image entrypoint and cmd stay (fields omitted)', () => {
    const config = buildContainerConfig(basePod(), app, opts());
    expect(config).not.toHaveProperty('command');
    expect(config).not.toHaveProperty('args');
  });
});

describe('$(VAR) expansion', () => {
  const env = new Map([
    ['FOO', 'foo'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['$(FOO)', 'foo'],
    ['a-$(FOO)-b', 'a-foo-b'],
    ['$(EMPTY)x', 'x'],
    ['$(UNSET)', '$(UNSET)'],
    ['$$(FOO)', '$(FOO)'],
    ['$$', '$'],
    ['$(FOO', '$(FOO'],
    ['$FOO', '$FOO'],
    ['cost $', 'cost $'],
    ['$(FOO)$(FOO)', 'foofoo'],
  ])('%s -> %s', (input, want) => {
    expect(expandVars(input, (n) => env.get(n))).toBe(want);
  });

  it('command overrides ENTRYPOINT and args CMD independently; the last definition of a name wins', () => {
    const c: Container = { ...app, args: ['$(A)'] };
    expect(expandCommandAndArgs(c, [{ name: 'A', value: '1' }, { name: 'A', value: '2' }])).toEqual({ args: ['2'] });
  });
});

describe('linux resources', () => {
  it.each([
    [0, 2],
    [1, 2],
    [250, 256],
    [1000, 1024],
    [1_000_000, 262_144],
  ])('milliCpuToShares(%i) = %i', (m, want) => {
    expect(milliCpuToShares(m)).toBe(want);
  });

  it.each([
    [0, 0],
    [1, 1000],
    [500, 50_000],
    [2000, 200_000],
  ])('milliCpuToQuota(%i) = %i', (m, want) => {
    expect(milliCpuToQuota(m)).toBe(want);
  });

  it.each<[string, Container['resources'], object]>([
    ['a request sets shares only', { requests: { cpu: '250m' } }, { cpuShares: 256, cpuQuota: 0 }],
    ['a limit sets the quota, and shares when no request', { limits: { cpu: '500m' } }, { cpuShares: 512, cpuQuota: 50_000, cpuPeriod: 100_000 }],
    ['a memory limit sets the memory limit in bytes', { limits: { memory: '128Mi' } }, { memoryLimitInBytes: 128 * 1024 * 1024 }],
  ])('%s', (_what, resources, want) => {
    const c: Container = { ...app, resources: resources ?? {} };
    expect(linuxResourcesFor(basePod({ containers: [c] }), c, 4 * GiB)).toMatchObject(want);
  });

  it.each<[string, Container['resources'], string | undefined, number]>([
    ['Guaranteed: -997', { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } }, undefined, -997],
    ['BestEffort: 1000', {}, undefined, 1000],
    ['Burstable with a quarter of node memory requested: 750', { requests: { memory: '1Gi' } }, undefined, 750],
    ['Burstable with no memory request: 999 (below BestEffort)', { requests: { cpu: '100m' } }, undefined, 999],
    ['Burstable requesting all memory: 3 (above Guaranteed)', { requests: { memory: '4Gi' } }, undefined, 3],
    ['system-node-critical: -997', {}, 'system-node-critical', -997],
  ])('oom_score_adj %s', (_what, resources, priorityClassName, want) => {
    const c: Container = { ...app, resources: resources ?? {} };
    const pod = basePod({ containers: [c], ...(priorityClassName ? { priorityClassName } : {}) });
    expect(oomScoreAdjust(pod, c, 4 * GiB)).toBe(want);
  });
});

describe('security context', () => {
  it('container fields win over pod fields; capabilities, privileged, read-only rootfs pass through', () => {
    const c: Container = {
      ...app,
      securityContext: { runAsUser: 2000, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] }, privileged: true, readOnlyRootFilesystem: true, seccompProfile: { type: 'RuntimeDefault' } },
    };
    const pod = basePod({ containers: [c], securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [5], seccompProfile: { type: 'Unconfined' } } });
    expect(linuxSecurityContext(pod, c)).toMatchObject({
      runAsUser: { value: 2000 },
      runAsGroup: { value: 3000 },
      capabilities: { addCapabilities: ['NET_ADMIN'], dropCapabilities: ['ALL'] },
      privileged: true,
      readonlyRootfs: true,
      supplementalGroups: [2000, 5],
      seccomp: { profileType: 'RuntimeDefault' },
    });
  });

  it.each<[string, boolean | undefined, boolean]>([
    ['allowPrivilegeEscalation false sets no_new_privs', false, true],
    ['allowPrivilegeEscalation true leaves it off', true, false],
    ['unset leaves it off', undefined, false],
  ])('%s', (_what, allow, want) => {
    const c: Container = { ...app, securityContext: allow === undefined ? {} : { allowPrivilegeEscalation: allow } };
    expect(linuxSecurityContext(basePod(), c).noNewPrivs).toBe(want);
  });

  it('procMount Unmasked clears the masked and read-only paths', () => {
    const c: Container = { ...app, securityContext: { procMount: 'Unmasked' } };
    expect(linuxSecurityContext(basePod(), c)).toMatchObject({ maskedPaths: [], readonlyPaths: [] });
  });

  it('a Localhost seccomp profile is found under the profile root', () => {
    const c: Container = { ...app, securityContext: { seccompProfile: { type: 'Localhost', localhostProfile: 'audit.json' } } };
    expect(linuxSecurityContext(basePod(), c, { seccompProfileRoot: '/etc/knode/seccomp' }).seccomp).toEqual({ profileType: 'Localhost', localhostRef: '/etc/knode/seccomp/audit.json' });
  });

  it('without runAsUser the image user applies (numeric or by name)', () => {
    expect(linuxSecurityContext(basePod(), app, { imageUser: { uid: 65534 } }).runAsUser).toEqual({ value: 65534 });
    const named = linuxSecurityContext(basePod(), app, { imageUser: { username: 'nobody' } });
    expect(named.runAsUsername).toBe('nobody');
    expect(named.runAsUser).toBeUndefined();
  });

  it.each<[string, Pod['spec']['securityContext'], ContainerConfigOptions['imageUser'], string | undefined]>([
    ['runAsUser 0 breaks the policy', { runAsNonRoot: true, runAsUser: 0 }, undefined, `container's runAsUser breaks non-root policy (pod: "web_default(uid-1)", container: app)`],
    ['an image without a user runs as root', { runAsNonRoot: true }, undefined, 'container has runAsNonRoot and image will run as root (pod: "web_default(uid-1)", container: app)'],
    ['a named image user cannot be verified', { runAsNonRoot: true }, { username: 'app' }, 'container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "web_default(uid-1)", container: app)'],
    ['a non-zero runAsUser passes', { runAsNonRoot: true, runAsUser: 1000 }, undefined, undefined],
    ['a non-root image user passes', { runAsNonRoot: true }, { uid: 1000 }, undefined],
  ])('runAsNonRoot: %s', (_what, securityContext, imageUser, error) => {
    const pod = basePod({ securityContext: securityContext ?? {} });
    const build = (): unknown => buildContainerConfig(pod, app, opts(imageUser ? { imageUser } : {}));
    if (error === undefined) expect(build).not.toThrow();
    else {
      expect(build).toThrow(ContainerConfigError);
      expect(build).toThrow(error);
    }
  });
});

describe('mounts and annotations', () => {
  it('host mounts keep read-only, join subPath, take propagation from the volumeMount, and add the termination log', () => {
    const c: Container = { ...app, volumeMounts: [{ name: 'data', mountPath: '/data', mountPropagation: 'HostToContainer' }] };
    const mounts = criMounts(
      c,
      [
        { hostPath: '/var/lib/kubelet/pods/u/volumes/data', containerPath: '/data', readOnly: true },
        { hostPath: '/var/lib/kubelet/pods/u/volumes/cfg/', containerPath: '/etc/app.conf', readOnly: false, subPath: 'app.conf' },
      ],
      '/var/lib/kubelet/pods/u/containers/app/abc',
    );
    expect(mounts).toEqual([
      { containerPath: '/data', hostPath: '/var/lib/kubelet/pods/u/volumes/data', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' },
      { containerPath: '/etc/app.conf', hostPath: '/var/lib/kubelet/pods/u/volumes/cfg/app.conf', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
      { containerPath: '/dev/termination-log', hostPath: '/var/lib/kubelet/pods/u/containers/app/abc' },
    ]);
  });

  it('a volume mounted at the termination message path is not shadowed', () => {
    const mounts = criMounts(app, [{ hostPath: '/h', containerPath: '/dev/termination-log', readOnly: false }], '/tm');
    expect(mounts).toHaveLength(1);
  });

  it('annotations carry what killing and reporting need without the spec', () => {
    const c: Container = {
      ...app,
      terminationMessagePath: '/tmp/msg',
      terminationMessagePolicy: 'FallbackToLogsOnError',
      lifecycle: { preStop: { exec: { command: ['sleep', '5'] } } },
      ports: [{ containerPort: 80, protocol: 'TCP' }],
    };
    const pod = basePod({ terminationGracePeriodSeconds: 30 }, { deletionGracePeriodSeconds: 10 });
    expect(containerAnnotations(pod, c, 1)).toEqual({
      'io.kubernetes.container.hash': hashContainer(c),
      'io.kubernetes.container.restartCount': '1',
      'io.kubernetes.container.terminationMessagePath': '/tmp/msg',
      'io.kubernetes.container.terminationMessagePolicy': 'FallbackToLogsOnError',
      'io.kubernetes.pod.terminationGracePeriod': '30',
      'io.kubernetes.pod.deletionGracePeriod': '10',
      'io.kubernetes.container.preStopHandler': '{"exec":{"command":["sleep","5"]}}',
      'io.kubernetes.container.ports': '[{"containerPort":80,"protocol":"TCP"}]',
    });
  });
});
