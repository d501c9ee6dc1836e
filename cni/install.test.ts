import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ExecCall, ExecOptions, ExecResult } from '../lib/exec.js';
import { FakeExec } from '../lib/exec.js';
import type { ActiveCni } from './install.js';
import { CLIENT_CONFIG_MARKER, CLIENT_CONFIG_SIZE, readClientConfig } from './client/embed.js';
import { thinClientScript } from './thin-client.js';
import {
  DEFAULT_CNI_SOCKET,
  DEFAULT_CONF_FILE,
  GC_MIN_AGE_SECONDS,
  builtPluginPath,
  ensureCniInstalled,
  gcAllocations,
  gcRequest,
  knodeConflist,
  parseActiveConfig,
} from './install.js';

describe('knodeConflist', () => {
  const base = {
    cniVersion: '1.0.0',
    name: 'knode',
    plugins: [{ type: 'knode-cni', capabilities: { portMappings: true } }],
  };
  it.each<[string, Parameters<typeof knodeConflist>[0], Record<string, unknown>]>([
    ['only the network: no dataDir, no nodeStateFile', { network: 'knode' }, base],
    [
      'with a data dir',
      { network: 'lab1', dataDir: '/var/lib/x' },
      { ...base, name: 'lab1', plugins: [{ type: 'knode-cni', dataDir: '/var/lib/x', capabilities: { portMappings: true } }] },
    ],
    [
      'with a node state file',
      { network: 'n', nodeStateFile: '/run/x/node.json' },
      { ...base, name: 'n', plugins: [{ type: 'knode-cni', nodeStateFile: '/run/x/node.json', capabilities: { portMappings: true } }] },
    ],
    [
      'with both',
      { network: 'n', dataDir: '/d', nodeStateFile: '/s.json' },
      { ...base, name: 'n', plugins: [{ type: 'knode-cni', dataDir: '/d', nodeStateFile: '/s.json', capabilities: { portMappings: true } }] },
    ],
  ])('%s', (_name, opts, want) => {
    const got = knodeConflist(opts);
    // toStrictEqual: an absent key must be absent, not present as undefined
    expect(got).toStrictEqual(want);
  });
});

describe('builtPluginPath', () => {
  it.each([
    ['the bundled CLI', '/repo/dist/cli/main.js', '/repo/dist/cni/knode-cni.js'],
    ['a bundled chunk', '/repo/dist/chunks/x.js', '/repo/dist/cni/knode-cni.js'],
    ['a bundled bench', '/repo/dist/bench/pod-start.js', '/repo/dist/cni/knode-cni.js'],
    ['a source file one level down (tests, tsx)', '/repo/kubelet/main.ts', '/repo/dist/cni/knode-cni.js'],
    ['this module from source', '/repo/cni/install.ts', '/repo/dist/cni/knode-cni.js'],
  ])('from %s (%s) is %s', (_what, from, want) => {
    expect(builtPluginPath(from)).toBe(want);
  });
});

