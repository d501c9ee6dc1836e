import { describe, expect, it } from 'vitest';
import { bootstrapTokenSecret } from '../control-plane/apiserver/auth/bootstrap-token.js';
import { formatTokenTable, parseTtl } from './token.js';

describe('parseTtl', () => {
  it.each([
    ['24h', 86_400],
    ['90m', 5_400],
    ['1h30m', 5_400],
    ['0', 0],
  ])('%s is %i seconds', (text, seconds) => {
    expect(parseTtl(text)).toBe(seconds);
  });

  it.each(['', '10', 'forever', '-1h', '500ms'])('refuses %j with one sentence naming the flag', (text) => {
    expect(() => parseTtl(text)).toThrow(/^--ttl must be a duration/);
  });
});

describe('formatTokenTable', () => {
  it("lists tokens with kubeadm's columns", () => {
    const now = new Date(Date.UTC(2026, 0, 1));
    const lasting = bootstrapTokenSecret('abcdef.0123456789abcdef', { ttlSeconds: 7200, description: 'join w1', groups: ['system:bootstrappers:kubeadm:default-node-token'], now });
    const forever = bootstrapTokenSecret('zyxwvu.0123456789abcdef', { now });
    const out = formatTokenTable([lasting, forever], now).split('\n');
    expect(out[0]).toMatch(/^TOKEN\s+TTL\s+EXPIRES\s+USAGES\s+DESCRIPTION\s+EXTRA GROUPS$/);
    expect(out[1]).toMatch(/^abcdef\.0123456789abcdef\s+120m\s+2026-01-01T02:00:00Z\s+authentication,signing\s+join w1\s+system:bootstrappers:kubeadm:default-node-token$/);
    expect(out[2]).toMatch(/^zyxwvu\.0123456789abcdef\s+<forever>\s+<never>\s+authentication,signing\s+<none>\s+<none>$/);
  });

  it('shows an expired token as such', () => {
    const then = new Date(Date.UTC(2026, 0, 1));
    const s = bootstrapTokenSecret('abcdef.0123456789abcdef', { ttlSeconds: 60, now: then });
    expect(formatTokenTable([s], new Date(Date.UTC(2026, 0, 2)))).toContain('<expired>');
  });
});
