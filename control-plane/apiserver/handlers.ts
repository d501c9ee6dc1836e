/**
 * REST handlers for resource paths: maps (method, name?, subresource?) to a registry operation and
 * writes the answer in the representation the client negotiated (object, Table, metadata only).
 * Subresources other than status live in subresources.ts; streaming watches in watch-http.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject, ListMeta, ObjectList } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { ApiError, badRequest, methodNotAllowed, notFound } from './errors.js';
import { buildFilter } from './filter.js';
import { boolParam, JsonArrayStream, negotiate, queryOf, readBody, writeJson } from './http-util.js';
import { buildTableRow, tableFor } from './tables/table.js';
import type { ResponseShape } from './http-util.js';
import { decodeInput, fieldValidationOf, warningHeader } from './input.js';
import { applyPatchRequest, fieldManagerOf, patchTypeOf } from './patching.js';
import { decodeProtobufBody, hasProtobufMagic } from './protobuf.js';
import type { DeleteOptions, Registry } from './registry.js';
import { listObjects, scanList } from './registry-read.js';
import type { ResourceRequest } from './request-info.js';
import type { RequestUser, ResourceEntry, ResourceIndex } from './resource-table.js';
import type { TokenIssuer } from './auth/service-account.js';
import type { Authorizer } from './authz/types.js';
import { apiVersionOfEntry } from './resource-table.js';
import { handleSubresource } from './subresources.js';
import { serveWatch } from './watch-http.js';

export type IncludeObject = 'None' | 'Object' | 'Metadata';

export interface TableBuilder {
  (plural: string, objects: readonly KubeObject[], now: Date, opts: { includeObject: IncludeObject; listMeta?: ListMeta }): unknown;
}

export interface ResourceHandlerDeps {
  readonly registry: Registry;
  readonly index: ResourceIndex;
  readonly clock: Clock;
  readonly log: Logger;
  readonly buildTable: TableBuilder;
  /** How often a watch with allowWatchBookmarks sends a BOOKMARK (upstream: about once a minute). */
  readonly bookmarkIntervalMs: number;
  /** Signs service account tokens (serviceaccounts/token); absent: that subresource answers 404. */
  readonly tokens?: TokenIssuer;
  /** The server's authorizer, for checks beyond the request's own verb (server-side apply creating). */
  readonly authorizer?: Authorizer;
}

export interface RequestCtx {
  readonly deps: ResourceHandlerDeps;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly info: ResourceRequest;
  readonly entry: ResourceEntry;
  readonly query: Record<string, string>;
  /** The authenticated requester, for kinds that record their creator (CSRs). */
  readonly user?: RequestUser;
}

/** Handles one resource request; throws ApiError for the caller to render. */
export async function handleResource(deps: ResourceHandlerDeps, req: IncomingMessage, res: ServerResponse, info: ResourceRequest, url: URL, user?: RequestUser): Promise<void> {
  const entry = deps.index.find(info.group, info.version, info.resource);
  if (!entry) {
    if (info.group === '' && info.resource === 'bindings' && info.namespace && req.method === 'POST') {
      const pods = deps.index.find('', 'v1', 'pods');
      if (pods) return handleSubresource({ deps, req, res, info: { ...info, resource: 'pods', subresource: 'binding' }, entry: pods, query: queryOf(url) });
    }
    throw noSuchResource();
  }
  if (entry.def.namespaced === false && info.namespace !== undefined) {
    throw noSuchResource();
  }
  const ctx: RequestCtx = { deps, req, res, info, entry, query: queryOf(url), ...(user !== undefined ? { user } : {}) };
  if (info.subresource !== undefined && info.subresource !== 'status') return handleSubresource(ctx);
  if (info.subresource === 'status' && !entry.def.hasStatusSubresource) throw notFound({ group: info.group, resource: `${info.resource}/status` }, info.name ?? '');
  const method = req.method ?? 'GET';
  const isWatch = info.legacyWatch || boolParam(ctx.query['watch']);
  if (info.name === undefined) {
    switch (method) {
      case 'GET':
        return isWatch ? serveWatch(ctx) : list(ctx);
      case 'POST':
        return create(ctx);
      case 'DELETE':
        return deleteCollection(ctx);
      default:
        throw methodNotAllowed(method, req.url ?? '');
    }
  }
  if (isWatch && method === 'GET') {
    // watch of one object: upstream turns the name into a field selector
    const fs = [`metadata.name=${info.name}`, ctx.query['fieldSelector']].filter((s) => s).join(',');
    return serveWatch({ ...ctx, query: { ...ctx.query, fieldSelector: fs } });
  }
  switch (method) {
    case 'GET':
      return get(ctx);
    case 'PUT':
      return update(ctx);
    case 'PATCH':
      return patch(ctx);
    case 'DELETE':
      return remove(ctx);
    default:
      throw methodNotAllowed(method, req.url ?? '');
  }
}

