import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { allocateIp } from './allocator.js';
import { FileStore } from './file-store.js';
import { parseCidr, podRangeOf } from './ipv4.js';
import type { AttachmentRecord } from './store.js';

const a = { containerId: 'a', ifname: 'eth0' };
const b = { containerId: 'b', ifname: 'eth0' };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'knode-filestore-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function rec(ip: string, ports = false): AttachmentRecord {
  return { ...a, ip, podCidr: '10.244.1.0/24', hostVeth: 'vethx', netns: '/run/netns/p', portMappings: ports ? [{ hostPort: 80, containerPort: 80, protocol: 'tcp' }] : [], createdAt: 5 };
}

describe('FileStore', () => {
  it('reserves an address once, naming its owner in the file', () => {
    const s = new FileStore(dir);
    expect(s.reserveIp('10.244.1.2', a)).toBe(true);
    expect(s.reserveIp('10.244.1.2', b)).toBe(false);
    expect(readFileSync(join(dir, 'ips', '10.244.1.2'), 'utf8')).toBe('a\neth0\n');
    expect(s.ipOwner('10.244.1.2')).toEqual(a);
    expect(s.listReservations()).toEqual([{ ip: '10.244.1.2', owner: a }]);
  });

  it('lets only the owner release, and leaves no temp file behind', () => {
    const s = new FileStore(dir);
    s.reserveIp('10.244.1.2', a);
    expect(s.releaseIp('10.244.1.2', b)).toBe(false);
    expect(s.releaseIp('10.244.1.2', a)).toBe(true);
    expect(s.ipOwner('10.244.1.2')).toBeUndefined();
    expect(readdirSync(join(dir, 'tmp'))).toEqual([]);
  });

  it('frees an unreadable reservation only when asked without an owner', () => {
    const s = new FileStore(dir);
    s.reserveIp('10.244.1.9', a);
    writeFileSync(join(dir, 'ips', '10.244.1.9'), '');
    expect(s.listReservations()).toEqual([{ ip: '10.244.1.9' }]);
    expect(s.releaseIp('10.244.1.9', a)).toBe(false);
    expect(s.releaseIp('10.244.1.9', undefined)).toBe(true);
  });

  it('keeps records by key, and a copy among host-port records only while it has mappings', () => {
    const s = new FileStore(dir);
    s.putAttachment(rec('10.244.1.2', true));
    expect(s.getAttachment(a)).toEqual(rec('10.244.1.2', true));
    expect(s.listAttachmentsWithPorts()).toHaveLength(1);
    s.putAttachment(rec('10.244.1.2', false));
    expect(s.listAttachmentsWithPorts()).toHaveLength(0);
    expect(s.listAttachments()).toHaveLength(1);
    s.deleteAttachment(a);
    s.deleteAttachment(a);
    expect(s.getAttachment(a)).toBeUndefined();
  });

  it('creates nothing on disk for reads (a DEL on a fresh node)', () => {
    const s = new FileStore(join(dir, 'never'));
    expect(s.getAttachment(a)).toBeUndefined();
    expect(s.listReservations()).toEqual([]);
    expect(() => readdirSync(join(dir, 'never'))).toThrow();
  });

  it('remembers the last reserved address across store instances (a new plugin process)', () => {
    const range = podRangeOf(parseCidr('10.244.1.0/24')!)!;
    allocateIp(new FileStore(dir), range, a);
    expect(allocateIp(new FileStore(dir), range, b).ip).toBe('10.244.1.3');
  });

  it('sweeps temp files older than a minute only', () => {
    const s = new FileStore(dir);
    s.reserveIp('10.244.1.2', a); // creates the dirs
    writeFileSync(join(dir, 'tmp', 'old'), 'x');
    writeFileSync(join(dir, 'tmp', 'young'), 'x');
    const now = Date.now();
    utimesSync(join(dir, 'tmp', 'old'), new Date(now - 120_000), new Date(now - 120_000));
    expect(s.sweep(now)).toBe(1);
    expect(readdirSync(join(dir, 'tmp'))).toEqual(['young']);
  });
});
