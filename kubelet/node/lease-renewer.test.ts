import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Lease } from '../../api/coordination/lease.js';
import type { Node } from '../../api/core/node.js';
import { FakeClock } from '../../lib/clock.js';
import { resources } from '../../lib/client/resource.js';
import { apiError, FakeApi } from './fake-api.js';
import { buildLease, LeaseRenewer } from './lease-renewer.js';

async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise<void>((r) => setImmediate(r));
}

const NOW = new Date('2026-01-01T00:00:00Z');

describe('buildLease', () => {
  const params = { nodeName: 'n1', namespace: 'kube-node-lease', durationSeconds: 40, now: NOW };

  it('makes a new lease held by the node, owned by the Node, renewed now (MicroTime)', () => {
    expect(buildLease(undefined, { ...params, ownerUid: 'uid-1' })).toEqual({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name: 'n1',
        namespace: 'kube-node-lease',
        ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-1' }],
      },
      spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
  });

  it.each<[string, Lease, string | undefined, Partial<Lease['metadata']>, Partial<NonNullable<Lease['spec']>>]>([
    [
      'renewal keeps what is stored and moves renewTime',
      { metadata: { name: 'n1', namespace: 'kube-node-lease', resourceVersion: '7', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'a' }] }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: 'old' } },
      'b',
      { resourceVersion: '7', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'a' }] },
      { renewTime: '2026-01-01T00:00:00.000000Z' },
    ],
    [
      'a missing owner is added once the Node is known',
      { metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1' } },
      'uid-2',
      { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'uid-2' }] },
      { leaseDurationSeconds: 40 },
    ],
    [
      'the configured duration wins over the stored one',
      { metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 15 } },
      undefined,
      {},
      { leaseDurationSeconds: 40, holderIdentity: 'n1' },
    ],
  ])('%s', (_name, base, ownerUid, meta, spec) => {
    const lease = buildLease(base, { ...params, ...(ownerUid !== undefined ? { ownerUid } : {}) });
    expect(lease.metadata).toMatchObject(meta);
    expect(lease.spec).toMatchObject(spec);
  });
});

describe('LeaseRenewer', () => {
  let clock: FakeClock;
  let api: FakeApi;
  let renewer: LeaseRenewer;
  let ac: AbortController;
  let running: Promise<void> | undefined;

  beforeEach(() => {
    clock = new FakeClock();
    api = new FakeApi(() => clock.now());
    renewer = new LeaseRenewer({ client: api, nodeName: 'n1', clock, random: () => 0 });
    ac = new AbortController();
    running = undefined;
  });
  afterEach(async () => {
    ac.abort();
    await running;
  });

  const start = async (): Promise<void> => {
    running = renewer.run(ac.signal);
    await settle();
  };
  const lease = (): Lease | undefined => api.object<Lease>(resources.leases, 'n1', 'kube-node-lease');
  const addNode = (): string => api.put<Node>(resources.nodes, { metadata: { name: 'n1' } }).metadata.uid ?? '';

  it('does not create the lease before the Node exists, then creates it owned by the Node', async () => {
    await start();
    expect(lease()).toBeUndefined();
    const uid = addNode();
    await clock.advance(10_000);
    expect(lease()?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid }]);
    expect(lease()?.spec).toEqual({ holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: '2026-01-01T00:00:10.000000Z' });
    expect(renewer.stats.creates).toBe(1);
  });

  it('renews every 10 s with a single PUT', async () => {
    addNode();
    await start();
    const reads = api.callsOf('get', 'leases').length;
    await clock.advance(10_000);
    await clock.advance(10_000);
    expect(lease()?.spec?.renewTime).toBe('2026-01-01T00:00:20.000000Z');
    expect(api.callsOf('update', 'leases')).toHaveLength(2);
    expect(api.callsOf('get', 'leases')).toHaveLength(reads);
    expect(renewer.stats.renewals).toBe(2);
  });

  it('stretches the period by the jitter', async () => {
    addNode();
    renewer = new LeaseRenewer({ client: api, nodeName: 'n1', clock, random: () => 0.5 });
    await start();
    await clock.advance(10_000);
    expect(api.callsOf('update', 'leases')).toHaveLength(0);
    await clock.advance(200);
    expect(api.callsOf('update', 'leases')).toHaveLength(1);
  });

  it('on a conflict reads the lease again and retries', async () => {
    addNode();
    await start();
    // another writer moves the resourceVersion on
    const current = lease();
    if (current === undefined) throw new Error('lease expected');
    await api.update(resources.leases, { ...current, spec: { ...current.spec, holderIdentity: 'n1' } });
    await clock.advance(10_000);
    expect(lease()?.spec?.renewTime).toBe('2026-01-01T00:00:10.000000Z');
    expect(api.callsOf('update', 'leases').length).toBeGreaterThanOrEqual(3);
    expect(renewer.stats.failures).toBe(0);
  });

  it('backs off while the apiserver fails, then creates the lease', async () => {
    addNode();
    api.failNext('get', apiError(503, 'ServiceUnavailable', 'unavailable'), 3);
    await start();
    expect(lease()).toBeUndefined();
    await clock.advance(200);
    await clock.advance(400);
    expect(lease()).toBeUndefined();
    await clock.advance(800);
    expect(lease()).toBeDefined();
    expect(renewer.stats.failures).toBe(3);
  });

  it('recreates a lease that was deleted', async () => {
    addNode();
    await start();
    await api.delete(resources.leases, 'n1', { namespace: 'kube-node-lease' });
    await clock.advance(10_000);
    expect(lease()?.spec?.renewTime).toBe('2026-01-01T00:00:10.000000Z');
    expect(renewer.stats.creates).toBe(2);
  });

  it('adds the owner reference on renewal to a lease created without one', async () => {
    api.put(resources.leases, { metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1' } });
    await start();
    expect(lease()?.metadata.ownerReferences).toBeUndefined();
    const uid = addNode();
    await clock.advance(10_000);
    expect(lease()?.metadata.ownerReferences?.[0]?.uid).toBe(uid);
  });
});
