/**
 * An in-memory stand-in for the few KubeClient calls the node reporter, the lease renewer and the
 * mirror pod manager make (get, list, create, update, patch, delete), keeping the apiserver's semantics
 * they depend on: 404 NotFound and 409 AlreadyExists with upstream's messages, optimistic concurrency
 * on update (409 Conflict on a stale resourceVersion), uid preconditions on delete, the status
 * subresource changing only status (+labels/annotations), and strategic merge patches applied by the
 * control plane's own implementation over the kind's schema. Test hooks: `failNext` (scripted errors),
 * `calls` (what was asked), `put` (seed an object), `object` (read one back).
 * Not exported from index.ts: it pulls the control plane's patch code, which the agent does not need.
 */
import { randomUUID } from 'node:crypto';
import { nodeSchema } from '../../api/core/node.js';
import { podSchema } from '../../api/core/pod.js';
import { leaseSchema } from '../../api/coordination/lease.js';
import type { KubeObject, ObjectList, Status } from '../../api/meta.js';
import type { Schema } from '../../api/schema.js';
import { applyMergePatch } from '../../control-plane/apiserver/patch/json-merge-patch.js';
import { applyStrategicMergePatch } from '../../control-plane/apiserver/patch/strategic-merge-patch.js';
import type { JsonObject } from '../../control-plane/apiserver/patch/json-util.js';
import type { CreateOptions, DeleteOptions, GetOptions, KubeClient, ListOptions, PatchOptions, UpdateOptions } from '../../lib/client/client.js';
import { ClientApiError } from '../../lib/client/errors.js';
import type { ResourceRef } from '../../lib/client/resource.js';
import { apiVersionOfRef } from '../../lib/client/resource.js';

export type FakeApiMethod = 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';

/** The KubeClient surface the fake provides; modules declare the subset they use. */
export type FakeApiSurface = Pick<KubeClient, FakeApiMethod>;

export interface FakeApiCall {
  readonly method: FakeApiMethod;
  readonly resource: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly subresource?: string;
  readonly body?: unknown;
}

const SCHEMAS: Readonly<Record<string, Schema>> = { nodes: nodeSchema, pods: podSchema, leases: leaseSchema };

/** A Status-carrying error as the real client throws it. */
export function apiError(code: number, reason: string, message: string, method = 'GET', path = '/'): ClientApiError {
  const status: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  return new ClientApiError(status, method, path);
}

