import { describe, expect, it } from 'vitest';
import { parseUpstream, resolvConfNameservers } from './server.js';

describe('cluster DNS upstreams', () => {
  it('reads the nameservers of a resolv.conf', () => {
    expect(resolvConfNameservers('# generated\nsearch example.com\nnameserver 10.0.0.2\n  nameserver   1.1.1.1  \noptions ndots:2\nnameserver\n')).toEqual(['10.0.0.2', '1.1.1.1']);
  });

  it.each([
    ['10.0.0.2', { host: '10.0.0.2', port: 53 }],
    ['10.0.0.2:5353', { host: '10.0.0.2', port: 5353 }],
    ['fd00::2', { host: 'fd00::2', port: 53 }],
    ['[fd00::2]:5353', { host: 'fd00::2', port: 5353 }],
  ])('parses %s', (text, want) => {
    expect(parseUpstream(text)).toEqual(want);
  });
});
