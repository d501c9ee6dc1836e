import { describe, expect, it } from 'vitest';
import { cidrFlag, parseDuration, portFlag } from './flags.js';

describe('parseDuration', () => {
  const cases: Array<[string, number | undefined]> = [
    ['500ms', 500],
    ['1s', 1000],
    ['1.5s', 1500],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['', undefined],
    ['10', undefined],
    ['1x', undefined],
    ['s', undefined],
  ];
  it.each(cases)('%j -> %j', (text, ms) => expect(parseDuration(text)).toBe(ms));
});

describe('flag parsers name the flag and the bad value', () => {
  it('ports', () => {
    expect(portFlag('--port')('6443')).toBe(6443);
    expect(() => portFlag('--port')('0')).toThrow('--port must be a port number between 1 and 65535, got "0".');
  });
  it('CIDRs', () => {
    expect(cidrFlag('--service-cidr')('10.96.0.0/12')).toBe('10.96.0.0/12');
    expect(() => cidrFlag('--service-cidr')('10.96.0.1/12')).toThrow('host bits are set (did you mean 10.96.0.0/12?)');
    expect(() => cidrFlag('--service-cidr')('nonsense')).toThrow('invalid CIDR "nonsense"');
  });
});