function qualified(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`;
}

export class FakeApi implements FakeApiSurface {
  readonly calls: FakeApiCall[] = [];
  private readonly store = new Map<string, KubeObject>();
  private readonly failures = new Map<FakeApiMethod, unknown[]>();
  private rv = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  // ---- test hooks ---------------------------------------------------------------------------------

  /** The next `times` calls of `method` reject with `error` instead of running. */
  failNext(method: FakeApiMethod, error: unknown, times = 1): void {
    const q = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) q.push(error);
    this.failures.set(method, q);
  }

  /** Stores an object as if it had been created (uid and resourceVersion filled when missing). */
  put<T extends KubeObject>(ref: ResourceRef, obj: T): T {
    const stored = this.stamp(ref, obj, true);
    this.store.set(this.key(ref, obj.metadata.namespace, obj.metadata.name ?? ''), stored);
    return stored as T;
  }

  object<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, namespace?: string): T | undefined {
    return this.store.get(this.key(ref, namespace, name)) as T | undefined;
  }

  objects<T extends KubeObject = KubeObject>(ref: ResourceRef): T[] {
    const prefix = `${qualified(ref)}/`;
    return [...this.store.entries()].filter(([k]) => k.startsWith(prefix)).map(([, v]) => v as T);
  }

  callsOf(method: FakeApiMethod, resource?: string): FakeApiCall[] {
    return this.calls.filter((c) => c.method === method && (resource === undefined || c.resource === resource));
  }

  // ---- KubeClient surface -------------------------------------------------------------------------

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts: GetOptions = {}): Promise<T> {
    this.enter({ method: 'get', resource: ref.plural, name, ...ns(opts.namespace), ...(opts.subresource ? { subresource: opts.subresource } : {}) });
    return structuredClone(this.mustGet(ref, opts.namespace, name, 'GET')) as T;
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    this.enter({ method: 'list', resource: ref.plural, ...ns(opts.namespace) });
    const fields = parseSelector(opts.fieldSelector);
    const labels = parseSelector(opts.labelSelector);
    const items = this.objects(ref).filter(
      (o) =>
        (opts.namespace === undefined || o.metadata.namespace === opts.namespace) &&
        fields.every(([path, want]) => fieldValue(o, path) === want) &&
        labels.every(([k, want]) => o.metadata.labels?.[k] === want),
    );
    return { apiVersion: apiVersionOfRef(ref), kind: `${ref.kind ?? ''}List`, metadata: { resourceVersion: String(this.rv) }, items: structuredClone(items) as T[] };
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: CreateOptions = {}): Promise<T> {
    const namespace = ref.namespaced ? (opts.namespace ?? obj.metadata.namespace) : undefined;
    const name = obj.metadata.name ?? '';
    this.enter({ method: 'create', resource: ref.plural, name, ...ns(namespace), body: obj });
    const key = this.key(ref, namespace, name);
    if (this.store.has(key)) throw apiError(409, 'AlreadyExists', `${qualified(ref)} "${name}" already exists`, 'POST');
    const meta = { ...obj.metadata, ...(namespace !== undefined ? { namespace } : {}) };
    const { uid: _u, resourceVersion: _r, creationTimestamp: _c, ...rest } = meta;
    const stored = this.stamp(ref, { ...structuredClone(obj), metadata: rest }, true);
    this.store.set(key, stored);
    return structuredClone(stored) as T;
  }

  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: UpdateOptions = {}): Promise<T> {
    const namespace = ref.namespaced ? obj.metadata.namespace : undefined;
    const name = obj.metadata.name ?? '';
    this.enter({ method: 'update', resource: ref.plural, name, ...ns(namespace), ...(opts.subresource ? { subresource: opts.subresource } : {}), body: obj });
    const current = this.mustGet(ref, namespace, name, 'PUT');
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== current.metadata.resourceVersion) throw this.conflict(ref, name, 'PUT');
    const next = opts.subresource === 'status' ? statusOnly(current, obj) : { ...structuredClone(obj), metadata: keepSystemMeta(obj.metadata, current.metadata) };
    const stored = this.stamp(ref, next, false);
    this.store.set(this.key(ref, namespace, name), stored);
    return structuredClone(stored) as T;
  }

  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: PatchOptions): Promise<T> {
    this.enter({ method: 'patch', resource: ref.plural, name, ...ns(opts.namespace), ...(opts.subresource ? { subresource: opts.subresource } : {}), body: patch });
    const current = this.mustGet(ref, opts.namespace, name, 'PATCH');
    let patched: KubeObject;
    switch (opts.type) {
      case 'strategic':
        patched = applyStrategicMergePatch(current as unknown as JsonObject, patch, SCHEMAS[ref.plural]) as unknown as KubeObject;
        break;
      case 'merge':
        patched = applyMergePatch(current, patch) as KubeObject;
        break;
      case 'json':
      case 'apply':
        throw apiError(415, 'UnsupportedMediaType', `the fake does not implement ${opts.type} patches`, 'PATCH');
      default: {
        const never: never = opts.type;
        return never;
      }
    }
    const next = opts.subresource === 'status' ? statusOnly(current, patched) : { ...patched, metadata: keepSystemMeta(patched.metadata, current.metadata) };
    const stored = this.stamp(ref, next, false);
    this.store.set(this.key(ref, opts.namespace, name), stored);
    return structuredClone(stored) as T;
  }

  async delete<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    this.enter({ method: 'delete', resource: ref.plural, name, ...ns(opts.namespace) });
    const current = this.mustGet(ref, opts.namespace, name, 'DELETE');
    const uid = opts.preconditions?.uid;
    if (uid !== undefined && uid !== current.metadata.uid) {
      throw apiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`,
        'DELETE',
      );
    }
    this.store.delete(this.key(ref, opts.namespace, name));
    return structuredClone(current) as T;
  }

  // ---- internals ----------------------------------------------------------------------------------

  private enter(call: FakeApiCall): void {
    this.calls.push(call);
    const q = this.failures.get(call.method);
    if (q !== undefined && q.length > 0) throw q.shift();
  }

  private key(ref: ResourceRef, namespace: string | undefined, name: string): string {
    return `${qualified(ref)}/${ref.namespaced ? (namespace ?? '') : ''}/${name}`;
  }

  private mustGet(ref: ResourceRef, namespace: string | undefined, name: string, method: string): KubeObject {
    const obj = this.store.get(this.key(ref, namespace, name));
    if (obj === undefined) throw apiError(404, 'NotFound', `${qualified(ref)} "${name}" not found`, method);
    return obj;
  }

  private conflict(ref: ResourceRef, name: string, method: string): ClientApiError {
    return apiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(ref)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      method,
    );
  }

  private stamp(ref: ResourceRef, obj: KubeObject, created: boolean): KubeObject {
    this.rv++;
    return {
      ...obj,
      apiVersion: apiVersionOfRef(ref),
      ...(ref.kind !== undefined ? { kind: ref.kind } : {}),
      metadata: {
        ...obj.metadata,
        uid: obj.metadata.uid ?? randomUUID(),
        resourceVersion: String(this.rv),
        ...(created && obj.metadata.creationTimestamp === undefined ? { creationTimestamp: this.now().toISOString().replace(/\.\d{3}Z$/, 'Z') } : {}),
      },
    };
  }
}

function ns(namespace: string | undefined): { namespace?: string } {
  return namespace !== undefined ? { namespace } : {};
}

/** What a write through `status` changes: status, plus labels and annotations (as the apiserver allows). */
function statusOnly(current: KubeObject, desired: KubeObject): KubeObject {
  return {
    ...current,
    metadata: {
      ...current.metadata,
      ...(desired.metadata.labels !== undefined ? { labels: desired.metadata.labels } : {}),
      ...(desired.metadata.annotations !== undefined ? { annotations: desired.metadata.annotations } : {}),
    },
    ...(desired['status'] !== undefined ? { status: structuredClone(desired['status']) } : {}),
  };
}

function keepSystemMeta(meta: KubeObject['metadata'], current: KubeObject['metadata']): KubeObject['metadata'] {
  return {
    ...meta,
    ...(current.uid !== undefined ? { uid: current.uid } : {}),
    ...(current.creationTimestamp !== undefined ? { creationTimestamp: current.creationTimestamp } : {}),
  };
}

/** `a=b,c.d=e` (equality only, which is all the kubelet sends). */
function parseSelector(sel: string | undefined): Array<[string, string]> {
  if (sel === undefined || sel === '') return [];
  return sel.split(',').map((part) => {
    const [k, v] = part.split(/==?/);
    return [k?.trim() ?? '', v?.trim() ?? ''];
  });
}

function fieldValue(obj: KubeObject, path: string): string {
  let cur: unknown = obj;
  for (const seg of path.split('.')) cur = typeof cur === 'object' && cur !== null ? (cur as Record<string, unknown>)[seg] : undefined;
  return cur === undefined ? '' : String(cur);
}
