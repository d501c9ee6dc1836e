/**
 * The node agent's side of knode-cni: put the plugin where the runtime looks, find the network config
 * the runtime will use, and reconcile IP allocations with the runtime's sandboxes at start.
 *
 * Install (`ensureCniInstalled`), never clobbering what an operator put there (the thin client aside):
 *   - bin dir: `knode-cni`: with a socket path (the agent serves CNI, agent-server.ts), a thin client:
 *     the C one (client/knode-cni-client.c, a copy configured with the node's paths by client/embed.ts)
 *     when the build made it (dist/cni/knode-cni-client, beside the bundle), else the sh + curl script of
 *     thin-client.ts (either is ours: written atomically, mode 0755, rewritten whenever its bytes
 *     differ, e.g. after the repo moved or a rebuild); without a socket, a symlink to the built bundle
 *     (dist/cni/knode-cni.js; a symlink, not a copy, so the bundle keeps loading as CommonJS next to
 *     its package.json). `loopback` is linked from Debian's /usr/lib/cni when the bin dir has none
 *     (containerd needs it for every sandbox);
 *   - conf dir: when it holds no config at all, `10-knode.conflist` (network `knode`, cniVersion 1.0.0,
 *     the newest containerd 1.6 speaks). An existing config is used as it is.
 * Then the first config file in name order (the one containerd loads) is read: when it runs knode-cni,
 * its plugin entry gives the node state file the agent must write (`nodeStateFile`, else the default
 * for the network name) and the settings the start-up GC must pass.
 *
 * Reconcile (`gcAllocations`): runs the plugin's GC (CNI 1.1) with every sandbox the runtime still
 * lists as a valid attachment (`eth0`), and `gcMinAgeSeconds` so an ADD the runtime is running right
 * now (its sandbox is not listed yet) is left alone. containerd 1.6 never calls GC itself, so without
 * this an IP held by a sandbox that vanished while nobody ran DEL (a runtime whose state was wiped, a
 * kill -9 between reserve and veth) would leak.
 */
import { constants } from 'node:fs';
import { access, lstat, mkdir, readdir, readFile, rm, stat, symlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { Exec } from '../lib/exec.js';
import { formatArgv } from '../lib/exec.js';
import { PRIVATE_MODE, writeFileAtomic } from '../lib/pki/files.js';
import { clientBinaryPath, configureClient } from './client/embed.js';
import { defaultNodeStateFile } from './config.js';
import { thinClientScript } from './thin-client.js';

export const DEFAULT_CNI_CONF_DIR = '/etc/cni/net.d';
export const DEFAULT_CNI_BIN_DIR = '/opt/cni/bin';
export const DEFAULT_CNI_NETWORK = 'knode';
export const DEFAULT_CONF_FILE = '10-knode.conflist';
export const PLUGIN_TYPE = 'knode-cni';
export const SYSTEM_LOOPBACK = '/usr/lib/cni/loopback';
/** Where `knode agent` serves CNI (agent-server.ts) unless told otherwise (`--cni-socket`). */
export const DEFAULT_CNI_SOCKET = '/run/knode/cni/knode-cni.sock';
/** Longer than the runtime's own RunPodSandbox deadline (kubelet's runtime-request-timeout is 2 min). */
export const GC_MIN_AGE_SECONDS = 240;

/** The network config list knode installs, as an object (the lab writes the same shape). */
export function knodeConflist(opts: { network: string; dataDir?: string; nodeStateFile?: string }): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: opts.network,
    plugins: [
      {
        type: PLUGIN_TYPE,
        ...(opts.dataDir !== undefined ? { dataDir: opts.dataDir } : {}),
        ...(opts.nodeStateFile !== undefined ? { nodeStateFile: opts.nodeStateFile } : {}),
        capabilities: { portMappings: true },
      },
    ],
  };
}

/**
 * Where `npm run build` put the plugin, seen from a module: bundled, code runs from
 * <repo>/dist/{cli,chunks}/*.js; from source (tests), from <repo>/<dir>/<file>.ts.
 */
