/**
 * The generic REST storage of the apiserver: create, update, delete of any kind over the `Store`,
 * with upstream's object lifecycle rules. HTTP handlers and in-process controllers (garbage collector,
 * bootstrap) both go through it, so every write gets the same defaulting, admission and validation.
 *
 * Cost model: one store read + one conditional store write per mutation; unconditional updates retry
 * on a revision conflict (another writer got in between), conditional ones (the client sent a
 * resourceVersion) answer 409 at once. A no-op update writes nothing and keeps the resourceVersion.
 *
 * Reads (get, list, watch) live in registry-read.ts.
 */
import { randomUUID } from 'node:crypto';
import type { FieldError } from '../../api/field-errors.js';
import type { KubeObject, ObjectMeta } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import { rfc3339 } from '../../lib/clock.js';
import { deepEqual } from '../../lib/json.js';
import { ConflictError, KeyExistsError, KeyNotFoundError } from '../storage/errors.js';
import type { KeyValue, Store } from '../storage/store.js';
import type { AdmissionChain, AdmitResult } from './admission.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  internalError,
  invalid,
  modifiedConflict,
  notFound,
} from './errors.js';
import type { DeletionPropagation, RequestUser, ResourceEntry } from './resource-table.js';
import { objectKey, apiVersionOfEntry } from './resource-table.js';
import { trackUpdate } from './patch/managed-fields.js';

export interface WriteOptions {
  readonly dryRun?: boolean;
  /**
   * Who writes: the write records an `Update` entry for this manager in managedFields (the fields it
   * changed become its own). Unset: managedFields are left as the caller made them (server-side apply
   * computes its own entries; in-process writers that name nobody record nothing).
   */
  readonly fieldManager?: string;
  /**
   * The control plane's own reconciler writing an object it owns (the `kubernetes` Endpoints may
   * point at a loopback apiserver, which user validation forbids). Never set from a request.
   */
  readonly trusted?: boolean;
  /**
   * The authenticated requester (from the HTTP handler): kinds with `stampRequester` record it on
   * create; admission plugins (NodeRestriction, RBAC escalation checks) judge by it.
   */
  readonly user?: RequestUser;
}

export interface DeleteOptions extends WriteOptions {
  readonly gracePeriodSeconds?: number;
  readonly propagationPolicy?: DeletionPropagation;
  readonly orphanDependents?: boolean;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
}

export interface DeleteResult {
  readonly object: KubeObject;
  /** False when the object still exists (graceful deletion or finalizers pending). */
  readonly deleted: boolean;
}

/**
 * status: only status changes; binding: spec.nodeName and status (pods); finalize: spec.finalizers
 * (namespaces); ephemeralcontainers: only spec.ephemeralContainers (pods).
 */
export type UpdateSubresource = 'status' | 'binding' | 'finalize' | 'ephemeralcontainers';

export type Mutator = (current: KubeObject) => KubeObject | Promise<KubeObject>;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** The requester, for admission plugins that judge by who writes. */
const userOf = (opts: WriteOptions): { user?: RequestUser } => (opts.user !== undefined ? { user: opts.user } : {});

const GENERATE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const MAX_UPDATE_RETRIES = 20;

export class Registry {
  constructor(
    readonly store: Store,
    private readonly admission: AdmissionChain,
    private readonly clock: Clock,
  ) {}

  /** Stored JSON -> object as served, with resourceVersion = the key's modRevision. */
  decode(e: ResourceEntry, kv: KeyValue, revision = kv.modRevision): KubeObject {
    const stored = JSON.parse(kv.value) as KubeObject;
    const withRv: KubeObject = { ...stored, metadata: { ...stored.metadata, resourceVersion: String(revision) } };
    return e.toView ? e.toView(withRv) : withRv;
  }

  private encode(e: ResourceEntry, obj: KubeObject): string {
    const stored = e.fromView ? e.fromView(obj) : obj;
    const { resourceVersion: _rv, ...meta } = stored.metadata;
    return JSON.stringify({ ...stored, metadata: meta });
  }

  async getRaw(e: ResourceEntry, namespace: string | undefined, name: string): Promise<KeyValue> {
    const kv = await this.store.get(objectKey(e, namespace, name));
    if (!kv) throw notFound({ group: e.def.group, resource: e.def.plural }, name);
    return kv;
  }

