/**
 * A small POSIX ustar writer (and reader): enough for image layers and docker-archive tarballs (regular files,
 * directories, symlinks; names up to 255 bytes via the ustar prefix field). Pure and in memory:
 * lab images are a few MB. Output is deterministic (fixed mtime, uid/gid 0, entries in the given
 * order) so the same inputs give byte-identical tarballs and therefore identical image digests.
 */
import { KnodeError } from '../../lib/errors.js';

export type TarEntry =
  | { readonly type: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly type: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string };

export class TarError extends KnodeError {
  constructor(message: string) {
    super('ERR_TAR_INVALID_ENTRY', message);
  }
}

const BLOCK = 512;
/** 2026-01-01T00:00:00Z: a fixed mtime keeps layers reproducible. */
export const TAR_MTIME = 1_767_225_600;

function writeString(buf: Buffer, offset: number, length: number, value: string, what: string): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length) throw new TarError(`tar ${what} ${JSON.stringify(value)} is longer than ${length} bytes`);
  bytes.copy(buf, offset);
}

/** Octal number, zero-padded, NUL-terminated, filling `length` bytes. */
function writeOctal(buf: Buffer, offset: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, '0');
  if (text.length > length - 1) throw new TarError(`tar number ${value} does not fit ${length} bytes`);
  buf.write(`${text}\0`, offset, 'ascii');
}

/** Splits a long path into ustar prefix (<=155) and name (<=100) at a slash. */
function splitPath(path: string): { prefix: string; name: string } {
  if (Buffer.byteLength(path) <= 100) return { prefix: '', name: path };
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name.length > 0) return { prefix, name };
  }
  throw new TarError(`tar path ${JSON.stringify(path)} is too long for ustar`);
}

function header(entry: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  if (entry.path.startsWith('/') || entry.path.split('/').includes('..')) {
    throw new TarError(`tar path ${JSON.stringify(entry.path)} must be relative and stay inside the archive`);
  }
  const path = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path;
  const { prefix, name } = splitPath(path);
  writeString(h, 0, 100, name, 'name');
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  writeOctal(h, 100, 8, mode);
  writeOctal(h, 108, 8, 0);
  writeOctal(h, 116, 8, 0);
  writeOctal(h, 124, 12, size);
  writeOctal(h, 136, 12, TAR_MTIME);
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write(entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2', 156, 'ascii');
  if (entry.type === 'symlink') writeString(h, 157, 100, entry.target, 'symlink target');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  writeString(h, 265, 32, 'root', 'uname');
  writeString(h, 297, 32, 'root', 'gname');
  writeString(h, 345, 155, prefix, 'prefix');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

/** Serialises entries, in order, into one tar archive (with the two zero end blocks). */
export function buildTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const key = entry.path.replace(/\/$/, '');
    if (seen.has(key)) throw new TarError(`tar path ${JSON.stringify(entry.path)} appears twice`);
    seen.add(key);
    const data = entry.type === 'file' ? entry.data : new Uint8Array(0);
    parts.push(header(entry, data.length));
    if (data.length > 0) {
      parts.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}

export interface ReadTarEntry {
  readonly path: string;
  /** ustar typeflag: '0' file, '5' dir, '2' symlink. */
  readonly typeflag: string;
  readonly mode: number;
  readonly mtime: number;
  readonly linkname: string;
  readonly data: Buffer;
  /** The header checksum and ustar magic are valid. */
  readonly valid: boolean;
}

/** Reads a ustar archive back (tests and archive inspection); stops at the first zero block. */
export function readTar(buf: Buffer): ReadTarEntry[] {
  const out: ReadTarEntry[] = [];
  const str = (o: number, n: number): string => buf.subarray(o, o + n).toString('utf8').replace(/\0.*$/s, '');
  const oct = (o: number, n: number): number => parseInt(str(o, n).trim() || '0', 8);
  for (let off = 0; off + BLOCK <= buf.length; ) {
    const h = buf.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    const name = str(off, 100);
    const prefix = str(off + 345, 155);
    const size = oct(off + 124, 12);
    out.push({
      path: prefix ? `${prefix}/${name}` : name,
      typeflag: String.fromCharCode(h[156] ?? 0),
      mode: oct(off + 100, 8),
      mtime: oct(off + 136, 12),
      linkname: str(off + 157, 100),
      data: Buffer.from(buf.subarray(off + BLOCK, off + BLOCK + size)),
      valid: sum === oct(off + 148, 8) && str(off + 257, 6) === 'ustar',
    });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
