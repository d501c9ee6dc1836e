import { X509Certificate as NodeX509 } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PkiStateError } from './errors.js';
import { loadOrCreateClusterPKI, readOptionalFile, writeFileAtomic } from './files.js';

const OPTS = { bindAddress: '127.0.0.1', serviceIP: '10.96.0.1' };
let root: string;
let dir: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'knode-pki-'));
  dir = join(root, 'pki');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const serial = async (file: string): Promise<string> => new NodeX509(await readFile(join(dir, file))).serialNumber;
const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777;

describe('writeFileAtomic', () => {
  it('replaces the content with exactly the given mode and leaves no temp file', async () => {
    const path = join(root, 'secret');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, 'new', 0o600);
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await mode(path)).toBe(0o600);
    expect(await readdir(root)).toEqual(['secret']);
  });

  it('fails without touching the target when the directory does not exist', async () => {
    await expect(writeFileAtomic(join(root, 'missing', 'f'), 'x', 0o600)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('readOptionalFile', () => {
  it('returns undefined for a missing file and the content otherwise', async () => {
    expect(await readOptionalFile(join(root, 'nope'))).toBeUndefined();
    await writeFile(join(root, 'yes'), 'hi');
    expect(await readOptionalFile(join(root, 'yes'))).toBe('hi');
  });
});

describe('loadOrCreateClusterPKI', () => {
  it('creates the six files on first start: keys 0600, certificates 0644, directory 0700', async () => {
    const pki = await loadOrCreateClusterPKI(dir, OPTS);
    expect((await readdir(dir)).sort()).toEqual(['admin.crt', 'admin.key', 'apiserver.crt', 'apiserver.key', 'ca.crt', 'ca.key']);
    for (const f of ['ca.key', 'apiserver.key', 'admin.key']) expect(await mode(join(dir, f))).toBe(0o600);
    for (const f of ['ca.crt', 'apiserver.crt', 'admin.crt']) expect(await mode(join(dir, f))).toBe(0o644);
    expect(await mode(dir)).toBe(0o700);
    expect(pki.actions.map((a) => a.kind)).toEqual(['create-ca', 'issue-serving', 'issue-admin']);
    expect(pki.paths.caCert).toBe(join(dir, 'ca.crt'));
    expect(await readFile(pki.paths.servingKey, 'utf8')).toBe(pki.servingKeyPem);
  });

  it('reuses everything on a later start: same CA serial, same files', async () => {
    const first = await loadOrCreateClusterPKI(dir, OPTS);
    const second = await loadOrCreateClusterPKI(dir, OPTS);
    expect(second.actions).toEqual([]);
    expect(second.ca.cert.serialNumber).toBe(first.ca.cert.serialNumber);
    expect(second.servingCertPem).toBe(first.servingCertPem);
    expect(second.adminKeyPem).toBe(first.adminKeyPem);
  });

  it('re-issues only the serving certificate, from the same CA, when the bind address changes', async () => {
    await loadOrCreateClusterPKI(dir, OPTS);
    const before = { ca: await serial('ca.crt'), serving: await serial('apiserver.crt'), admin: await serial('admin.crt') };
    const again = await loadOrCreateClusterPKI(dir, { ...OPTS, bindAddress: '192.168.50.10' });
    expect(again.actions).toEqual([{ kind: 'issue-serving', reason: 'lacks IP:192.168.50.10' }]);
    expect(await serial('ca.crt')).toBe(before.ca);
    expect(await serial('admin.crt')).toBe(before.admin);
    expect(await serial('apiserver.crt')).not.toBe(before.serving);
    const serving = new NodeX509(await readFile(join(dir, 'apiserver.crt')));
    expect(serving.checkIP('192.168.50.10')).toBe('192.168.50.10');
    expect(serving.checkIssued(new NodeX509(await readFile(join(dir, 'ca.crt'))))).toBe(true);
    expect(await mode(join(dir, 'apiserver.key'))).toBe(0o600);
  });

  it('repairs a deleted admin key by re-issuing the admin certificate', async () => {
    await loadOrCreateClusterPKI(dir, OPTS);
    await unlink(join(dir, 'admin.key'));
    const again = await loadOrCreateClusterPKI(dir, OPTS);
    expect(again.actions).toEqual([{ kind: 'issue-admin', reason: 'missing' }]);
    expect(await readFile(join(dir, 'admin.key'), 'utf8')).toBe(again.adminKeyPem);
  });

  it('stops with PkiStateError rather than replace a CA whose key is gone', async () => {
    await loadOrCreateClusterPKI(dir, OPTS);
    await unlink(join(dir, 'ca.key'));
    await expect(loadOrCreateClusterPKI(dir, OPTS)).rejects.toThrow(PkiStateError);
    expect(await readdir(dir)).not.toContain('ca.key');
  });
});