describe('parseActiveConfig', () => {
  it.each<[string, string, Record<string, unknown>, Omit<ReturnType<typeof parseActiveConfig>, 'plugin'>]>([
    [
      'a conflist running knode-cni with nodeStateFile',
      '/etc/cni/net.d/10-knode.conflist',
      { cniVersion: '1.0.0', name: 'lab', plugins: [{ type: 'knode-cni', nodeStateFile: '/run/lab/node.json', dataDir: '/var/lib/lab' }] },
      { network: 'lab', nodeStateFile: '/run/lab/node.json' },
    ],
    [
      'a conflist running knode-cni without nodeStateFile: the default for the network',
      '/etc/cni/net.d/10-knode.conflist',
      { cniVersion: '1.0.0', name: 'knode', plugins: [{ type: 'knode-cni' }] },
      { network: 'knode', nodeStateFile: '/run/knode/cni/knode/node.json' },
    ],
    [
      'a conflist with knode-cni after another plugin',
      '/etc/cni/net.d/10-knode.conflist',
      { cniVersion: '1.0.0', name: 'chain', plugins: [{ type: 'tuning' }, { type: 'knode-cni' }] },
      { network: 'chain', nodeStateFile: '/run/knode/cni/chain/node.json' },
    ],
    [
      'a single .conf of type knode-cni',
      '/etc/cni/net.d/10-knode.conf',
      { cniVersion: '0.4.0', name: 'single', type: 'knode-cni' },
      { network: 'single', nodeStateFile: '/run/knode/cni/single/node.json' },
    ],
  ])('%s', (_name, file, conf, want) => {
    const got = parseActiveConfig(file, JSON.stringify(conf));
    expect(got).toMatchObject(want);
    expect(got.plugin).toBeDefined();
    expect(got.plugin?.['type']).toBe('knode-cni');
  });

  it('keeps the knode-cni entry as it is (its own keys are what GC must pass)', () => {
    const entry = { type: 'knode-cni', dataDir: '/var/lib/lab', bridge: 'br9', capabilities: { portMappings: true } };
    const got = parseActiveConfig('/c/10.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'lab', plugins: [{ type: 'x' }, entry] }));
    expect(got.plugin).toEqual(entry);
  });

  it.each<[string, Record<string, unknown>]>([
    ['a conflist of another plugin', { cniVersion: '1.0.0', name: 'cbr0', plugins: [{ type: 'bridge' }, { type: 'portmap' }] }],
    ['a single .conf of another plugin', { cniVersion: '0.4.0', name: 'cbr0', type: 'bridge' }],
    ['a conflist with no plugins', { cniVersion: '1.0.0', name: 'cbr0', plugins: [] }],
  ])('%s: no plugin, no node state file', (_name, conf) => {
    expect(parseActiveConfig('/c/05-other.conflist', JSON.stringify(conf))).toStrictEqual({ network: 'cbr0' });
  });

  it.each([
    ['invalid JSON', '{"name": ', /the CNI config \/c\/bad\.conflist is not valid JSON/],
    ['no name', JSON.stringify({ cniVersion: '1.0.0', plugins: [{ type: 'knode-cni' }] }), /the CNI config \/c\/bad\.conflist has no "name"/],
    ['an empty name', JSON.stringify({ cniVersion: '1.0.0', name: '', type: 'knode-cni' }), /the CNI config \/c\/bad\.conflist has no "name"/],
    ['a name that is not a string', JSON.stringify({ cniVersion: '1.0.0', name: 7, type: 'knode-cni' }), /has no "name"/],
    ['not an object', '[1, 2]', /the CNI config \/c\/bad\.conflist has no "name"/],
    ['null', 'null', /the CNI config \/c\/bad\.conflist has no "name"/],
  ])('rejects %s naming the file', (_name, text, want) => {
    expect(() => parseActiveConfig('/c/bad.conflist', text)).toThrow(want);
  });
});

describe('ensureCniInstalled', () => {
  let root: string;
  let confDir: string;
  let binDir: string;
  let pluginPath: string;
  let loopbackPath: string;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'knode-cni-install-'));
    confDir = join(root, 'etc', 'cni', 'net.d');
    binDir = join(root, 'opt', 'cni', 'bin');
    pluginPath = join(root, 'dist', 'cni', 'knode-cni.js');
    loopbackPath = join(root, 'usr', 'lib', 'cni', 'loopback');
    await mkdir(join(root, 'dist', 'cni'), { recursive: true });
    await writeFile(pluginPath, '#!/usr/bin/env node\n', { mode: 0o755 });
    await mkdir(join(root, 'usr', 'lib', 'cni'), { recursive: true });
    await writeFile(loopbackPath, 'dummy loopback\n', { mode: 0o755 });
  });

  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  const install = (extra: { loopbackPath?: string } = {}): Promise<ActiveCni> =>
    ensureCniInstalled({ confDir, binDir, pluginPath, loopbackPath, ...extra });

  // neither dir exists yet: both are created, however deep
  it('installs into missing dirs: the plugin and loopback links and the default conflist', async () => {
    const active = await install();
    const conf = join(confDir, DEFAULT_CONF_FILE);
    expect(active.created).toEqual([join(binDir, 'knode-cni'), join(binDir, 'loopback'), conf]);
    expect(await readlink(join(binDir, 'knode-cni'))).toBe(pluginPath);
    expect(await readlink(join(binDir, 'loopback'))).toBe(loopbackPath);
    expect(JSON.parse(await readFile(conf, 'utf8'))).toEqual(knodeConflist({ network: 'knode' }));
    expect((await stat(conf)).mode & 0o777).toBe(0o644);
    // no temp file from the atomic write is left behind for the runtime to trip over
    expect(await readdir(confDir)).toEqual([DEFAULT_CONF_FILE]);
    expect(active).toStrictEqual({
      confFile: conf,
      created: active.created,
      network: 'knode',
      plugin: { type: 'knode-cni', capabilities: { portMappings: true } },
      nodeStateFile: '/run/knode/cni/knode/node.json',
    });
  });

  it('is idempotent: a second call creates nothing and reports the same config', async () => {
    const first = await install();
    const text = await readFile(first.confFile, 'utf8');
    const second = await install();
    expect(second.created).toEqual([]);
    expect({ ...second, created: first.created }).toStrictEqual(first);
    expect(await readFile(first.confFile, 'utf8')).toBe(text);
    expect((await readdir(binDir)).sort()).toEqual(['knode-cni', 'loopback']);
  });

  it('links loopback only when the bin dir has none', async () => {
    await mkdir(binDir, { recursive: true });
    await writeFile(join(binDir, 'loopback'), 'the real one\n');
    const active = await install();
    expect(active.created).not.toContain(join(binDir, 'loopback'));
    const st = await lstat(join(binDir, 'loopback'));
    expect(st.isSymbolicLink()).toBe(false);
    expect(await readFile(join(binDir, 'loopback'), 'utf8')).toBe('the real one\n');
  });

  it('skips loopback when the source does not exist either', async () => {
    const active = await install({ loopbackPath: join(root, 'nowhere', 'loopback') });
    expect(active.created).not.toContain(join(binDir, 'loopback'));
    expect(await readdir(binDir)).toEqual(['knode-cni']);
  });

  it('keeps an existing, working knode-cni in the bin dir (never clobbers)', async () => {
    await mkdir(binDir, { recursive: true });
    const elsewhere = join(root, 'other-knode-cni.js');
    await writeFile(elsewhere, '// an operator\'s own build\n');
    await symlink(elsewhere, join(binDir, 'knode-cni'));
    const active = await install();
    expect(active.created).not.toContain(join(binDir, 'knode-cni'));
    expect(await readlink(join(binDir, 'knode-cni'))).toBe(elsewhere);
  });

  it('replaces a dangling knode-cni link (the bundle moved) with one to the bundle', async () => {
    await mkdir(binDir, { recursive: true });
    await symlink(join(root, 'gone', 'knode-cni.js'), join(binDir, 'knode-cni'));
    const active = await install();
    expect(active.created).toContain(join(binDir, 'knode-cni'));
    expect(await readlink(join(binDir, 'knode-cni'))).not.toContain('gone');
  });

  it('never overwrites an existing config, and reports the first in name order as active', async () => {
    await mkdir(confDir, { recursive: true });
    const other = join(confDir, '05-other.conflist');
    const otherText = `${JSON.stringify({ cniVersion: '1.0.0', name: 'cbr0', plugins: [{ type: 'bridge', bridge: 'cni0' }] }, null, 4)}\n`;
    await writeFile(other, otherText);
    const later = join(confDir, '20-knode.conflist');
    const laterText = JSON.stringify(knodeConflist({ network: 'later' }));
    await writeFile(later, laterText);

    const active = await install();
    expect(await readFile(other, 'utf8')).toBe(otherText);
    expect(await readFile(later, 'utf8')).toBe(laterText);
    expect((await readdir(confDir)).sort()).toEqual(['05-other.conflist', '20-knode.conflist']);
    expect(active.created).not.toContain(join(confDir, DEFAULT_CONF_FILE));
    expect(active.confFile).toBe(other);
    expect(active.network).toBe('cbr0');
    expect(active.plugin).toBeUndefined();
    expect(active.nodeStateFile).toBeUndefined();
  });

  it.each([
    ['a .conf', '99-single.conf', { cniVersion: '0.4.0', name: 'single', type: 'knode-cni', nodeStateFile: '/run/s.json' }, 'single', '/run/s.json'],
    ['a .json', '50-net.json', { cniVersion: '1.0.0', name: 'j', plugins: [{ type: 'knode-cni' }] }, 'j', '/run/knode/cni/j/node.json'],
  ])('counts %s as a config and uses it', async (_what, file, conf, network, nodeStateFile) => {
    await mkdir(confDir, { recursive: true });
    await writeFile(join(confDir, file), JSON.stringify(conf));
    const active = await install();
    expect(await readdir(confDir)).toEqual([file]);
    expect(active).toMatchObject({ confFile: join(confDir, file), network, nodeStateFile });
    expect(active.plugin?.['type']).toBe('knode-cni');
  });

  it('writes the default conflist when the conf dir holds only non-config files', async () => {
    await mkdir(confDir, { recursive: true });
    await writeFile(join(confDir, 'README'), 'notes\n');
    await writeFile(join(confDir, '05-old.conflist.bak'), '{}');
    const active = await install();
    expect(active.created).toContain(join(confDir, DEFAULT_CONF_FILE));
    expect(active.confFile).toBe(join(confDir, DEFAULT_CONF_FILE));
    expect(await readFile(join(confDir, '05-old.conflist.bak'), 'utf8')).toBe('{}');
  });

  it('reports a broken active config naming the file', async () => {
    await mkdir(confDir, { recursive: true });
    await writeFile(join(confDir, '00-broken.conflist'), '{ nope');
    await expect(install()).rejects.toThrow(`the CNI config ${join(confDir, '00-broken.conflist')} is not valid JSON`);
  });

  describe('with the agent\'s CNI socket: knode-cni is the thin client script', () => {
    const socketPath = '/run/knode/cni/knode-cni.sock';
    const nodePath = '/usr/local/bin/node';
    const script = (): string => thinClientScript({ socketPath, nodePath, pluginPath });
    const installThin = (): Promise<ActiveCni> => ensureCniInstalled({ confDir, binDir, pluginPath, loopbackPath, socketPath, nodePath });

    it('writes the script, mode 0755, leaving no temp file', async () => {
      const active = await installThin();
      const bin = join(binDir, 'knode-cni');
      expect(active.created).toEqual([bin, join(binDir, 'loopback'), join(confDir, DEFAULT_CONF_FILE)]);
      const st = await lstat(bin);
      expect(st.isFile()).toBe(true);
      expect(st.mode & 0o777).toBe(0o755);
      expect(await readFile(bin, 'utf8')).toBe(script());
      expect((await readdir(binDir)).sort()).toEqual(['knode-cni', 'loopback']);
    });

    it('leaves an identical script alone (idempotent)', async () => {
      await installThin();
      const before = (await stat(join(binDir, 'knode-cni'))).ino;
      const again = await installThin();
      expect(again.created).toEqual([]);
      expect((await stat(join(binDir, 'knode-cni'))).ino).toBe(before);
    });

    it.each<[string, (bin: string) => Promise<void>]>([
      ['an older script', (bin) => writeFile(bin, '#!/bin/sh\nexit 1\n', { mode: 0o755 })],
      ['the same text with the wrong mode', (bin) => writeFile(bin, script(), { mode: 0o644 })],
      ['a file of someone else', (bin) => writeFile(bin, 'not ours\n', { mode: 0o700 })],
    ])('rewrites %s: the script is ours', async (_what, put) => {
      await mkdir(binDir, { recursive: true });
      await put(join(binDir, 'knode-cni'));
      const active = await installThin();
      expect(active.created).toContain(join(binDir, 'knode-cni'));
      expect(await readFile(join(binDir, 'knode-cni'), 'utf8')).toBe(script());
      expect((await stat(join(binDir, 'knode-cni'))).mode & 0o777).toBe(0o755);
    });

    it('replaces the old symlink to the bundle without writing through it', async () => {
      await mkdir(binDir, { recursive: true });
      await symlink(pluginPath, join(binDir, 'knode-cni'));
      await installThin();
      expect((await lstat(join(binDir, 'knode-cni'))).isSymbolicLink()).toBe(false);
      expect(await readFile(pluginPath, 'utf8')).toBe('#!/usr/bin/env node\n');
    });

    it('defaults the fallback node to the one running the agent', async () => {
      await ensureCniInstalled({ confDir, binDir, pluginPath, loopbackPath, socketPath });
      expect(await readFile(join(binDir, 'knode-cni'), 'utf8')).toBe(thinClientScript({ socketPath, nodePath: process.execPath, pluginPath }));
    });

    it('still refuses a missing bundle (the fallback runs it)', async () => {
      await rm(pluginPath);
      await expect(installThin()).rejects.toThrow('npm run build');
    });
  });

  describe('with the agent\'s CNI socket and a built C client: knode-cni is a configured copy of it', () => {
    const socketPath = '/run/knode/cni/knode-cni.sock';
    const nodePath = '/usr/local/bin/node';
    let clientPath: string;
    const fakeClient = (tag: string): Buffer => {
      const block = Buffer.alloc(CLIENT_CONFIG_SIZE);
      block.write(CLIENT_CONFIG_MARKER, 'latin1');
      return Buffer.concat([Buffer.from(`\x7fELF ${tag}`), block]);
    };
    const installThin = (): Promise<ActiveCni> => ensureCniInstalled({ confDir, binDir, pluginPath, loopbackPath, socketPath, nodePath });

    beforeEach(async () => {
      clientPath = join(root, 'dist', 'cni', 'knode-cni-client');
      await writeFile(clientPath, fakeClient('v1'), { mode: 0o755 });
    });

    it('installs the client beside the bundle, configured with the three paths, mode 0755', async () => {
      const active = await installThin();
      const bin = join(binDir, 'knode-cni');
      expect(active.thinClient).toBe('binary');
      expect(active.created).toEqual([bin, join(binDir, 'loopback'), join(confDir, DEFAULT_CONF_FILE)]);
      expect((await lstat(bin)).mode & 0o777).toBe(0o755);
      expect(readClientConfig(await readFile(bin))).toEqual({ socketPath, nodePath, pluginPath });
      expect((await readdir(binDir)).sort()).toEqual(['knode-cni', 'loopback']);
      // the built client itself stays unconfigured
      expect(readClientConfig(await readFile(clientPath))).toBeUndefined();
    });

    it('leaves an identical copy alone, rewrites after a rebuild', async () => {
      await installThin();
      const before = (await stat(join(binDir, 'knode-cni'))).ino;
      expect((await installThin()).created).toEqual([]);
      expect((await stat(join(binDir, 'knode-cni'))).ino).toBe(before);
      await writeFile(clientPath, fakeClient('v2'));
      expect((await installThin()).created).toEqual([join(binDir, 'knode-cni')]);
      expect((await readFile(join(binDir, 'knode-cni'))).includes('ELF v2')).toBe(true);
    });

    it('replaces the sh script an earlier agent installed', async () => {
      await rm(clientPath);
      expect((await installThin()).thinClient).toBe('script');
      await writeFile(clientPath, fakeClient('v1'));
      const active = await installThin();
      expect(active.thinClient).toBe('binary');
      expect(readClientConfig(await readFile(join(binDir, 'knode-cni')))).toEqual({ socketPath, nodePath, pluginPath });
    });

    it('takes the client from clientPath when given', async () => {
      const other = join(root, 'elsewhere-client');
      await writeFile(other, fakeClient('other'));
      await ensureCniInstalled({ confDir, binDir, pluginPath, loopbackPath, socketPath, nodePath, clientPath: other });
      expect((await readFile(join(binDir, 'knode-cni'))).includes('ELF other')).toBe(true);
    });

    it('refuses a client binary without a config block (built from other sources)', async () => {
      await writeFile(clientPath, 'not our client');
      await expect(installThin()).rejects.toThrow('has no config block');
    });
  });

  it('has a default socket path that fits a unix socket address', () => {
    expect(DEFAULT_CNI_SOCKET).toBe('/run/knode/cni/knode-cni.sock');
  });

  it('refuses a missing plugin bundle, naming the path and `npm run build`, and installs nothing', async () => {
    await rm(pluginPath);
    const err: unknown = await install().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(pluginPath);
    expect((err as Error).message).toContain('npm run build');
    await expect(lstat(binDir)).rejects.toThrow('ENOENT');
    await expect(lstat(confDir)).rejects.toThrow('ENOENT');
  });
});

