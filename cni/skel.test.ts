import { describe, expect, it } from 'vitest';
import { CniTryAgainError } from './errors.js';
import { dispatch, type PluginHandlers } from './skel.js';
import type { CniResult } from './types.js';

const result: CniResult = { interfaces: [{ name: 'eth0', mac: 'm' }], ips: [{ address: '10.244.1.2/24', interface: 0 }], routes: [], dns: {} };
const handlers = (over: Partial<PluginHandlers> = {}): PluginHandlers => ({
  add: async () => result,
  del: async () => undefined,
  check: async () => undefined,
  gc: async () => undefined,
  status: async () => undefined,
  ...over,
});
const env = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c', CNI_NETNS: '/n', CNI_IFNAME: 'eth0', CNI_PATH: '/p' };

async function run(e: Record<string, string>, stdin: string, h = handlers()): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await dispatch({ env: e, stdin, write: (t) => (out += t) }, h);
  return { code, out };
}

describe('dispatch', () => {
  it('prints the ADD result in the config\'s version and exits 0', async () => {
    const r = await run(env, JSON.stringify({ cniVersion: '0.4.0', name: 'n' }));
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ cniVersion: '0.4.0', ips: [{ version: '4', address: '10.244.1.2/24' }] });
  });

  it('prints nothing for a successful DEL', async () => {
    expect(await run({ ...env, CNI_COMMAND: 'DEL' }, JSON.stringify({ cniVersion: '1.0.0', name: 'n' }))).toEqual({ code: 0, out: '' });
  });

  it('prints a handler\'s error as the spec\'s JSON in the config\'s version, exit 1', async () => {
    const r = await run(env, JSON.stringify({ cniVersion: '1.0.0', name: 'n' }), handlers({
      add: async () => {
        throw new CniTryAgainError('ERR_CNI_RANGE_FULL', 'no free IP address');
      },
    }));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({ cniVersion: '1.0.0', code: 11, msg: 'no free IP address' });
  });

  it('reports unexpected exceptions as I/O errors (5), never as a crash', async () => {
    const r = await run(env, JSON.stringify({ cniVersion: '1.1.0', name: 'n' }), handlers({
      add: async () => {
        throw new Error('EACCES: permission denied');
      },
    }));
    expect(JSON.parse(r.out)).toEqual({ cniVersion: '1.1.0', code: 5, msg: 'I/O error: EACCES: permission denied' });
  });

  it('uses the latest version for errors when the config cannot be read', async () => {
    const r = await run(env, '{oops');
    expect(JSON.parse(r.out)).toMatchObject({ cniVersion: '1.1.0', code: 6 });
  });
});
