/**
 * hostPath volumes: upstream's type check (pkg/volume/hostpath checkType) as a pure decision over
 * what is on disk, and the small effect that observes the path and creates it for the ...OrCreate
 * types. Messages are upstream's, e.g.
 *   hostPath /data doesn't exist
 *   hostPath type check failed: /data is not a directory, it's a File
 * An unset type checks nothing. DirectoryOrCreate makes the directory and its parents (0755);
 * FileOrCreate makes an empty file (0644) but, as upstream documents, not its parent directory.
 *
 * Cost model: one stat(2), plus one mkdir/open when creating.
 */
import { constants } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import type { HostPathType } from '../../api/core/pod.js';

/** What stat(2) (following symlinks) found; `other` is a FIFO or anything else upstream cannot name. */
export type HostFileType = 'Directory' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice' | 'other' | 'missing';

export type HostPathAction =
  | { readonly kind: 'none' }
  | { readonly kind: 'mkdir' }
  | { readonly kind: 'touch' }
  | { readonly kind: 'error'; readonly message: string };

const DESCRIPTIONS: Readonly<Record<string, readonly [HostFileType, string]>> = {
  Directory: ['Directory', 'directory'],
  DirectoryOrCreate: ['Directory', 'directory'],
  File: ['File', 'file'],
  FileOrCreate: ['File', 'file'],
  Socket: ['Socket', 'socket file'],
  CharDevice: ['CharDevice', 'character device'],
  BlockDevice: ['BlockDevice', 'block device'],
};

/** What to do for a hostPath of `type` given what is at `path`. */
export function planHostPathCheck(path: string, type: HostPathType | string, observed: HostFileType): HostPathAction {
  if (type === '') return { kind: 'none' };
  const expected = DESCRIPTIONS[type];
  if (expected === undefined) return { kind: 'error', message: `${type} is an invalid volume type` };
  if (observed === 'missing') {
    if (type === 'DirectoryOrCreate') return { kind: 'mkdir' };
    if (type === 'FileOrCreate') return { kind: 'touch' };
    return { kind: 'error', message: `hostPath ${path} doesn't exist` };
  }
  const [want, description] = expected;
  if (observed === 'other') {
    return {
      kind: 'error',
      message: `hostPath type check failed, ${path} is not a ${description}, unable to determine its type: only recognise file, directory, socket, block device and character device`,
    };
  }
  if (observed !== want) return { kind: 'error', message: `hostPath type check failed: ${path} is not a ${description}, it's a ${observed}` };
  return { kind: 'none' };
}

/** The type of what is at `path`, following symlinks as upstream's os.Stat does. */
export async function observeHostPath(path: string): Promise<HostFileType> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return 'Directory';
    if (st.isFile()) return 'File';
    if (st.isSocket()) return 'Socket';
    if (st.isCharacterDevice()) return 'CharDevice';
    if (st.isBlockDevice()) return 'BlockDevice';
    return 'other';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'missing';
    throw err;
  }
}

/** Checks (and for the ...OrCreate types creates) a hostPath; throws an Error with upstream's message. */
export async function ensureHostPath(path: string, type: HostPathType | string): Promise<void> {
  const action = planHostPathCheck(path, type, type === '' ? 'missing' : await observeHostPath(path));
  switch (action.kind) {
    case 'none':
      return;
    case 'mkdir':
      await mkdir(path, { recursive: true, mode: 0o755 });
      return;
    case 'touch': {
      // O_CREAT without O_EXCL: a file that appeared meanwhile is fine, as upstream's makeFile
      const fh = await open(path, constants.O_CREAT | constants.O_WRONLY, 0o644);
      await fh.close();
      return;
    }
    case 'error':
      throw new Error(action.message);
    default: {
      const never: never = action;
      throw new Error(`unknown action ${JSON.stringify(never)}`);
    }
  }
}