describe('gcRequest', () => {
  it('is the knode-cni entry as a 1.1.0 config with every sandbox as a valid eth0 attachment', () => {
    const plugin = { type: 'knode-cni', dataDir: '/var/lib/lab', nodeStateFile: '/run/lab/node.json', capabilities: { portMappings: true } };
    expect(JSON.parse(gcRequest('lab', plugin, ['c1', 'c2'], 240))).toStrictEqual({
      type: 'knode-cni',
      dataDir: '/var/lib/lab',
      nodeStateFile: '/run/lab/node.json',
      capabilities: { portMappings: true },
      cniVersion: '1.1.0',
      name: 'lab',
      gcMinAgeSeconds: 240,
      'cni.dev/valid-attachments': [
        { containerID: 'c1', ifname: 'eth0' },
        { containerID: 'c2', ifname: 'eth0' },
      ],
    });
  });

  it('overrides the version, name and min age a single .conf entry carries', () => {
    const plugin = { cniVersion: '0.4.0', name: 'old', type: 'knode-cni', gcMinAgeSeconds: 0 };
    expect(JSON.parse(gcRequest('net', plugin, [], 30))).toStrictEqual({
      type: 'knode-cni',
      cniVersion: '1.1.0',
      name: 'net',
      gcMinAgeSeconds: 30,
      'cni.dev/valid-attachments': [],
    });
  });
});