export function builtPluginPath(moduleFile: string): string {
  const up = resolve(dirname(moduleFile), '..');
  return basename(up) === 'dist' ? join(up, 'cni', 'knode-cni.js') : join(up, 'dist', 'cni', 'knode-cni.js');
}

const CONF_EXT = /\.(conf|conflist|json)$/;

export interface ActiveCni {
  readonly confFile: string;
  readonly network: string;
  /** The knode-cni entry of the config, or undefined when another plugin owns the node's pods. */
  readonly plugin?: Readonly<Record<string, unknown>>;
  /** Where the agent writes the node state, when the config runs knode-cni. */
  readonly nodeStateFile?: string;
  /** What this call created (paths), for the log. */
  readonly created: readonly string[];
  /** With a socket: which thin client `knode-cni` is (the C binary, or the sh script without one). */
  readonly thinClient?: 'binary' | 'script';
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Links `link` to `target` unless something usable is there already. A dangling symlink (the repo
 * moved, the bundle was rebuilt elsewhere) is replaced; a file or a working link is left alone.
 */
async function ensureLink(link: string, target: string, created: string[]): Promise<void> {
  if (await exists(link)) {
    const st = await lstat(link);
    const dangling = st.isSymbolicLink() && !(await stat(link).then(() => true, () => false));
    if (!dangling) return;
    await rm(link, { force: true });
  }
  await symlink(target, link);
  created.push(link);
}

/** The config the runtime loads (first in name order) and its knode-cni entry; pure over the text. */
export function parseActiveConfig(file: string, text: string): Omit<ActiveCni, 'created' | 'confFile'> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`the CNI config ${file} is not valid JSON: ${(err as Error).message}`);
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as { name?: unknown; type?: unknown; plugins?: unknown };
  if (typeof o.name !== 'string' || o.name === '') throw new Error(`the CNI config ${file} has no "name"`);
  const entries = Array.isArray(o.plugins) ? (o.plugins as unknown[]) : [o];
  const plugin = entries.find((p): p is Record<string, unknown> => typeof p === 'object' && p !== null && (p as { type?: unknown }).type === PLUGIN_TYPE);
  if (plugin === undefined) return { network: o.name };
  const stateFile = typeof plugin['nodeStateFile'] === 'string' ? plugin['nodeStateFile'] : defaultNodeStateFile(o.name);
  return { network: o.name, plugin, nodeStateFile: stateFile };
}

/** Temp file + fsync + rename, for bytes (lib/pki's writeFileAtomic writes text). */

/**
 * Our thin client at `path`, replacing whatever is there (a link is replaced, never written through;
 * a running copy keeps its old inode, so a runtime mid-call is unaffected).
 */
async function ensureExecutable(path: string, content: string | Uint8Array, created: string[]): Promise<void> {
  const st = await lstat(path).catch(() => undefined);
  const want = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  if (st?.isFile() === true && (st.mode & 0o777) === 0o755 && st.size === want.length && Buffer.compare(await readFile(path), want) === 0) return;
  if (typeof content === 'string') await writeFileAtomic(path, content, 0o755);
  else await writeFileAtomic(path, content, 0o755);
  created.push(path);
}

