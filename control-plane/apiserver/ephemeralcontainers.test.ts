import { createServer, request as httpRequest } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import type { Pod } from '../../api/core/pod.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { MemoryStore } from '../storage/memory-store.js';
import { AdmissionChain } from './admission.js';
import type { AdmissionContext, AdmissionPlugin } from './admission.js';
import { ApiError } from './errors.js';
import { handleResource } from './handlers.js';
import { writeStatus } from './http-util.js';
import { NamespaceLifecycle } from './plugins/namespace-lifecycle.js';
import { Registry } from './registry.js';
import { apiError } from './test-support.js';
import { parseRequestPath } from './request-info.js';
import type { RequestUser, ResourceEntry } from './resource-table.js';
import { servedResources } from './resources.js';

const index = servedResources();
const must = (plural: string): ResourceEntry => {
  const e = index.find('', 'v1', plural);
  if (!e) throw new Error(plural);
  return e;
};
const pods = must('pods');
const namespaces = must('namespaces');

const webPod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: { containers: [{ name: 'app', image: 'nginx:1.27' }] },
};

const debuggerC = { name: 'debugger', image: 'busybox:1.36', stdin: true, tty: true, targetContainerName: 'app' };

const specOf = (o: KubeObject): Pod['spec'] => (o as unknown as Pod).spec;

/** Records what admission saw of each update. */
class Recorder implements AdmissionPlugin {
  readonly name = 'Recorder';
  readonly seen: { subresource: string | undefined; user: string | undefined; dryRun: boolean }[] = [];
  async admitUpdate(ctx: AdmissionContext): Promise<undefined> {
    this.seen.push({ subresource: ctx.subresource, user: ctx.user?.name, dryRun: ctx.dryRun });
    return undefined;
  }
}

let registry: Registry;
let recorder: Recorder;
let clock: FakeClock;

beforeEach(async () => {
  clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  recorder = new Recorder();
  registry = new Registry(new MemoryStore(), new AdmissionChain([new NamespaceLifecycle(() => namespaces), recorder]), clock);
  await registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await registry.create(pods, 'default', webPod);
});