/** FakeExec that also keeps the options of every call (FakeExec records argv and stdin only). */
class RecordingExec extends FakeExec {
  readonly options: ExecOptions[] = [];
  override run(argv: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    this.options.push(opts);
    return super.run(argv, opts);
  }
}

describe('gcAllocations', () => {
  const cni: ActiveCni = {
    confFile: '/etc/cni/net.d/10-knode.conflist',
    network: 'knode',
    plugin: { type: 'knode-cni', dataDir: '/var/lib/knode/cni/knode' },
    nodeStateFile: '/run/knode/cni/knode/node.json',
    created: [],
  };

  it('runs <binDir>/knode-cni with CNI_COMMAND=GC, CNI_PATH and the request on stdin', async () => {
    const exec = new RecordingExec();
    await gcAllocations({ exec, binDir: '/opt/cni/bin', cni, containerIds: ['a', 'b'] });
    expect(exec.commands()).toEqual(['/opt/cni/bin/knode-cni']);
    expect(exec.calls[0]?.stdin).toBe(gcRequest('knode', cni.plugin ?? {}, ['a', 'b'], GC_MIN_AGE_SECONDS));
    expect(exec.options[0]?.env).toMatchObject({ CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' });
    // the rest of the environment is inherited (PATH lets the plugin's shebang find node)
    expect(exec.options[0]?.env?.['PATH']).toBe(process.env['PATH']);
  });

  it('passes the min age it is given', async () => {
    const exec = new RecordingExec();
    await gcAllocations({ exec, binDir: '/b', cni, containerIds: [], minAgeSeconds: 5 });
    expect(JSON.parse(exec.calls[0]?.stdin ?? '{}')).toMatchObject({ gcMinAgeSeconds: 5, 'cni.dev/valid-attachments': [] });
  });

  it('does nothing when the active config does not run knode-cni', async () => {
    const exec = new RecordingExec();
    const { plugin: _plugin, nodeStateFile: _state, ...other } = cni;
    await gcAllocations({ exec, binDir: '/b', cni: { ...other, network: 'cbr0' }, containerIds: ['a'] });
    expect(exec.calls).toEqual([]);
  });

  it.each<[string, Partial<ExecResult>, string[]]>([
    [
      "the spec's JSON error on stdout: msg and details",
      {
        code: 1,
        stdout: JSON.stringify({ cniVersion: '1.1.0', code: 7, msg: 'invalid network config', details: 'dataDir must be absolute' }),
      },
      ['/b/knode-cni GC exited with code 1', 'invalid network config: dataDir must be absolute'],
    ],
    ["the spec's JSON error without details", { code: 1, stdout: JSON.stringify({ cniVersion: '1.1.0', code: 11, msg: 'try again later' }) }, [': try again later']],
    ['text on stdout, kept raw', { code: 2, stdout: 'panic: something\n' }, ['exited with code 2', 'panic: something']],
    ['nothing on stdout: stderr, kept raw', { code: 127, stderr: '/usr/bin/env: node: No such file or directory\n' }, ['code 127', 'node: No such file or directory']],
  ])('throws on a non-zero exit with %s', async (_name, result, want) => {
    const exec = new FakeExec((_call: ExecCall) => result);
    const err: unknown = await gcAllocations({ exec, binDir: '/b', cni, containerIds: [] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    for (const w of want) expect((err as Error).message).toContain(w);
  });

  it('propagates a plugin that cannot be started', async () => {
    const exec = new FakeExec(() => {
      throw new Error('ENOENT');
    });
    await expect(gcAllocations({ exec, binDir: '/b', cni, containerIds: [] })).rejects.toThrow('could not run');
  });
});
