import { describe, expect, it } from 'vitest';
import { BenchArgError, DEFAULTS, parseBenchArgs } from './args.js';

describe('parseBenchArgs', () => {
  it('gives the documented defaults with no flags', () => {
    expect(parseBenchArgs([])).toEqual({ ...DEFAULTS });
    expect(DEFAULTS).toMatchObject({ objects: 10_000, clients: 32, watchers: 100, sync: 'FULL', etcd: true, mutations: 1000 });
  });

  const accepted: ReadonlyArray<{ name: string; argv: string[]; expected: Record<string, unknown> }> = [
    { name: 'space-separated values', argv: ['--objects', '2000', '--clients', '8'], expected: { objects: 2000, clients: 8 } },
    { name: 'flag=value form', argv: ['--watchers=5', '--sync=NORMAL'], expected: { watchers: 5, sync: 'NORMAL' } },
    { name: 'lower-case sync mode', argv: ['--sync', 'normal'], expected: { sync: 'NORMAL' } },
    { name: 'the server on etcd', argv: ['--store', 'etcd'], expected: { store: 'etcd' } },
    { name: 'the default store', argv: [], expected: { store: 'sqlite' } },
    { name: '--no-etcd', argv: ['--no-etcd'], expected: { etcd: false } },
    { name: 'zero watchers (skip the watch phase)', argv: ['--watchers', '0'], expected: { watchers: 0 } },
    { name: 'updates and deletes capped at the object count', argv: ['--objects', '300'], expected: { objects: 300, mutations: 300 } },
    { name: 'a CPU profile directory', argv: ['--cpu-prof', '/tmp/prof'], expected: { cpuProfDir: '/tmp/prof' } },
    { name: '--help', argv: ['--help'], expected: { help: true } },
  ];
  it.each(accepted)('accepts $name', ({ argv, expected }) => {
    expect(parseBenchArgs(argv)).toMatchObject(expected);
  });

  const rejected: ReadonlyArray<{ name: string; argv: string[]; message: RegExp }> = [
    { name: 'a non-number', argv: ['--objects', 'lots'], message: /--objects must be a whole number from 1 to 200000, got "lots"/ },
    { name: 'zero objects', argv: ['--objects', '0'], message: /--objects must be a whole number/ },
    { name: 'too many clients', argv: ['--clients', '100000'], message: /--clients must be a whole number from 1 to 512/ },
    { name: 'a fraction', argv: ['--watchers', '1.5'], message: /--watchers must be a whole number/ },
    { name: 'a missing value', argv: ['--objects'], message: /--objects needs a value/ },
    { name: 'a flag where a value belongs', argv: ['--clients', '--no-etcd'], message: /--clients needs a value/ },
    { name: 'an unknown sync mode', argv: ['--sync', 'OFF'], message: /--sync must be FULL or NORMAL, got "OFF"/ },
    { name: 'an unknown store', argv: ['--store', 'postgres'], message: /--store must be sqlite or etcd, got "postgres"/ },
    { name: 'a value on --no-etcd', argv: ['--no-etcd=1'], message: /--no-etcd takes no value/ },
    { name: 'an unknown flag', argv: ['--object', '5'], message: /unknown flag "--object"/ },
  ];
  it.each(rejected)('rejects $name with one sentence naming the flag', ({ argv, message }) => {
    expect(() => parseBenchArgs(argv)).toThrow(BenchArgError);
    expect(() => parseBenchArgs(argv)).toThrow(message);
  });
});
