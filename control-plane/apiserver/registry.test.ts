import { beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../../lib/clock.js';
import { MemoryStore } from '../storage/memory-store.js';
import { AdmissionChain } from './admission.js';
import { ApiError } from './errors.js';
import { everything } from './filter.js';
import { NamespaceLifecycle } from './plugins/namespace-lifecycle.js';
import { ServiceAllocation } from './plugins/service-allocation.js';
import { apiError } from './test-support.js';
import { Registry, planDeletion } from './registry.js';
import { listObjects } from './registry-read.js';
import type { ResourceEntry } from './resource-table.js';
import { servedResources } from './resources.js';

const index = servedResources();
const must = (g: string, plural: string): ResourceEntry => {
  const e = index.entries.find((x) => x.def.group === g && x.def.plural === plural);
  if (!e) throw new Error(plural);
  return e;
};
const pods = must('', 'pods');
const configmaps = must('', 'configmaps');
const namespaces = must('', 'namespaces');
const services = must('', 'services');
const deployments = must('apps', 'deployments');

const pod = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra },
});


describe('Registry', () => {
  let clock: FakeClock;
  let store: MemoryStore;
  let registry: Registry;
  let svcAlloc: ServiceAllocation;

  beforeEach(async () => {
    clock = new FakeClock(Date.UTC(2026, 10, 22, 3, 0, 0));
    store = new MemoryStore();
    svcAlloc = new ServiceAllocation(store, { serviceCIDR: '10.96.0.0/28', nodePortRange: { min: 30000, max: 30002 } });
    registry = new Registry(store, new AdmissionChain([new NamespaceLifecycle(() => namespaces), svcAlloc]), clock);
    await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  });

  describe('create', () => {
    it('sets uid, creationTimestamp, generation and resourceVersion, and applies defaults', async () => {
      const p = await registry.create(pods, 'default', pod('a'));
      expect(p.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
      expect(p.metadata.creationTimestamp).toBe('2026-11-22T03:00:00Z');
      expect(p.metadata.generation).toBe(1);
      expect(Number(p.metadata.resourceVersion)).toBeGreaterThan(0);
      expect((p['spec'] as { restartPolicy?: string }).restartPolicy).toBe('Always');
      expect((p['status'] as { phase?: string }).phase).toBe('Pending');
    });

    it('generates a name from generateName', async () => {
      const p = await registry.create(configmaps, 'default', { metadata: { generateName: 'cm-' } });
      expect(p.metadata.name).toMatch(/^cm-[a-z0-9]{5}$/);
    });

    it('refuses a duplicate with 409 AlreadyExists', async () => {
      await registry.create(configmaps, 'default', { metadata: { name: 'x' } });
      const err = await apiError(registry.create(configmaps, 'default', { metadata: { name: 'x' } }));
      expect(err.httpCode).toBe(409);
      expect(err.reason).toBe('AlreadyExists');
      expect(err.message).toBe('configmaps "x" already exists');
    });

    it('refuses an invalid object with 422 and field causes', async () => {
      const err = await apiError(registry.create(pods, 'default', { metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c' }] } }));
      expect(err.httpCode).toBe(422);
      const fields = err.toStatus().details?.causes?.map((c) => c.field);
      expect(fields).toContain('metadata.name');
      expect(fields).toContain('spec.containers[0].image');
    });

    it('refuses a namespaced object in a missing namespace with 404', async () => {
      const err = await apiError(registry.create(configmaps, 'nope', { metadata: { name: 'x' } }));
      expect(err.httpCode).toBe(404);
      expect(err.message).toBe('namespaces "nope" not found');
    });

    it('does not write on dry run', async () => {
      await registry.create(configmaps, 'default', { metadata: { name: 'dry' } }, { dryRun: true });
      expect(await store.get('/registry/configmaps/default/dry')).toBeUndefined();
    });
  });

  describe('update', () => {
    it('answers 409 on a stale resourceVersion and retries unconditional updates', async () => {
      const cm = await registry.create(configmaps, 'default', { metadata: { name: 'x' }, data: { a: '1' } });
      await registry.update(configmaps, 'default', 'x', (c) => ({ ...c, data: { a: '2' } }));
      const err = await apiError(
        registry.update(configmaps, 'default', 'x', (c) => ({ ...c, data: { a: '3' } }), { expectedResourceVersion: cm.metadata.resourceVersion ?? '' }),
      );
      expect(err.httpCode).toBe(409);
      expect(err.message).toContain('the object has been modified; please apply your changes to the latest version and try again');
    });

    it('bumps generation only when the spec changes', async () => {
      await registry.create(deployments, 'default', {
        metadata: { name: 'd' },
        spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i' }] } } },
      });
      const labelled = await registry.update(deployments, 'default', 'd', (d) => ({ ...d, metadata: { ...d.metadata, labels: { x: 'y' } } }));
      expect(labelled.metadata.generation).toBe(1);
      const scaled = await registry.update(deployments, 'default', 'd', (d) => ({ ...d, spec: { ...(d['spec'] as object), replicas: 5 } }));
      expect(scaled.metadata.generation).toBe(2);
    });

    it('keeps the resourceVersion on a no-op update', async () => {
      const cm = await registry.create(configmaps, 'default', { metadata: { name: 'x' }, data: { a: '1' } });
      const again = await registry.update(configmaps, 'default', 'x', (c) => c);
      expect(again.metadata.resourceVersion).toBe(cm.metadata.resourceVersion);
    });

    it('ignores status on the main resource and everything but status on the status subresource', async () => {
      await registry.create(pods, 'default', pod('p'));
      const main = await registry.update(pods, 'default', 'p', (p) => ({ ...p, status: { phase: 'Running' } }));
      expect((main['status'] as { phase: string }).phase).toBe('Pending');
      const st = await registry.update(
        pods,
        'default',
        'p',
        (p) => ({ ...p, spec: { ...(p['spec'] as object), activeDeadlineSeconds: 5 }, status: { phase: 'Running' } }),
        { subresource: 'status' },
      );
      expect((st['status'] as { phase: string }).phase).toBe('Running');
      expect((st['spec'] as { activeDeadlineSeconds?: number }).activeDeadlineSeconds).toBeUndefined();
    });
  });

  describe('managedFields', () => {
    const managers = (o: KubeObject) => (o.metadata.managedFields ?? []).map((e) => [e.manager, e.operation, e.subresource ?? '']);

    it('a create records an Update entry owning the fields the writer set, defaults included', async () => {
      const p = await registry.create(pods, 'default', pod('p'), { fieldManager: 'kubectl-create' });
      expect(p.metadata.managedFields).toEqual([
        expect.objectContaining({ manager: 'kubectl-create', operation: 'Update', apiVersion: 'v1', time: '2026-11-22T03:00:00Z', fieldsType: 'FieldsV1' }),
      ]);
      const spec = (p.metadata.managedFields?.[0]?.fieldsV1 as { 'f:spec': Record<string, unknown> })['f:spec'];
      expect(spec).toHaveProperty('f:restartPolicy');
      expect(spec).toHaveProperty('f:containers');
    });

    it('an update moves the changed fields to its writer; a status write records its subresource', async () => {
      await registry.create(configmaps, 'default', { metadata: { name: 'x' }, data: { a: '1' } }, { fieldManager: 'kubectl-create' });
      await clock.advance(60_000);
      const edited = await registry.update(configmaps, 'default', 'x', (c) => ({ ...c, data: { a: '2' } }), { fieldManager: 'kubectl-edit' });
      expect(managers(edited)).toEqual([['kubectl-edit', 'Update', '']]);
      expect(edited.metadata.managedFields?.[0]).toMatchObject({ time: '2026-11-22T03:01:00Z', fieldsV1: { 'f:data': { 'f:a': {} } } });

      await registry.create(pods, 'default', pod('p'), { fieldManager: 'kubectl-create' });
      const st = await registry.update(pods, 'default', 'p', (p) => ({ ...p, status: { phase: 'Running' } }), { subresource: 'status', fieldManager: 'kubelet' });
      expect(managers(st)).toEqual([
        ['kubectl-create', 'Update', ''],
        ['kubelet', 'Update', 'status'],
      ]);
    });

    it('a write that changes nothing stays a no-op, even later and by another manager', async () => {
      const cm = await registry.create(configmaps, 'default', { metadata: { name: 'x' }, data: { a: '1' } }, { fieldManager: 'kubectl-create' });
      await clock.advance(60_000);
      for (const fieldManager of ['kubectl-create', 'kubectl-edit']) {
        const again = await registry.update(configmaps, 'default', 'x', (c) => ({ ...c, data: { a: '1' } }), { fieldManager });
        expect(again.metadata.resourceVersion).toBe(cm.metadata.resourceVersion);
        expect(again.metadata.managedFields).toEqual(cm.metadata.managedFields);
      }
    });

    it('writers that name no manager leave managedFields as they are', async () => {
      const cm = await registry.create(configmaps, 'default', { metadata: { name: 'x' }, data: { a: '1' } });
      expect(cm.metadata.managedFields).toBeUndefined();
    });
  });

  describe('delete', () => {
    it('deletes an unbound pod at once', async () => {
      await registry.create(pods, 'default', pod('p'));
      const r = await registry.delete(pods, 'default', 'p');
      expect(r.deleted).toBe(true);
      expect(await store.get('/registry/pods/default/p')).toBeUndefined();
    });

    it('deletes a bound pod gracefully, and for good with grace period 0', async () => {
      await registry.create(pods, 'default', pod('p', { nodeName: 'n1', terminationGracePeriodSeconds: 20 }));
      const r = await registry.delete(pods, 'default', 'p');
      expect(r.deleted).toBe(false);
      expect(r.object.metadata.deletionTimestamp).toBe('2026-11-22T03:00:20Z');
      expect(r.object.metadata.deletionGracePeriodSeconds).toBe(20);
      const again = await registry.delete(pods, 'default', 'p', { gracePeriodSeconds: 0 });
      expect(again.deleted).toBe(true);
    });

    it('keeps an object with finalizers until the last one is removed', async () => {
      await registry.create(configmaps, 'default', { metadata: { name: 'f', finalizers: ['example.com/hold'] } });
      const r = await registry.delete(configmaps, 'default', 'f');
      expect(r.deleted).toBe(false);
      expect(r.object.metadata.deletionTimestamp).toBeDefined();
      await registry.update(configmaps, 'default', 'f', (c) => ({ ...c, metadata: { ...c.metadata, finalizers: [] } }));
      expect(await store.get('/registry/configmaps/default/f')).toBeUndefined();
    });

    it('checks uid and resourceVersion preconditions', async () => {
      await registry.create(configmaps, 'default', { metadata: { name: 'x' } });
      const err = await apiError(registry.delete(configmaps, 'default', 'x', { preconditions: { uid: 'other' } }));
      expect(err.httpCode).toBe(409);
      expect(err.message).toContain('Precondition failed: UID in precondition: other');
    });

    it('answers 404 for a missing object', async () => {
      const err = await apiError(registry.delete(configmaps, 'default', 'missing'));
      expect(err.httpCode).toBe(404);
      expect(err.message).toBe('configmaps "missing" not found');
    });
  });

  describe('services', () => {
    const svc = (name: string, spec: Record<string, unknown> = {}): KubeObject => ({
      metadata: { name },
      spec: { ports: [{ port: 80 }], selector: { app: name }, ...spec },
    });

    it('allocates unique ClusterIPs and frees them on delete', async () => {
      const ips = new Set<string>();
      // a /28 has 14 usable addresses
      for (let i = 0; i < 14; i++) {
        const s = await registry.create(services, 'default', svc(`s${i}`));
        ips.add((s['spec'] as { clusterIP: string }).clusterIP);
      }
      expect(ips.size).toBe(14);
      const full = await apiError(registry.create(services, 'default', svc('s14')));
      expect(full.httpCode).toBe(422);
      expect(full.message).toContain('range is full');
      await registry.delete(services, 'default', 's3');
      const s = await registry.create(services, 'default', svc('again'));
      expect((s['spec'] as { clusterIP: string }).clusterIP).toMatch(/^10\.96\.0\./);
    });

    it('refuses a taken or out-of-range ClusterIP', async () => {
      await registry.create(services, 'default', svc('a', { clusterIP: '10.96.0.5' }));
      const taken = await apiError(registry.create(services, 'default', svc('b', { clusterIP: '10.96.0.5' })));
      expect(taken.message).toContain('failed to allocate IP 10.96.0.5: provided IP is already allocated');
      const outside = await apiError(registry.create(services, 'default', svc('c', { clusterIP: '10.0.0.1' })));
      expect(outside.message).toContain('The range of valid IPs is 10.96.0.0/28');
    });

    it('releases the NodePort and ClusterIP when the type changes to ExternalName', async () => {
      const s = await registry.create(services, 'default', svc('np', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }));
      expect((s['spec'] as { ports: Array<{ nodePort: number }> }).ports[0]?.nodePort).toBe(30001);
      const taken = await apiError(registry.create(services, 'default', svc('np2', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] })));
      expect(taken.message).toContain('provided port is already allocated');
      const ext = await registry.update(services, 'default', 'np', (o) => ({
        ...o,
        spec: { ...(o['spec'] as object), type: 'ExternalName', externalName: 'example.com', clusterIP: '', clusterIPs: [] },
      }));
      expect((ext['spec'] as { clusterIP?: string }).clusterIP).toBeUndefined();
      const reused = await registry.create(services, 'default', svc('np3', { type: 'NodePort', ports: [{ port: 80, nodePort: 30001 }] }));
      expect((reused['spec'] as { ports: Array<{ nodePort: number }> }).ports[0]?.nodePort).toBe(30001);
    });

    it('repairs allocations to match the stored Services', async () => {
      await registry.create(services, 'default', svc('a', { clusterIP: '10.96.0.7' }));
      await store.create('/ranges/serviceips/10.96.0.9', '{"owner":"default/ghost"}');
      await store.delete('/ranges/serviceips/10.96.0.7');
      const list = await listObjects(registry, services, { filter: everything });
      const r = await svcAlloc.repair(list.items);
      expect(r.freed).toEqual(['10.96.0.9']);
      expect(r.recorded).toEqual(['10.96.0.7']);
    });
  });
});

describe('planDeletion', () => {
  const now = new Date(Date.UTC(2026, 0, 1));
  const cm = (meta: Record<string, unknown> = {}): KubeObject => ({ kind: 'ConfigMap', metadata: { name: 'x', ...meta } });
  const cases: Array<[string, KubeObject, Parameters<typeof planDeletion>[2], string, readonly string[] | undefined]> = [
    ['background without finalizers removes', cm(), {}, 'remove', undefined],
    ['orphan adds the orphan finalizer', cm(), { propagationPolicy: 'Orphan' }, 'mark', ['orphan']],
    ['foreground adds foregroundDeletion', cm(), { propagationPolicy: 'Foreground' }, 'mark', ['foregroundDeletion']],
    ['orphanDependents=true means Orphan', cm(), { orphanDependents: true }, 'mark', ['orphan']],
    ['existing finalizers only mark', cm({ finalizers: ['a/b'] }), {}, 'mark', ['a/b']],
    ['a second delete of a marked object changes nothing', cm({ finalizers: ['a/b'], deletionTimestamp: '2026-01-01T00:00:00Z' }), {}, 'unchanged', undefined],
  ];
  it.each(cases)('%s', (_name, obj, opts, kind, finalizers) => {
    const plan = planDeletion(configmapsEntry(), obj, opts, now);
    expect(plan.kind).toBe(kind);
    if (plan.kind === 'mark') expect(plan.object.metadata.finalizers).toEqual(finalizers);
  });

  it('marks a namespace Terminating while its spec finalizers remain', () => {
    const ns: KubeObject = { kind: 'Namespace', metadata: { name: 'n' }, spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } };
    const plan = planDeletion(namespaces, ns, {}, now);
    expect(plan.kind).toBe('mark');
    if (plan.kind === 'mark') expect((plan.object['status'] as { phase: string }).phase).toBe('Terminating');
  });
});

function configmapsEntry(): ResourceEntry {
  return configmaps;
}
