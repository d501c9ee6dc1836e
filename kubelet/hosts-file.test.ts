import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/core/pod.js';
import { ContainerConfigError } from './errors.js';
import { containerMountsEtcHosts, hostsFileFor, managedHostsContent, needsManagedHosts, podHostnameAndDomain, truncateHostname } from './hosts-file.js';
import type { PodRuntimeFacts } from './types.js';

const facts: PodRuntimeFacts = { nodeName: 'node-a', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5'] };
const pod = (spec: Partial<Pod['spec']> = {}, name = 'web-0'): Pod => ({
  metadata: { name, namespace: 'shop', uid: 'u1' },
  spec: { containers: [{ name: 'app' }], ...spec },
});

// Upstream's managedHostsFileContent layout, spelled out line by line.
const HEADER = [
  '# Kubernetes-managed hosts file.',
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];
const lines = (...rest: string[]): string => [...HEADER, ...rest].join('\n') + '\n';

describe('managedHostsContent', () => {
  it('writes the header, localhost lines and one line per pod IP', () => {
    expect(managedHostsContent({ podIPs: ['10.244.1.5'], hostname: 'web-0', hostDomain: '' })).toBe(lines('10.244.1.5\tweb-0'));
  });

  it('puts the FQDN first when the pod has a subdomain, for every pod IP', () => {
    expect(managedHostsContent({ podIPs: ['10.244.1.5', 'fd00::5'], hostname: 'web-0', hostDomain: 'web.shop.svc.cluster.local' })).toBe(
      lines('10.244.1.5\tweb-0.web.shop.svc.cluster.local\tweb-0', 'fd00::5\tweb-0.web.shop.svc.cluster.local\tweb-0'),
    );
  });

  it('appends HostAliases after a blank line, aliases tab-separated', () => {
    expect(
      managedHostsContent({
        podIPs: ['10.244.1.5'],
        hostname: 'web-0',
        hostDomain: '',
        hostAliases: [
          { ip: '127.0.0.1', hostnames: ['foo.local', 'bar.local'] },
          { ip: '10.1.2.3', hostnames: ['foo.remote'] },
        ],
      }),
    ).toBe(lines('10.244.1.5\tweb-0', '', '# Entries added by HostAliases.', '127.0.0.1\tfoo.local\tbar.local', '10.1.2.3\tfoo.remote'));
  });
});

describe('podHostnameAndDomain', () => {
  it.each<[string, Partial<Pod['spec']>, string, { hostname: string; hostDomain: string }]>([
    ['pod name', {}, 'web-0', { hostname: 'web-0', hostDomain: '' }],
    ['spec.hostname', { hostname: 'db' }, 'web-0', { hostname: 'db', hostDomain: '' }],
    ['subdomain', { hostname: 'db', subdomain: 'backend' }, 'web-0', { hostname: 'db', hostDomain: 'backend.shop.svc.cluster.local' }],
  ])('%s', (_name, spec, name, want) => {
    expect(podHostnameAndDomain(pod(spec, name), 'cluster.local')).toEqual(want);
  });

  it('cuts long names to 63 characters without a trailing dash or dot', () => {
    const long = `${'a'.repeat(61)}-.bbbb`;
    expect(truncateHostname(long, long)).toBe('a'.repeat(61));
    expect(podHostnameAndDomain(pod({}, 'x'.repeat(70)), 'cluster.local').hostname).toBe('x'.repeat(63));
  });

  it('refuses an invalid hostname with upstream message', () => {
    expect(() => podHostnameAndDomain(pod({ hostname: 'Bad_Name' }), 'cluster.local')).toThrow(ContainerConfigError);
    expect(() => podHostnameAndDomain(pod({ hostname: 'Bad_Name' }), 'cluster.local')).toThrow('pod Hostname "Bad_Name" is not a valid DNS label');
  });
});

describe('needsManagedHosts and hostsFileFor', () => {
  const mountsHosts: Container = { name: 'own', volumeMounts: [{ name: 'h', mountPath: '/etc/hosts' }] };
  it.each<[string, Partial<Pod['spec']>, boolean]>([
    ['a pod-network pod', {}, true],
    ['a hostNetwork pod', { hostNetwork: true }, false],
    ['a pod whose only container mounts /etc/hosts', { containers: [mountsHosts] }, false],
    ['a pod where one container of two mounts /etc/hosts', { containers: [mountsHosts, { name: 'app' }] }, true],
  ])('%s -> %s', (_name, spec, want) => {
    expect(needsManagedHosts(pod(spec))).toBe(want);
  });

  it('knows which container brings its own /etc/hosts', () => {
    expect(containerMountsEtcHosts(mountsHosts)).toBe(true);
    expect(containerMountsEtcHosts({ name: 'x', volumeMounts: [{ name: 'd', mountPath: '/etc/hosts.d' }] })).toBe(false);
  });

  it('gives the file for a pod with an IP, nothing for hostNetwork or before the IP is known', () => {
    expect(hostsFileFor(pod({ hostAliases: [{ ip: '1.2.3.4', hostnames: ['a'] }] }), facts, 'cluster.local')).toBe(
      lines('10.244.1.5\tweb-0', '', '# Entries added by HostAliases.', '1.2.3.4\ta'),
    );
    expect(hostsFileFor(pod({ hostNetwork: true }), facts, 'cluster.local')).toBeUndefined();
    expect(hostsFileFor(pod(), { ...facts, podIP: '', podIPs: [] }, 'cluster.local')).toBeUndefined();
  });
});
