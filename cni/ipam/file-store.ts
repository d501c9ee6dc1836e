/**
 * The node's store on disk, safe for concurrent plugin processes without locks:
 *
 *   <dataDir>/ips/<a.b.c.d>                    reservation: "<containerId>\n<ifname>\n"
 *   <dataDir>/attachments/<containerId>:<ifname>.json   attachment record (O(1) by key)
 *   <dataDir>/hostports/<containerId>:<ifname>.json     the same record, only while it has port mappings
 *   <dataDir>/last-reserved                    round-robin hint
 *   <dataDir>/tmp/                             files being written
 *
 * A reservation is taken with link(2) of a fully written temp file onto `ips/<ip>`: it fails with EEXIST
 * when the address is held, like host-local's O_EXCL create, but the file never exists half-written, so
 * a kill -9 at any instant leaves either no reservation or one that names its owner. Records are written
 * to a temp file and renamed into place (atomic replace). Nothing is fsynced: the store must survive
 * process crashes (the page cache does), and after a node crash the runtime's GC repairs it.
 *
 * Cost: a reservation is 5 syscalls; a lookup by key is one open+read.
 */
import {
  closeSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { AttachmentKey } from '../types.js';
import { keyString, sameKey, type AttachmentRecord, type Reservation, type Store } from './store.js';

let tmpCounter = 0;

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

function unlinkIfPresent(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

function parseOwner(text: string | undefined): AttachmentKey | undefined {
  if (text === undefined) return undefined;
  const [containerId, ifname] = text.split('\n');
  if (!containerId || !ifname) return undefined;
  return { containerId, ifname };
}

function parseRecord(text: string | undefined): AttachmentRecord | undefined {
  if (text === undefined) return undefined;
  try {
    const r = JSON.parse(text) as AttachmentRecord;
    return typeof r.containerId === 'string' && typeof r.ip === 'string' ? r : undefined;
  } catch {
    return undefined; // unreadable: written only by rename, so this means a damaged disk
  }
}

export class FileStore implements Store {
  private readonly ipsDir: string;
  private readonly attDir: string;
  private readonly portsDir: string;
  private readonly tmpDir: string;
  private ready = false;

  constructor(readonly dataDir: string) {
    this.ipsDir = join(dataDir, 'ips');
    this.attDir = join(dataDir, 'attachments');
    this.portsDir = join(dataDir, 'hostports');
    this.tmpDir = join(dataDir, 'tmp');
  }

  /** Directories are made on the first write only, so a DEL on a fresh node creates nothing. */
  private ensureDirs(): void {
    if (this.ready) return;
    for (const d of [this.ipsDir, this.attDir, this.portsDir, this.tmpDir]) mkdirSync(d, { recursive: true, mode: 0o700 });
    this.ready = true;
  }

  private writeTemp(content: string): string {
    this.ensureDirs();
    const path = join(this.tmpDir, `${process.pid}-${Date.now()}-${tmpCounter++}`);
    const fd = openSync(path, 'wx', 0o600);
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    return path;
  }

  private writeAtomic(path: string, content: string): void {
    renameSync(this.writeTemp(content), path);
  }

  reserveIp(ip: string, owner: AttachmentKey): boolean {
    const tmp = this.writeTemp(`${owner.containerId}\n${owner.ifname}\n`);
    try {
      linkSync(tmp, join(this.ipsDir, ip));
      return true;
    } catch (err) {
      if (isErrno(err, 'EEXIST')) return false;
      throw err;
    } finally {
      unlinkIfPresent(tmp);
    }
  }

  ipOwner(ip: string): AttachmentKey | undefined {
    return parseOwner(readOrUndefined(join(this.ipsDir, ip)));
  }

  releaseIp(ip: string, owner: AttachmentKey | undefined): boolean {
    const path = join(this.ipsDir, ip);
    const text = readOrUndefined(path);
    if (text === undefined) return false;
    const cur = parseOwner(text);
    // only the holder releases; nobody else can take the address between this check and the unlink
    if (owner === undefined ? cur !== undefined : cur === undefined || !sameKey(cur, owner)) return false;
    return unlinkIfPresent(path);
  }

  listReservations(): readonly Reservation[] {
    return listDir(this.ipsDir).map((ip) => {
      const owner = parseOwner(readOrUndefined(join(this.ipsDir, ip)));
      return owner !== undefined ? { ip, owner } : { ip };
    });
  }

  lastReservedIp(): string | undefined {
    return readOrUndefined(join(this.dataDir, 'last-reserved'))?.trim() || undefined;
  }

  setLastReservedIp(ip: string): void {
    // a hint: a torn or lost write only changes where the next search starts
    this.ensureDirs();
    writeFileSync(join(this.dataDir, 'last-reserved'), ip);
  }

  private fileName(key: AttachmentKey): string {
    return `${keyString(key)}.json`;
  }

  getAttachment(key: AttachmentKey): AttachmentRecord | undefined {
    return parseRecord(readOrUndefined(join(this.attDir, this.fileName(key))));
  }

  putAttachment(rec: AttachmentRecord): void {
    const text = `${JSON.stringify(rec)}\n`;
    this.writeAtomic(join(this.attDir, this.fileName(rec)), text);
    if (rec.portMappings.length > 0) this.writeAtomic(join(this.portsDir, this.fileName(rec)), text);
    else unlinkIfPresent(join(this.portsDir, this.fileName(rec)));
  }

  deleteAttachment(key: AttachmentKey): void {
    // the host-port copy goes first: a crash in between leaves a record DEL or GC still finds
    unlinkIfPresent(join(this.portsDir, this.fileName(key)));
    unlinkIfPresent(join(this.attDir, this.fileName(key)));
  }

  listAttachments(): readonly AttachmentRecord[] {
    return this.readAll(this.attDir);
  }

  listAttachmentsWithPorts(): readonly AttachmentRecord[] {
    return this.readAll(this.portsDir);
  }

  private readAll(dir: string): AttachmentRecord[] {
    const out: AttachmentRecord[] = [];
    for (const f of listDir(dir)) {
      const r = parseRecord(readOrUndefined(join(dir, f)));
      if (r !== undefined) out.push(r);
    }
    return out;
  }

  /** Removes temp files left by killed writers (older than `olderThanMs`). Returns how many. */
  sweep(nowMs: number, olderThanMs = 60_000): number {
    let n = 0;
    for (const f of listDir(this.tmpDir)) {
      const p = join(this.tmpDir, f);
      try {
        if (nowMs - statSync(p).mtimeMs > olderThanMs && unlinkIfPresent(p)) n++;
      } catch (err) {
        if (!isErrno(err, 'ENOENT')) throw err;
      }
    }
    return n;
  }
}
