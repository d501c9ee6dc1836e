import { describe, expect, it } from 'vitest';
import { CLIENT_CONFIG_MARKER, CLIENT_CONFIG_SIZE, clientBinaryPath, configureClient, readClientConfig } from './embed.js';

/** A stand-in for the compiled client: some code, the empty config block, more code. */
function fakeBinary(): Buffer {
  const block = Buffer.alloc(CLIENT_CONFIG_SIZE);
  block.write(CLIENT_CONFIG_MARKER, 'latin1');
  return Buffer.concat([Buffer.from('\x7fELF code before'), block, Buffer.from('code after')]);
}

const paths = { socketPath: '/run/knode/cni/knode-cni.sock', nodePath: '/usr/bin/node', pluginPath: '/opt/knode/dist/cni/knode-cni.js' };

describe('configureClient', () => {
  it('writes socket, node and plugin NUL-terminated after the marker, and nothing else changes', () => {
    const bin = fakeBinary();
    const out = configureClient(bin, paths);
    expect(out.length).toBe(bin.length);
    const at = bin.indexOf(CLIENT_CONFIG_MARKER);
    const start = at + CLIENT_CONFIG_MARKER.length;
    expect(out.subarray(0, start)).toEqual(bin.subarray(0, start));
    expect(out.subarray(at + CLIENT_CONFIG_SIZE)).toEqual(bin.subarray(at + CLIENT_CONFIG_SIZE));
    const payload = `${paths.socketPath}\0${paths.nodePath}\0${paths.pluginPath}\0`;
    expect(out.subarray(start, start + payload.length).toString()).toBe(payload);
    expect(out.subarray(start + payload.length, at + CLIENT_CONFIG_SIZE).every((b) => b === 0)).toBe(true);
    expect(readClientConfig(out)).toEqual(paths);
    // the input is left as it was
    expect(readClientConfig(bin)).toBeUndefined();
  });

  it('reconfigures a configured copy: shorter paths leave no tail of the old ones', () => {
    const once = configureClient(fakeBinary(), { ...paths, pluginPath: '/a/very/long/path/to/the/plugin/knode-cni.js' });
    const twice = configureClient(once, { ...paths, socketPath: '/s', pluginPath: '/p.js' });
    expect(readClientConfig(twice)).toEqual({ ...paths, socketPath: '/s', pluginPath: '/p.js' });
    expect(twice.includes('plugin/knode-cni.js')).toBe(false);
  });

  it('keeps non-ASCII paths as UTF-8', () => {
    const out = configureClient(fakeBinary(), { ...paths, pluginPath: '/opt/knöde/knode-cni.js' });
    expect(readClientConfig(out)?.pluginPath).toBe('/opt/knöde/knode-cni.js');
  });

  it.each<[string, () => Buffer, Partial<typeof paths>, string]>([
    ['a binary without the block', () => Buffer.from('#!/bin/sh\n'), {}, 'has no config block'],
    ['two blocks', () => Buffer.concat([fakeBinary(), fakeBinary()]), {}, 'more than one config block'],
    ['a block cut by the end of the file', () => fakeBinary().subarray(0, 100), {}, 'ends inside its config block'],
    ['a relative socket', fakeBinary, { socketPath: 'knode.sock' }, 'absolute socket path'],
    ['a relative node', fakeBinary, { nodePath: 'node' }, 'absolute node path'],
    ['a NUL in a path', fakeBinary, { pluginPath: '/a\0b' }, 'contains a NUL byte'],
    ['paths larger than the block', fakeBinary, { pluginPath: `/${'x'.repeat(CLIENT_CONFIG_SIZE)}` }, 'more than its config block'],
  ])('refuses %s', (_what, bin, over, msg) => {
    expect(() => configureClient(bin(), { ...paths, ...over })).toThrow(msg);
  });
});

describe('clientBinaryPath', () => {
  it('is knode-cni-client beside the built plugin', () => {
    expect(clientBinaryPath('/repo/dist/cni/knode-cni.js')).toBe('/repo/dist/cni/knode-cni-client');
  });
});
