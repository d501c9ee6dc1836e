/**
 * Configuring the C thin client (knode-cni-client.c): the build makes one binary with an empty
 * 4096-byte config block that starts with a marker; `knode agent` installs a copy into the CNI bin dir
 * with the block holding "<socket>\0<node>\0<plugin>\0", so the runtime runs one self-contained file
 * with the node's own paths, as it does the sh client (whose script embeds the same three paths).
 * No config file to read at each start, nothing compiled per node. Pure: bytes in, bytes out.
 */
import { dirname, join } from 'node:path';
import type { ThinClientOptions } from '../thin-client.js';

/** Must match CONFIG_MARKER and CONFIG_SIZE in knode-cni-client.c. */
export const CLIENT_CONFIG_MARKER = 'KNODE-CNI-CLIENT-CONFIG-V1:';
export const CLIENT_CONFIG_SIZE = 4096;
/** The built binary's name, beside dist/cni/knode-cni.js (scripts/build.mjs). */
export const CLIENT_BINARY_NAME = 'knode-cni-client';

/** Where the build put the C client, seen from the built plugin's path. */
export function clientBinaryPath(pluginPath: string): string {
  return join(dirname(pluginPath), CLIENT_BINARY_NAME);
}

/**
 * A copy of `binary` whose config block names the socket, node and plugin. Throws when the binary has
 * no block (not our client, or a different version) or the paths do not fit.
 */
export function configureClient(binary: Uint8Array, opts: ThinClientOptions): Buffer {
  const bin = Buffer.from(binary);
  const marker = Buffer.from(CLIENT_CONFIG_MARKER, 'latin1');
  const at = bin.indexOf(marker);
  if (at < 0) throw new Error(`the knode-cni client binary has no config block (marker ${CLIENT_CONFIG_MARKER} not found)`);
  if (bin.indexOf(marker, at + 1) >= 0) throw new Error(`the knode-cni client binary has more than one config block`);
  if (at + CLIENT_CONFIG_SIZE > bin.length) throw new Error('the knode-cni client binary ends inside its config block');
  const paths: [string, string][] = [
    ['socket', opts.socketPath],
    ['node', opts.nodePath],
    ['plugin', opts.pluginPath],
  ];
  for (const [what, p] of paths) {
    if (!p.startsWith('/')) throw new Error(`the knode-cni client needs an absolute ${what} path, got ${JSON.stringify(p)}`);
    if (p.includes('\0')) throw new Error(`the ${what} path for the knode-cni client contains a NUL byte: ${JSON.stringify(p)}`);
  }
  const payload = Buffer.from(paths.map(([, p]) => `${p}\0`).join(''), 'utf8');
  const room = CLIENT_CONFIG_SIZE - marker.length;
  // one byte more than the payload stays zero, so the C side always finds a terminator
  if (payload.length >= room) throw new Error(`the knode-cni client's paths take ${payload.length} bytes, more than its config block's ${room - 1}`);
  const start = at + marker.length;
  bin.fill(0, start, at + CLIENT_CONFIG_SIZE);
  payload.copy(bin, start);
  return bin;
}

/** The paths a configured copy carries (for tests and diagnostics); undefined when it has none. */
export function readClientConfig(binary: Uint8Array): ThinClientOptions | undefined {
  const bin = Buffer.from(binary.buffer, binary.byteOffset, binary.byteLength);
  const at = bin.indexOf(CLIENT_CONFIG_MARKER, 0, 'latin1');
  if (at < 0) return undefined;
  const block = bin.subarray(at + CLIENT_CONFIG_MARKER.length, at + CLIENT_CONFIG_SIZE);
  const [socketPath, nodePath, pluginPath] = block.toString('utf8').split('\0');
  if (!socketPath || !nodePath || !pluginPath) return undefined;
  return { socketPath, nodePath, pluginPath };
}
