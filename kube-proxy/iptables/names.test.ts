import { describe, expect, it } from 'vitest';
import { state, service } from '../testing/fixtures.js';
import { hash16, iptablesChainNames, servicePortLabel } from './names.js';

describe('iptables chain names', () => {
  // Reference values: Python's base64.b32encode(hashlib.sha256(s).digest())[:16]
  it.each([
    ['default/web/tcp/http', 'SUSTUHLJ5NERIIXD'],
    ['x', 'FVYRMQVXE2YEIALC'],
  ])('hash16(%s) is the first 16 base32 characters of its SHA-256', (s, want) => {
    expect(hash16(s)).toBe(want);
  });

  const sp = [...state([service('web', { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80 }] })]).services.values()][0];

  it('are stable, share one hash per service port, and fit iptables’ 28 characters', () => {
    if (sp === undefined) throw new Error('no service port');
    const n = iptablesChainNames(sp);
    expect(n.svc).toBe('KNODE-SVC-SUSTUHLJ5NERIIXD');
    expect(n.svl).toBe('KNODE-SVL-SUSTUHLJ5NERIIXD');
    expect(n.ext).toBe('KNODE-EXT-SUSTUHLJ5NERIIXD');
    expect(n.sep('10.244.1.5', 8080)).toMatch(/^KNODE-SEP-[A-Z2-7]{16}$/);
    expect(n.sep('10.244.1.5', 8080)).toBe(iptablesChainNames(sp).sep('10.244.1.5', 8080));
    expect(n.sep('10.244.1.5', 8080)).not.toBe(n.sep('10.244.1.5', 8081));
    for (const name of [n.svc, n.sep('255.255.255.255', 65535)]) expect(name.length).toBeLessThanOrEqual(28);
    expect(servicePortLabel(sp)).toBe('default/web:http');
  });
});