describe('Registry: the ephemeralcontainers subresource', () => {
  const addDebugger = (p: KubeObject): KubeObject => ({ ...p, spec: { ...(p['spec'] as object), ephemeralContainers: [debuggerC] } });

  it('adds an ephemeral container (defaulted), bumps generation and records the manager with the subresource', async () => {
    const before = await registry.get(pods, 'default', 'web');
    const after = await registry.update(pods, 'default', 'web', addDebugger, { subresource: 'ephemeralcontainers', fieldManager: 'kubectl-debug' });
    const eph = specOf(after).ephemeralContainers ?? [];
    expect(eph.map((c) => c.name)).toEqual(['debugger']);
    expect(eph[0]).toMatchObject({ image: 'busybox:1.36', targetContainerName: 'app', imagePullPolicy: 'IfNotPresent', terminationMessagePolicy: 'File' });
    expect(after.metadata.generation).toBe((before.metadata.generation ?? 0) + 1);
    expect(Number(after.metadata.resourceVersion)).toBeGreaterThan(Number(before.metadata.resourceVersion));
    const entry = after.metadata.managedFields?.find((m) => m.manager === 'kubectl-debug');
    expect(entry).toMatchObject({ operation: 'Update', subresource: 'ephemeralcontainers' });
    expect(JSON.stringify(entry?.fieldsV1)).toContain('ephemeralContainers');
    expect(recorder.seen.at(-1)?.subresource).toBe('ephemeralcontainers');
  });

  it('ignores everything but spec.ephemeralContainers: metadata, the rest of spec and status stay as stored', async () => {
    const after = await registry.update(
      pods,
      'default',
      'web',
      (p) => ({
        ...p,
        metadata: { ...p.metadata, labels: { app: 'changed' }, annotations: { a: 'b' } },
        spec: { ...(p['spec'] as object), containers: [{ name: 'app', image: 'nginx:9' }], activeDeadlineSeconds: 5, ephemeralContainers: [debuggerC] },
        status: { phase: 'Running' },
      }),
      { subresource: 'ephemeralcontainers' },
    );
    expect(after.metadata.labels).toEqual({ app: 'web' });
    expect(after.metadata.annotations).toBeUndefined();
    expect(specOf(after).containers[0]?.image).toBe('nginx:1.27');
    expect(specOf(after).activeDeadlineSeconds).toBeUndefined();
    expect((after as unknown as Pod).status?.phase).toBe('Pending');
    expect(specOf(after).ephemeralContainers?.map((c) => c.name)).toEqual(['debugger']);
  });

  it('a change to another field alone is a no-op that keeps the resourceVersion', async () => {
    const before = await registry.get(pods, 'default', 'web');
    const after = await registry.update(pods, 'default', 'web', (p) => ({ ...p, spec: { ...(p['spec'] as object), activeDeadlineSeconds: 5 } }), {
      subresource: 'ephemeralcontainers',
    });
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(specOf(after).activeDeadlineSeconds).toBeUndefined();
  });

  it('refuses changing or removing an existing one with 422 Invalid', async () => {
    await registry.update(pods, 'default', 'web', addDebugger, { subresource: 'ephemeralcontainers' });
    const changed = await apiError(
      registry.update(pods, 'default', 'web', (p) => ({ ...p, spec: { ...(p['spec'] as object), ephemeralContainers: [{ ...debuggerC, image: 'alpine' }] } }), {
        subresource: 'ephemeralcontainers',
      }),
    );
    expect(changed.httpCode).toBe(422);
    expect(changed.reason).toBe('Invalid');
    expect(changed.message.startsWith('Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed\n')).toBe(true);
    const removed = await apiError(
      registry.update(pods, 'default', 'web', (p) => ({ ...p, spec: { ...(p['spec'] as object), ephemeralContainers: [] } }), { subresource: 'ephemeralcontainers' }),
    );
    expect(removed.message).toBe('Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be removed\n');
  });

  it('a dry run validates and answers without writing', async () => {
    const before = await registry.get(pods, 'default', 'web');
    const dry = await registry.update(pods, 'default', 'web', addDebugger, { subresource: 'ephemeralcontainers', dryRun: true });
    expect(specOf(dry).ephemeralContainers).toHaveLength(1);
    const now = await registry.get(pods, 'default', 'web');
    expect(now.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(specOf(now).ephemeralContainers).toBeUndefined();
  });
});

// ---- over HTTP ----------------------------------------------------------------------------------------

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
});

/** An apiserver stand-in: resource paths go to handleResource, errors leave as Status, as in server.ts. */
async function apiserver(user?: RequestUser): Promise<number> {
  const deps = { registry, index, clock, log: silentLogger(), buildTable: () => ({}), bookmarkIntervalMs: 60_000 };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://apiserver');
    const info = parseRequestPath(url.pathname);
    if (info.kind !== 'resource') throw new Error(`not a resource path: ${url.pathname}`);
    handleResource(deps, req, res, info, url, user).catch((err: unknown) => {
      writeStatus(res, err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err)));
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string | string[] | undefined>;
}