/** The C client the build made, or undefined (no gcc at build time: the sh client is used). */
async function readClientBinary(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

export interface CniInstallOptions {
  readonly confDir: string;
  readonly binDir: string;
  /** The built bundle: the symlink's target, or the thin client's fallback. */
  readonly pluginPath: string;
  readonly loopbackPath?: string;
  /** The agent's CNI socket: `knode-cni` becomes the thin client of it. */
  readonly socketPath?: string;
  /** `node` for the thin client's fallback (default: the one running this process). */
  readonly nodePath?: string;
  /** The built C client (default: `knode-cni-client` beside `pluginPath`); when absent, the sh script. */
  readonly clientPath?: string;
}

export async function ensureCniInstalled(opts: CniInstallOptions): Promise<ActiveCni> {
  const created: string[] = [];
  await access(opts.pluginPath, constants.R_OK).catch(() => {
    throw new Error(`the knode-cni bundle ${opts.pluginPath} is missing: run \`npm run build\``);
  });
  await mkdir(opts.binDir, { recursive: true });
  const bin = join(opts.binDir, PLUGIN_TYPE);
  let thinClient: ActiveCni['thinClient'];
  if (opts.socketPath !== undefined) {
    const paths = { socketPath: opts.socketPath, nodePath: opts.nodePath ?? process.execPath, pluginPath: opts.pluginPath };
    const client = await readClientBinary(opts.clientPath ?? clientBinaryPath(opts.pluginPath));
    thinClient = client !== undefined ? 'binary' : 'script';
    await ensureExecutable(bin, client !== undefined ? configureClient(client, paths) : thinClientScript(paths), created);
  } else {
    await ensureLink(bin, opts.pluginPath, created);
  }
  const loopbackSource = opts.loopbackPath ?? SYSTEM_LOOPBACK;
  if (await exists(loopbackSource)) await ensureLink(join(opts.binDir, 'loopback'), loopbackSource, created);
  await mkdir(opts.confDir, { recursive: true });
  // like containerd's loader: regular files (or links to them) with a config extension, in name order
  let files = (await readdir(opts.confDir, { withFileTypes: true }))
    .filter((e) => CONF_EXT.test(e.name) && (e.isFile() || e.isSymbolicLink()))
    .map((e) => e.name)
    .sort();
  if (files.length === 0) {
    const file = join(opts.confDir, DEFAULT_CONF_FILE);
    await writeFileAtomic(file, `${JSON.stringify(knodeConflist({ network: DEFAULT_CNI_NETWORK }), null, 2)}\n`, PRIVATE_MODE | 0o044);
    created.push(file);
    files = [DEFAULT_CONF_FILE];
  }
  const confFile = join(opts.confDir, files[0] ?? DEFAULT_CONF_FILE);
  return { confFile, created, ...parseActiveConfig(confFile, await readFile(confFile, 'utf8')), ...(thinClient !== undefined ? { thinClient } : {}) };
}

/** The GC request's stdin: the knode-cni entry as a 1.1.0 single config with the valid attachments. */
export function gcRequest(network: string, plugin: Readonly<Record<string, unknown>>, containerIds: readonly string[], minAgeSeconds: number): string {
  return JSON.stringify({
    ...plugin,
    cniVersion: '1.1.0',
    name: network,
    gcMinAgeSeconds: minAgeSeconds,
    'cni.dev/valid-attachments': containerIds.map((id) => ({ containerID: id, ifname: 'eth0' })),
  });
}

/** Runs `knode-cni` GC as a runtime would; throws with the plugin's error message on failure. */
export async function gcAllocations(opts: {
  exec: Exec;
  binDir: string;
  cni: ActiveCni;
  containerIds: readonly string[];
  minAgeSeconds?: number;
}): Promise<void> {
  if (opts.cni.plugin === undefined) return;
  const argv = [join(opts.binDir, PLUGIN_TYPE)];
  const r = await opts.exec.run(argv, {
    stdin: gcRequest(opts.cni.network, opts.cni.plugin, opts.containerIds, opts.minAgeSeconds ?? GC_MIN_AGE_SECONDS),
    env: { ...(process.env as Record<string, string>), CNI_COMMAND: 'GC', CNI_PATH: opts.binDir },
    timeoutMs: 30_000,
  });
  if (r.code !== 0) {
    let msg = r.stdout.trim() || r.stderr.trim();
    try {
      const e = JSON.parse(r.stdout) as { msg?: unknown; details?: unknown };
      const spec = [e.msg, e.details].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
      if (spec !== '') msg = spec;
    } catch {
      // not the spec's JSON: keep the raw text
    }
    if (msg === '') msg = '(no output)';
    throw new Error(`${formatArgv(argv)} GC exited with code ${r.code}: ${msg}`);
  }
}
