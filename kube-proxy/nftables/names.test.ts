import { describe, expect, it } from 'vitest';
import { servicePortsFromService } from '../model.js';
import { service } from '../testing/fixtures.js';
import { servicePortNames } from './names.js';

describe('servicePortNames', () => {
  const [http, plain] = servicePortsFromService(
    service('web', {
      clusterIP: '10.96.0.10',
      ports: [
        { name: 'http', port: 80 },
        { name: '', port: 8443, protocol: 'UDP' },
      ],
    }),
  );

  it('are stable: sha256 of the key, 8 hex digits, then a readable tail (a partial sync relies on it)', () => {
    if (http === undefined) throw new Error('no port');
    const n = servicePortNames(http);
    expect(n.cluster).toBe('service-95253a1d-default/web/tcp/http');
    expect(n.local).toBe('local-95253a1d-default/web/tcp/http');
    expect(n.external).toBe('external-95253a1d-default/web/tcp/http');
    expect(n.endpoint('10.244.1.5', 8080)).toEqual({
      chain: 'endpoint-4aae67e3-default/web/tcp/http__10.244.1.5/8080',
      affinitySet: 'affinity-4aae67e3-default/web/tcp/http__10.244.1.5/8080',
    });
  });

  it('an unnamed port shows its number; distinct keys get distinct hashes', () => {
    if (http === undefined || plain === undefined) throw new Error('no port');
    expect(servicePortNames(plain).cluster).toMatch(/^service-[0-9a-f]{8}-default\/web\/udp\/8443$/);
    expect(servicePortNames(plain).cluster.slice(0, 16)).not.toBe(servicePortNames(http).cluster.slice(0, 16));
  });

  it('fit the kernel limit of 256 bytes even for the longest Kubernetes names', () => {
    const long = servicePortsFromService(
      { ...service('x', { clusterIP: '10.96.0.11', ports: [{ name: 'a'.repeat(15), port: 1 }] }), metadata: { namespace: 'n'.repeat(63), name: 's'.repeat(63) } },
    )[0];
    if (long === undefined) throw new Error('no port');
    expect(servicePortNames(long).endpoint('255.255.255.255', 65535).affinitySet.length).toBeLessThan(256);
  });
});
