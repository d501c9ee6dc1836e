import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Node } from '../api/core/node.js';
import { FakeClock } from '../lib/clock.js';
import { resources } from '../lib/client/resource.js';
import { silentLogger } from '../lib/log.js';
import { FakeApi } from './node/fake-api.js';
import { KUBELET_SERVING_CA_ANNOTATION, loadOrCreateServingCert, pemBlocks, publishServingCA, servingCA, servingCertUsable } from './serving-cert.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tmp(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'knode-serving-'));
  dirs.push(d);
  return d;
}

describe('loadOrCreateServingCert', () => {
  it('creates a chain naming the node IP, keeps it across calls, replaces it when the IP changes', async () => {
    const dir = await tmp();
    const now = new Date();
    const a = await loadOrCreateServingCert(dir, 'w1', ['172.31.250.11'], now);
    expect(pemBlocks(a.certPem)).toHaveLength(2);
    expect(servingCertUsable(a.certPem, ['172.31.250.11'], now)).toBe(true);
    expect(await readFile(join(dir, 'kubelet.key'), 'utf8')).toBe(a.keyPem);
    const again = await loadOrCreateServingCert(dir, 'w1', ['172.31.250.11'], now);
    expect(again.certPem).toBe(a.certPem);
    const moved = await loadOrCreateServingCert(dir, 'w1', ['172.31.250.12'], now);
    expect(moved.certPem).not.toBe(a.certPem);
    expect(servingCA(moved)).toBe(pemBlocks(moved.certPem)[1]);
  });

  it('does not reuse a certificate close to expiry', async () => {
    const dir = await tmp();
    const a = await loadOrCreateServingCert(dir, 'w1', ['10.0.0.1'], new Date());
    const nearEnd = new Date(Date.now() + 360 * 24 * 3600 * 1000);
    expect(servingCertUsable(a.certPem, ['10.0.0.1'], nearEnd)).toBe(false);
  });

  it('rejects garbage', () => {
    expect(servingCertUsable('not a certificate', ['10.0.0.1'], new Date())).toBe(false);
  });
});

describe('publishServingCA', () => {
  it('annotates the Node once it exists, and only when the annotation differs', async () => {
    const clock = new FakeClock();
    const api = new FakeApi(() => clock.now());
    const ac = new AbortController();
    const loop = publishServingCA({ client: api, nodeName: 'w1', caPem: 'CA-PEM\n', clock, log: silentLogger(), intervalMs: 5_000 }, ac.signal);
    await clock.advance(1_000); // no Node yet: retried every second
    api.put<Node>(resources.nodes, { metadata: { name: 'w1' } });
    await clock.advance(1_000);
    expect(api.object<Node>(resources.nodes, 'w1')?.metadata.annotations?.[KUBELET_SERVING_CA_ANNOTATION]).toBe('CA-PEM');
    await clock.advance(5_000);
    expect(api.callsOf('patch')).toHaveLength(1);
    ac.abort();
    await loop;
  });
});