const noSuchResource = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource');

const dryRunOf = (q: Record<string, string>): boolean => q['dryRun'] === 'All';

/** The writer recorded in managedFields (fieldManager, else the User-Agent's product); nothing if neither. */
export function managerOption(ctx: RequestCtx): { fieldManager?: string } {
  const fieldManager = fieldManagerOf(ctx);
  return fieldManager !== '' ? { fieldManager } : {};
}

export function respondObject(ctx: RequestCtx, code: number, obj: KubeObject, warnings: readonly string[] = []): void {
  const shape = negotiate(ctx.req.headers.accept);
  writeJson(ctx.res, code, shapeOne(ctx, shape, obj), warningHeader(warnings));
}

function includeObjectOf(q: Record<string, string>): IncludeObject {
  const v = q['includeObject'];
  if (v === undefined || v === '') return 'Metadata';
  if (v === 'None' || v === 'Object' || v === 'Metadata') return v;
  throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(v)}: supported values: "Metadata", "None", "Object"`);
}

export function shapeOne(ctx: RequestCtx, shape: ResponseShape, obj: KubeObject): unknown {
  switch (shape) {
    case 'object':
      return obj;
    case 'table':
      return ctx.deps.buildTable(ctx.entry.def.plural, [obj], ctx.deps.clock.now(), { includeObject: includeObjectOf(ctx.query) });
    case 'metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    default: {
      const never: never = shape;
      return never;
    }
  }
}

function shapeList(ctx: RequestCtx, shape: ResponseShape, list: ObjectList): unknown {
  switch (shape) {
    case 'object':
      return list;
    case 'table':
      return ctx.deps.buildTable(ctx.entry.def.plural, list.items, ctx.deps.clock.now(), {
        includeObject: includeObjectOf(ctx.query),
        listMeta: list.metadata,
      });
    case 'metadata':
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: 'meta.k8s.io/v1',
        metadata: list.metadata,
        items: list.items.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata })),
      };
    default: {
      const never: never = shape;
      return never;
    }
  }
}

async function get(ctx: RequestCtx): Promise<void> {
  const obj = await ctx.deps.registry.get(ctx.entry, ctx.info.namespace, ctx.info.name ?? '');
  respondObject(ctx, 200, obj);
}

async function list(ctx: RequestCtx): Promise<void> {
  const shape = negotiate(ctx.req.headers.accept);
  const q = ctx.query;
  const limit = q['limit'] !== undefined ? Number(q['limit']) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`limit: invalid value ${JSON.stringify(q['limit'])}: must be a non-negative integer`);
  const params = {
    ...(ctx.info.namespace !== undefined ? { namespace: ctx.info.namespace } : {}),
    filter: buildFilter(ctx.entry, q['labelSelector'], q['fieldSelector']),
    ...(limit !== undefined ? { limit } : {}),
    ...(q['continue'] ? { continueToken: q['continue'] } : {}),
    ...(q['resourceVersion'] !== undefined ? { resourceVersion: q['resourceVersion'] } : {}),
    ...(q['resourceVersionMatch'] ? { resourceVersionMatch: q['resourceVersionMatch'] } : {}),
  };
  const { registry, clock } = ctx.deps;
  // Objects and Table rows are streamed as they are read, so a big LIST never holds them all.
  if (shape === 'object') {
    const out = new JsonArrayStream(ctx.res, `{"kind":${JSON.stringify(`${ctx.entry.def.kind}List`)},"apiVersion":${JSON.stringify(apiVersionOfEntry(ctx.entry))},"items":[`);
    const meta = await scanList(registry, ctx.entry, params, (obj) => out.push(obj));
    out.end(`],"metadata":${JSON.stringify(meta)}}`);
    return;
  }
  if (shape === 'table') {
    const plural = ctx.entry.def.plural;
    const includeObject = includeObjectOf(q);
    const now = clock.now();
    const out = new JsonArrayStream(ctx.res, `{"kind":"Table","apiVersion":"meta.k8s.io/v1","columnDefinitions":${JSON.stringify(tableFor(plural).columns)},"rows":[`);
    const meta = await scanList(registry, ctx.entry, params, (obj) => out.push(buildTableRow(plural, obj, now, { includeObject })));
    out.end(`],"metadata":${JSON.stringify(meta)}}`);
    return;
  }
  writeJson(ctx.res, 200, shapeList(ctx, shape, await listObjects(registry, ctx.entry, params)));
}

async function create(ctx: RequestCtx): Promise<void> {
  const body = await readBody(ctx.req);
  const { obj, warnings } = decodeInput(body, ctx.req.headers['content-type'], expectedOf(ctx.entry), fieldValidationOf(ctx.query['fieldValidation']));
  const created = await ctx.deps.registry.create(ctx.entry, ctx.info.namespace, obj, {
    dryRun: dryRunOf(ctx.query),
    ...managerOption(ctx),
    ...userOption(ctx),
  });
  respondObject(ctx, 201, created, warnings);
}

/** The requester as write options carry it (admission judges by it). */
export function userOption(ctx: Pick<RequestCtx, 'user'>): { user?: RequestUser } {
  return ctx.user !== undefined ? { user: ctx.user } : {};
}

export function expectedOf(entry: ResourceEntry): { apiVersion: string; kind: string; schema: ResourceEntry['def']['schema'] } {
  return { apiVersion: apiVersionOfEntry(entry), kind: entry.def.kind, schema: entry.def.schema };
}

async function update(ctx: RequestCtx): Promise<void> {
  const body = await readBody(ctx.req);
  const { obj, warnings } = decodeInput(body, ctx.req.headers['content-type'], expectedOf(ctx.entry), fieldValidationOf(ctx.query['fieldValidation']));
  const name = ctx.info.name ?? '';
  if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
    throw badRequest(`the name of the object (${obj.metadata.name}) does not match the name on the URL (${name})`);
  }
  const rv = obj.metadata.resourceVersion;
  const updated = await ctx.deps.registry.update(ctx.entry, ctx.info.namespace, name, () => obj, {
    dryRun: dryRunOf(ctx.query),
    ...managerOption(ctx),
    ...(ctx.info.subresource === 'status' ? { subresource: 'status' as const } : {}),
    ...(rv ? { expectedResourceVersion: rv } : {}),
    ...userOption(ctx),
  });
  respondObject(ctx, 200, updated, warnings);
}

async function patch(ctx: RequestCtx): Promise<void> {
  const body = await readBody(ctx.req);
  const type = patchTypeOf(ctx.req.headers['content-type']);
  const result = await applyPatchRequest(ctx, type, body);
  respondObject(ctx, result.created ? 201 : 200, result.object, result.warnings);
}

export function deleteOptionsOf(q: Record<string, string>, body: Buffer): DeleteOptions {
  let fromBody: Record<string, unknown> = {};
  // Go typed clients send DeleteOptions as protobuf; its prefix tells it apart without the Content-Type
  if (hasProtobufMagic(body)) fromBody = decodeProtobufBody(body, { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' });
  else if (body.length > 0 && body.toString('utf8').trim() !== '') {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) fromBody = parsed as Record<string, unknown>;
      else throw new Error('not an object');
    } catch (err) {
      throw badRequest(`DeleteOptions in the request body is not a valid JSON object: ${(err as Error).message}`);
    }
  }
  const grace = q['gracePeriodSeconds'] ?? fromBody['gracePeriodSeconds'];
  const policy = q['propagationPolicy'] ?? fromBody['propagationPolicy'];
  const orphan = q['orphanDependents'] ?? fromBody['orphanDependents'];
  const pre = fromBody['preconditions'] as { uid?: unknown; resourceVersion?: unknown } | undefined;
  const dryRun = q['dryRun'] === 'All' || (Array.isArray(fromBody['dryRun']) && (fromBody['dryRun'] as unknown[]).includes('All'));
  if (grace !== undefined && (!Number.isInteger(Number(grace)) || grace === '' || grace === null)) {
    throw badRequest(`gracePeriodSeconds: invalid value ${JSON.stringify(grace)}: must be an integer`);
  }
  if (policy !== undefined && policy !== 'Orphan' && policy !== 'Background' && policy !== 'Foreground') {
    throw badRequest(`DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`);
  }
  if (policy !== undefined && orphan !== undefined) {
    throw badRequest('DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: both OrphanDependents and PropagationPolicy may not be set');
  }
  return {
    ...(grace !== undefined ? { gracePeriodSeconds: Number(grace) } : {}),
    ...(policy !== undefined ? { propagationPolicy: policy } : {}),
    ...(orphan !== undefined ? { orphanDependents: orphan === true || orphan === 'true' } : {}),
    ...(pre && (pre.uid !== undefined || pre.resourceVersion !== undefined)
      ? {
          preconditions: {
            ...(typeof pre.uid === 'string' ? { uid: pre.uid } : {}),
            ...(typeof pre.resourceVersion === 'string' ? { resourceVersion: pre.resourceVersion } : {}),
          },
        }
      : {}),
    dryRun,
  };
}

/** The kind's warning for a delete that names no propagation policy (upstream's Job deletes), if any. */
function propagationWarnings(ctx: RequestCtx, opts: DeleteOptions): string[] {
  const w = ctx.entry.defaultPropagationWarning;
  return w !== undefined && opts.propagationPolicy === undefined && opts.orphanDependents === undefined ? [w] : [];
}

async function remove(ctx: RequestCtx): Promise<void> {
  const opts = deleteOptionsOf(ctx.query, await readBody(ctx.req));
  const result = await ctx.deps.registry.delete(ctx.entry, ctx.info.namespace, ctx.info.name ?? '', { ...opts, ...userOption(ctx) });
  respondObject(ctx, 200, result.object, propagationWarnings(ctx, opts));
}

async function deleteCollection(ctx: RequestCtx): Promise<void> {
  const opts = deleteOptionsOf(ctx.query, await readBody(ctx.req));
  const q = ctx.query;
  const listed = await listObjects(ctx.deps.registry, ctx.entry, {
    ...(ctx.info.namespace !== undefined ? { namespace: ctx.info.namespace } : {}),
    filter: buildFilter(ctx.entry, q['labelSelector'], q['fieldSelector']),
  });
  const deleted: KubeObject[] = [];
  for (const item of listed.items) {
    try {
      const r = await ctx.deps.registry.delete(ctx.entry, item.metadata.namespace, item.metadata.name ?? '', { ...opts, ...userOption(ctx) });
      deleted.push(r.object);
    } catch (err) {
      // deleted by someone else meanwhile: that is what was asked
      if (!(err instanceof Error && 'httpCode' in err && (err as { httpCode: number }).httpCode === 404)) throw err;
    }
  }
  writeJson(ctx.res, 200, { apiVersion: listed.apiVersion, kind: listed.kind, metadata: { resourceVersion: listed.metadata.resourceVersion }, items: deleted }, warningHeader(propagationWarnings(ctx, opts)));
}
