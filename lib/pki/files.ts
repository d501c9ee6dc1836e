/**
 * The only file-system code in lib/pki: atomic writes of secrets and the load-or-create shell around
 * the pure planner in cluster-pki.ts.
 *
 * Atomic write = write a sibling temp file with the final mode, fsync, rename over the target, so a
 * crash leaves either the old or the new content, never a torn key. Keys are written before their
 * certificates, so a crash between the two leaves a mismatch the next plan detects and repairs.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
// Types only: cluster-pki.ts (and @peculiar/x509 behind it) is loaded by loadOrCreateClusterPKI when
// called, so the agent, which imports this file for writeFileAtomic, never loads it.
import type { ClusterPki, ClusterPkiOptions, PkiAction, PkiFileKey, PkiFiles } from './cluster-pki.js';

export const PRIVATE_MODE = 0o600;
export const PUBLIC_MODE = 0o644;

/** File contents, or undefined when the file does not exist. Other errors propagate. */
export async function readOptionalFile(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Replaces `path` with `data` atomically; the file has exactly `mode` whatever the umask. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.chmod(mode);
    await (typeof data === 'string' ? handle.writeFile(data, 'utf8') : handle.writeFile(data));
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface LoadedClusterPki extends ClusterPki {
  readonly dir: string;
  /** Absolute paths of the six files, for flags such as --tls-cert-file of tools that want paths. */
  readonly paths: Readonly<Record<PkiFileKey, string>>;
  /** What this call (re)issued, with reasons, for the caller to log; empty when everything was reused. */
  readonly actions: readonly PkiAction[];
}

const KEY_FILES: ReadonlySet<PkiFileKey> = new Set<PkiFileKey>(['caKey', 'servingKey', 'adminKey']);

/**
 * Makes `dir` hold a usable cluster PKI (see planClusterPki for the policy) and returns it.
 * The directory is created with mode 0700 if missing.
 */
export async function loadOrCreateClusterPKI(
  dir: string,
  opts: ClusterPkiOptions,
  env: { readonly now?: Date } = {},
): Promise<LoadedClusterPki> {
  const { buildClusterPki, planClusterPki, PKI_FILES } = await import('./cluster-pki.js');
  const now = env.now ?? new Date();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const keys = Object.keys(PKI_FILES) as PkiFileKey[];
  const paths = Object.fromEntries(keys.map((k) => [k, join(dir, PKI_FILES[k])])) as Record<PkiFileKey, string>;

  const files: PkiFiles = {};
  for (const key of keys) {
    const content = await readOptionalFile(paths[key]);
    if (content !== undefined) files[key] = content;
  }

  const actions = planClusterPki(dir, files, opts, now);
  const built = await buildClusterPki(actions, files, opts, now);
  for (const w of built.writes) {
    await writeFileAtomic(paths[w.file], w.content, KEY_FILES.has(w.file) ? PRIVATE_MODE : PUBLIC_MODE);
  }
  return { ...built.pki, dir, paths, actions };
}