  async get(e: ResourceEntry, namespace: string | undefined, name: string): Promise<KubeObject> {
    return this.decode(e, await this.getRaw(e, namespace, name));
  }

  // ---- create -------------------------------------------------------------------------------

  async create(e: ResourceEntry, namespace: string | undefined, input: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const gr = { group: e.def.group, resource: e.def.plural };
    if (input.metadata.resourceVersion) {
      throw badRequest('resourceVersion should not be set on objects to be created');
    }
    for (let attempt = 0; ; attempt++) {
      const created = this.recordManager(e, undefined, this.prepareCreate(e, namespace, input), opts);
      const prepared = e.stampRequester ? e.stampRequester(created, opts.user) : created;
      const admitted = await this.admission.admitCreate({ entry: e, registry: this, dryRun: opts.dryRun === true, ...userOf(opts) }, prepared);
      const obj = opts.trusted ? admitted.obj : this.validatedCreate(e, admitted.obj);
      if (opts.dryRun) return { ...obj, metadata: { ...obj.metadata } };
      const key = objectKey(e, obj.metadata.namespace, obj.metadata.name ?? '');
      try {
        const kv = await this.store.create(key, this.encode(e, obj));
        await admitted.afterCommit?.();
        return this.decode(e, kv);
      } catch (err) {
        await admitted.undo?.();
        if (err instanceof KeyExistsError) {
          if (input.metadata.generateName && !input.metadata.name && attempt < 5) continue;
          throw alreadyExists(gr, obj.metadata.name ?? '');
        }
        throw err;
      }
    }
  }

