import { describe, expect, it } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import { buildSandboxConfig, namespaceOptionsForPod, podHostnameAndDomain, podLogDirectory, portMappingsForPod, SandboxConfigError, sandboxHostname } from './sandbox-config.js';

function basePod(spec: Partial<Pod['spec']> = {}, meta: Partial<Pod['metadata']> = {}): Pod {
  return {
    metadata: { name: 'web', namespace: 'default', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'x' }, ...meta },
    spec: { containers: [{ name: 'app', image: 'busybox:1.36' }], ...spec },
  };
}

const dns = { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };

describe('buildSandboxConfig', () => {
  it('describes a plain pod: metadata, hostname, log dir, DNS, labels, annotations, linux defaults', () => {
    expect(buildSandboxConfig(basePod(), { attempt: 2, dnsConfig: dns, cgroupParent: '/kubepods/besteffort/poduid-1' })).toEqual({
      metadata: { name: 'web', namespace: 'default', uid: 'uid-1', attempt: 2 },
      hostname: 'web',
      logDirectory: '/var/log/pods/default_web_uid-1',
      dnsConfig: dns,
      labels: { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'default', 'io.kubernetes.pod.uid': 'uid-1' },
      annotations: { 'kubernetes.io/config.source': 'api', note: 'x' },
      linux: {
        cgroupParent: '/kubepods/besteffort/poduid-1',
        securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }, privileged: false, seccomp: { profileType: 'RuntimeDefault' } },
        sysctls: {},
      },
    });
  });

  it('a hostNetwork pod has no hostname and the node network namespace (containerd requires it)', async () => {
    const config = buildSandboxConfig(basePod({ hostNetwork: true }), { attempt: 0 });
    expect(config.hostname).toBeUndefined();
    expect(config.linux?.securityContext?.namespaceOptions?.network).toBe('NODE');
    // the fake runtime enforces containerd's rule
    const runtime = new FakeRuntimeService();
    await expect(runtime.runPodSandbox({ config })).resolves.toHaveProperty('podSandboxId');
  });

  it('pod labels cannot override the kubelet labels', () => {
    const config = buildSandboxConfig(basePod({}, { labels: { 'io.kubernetes.pod.uid': 'forged' } }), { attempt: 0 });
    expect(config.labels?.['io.kubernetes.pod.uid']).toBe('uid-1');
  });

  it('carries the pod security context: user, group, groups (fsGroup first), SELinux, sysctls, privileged', () => {
    const pod = basePod({
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000], seLinuxOptions: { level: 's0:c1' }, sysctls: [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }] },
      initContainers: [{ name: 'init', image: 'busybox', securityContext: { privileged: true } }],
    });
    const linux = buildSandboxConfig(pod, { attempt: 0 }).linux;
    expect(linux?.sysctls).toEqual({ 'net.ipv4.ip_unprivileged_port_start': '0' });
    expect(linux?.securityContext).toMatchObject({
      privileged: true,
      runAsUser: { value: 1000 },
      runAsGroup: { value: 3000 },
      supplementalGroups: [2000, 4000],
      selinuxOptions: { level: 's0:c1' },
    });
  });

  it('uses the configured log root and config source', () => {
    const config = buildSandboxConfig(basePod(), { attempt: 0, podLogsDir: '/tmp/logs/', configSource: 'file' });
    expect(config.logDirectory).toBe('/tmp/logs/default_web_uid-1');
    expect(config.annotations?.['kubernetes.io/config.source']).toBe('file');
  });
});

describe('port mappings', () => {
  it('maps every container port with protocol and host IP, as the HostPort conformance test needs', () => {
    const pod = basePod({
      containers: [
        { name: 'a', image: 'x', ports: [{ containerPort: 8080, hostPort: 54323, hostIP: '127.0.0.1', protocol: 'TCP' }] },
        { name: 'b', image: 'x', ports: [{ containerPort: 8081, hostPort: 54323, protocol: 'UDP' }, { containerPort: 9090 }] },
      ],
    });
    expect(portMappingsForPod(pod)).toEqual([
      { protocol: 'TCP', containerPort: 8080, hostPort: 54323, hostIp: '127.0.0.1' },
      { protocol: 'UDP', containerPort: 8081, hostPort: 54323, hostIp: '' },
      { protocol: 'TCP', containerPort: 9090, hostPort: 0, hostIp: '' },
    ]);
  });

  it('drops a repeated port name within a container', () => {
    const pod = basePod({ containers: [{ name: 'a', image: 'x', ports: [{ name: 'http', containerPort: 80 }, { name: 'http', containerPort: 81 }] }] });
    expect(portMappingsForPod(pod).map((p) => p.containerPort)).toEqual([80]);
  });

  it('omits portMappings when there are none', () => {
    expect(buildSandboxConfig(basePod(), { attempt: 0 })).not.toHaveProperty('portMappings');
  });
});

describe('hostname, namespaces, log directory', () => {
  it.each<[string, Partial<Pod['spec']>, string]>([
    ['the pod name by default', {}, 'web'],
    ['spec.hostname when set', { hostname: 'box' }, 'box'],
    ['the FQDN with setHostnameAsFQDN and a subdomain', { hostname: 'box', subdomain: 'sub', setHostnameAsFQDN: true }, 'box.sub.default.svc.cluster.local'],
    ['the short name with a subdomain but no setHostnameAsFQDN', { subdomain: 'sub' }, 'web'],
  ])('hostname is %s', (_what, spec, want) => {
    expect(sandboxHostname(basePod(spec))).toBe(want);
  });

  it('a long pod name is cut to 63 characters without a trailing dash', () => {
    const name = `${'a'.repeat(62)}-bcd`;
    expect(podHostnameAndDomain(basePod({}, { name })).hostname).toBe('a'.repeat(62));
  });

  it('an FQDN over 64 characters is refused with upstream wording', () => {
    const pod = basePod({ hostname: 'h'.repeat(40), subdomain: 'sub', setHostnameAsFQDN: true });
    expect(() => sandboxHostname(pod)).toThrow(SandboxConfigError);
    expect(() => sandboxHostname(pod)).toThrow(/FQDN .* is too long \(64 characters is the max, 70 characters requested\)/);
  });

  it.each<[string, Partial<Pod['spec']>, object]>([
    ['a plain pod', {}, { network: 'POD', pid: 'CONTAINER', ipc: 'POD' }],
    ['host namespaces', { hostNetwork: true, hostPID: true, hostIPC: true }, { network: 'NODE', pid: 'NODE', ipc: 'NODE' }],
    ['a shared process namespace', { shareProcessNamespace: true }, { network: 'POD', pid: 'POD', ipc: 'POD' }],
  ])('namespace modes of %s', (_what, spec, want) => {
    expect(namespaceOptionsForPod(basePod(spec))).toEqual(want);
  });

  it('podLogDirectory is <root>/<ns>_<name>_<uid>', () => {
    expect(podLogDirectory(basePod())).toBe('/var/log/pods/default_web_uid-1');
  });
});
