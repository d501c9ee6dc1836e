import { describe, expect, it } from 'vitest';
import { CniError } from './errors.js';
import { parseCniArgs, parseRequest, type CniEnv } from './request.js';

const conf = (extra: Record<string, unknown> = {}) => JSON.stringify({ cniVersion: '1.1.0', name: 'knode', type: 'knode-cni', podCIDR: '10.244.1.0/24', ...extra });
const addEnv: CniEnv = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/run/netns/p1', CNI_IFNAME: 'eth0', CNI_PATH: '/opt/cni/bin' };

function codeOf(env: CniEnv, stdin: string): number | undefined {
  try {
    parseRequest(env, stdin);
    return undefined;
  } catch (err) {
    return err instanceof CniError ? err.cniCode : -1;
  }
}

describe('parseRequest', () => {
  it('turns an ADD environment and config into a typed request with defaults', () => {
    const req = parseRequest({ ...addEnv, CNI_ARGS: 'K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;IgnoreUnknown=1' }, conf());
    expect(req).toMatchObject({
      command: 'ADD',
      containerId: 'c1',
      ifname: 'eth0',
      netns: '/run/netns/p1',
      args: { K8S_POD_NAME: 'web', K8S_POD_NAMESPACE: 'default' },
      conf: { bridge: 'knode0', hairpinMode: true, dataDir: '/var/lib/knode/cni/knode', nodeStateFile: '/run/knode/cni/knode/node.json' },
    });
  });

  it('answers VERSION without any other variable or config', () => {
    expect(parseRequest({ CNI_COMMAND: 'VERSION' }, '')).toEqual({ command: 'VERSION' });
  });

  it('lets DEL go without CNI_NETNS (the namespace may be gone)', () => {
    const { CNI_NETNS: _, ...env } = addEnv;
    expect(parseRequest({ ...env, CNI_COMMAND: 'DEL' }, conf())).toMatchObject({ command: 'DEL', containerId: 'c1' });
  });

  it('reads GC valid attachments, also under the older key', () => {
    const env = { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' };
    const list = [{ containerID: 'a', ifname: 'eth0' }];
    expect(parseRequest(env, conf({ 'cni.dev/valid-attachments': list }))).toMatchObject({ validAttachments: [{ containerId: 'a', ifname: 'eth0' }] });
    expect(parseRequest(env, conf({ 'cni.dev/attachments': list }))).toMatchObject({ validAttachments: [{ containerId: 'a', ifname: 'eth0' }] });
  });

  const errors: { name: string; env: CniEnv; stdin?: string; code: number }[] = [
    { name: 'no CNI_COMMAND -> 4', env: {}, code: 4 },
    { name: 'unknown CNI_COMMAND -> 4', env: { CNI_COMMAND: 'FROB' }, code: 4 },
    { name: 'ADD without CNI_NETNS -> 4', env: { ...addEnv, CNI_NETNS: '' }, code: 4 },
    { name: 'ADD without CNI_PATH -> 4', env: { ...addEnv, CNI_PATH: undefined }, code: 4 },
    { name: 'container ID with a slash -> 4', env: { ...addEnv, CNI_CONTAINERID: '../etc' }, code: 4 },
    { name: 'interface name longer than 15 -> 4', env: { ...addEnv, CNI_IFNAME: 'eth0123456789012' }, code: 4 },
    { name: 'relative netns path -> 4', env: { ...addEnv, CNI_NETNS: 'netns/p1' }, code: 4 },
    { name: 'CNI_ARGS without = -> 4', env: { ...addEnv, CNI_ARGS: 'garbage' }, code: 4 },
    { name: 'stdin not JSON -> 6', env: addEnv, stdin: '{not json', code: 6 },
    { name: 'stdin a JSON list -> 6', env: addEnv, stdin: '[]', code: 6 },
    { name: 'no cniVersion -> 7', env: addEnv, stdin: JSON.stringify({ name: 'knode' }), code: 7 },
    { name: 'unsupported cniVersion -> 1', env: addEnv, stdin: conf({ cniVersion: '0.2.0' }), code: 1 },
    { name: 'bad network name -> 7', env: addEnv, stdin: conf({ name: '-bad/name' }), code: 7 },
    { name: 'podCIDR with host bits -> 7', env: addEnv, stdin: conf({ podCIDR: '10.244.1.1/24' }), code: 7 },
    { name: 'mtu out of range -> 7', env: addEnv, stdin: conf({ mtu: 100 }), code: 7 },
    { name: 'relative dataDir -> 7', env: addEnv, stdin: conf({ dataDir: 'data' }), code: 7 },
    { name: 'CHECK in a 0.3.1 config -> 1', env: { ...addEnv, CNI_COMMAND: 'CHECK' }, stdin: conf({ cniVersion: '0.3.1' }), code: 1 },
    { name: 'GC in a 1.0.0 config -> 1', env: { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, stdin: conf({ cniVersion: '1.0.0' }), code: 1 },
    { name: 'STATUS in a 0.4.0 config -> 1', env: { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, stdin: conf({ cniVersion: '0.4.0' }), code: 1 },
    { name: 'GC without valid attachments -> 7', env: { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, code: 7 },
    { name: 'port mapping with a bad protocol -> 7', env: addEnv, stdin: conf({ runtimeConfig: { portMappings: [{ hostPort: 1, containerPort: 1, protocol: 'icmp' }] } }), code: 7 },
  ];
  it.each(errors)('$name', ({ env, stdin, code }) => {
    expect(codeOf(env, stdin ?? conf())).toBe(code);
  });

  it('names the missing variables in its message', () => {
    expect(() => parseRequest({ CNI_COMMAND: 'ADD' }, conf())).toThrow('ADD needs environment variables CNI_CONTAINERID, CNI_NETNS, CNI_IFNAME, CNI_PATH');
  });
});

describe('parseCniArgs', () => {
  it('splits KEY=VALUE pairs, keeping = inside values', () => {
    expect(parseCniArgs('A=1;B=x=y;')).toEqual({ A: '1', B: 'x=y' });
    expect(parseCniArgs(undefined)).toEqual({});
  });
});