  private prepareCreate(e: ResourceEntry, namespace: string | undefined, input: KubeObject): KubeObject {
    const meta: Mutable<ObjectMeta> = { ...input.metadata };
    if (e.def.namespaced) {
      if (meta.namespace !== undefined && namespace !== undefined && meta.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const ns = namespace ?? meta.namespace;
      if (ns === undefined || ns === '') throw badRequest('the namespace of the object must be set (no namespace in the URL or the object)');
      meta.namespace = ns;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && meta.generateName) meta.name = meta.generateName + randomSuffix(5);
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(this.clock.now());
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.resourceVersion;
    if (hasSpec(e)) meta.generation = 1;
    else delete meta.generation;
    let obj: KubeObject = { ...input, apiVersion: apiVersionOfEntry(e), kind: e.def.kind, metadata: meta };
    if (e.def.hasStatusSubresource && !e.keepStatusOnCreate) {
      const { status: _s, ...rest } = obj;
      obj = rest as KubeObject;
    }
    return e.def.default(obj);
  }

  private validatedCreate(e: ResourceEntry, obj: KubeObject): KubeObject {
    const errs = e.def.validate(obj);
    if (errs.length > 0) throw invalid(e.def.kind, e.def.group, obj.metadata.name ?? obj.metadata.generateName ?? '', errs);
    return obj;
  }

  // ---- update -------------------------------------------------------------------------------

  /**
   * Read-modify-write with upstream's update rules. `mutate` receives the current object and returns the
   * desired one. With `expectedResourceVersion` (the client's precondition) a concurrent change is a 409;
   * without, the update is retried on the new current object.
   */
  async update(
    e: ResourceEntry,
    namespace: string | undefined,
    name: string,
    mutate: Mutator,
    opts: WriteOptions & { subresource?: UpdateSubresource; expectedResourceVersion?: string } = {},
  ): Promise<KubeObject> {
    const gr = { group: e.def.group, resource: e.def.plural };
    const key = objectKey(e, namespace, name);
    for (let attempt = 0; attempt < MAX_UPDATE_RETRIES; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(gr, name);
      const current = this.decode(e, kv);
      if (opts.expectedResourceVersion !== undefined && opts.expectedResourceVersion !== String(kv.modRevision)) {
        throw modifiedConflict(gr, name);
      }
      const desired = await mutate(current);
      const prepared = this.recordManager(e, current, this.prepareUpdate(e, desired, current, opts.subresource), opts, opts.subresource);
      const admitted: AdmitResult = await this.admission.admitUpdate(
        { entry: e, registry: this, dryRun: opts.dryRun === true, ...(opts.subresource ? { subresource: opts.subresource } : {}), ...userOf(opts) },
        prepared,
        current,
      );
      const next = admitted.obj;
      const errs = opts.trusted ? [] : validateWrite(e, next, current, opts.subresource);
      if (errs.length > 0) {
        await admitted.undo?.();
        throw invalid(e.def.kind, e.def.group, name, errs);
      }
      if (opts.dryRun) {
        await admitted.undo?.();
        return next;
      }
      try {
        if (isFinalized(next)) {
          // The last finalizer of an object under deletion is gone: the update completes the deletion.
          const deleted = await this.store.delete(key, kv.modRevision);
          await admitted.afterCommit?.();
          await this.admission.afterDelete({ entry: e, registry: this, dryRun: false }, next);
          return this.decode(e, deleted);
        }
        if (deepEqual(withoutRv(next), withoutRv(current))) {
          await admitted.undo?.();
          return current;
        }
        const written = await this.store.update(key, this.encode(e, next), kv.modRevision);
        await admitted.afterCommit?.();
        return this.decode(e, written);
      } catch (err) {
        await admitted.undo?.();
        if (err instanceof ConflictError || err instanceof KeyNotFoundError) {
          if (opts.expectedResourceVersion !== undefined) throw modifiedConflict(gr, name);
          continue;
        }
        throw err;
      }
    }
    throw conflict(gr, name, `too many concurrent updates (gave up after ${MAX_UPDATE_RETRIES} tries)`);
  }

  /**
   * managedFields after this write, like upstream's field manager: it runs on the defaulted object and
   * before admission, so fields admission plugins add stay unowned. A write that changes nothing keeps
   * the entries as they were, so the no-op check below still holds.
   */
  private recordManager(e: ResourceEntry, current: KubeObject | undefined, next: KubeObject, opts: WriteOptions, subresource?: UpdateSubresource): KubeObject {
    if (opts.fieldManager === undefined || opts.fieldManager === '') return next;
    return trackUpdate(current, next, e.def.schema, opts.fieldManager, rfc3339(this.clock.now()), subresource !== undefined ? { subresource } : {});
  }

  /** Carries over what a client may not change through this endpoint, and bumps generation on spec changes. */
  private prepareUpdate(e: ResourceEntry, desired: KubeObject, current: KubeObject, subresource?: UpdateSubresource): KubeObject {
    const cm = current.metadata;
    const dm = desired.metadata ?? {};
    if (dm.name !== undefined && dm.name !== cm.name) {
      throw badRequest(`the name of the object (${dm.name}) does not match the name on the URL (${cm.name ?? ''})`);
    }
    if (e.def.namespaced && dm.namespace !== undefined && dm.namespace !== cm.namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    let next: KubeObject;
    if (subresource === 'ephemeralcontainers') {
      // upstream's ephemeralContainersStrategy: the stored pod, with the requested ephemeral containers
      const spec: Record<string, unknown> = { ...((current['spec'] ?? {}) as Record<string, unknown>) };
      const wanted = ((desired['spec'] ?? {}) as Record<string, unknown>)['ephemeralContainers'];
      if (wanted !== undefined && wanted !== null) spec['ephemeralContainers'] = wanted;
      else delete spec['ephemeralContainers'];
      next = { ...current, spec };
    } else if (subresource === 'status') {
      // Only status (plus labels/annotations, as upstream's status strategies allow) changes here.
      next = {
        ...current,
        metadata: {
          ...cm,
          ...(dm.labels !== undefined ? { labels: dm.labels } : {}),
          ...(dm.annotations !== undefined ? { annotations: dm.annotations } : {}),
        },
      };
      if (desired['status'] !== undefined) next = { ...next, status: desired['status'] };
      else {
        const { status: _s, ...rest } = next;
        next = rest as KubeObject;
      }
    } else {
      const meta: Mutable<ObjectMeta> = { ...dm };
      for (const k of ['name', 'uid', 'creationTimestamp'] as const) {
        if (cm[k] !== undefined) meta[k] = cm[k];
        else delete meta[k];
      }
      if (cm.namespace !== undefined) meta.namespace = cm.namespace;
      else delete meta.namespace;
      // deletionTimestamp is set only by delete, and cannot be undone
      if (cm.deletionTimestamp !== undefined) meta.deletionTimestamp = cm.deletionTimestamp;
      else delete meta.deletionTimestamp;
      if (cm.deletionGracePeriodSeconds !== undefined) meta.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
      else delete meta.deletionGracePeriodSeconds;
      if (dm.managedFields === undefined && cm.managedFields !== undefined) meta.managedFields = cm.managedFields;
      next = { ...desired, apiVersion: apiVersionOfEntry(e), kind: e.def.kind, metadata: meta };
      if (e.def.hasStatusSubresource && subresource === undefined) {
        if (current['status'] !== undefined) next = { ...next, status: current['status'] };
        else {
          const { status: _s, ...rest } = next;
          next = rest as KubeObject;
        }
      }
    }
    next = e.def.default(next);
    if (hasSpec(e)) {
      const gen = cm.generation ?? 1;
      const changed = !deepEqual(specOf(next), specOf(current));
      next = { ...next, metadata: { ...next.metadata, generation: changed ? gen + 1 : gen } };
    } else if (next.metadata.generation !== undefined) {
      const { generation: _g, ...m } = next.metadata;
      next = { ...next, metadata: m };
    }
    return next;
  }

  // ---- delete -------------------------------------------------------------------------------

  async delete(e: ResourceEntry, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const gr = { group: e.def.group, resource: e.def.plural };
    const key = objectKey(e, namespace, name);
    for (let attempt = 0; attempt < MAX_UPDATE_RETRIES; attempt++) {
      const kv = await this.store.get(key);
      if (!kv) throw notFound(gr, name);
      const current = this.decode(e, kv);
      const pre = opts.preconditions;
      if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) {
        throw conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      if (pre?.resourceVersion !== undefined && pre.resourceVersion !== String(kv.modRevision)) {
        throw conflict(gr, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${kv.modRevision}`);
      }
      await this.admission.admitDelete({ entry: e, registry: this, dryRun: opts.dryRun === true, ...userOf(opts) }, current);
      const plan = planDeletion(e, current, opts, this.clock.now());
      if (opts.dryRun) return { object: plan.kind === 'mark' ? plan.object : current, deleted: plan.kind === 'remove' };
      try {
        switch (plan.kind) {
          case 'remove': {
            const deleted = await this.store.delete(key, kv.modRevision);
            await this.admission.afterDelete({ entry: e, registry: this, dryRun: false }, current);
            return { object: this.decode(e, deleted), deleted: true };
          }
          case 'mark': {
            const written = await this.store.update(key, this.encode(e, plan.object), kv.modRevision);
            return { object: this.decode(e, written), deleted: false };
          }
          case 'unchanged':
            return { object: current, deleted: false };
          default: {
            const never: never = plan;
            throw internalError(`unknown deletion plan ${JSON.stringify(never)}`);
          }
        }
      } catch (err) {
        if (err instanceof ConflictError) continue;
        if (err instanceof KeyNotFoundError) throw notFound(gr, name);
        throw err;
      }
    }
    throw conflict(gr, name, `too many concurrent updates (gave up after ${MAX_UPDATE_RETRIES} tries)`);
  }
}

export type DeletionPlan =
  | { readonly kind: 'remove' }
  | { readonly kind: 'mark'; readonly object: KubeObject }
  | { readonly kind: 'unchanged' };

/**
 * Pure: what a delete request does to an object. Pods bound to a node are deleted gracefully
 * (deletionTimestamp = now + grace; the kubelet confirms with grace 0); objects with finalizers are
 * only marked; propagation Orphan/Foreground adds the matching finalizer for the garbage collector.
 */
export function planDeletion(e: ResourceEntry, obj: KubeObject, opts: DeleteOptions, now: Date): DeletionPlan {
  const meta = obj.metadata;
  const propagation: DeletionPropagation =
    opts.propagationPolicy ?? (opts.orphanDependents === true ? 'Orphan' : opts.orphanDependents === false ? 'Background' : e.defaultPropagation);
  const finalizers = new Set(meta.finalizers ?? []);
  if (propagation === 'Orphan') {
    finalizers.add('orphan');
    finalizers.delete('foregroundDeletion');
  } else if (propagation === 'Foreground') {
    finalizers.add('foregroundDeletion');
    finalizers.delete('orphan');
  }
  const grace = gracePeriodFor(e, obj, opts);
  const alreadyDeleting = meta.deletionTimestamp !== undefined;
  const specFinalizers = specFinalizersOf(obj);

  if (alreadyDeleting) {
    const currentGrace = meta.deletionGracePeriodSeconds ?? 0;
    // Finalizers requested by the first delete stay; a later delete may only shorten the grace period.
    const keepFinalizers = new Set(meta.finalizers ?? []);
    if (grace === 0 && keepFinalizers.size === 0 && specFinalizers.length === 0) return { kind: 'remove' };
    if (grace < currentGrace) {
      return {
        kind: 'mark',
        object: {
          ...obj,
          metadata: { ...meta, deletionTimestamp: rfc3339(new Date(now.getTime() + grace * 1000)), deletionGracePeriodSeconds: grace },
        },
      };
    }
    return { kind: 'unchanged' };
  }
  const addedFinalizers = propagation !== 'Background' && finalizers.size > (meta.finalizers?.length ?? 0);
  if (grace === 0 && finalizers.size === 0 && specFinalizers.length === 0) return { kind: 'remove' };
  const nextMeta: Mutable<ObjectMeta> = {
    ...meta,
    deletionTimestamp: rfc3339(new Date(now.getTime() + grace * 1000)),
    deletionGracePeriodSeconds: grace,
  };
  if (finalizers.size > 0 || addedFinalizers) nextMeta.finalizers = [...finalizers];
  if (specFinalizers.length > 0) {
    // a namespace shows Terminating until the namespace controller has emptied and finalized it
    const status = (obj['status'] ?? {}) as Record<string, unknown>;
    return { kind: 'mark', object: { ...obj, metadata: nextMeta, status: { ...status, phase: 'Terminating' } } };
  }
  return { kind: 'mark', object: { ...obj, metadata: nextMeta } };
}

/** Upstream's pod rules: unscheduled or finished pods go at once; others wait for the kubelet. */
function gracePeriodFor(e: ResourceEntry, obj: KubeObject, opts: DeleteOptions): number {
  if (e.def.group !== '' || e.def.plural !== 'pods') return 0;
  const spec = (obj['spec'] ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const status = (obj['status'] ?? {}) as { phase?: string };
  if (!spec.nodeName) return 0;
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return 0;
  const grace = opts.gracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
  // upstream treats a negative grace period as "use the default" and 0 as immediate (force)
  return grace < 0 ? (spec.terminationGracePeriodSeconds ?? 30) : grace;
}

function isFinalized(obj: KubeObject): boolean {
  const m = obj.metadata;
  return (
    m.deletionTimestamp !== undefined &&
    (m.finalizers?.length ?? 0) === 0 &&
    specFinalizersOf(obj).length === 0 &&
    (m.deletionGracePeriodSeconds ?? 0) === 0
  );
}

/** Namespaces carry their own finalizers in spec (`kubernetes`), emptied by the namespace controller. */
function specFinalizersOf(obj: KubeObject): readonly string[] {
  if (obj.kind !== 'Namespace') return [];
  return ((obj['spec'] ?? {}) as { finalizers?: readonly string[] }).finalizers ?? [];
}

/**
 * The validation an update gets: a binding sets spec.nodeName, which a plain update may not change, so
 * it is checked as a whole object; a subresource with rules of its own (pods/ephemeralcontainers) uses
 * them; everything else gets the kind's update rules.
 */
function validateWrite(e: ResourceEntry, next: KubeObject, current: KubeObject, subresource: UpdateSubresource | undefined): FieldError[] {
  const own = subresource !== undefined ? e.def.validateSubresourceUpdate?.(subresource, next, current) : undefined;
  if (own !== undefined) return own;
  // a binding sets spec.nodeName, which a plain update may not change: checked as a whole object
  if (subresource === 'binding') return e.def.validate(next);
  return e.def.validateUpdate(next, current);
}

function hasSpec(e: ResourceEntry): boolean {
  return 'spec' in e.def.schema.fields;
}

function specOf(obj: KubeObject): unknown {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = obj;
  return rest;
}

function withoutRv(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, ...meta } = obj.metadata;
  return { ...obj, metadata: meta };
}

function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += GENERATE_ALPHABET[Math.floor(Math.random() * GENERATE_ALPHABET.length)];
  return s;
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}