function call(port: number, method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method, agent: false, headers: { 'User-Agent': 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc', ...(data ? { 'Content-Type': contentType } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: res.statusCode ?? 0, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>), headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const EPH = '/api/v1/namespaces/default/pods/web/ephemeralcontainers';
const SMP = 'application/strategic-merge-patch+json';
/** What kubectl debug sends: a strategic merge patch adding one entry. */
const debugPatch = (c: Record<string, unknown> = debuggerC): unknown => ({ spec: { ephemeralContainers: [c] } });

describe('HTTP: /api/v1/namespaces/NS/pods/NAME/ephemeralcontainers', () => {
  it('PATCH (strategic merge) adds an ephemeral container and answers 200 with the Pod', async () => {
    const port = await apiserver({ name: 'alice', groups: ['system:authenticated'] });
    const before = await registry.get(pods, 'default', 'web');
    const r = await call(port, 'PATCH', EPH, debugPatch(), SMP);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ kind: 'Pod', apiVersion: 'v1', metadata: { name: 'web' } });
    const spec = (r.body as unknown as Pod).spec;
    expect(spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger']);
    expect(spec.containers.map((c) => c.name)).toEqual(['app']);
    const stored = await registry.get(pods, 'default', 'web');
    expect(specOf(stored).ephemeralContainers?.[0]).toMatchObject({ name: 'debugger', image: 'busybox:1.36', stdin: true, tty: true });
    expect(stored.metadata.generation).toBe((before.metadata.generation ?? 0) + 1);
    expect(stored.metadata.managedFields?.find((m) => m.manager === 'kubectl')).toMatchObject({ operation: 'Update', subresource: 'ephemeralcontainers' });
    expect(recorder.seen.at(-1)).toEqual({ subresource: 'ephemeralcontainers', user: 'alice', dryRun: false });
  });

  it('a second PATCH changing it is 422 Invalid with the Forbidden message', async () => {
    const port = await apiserver();
    expect((await call(port, 'PATCH', EPH, debugPatch(), SMP)).status).toBe(200);
    const r = await call(port, 'PATCH', EPH, debugPatch({ ...debuggerC, image: 'alpine:3' }), SMP);
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({ kind: 'Status', reason: 'Invalid', details: { name: 'web', kind: 'Pod', causes: [{ reason: 'FieldValueForbidden', field: 'spec.ephemeralContainers' }] } });
    expect(String(r.body['message']).startsWith('Pod "web" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger" may not be changed\n')).toBe(true);
  });

  it('a second debugger is added next to the first (strategic merge by name, in the order kubectl gives)', async () => {
    const port = await apiserver();
    await call(port, 'PATCH', EPH, debugPatch(), SMP);
    const second = { name: 'debugger-2', image: 'busybox:1.36' };
    const patch = { spec: { '$setElementOrder/ephemeralContainers': [{ name: 'debugger' }, { name: 'debugger-2' }], ephemeralContainers: [second] } };
    const r = await call(port, 'PATCH', EPH, patch, SMP);
    expect(r.status).toBe(200);
    expect((r.body as unknown as Pod).spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger', 'debugger-2']);
    // without the order directive the existing one keeps its content wherever it lands: still valid
    const third = await call(port, 'PATCH', EPH, debugPatch({ name: 'debugger-3', image: 'busybox:1.36' }), SMP);
    expect(third.status).toBe(200);
    expect((third.body as unknown as Pod).spec.ephemeralContainers?.map((c) => c.name).sort()).toEqual(['debugger', 'debugger-2', 'debugger-3']);
  });

  it('an invalid ephemeral container is 422 with the validation errors', async () => {
    const port = await apiserver();
    const r = await call(port, 'PATCH', EPH, debugPatch({ name: 'app', image: 'busybox', ports: [{ containerPort: 80 }] }), SMP);
    expect(r.status).toBe(422);
    const causes = (r.body['details'] as { causes: { field: string; reason: string }[] }).causes.map((c) => [c.field, c.reason]);
    expect(causes).toEqual(
      expect.arrayContaining([
        ['spec.ephemeralContainers[0].name', 'FieldValueDuplicate'],
        ['spec.ephemeralContainers[0].ports', 'FieldValueForbidden'],
      ]),
    );
  });

  it('merge and JSON patches work too; a change to other fields in the patch is ignored', async () => {
    const port = await apiserver();
    const merge = await call(port, 'PATCH', EPH, { metadata: { labels: { x: 'y' } }, spec: { activeDeadlineSeconds: 10, ephemeralContainers: [debuggerC] } }, 'application/merge-patch+json');
    expect(merge.status).toBe(200);
    expect((merge.body['metadata'] as { labels: unknown }).labels).toEqual({ app: 'web' });
    expect((merge.body as unknown as Pod).spec.activeDeadlineSeconds).toBeUndefined();
    const json = await call(port, 'PATCH', EPH, [{ op: 'add', path: '/spec/ephemeralContainers/-', value: { name: 'two', image: 'busybox' } }], 'application/json-patch+json');
    expect(json.status).toBe(200);
    expect((json.body as unknown as Pod).spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger', 'two']);
  });

  it('PUT takes a whole Pod, with a resourceVersion precondition', async () => {
    const port = await apiserver();
    const current = (await call(port, 'GET', EPH)).body as unknown as Pod;
    const desired = { ...current, spec: { ...current.spec, ephemeralContainers: [debuggerC] } };
    const ok = await call(port, 'PUT', EPH, desired);
    expect(ok.status).toBe(200);
    expect((ok.body as unknown as Pod).spec.ephemeralContainers?.map((c) => c.name)).toEqual(['debugger']);
    // the same body again carries the old resourceVersion: 409
    const stale = await call(port, 'PUT', EPH, { ...desired, spec: { ...desired.spec, ephemeralContainers: [debuggerC, { name: 'x', image: 'busybox' }] } });
    expect(stale.status).toBe(409);
    const renamed = await call(port, 'PUT', EPH, { ...desired, metadata: { name: 'other' } });
    expect(renamed.status).toBe(400);
    const wrongKind = await call(port, 'PUT', EPH, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' } });
    expect(wrongKind.status).toBe(400);
  });

  it('unknown fields: a Warning header by default, 400 with fieldValidation=Strict', async () => {
    const port = await apiserver();
    const warn = await call(port, 'PATCH', EPH, debugPatch({ ...debuggerC, bogus: 1 }), SMP);
    expect(warn.status).toBe(200);
    expect(String(warn.headers['warning'])).toContain('unknown field');
    const strict = await call(port, 'PATCH', `${EPH}?fieldValidation=Strict`, debugPatch({ name: 'd2', image: 'busybox', bogus: 1 }), SMP);
    expect(strict.status).toBe(400);
  });

  it('dryRun=All answers the result without storing it', async () => {
    const port = await apiserver();
    const r = await call(port, 'PATCH', `${EPH}?dryRun=All`, debugPatch(), SMP);
    expect(r.status).toBe(200);
    expect((r.body as unknown as Pod).spec.ephemeralContainers).toHaveLength(1);
    expect(specOf(await registry.get(pods, 'default', 'web')).ephemeralContainers).toBeUndefined();
    expect(recorder.seen.at(-1)?.dryRun).toBe(true);
  });

  it('GET returns the Pod; POST and DELETE are 405; an unknown pod is 404', async () => {
    const port = await apiserver();
    const got = await call(port, 'GET', EPH);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ kind: 'Pod', metadata: { name: 'web', namespace: 'default' } });
    expect((await call(port, 'POST', EPH, debugPatch())).status).toBe(405);
    expect((await call(port, 'DELETE', EPH)).status).toBe(405);
    for (const method of ['GET', 'PATCH']) {
      const missing = await call(port, method, '/api/v1/namespaces/default/pods/nope/ephemeralcontainers', method === 'PATCH' ? debugPatch() : undefined, SMP);
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({ reason: 'NotFound', message: 'pods "nope" not found' });
    }
  });

  it('is not served for other resources', async () => {
    await registry.create(must('configmaps'), 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' } });
    const port = await apiserver();
    const r = await call(port, 'GET', '/api/v1/namespaces/default/configmaps/cm/ephemeralcontainers');
    expect(r.status).toBe(404);
  });
});
