/**
 * PATCH requests: picks the engine from the Content-Type, applies the patch to the current object
 * inside the registry's read-modify-write loop (so a concurrent writer makes the patch re-apply to the
 * new object rather than overwrite it), and re-checks the result like a request body.
 * Server-side apply (`application/apply-patch+yaml`) creates the object when it does not exist, and
 * fails with 409 Conflict when it would change fields other managers own unless `force=true`.
 * Other patch types record an `Update` entry in managedFields for the request's field manager (done by
 * the registry); apply computes its own entries (patch/apply.ts).
 */
import type { KubeObject } from '../../api/meta.js';
import type { Schema } from '../../api/schema.js';
import { rfc3339 } from '../../lib/clock.js';
import { ApiError, badRequest, conflict, forbidden, unsupportedMediaType } from './errors.js';
import { forbiddenMessage } from './authz/types.js';
import type { Attributes } from './authz/types.js';
import { checkDepth, mediaType, parseBody } from './decode.js';
import type { RequestCtx } from './handlers.js';
import { expectedOf, userOption } from './handlers.js';
import { checkInput, fieldValidationOf } from './input.js';
import { applyPatch } from './patch/apply.js';
import { conflictCauses } from './patch/conflicts.js';
import { ApplyConflictError, PatchError } from './patch/errors.js';
import { applyJsonPatch } from './patch/json-patch.js';
import { applyMergePatch } from './patch/json-merge-patch.js';
import { applyStrategicMergePatch } from './patch/strategic-merge-patch.js';
import { isJsonObject } from './patch/json-util.js';
import { requestFieldManager } from './patch/managed-fields.js';

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export function patchTypeOf(contentType: string | undefined): PatchType {
  switch (mediaType(contentType)) {
    case 'application/json-patch+json':
      return 'json';
    case 'application/merge-patch+json':
      return 'merge';
    case 'application/strategic-merge-patch+json':
      return 'strategic';
    case 'application/apply-patch+yaml':
      return 'apply';
    default:
      throw unsupportedMediaType(mediaType(contentType));
  }
}

function parsePatchBody(type: PatchType, body: Buffer): unknown {
  if (body.toString('utf8').trim() === '') throw badRequest('the patch body is empty');
  // same parsers and nesting limits as request bodies
  const value = parseBody(body, type === 'apply' ? 'yaml' : 'json');
  checkDepth(value);
  return value;
}

function asApiError(err: unknown): unknown {
  if (err instanceof PatchError) {
    return err.httpStatus === 400 ? badRequest(err.message) : new ApiError(422, 'Invalid', err.message);
  }
  if (err instanceof ApplyConflictError) {
    return new ApiError(409, 'Conflict', err.message, { causes: conflictCauses(err.conflicts) });
  }
  return err;
}

/** The manager a write records in managedFields: `fieldManager`, else the User-Agent's product name. */
export function fieldManagerOf(ctx: RequestCtx): string {
  return requestFieldManager(ctx.query['fieldManager'], ctx.req.headers['user-agent']);
}

/**
 * The configuration without what the endpoint resets (upstream's reset fields), so the applier neither
 * owns nor conflicts over fields its write cannot change: status through the main resource of a kind with
 * a status subresource, everything but status (and metadata) through `status`.
 */
function withoutResetFields(applied: unknown, subresource: 'status' | undefined, hasStatusSubresource: boolean): unknown {
  if (!isJsonObject(applied) || !hasStatusSubresource) return applied;
  if (subresource === 'status') {
    const kept: Record<string, unknown> = {};
    for (const k of ['apiVersion', 'kind', 'metadata', 'status']) if (k in applied) kept[k] = applied[k];
    return kept;
  }
  const { status: _s, ...rest } = applied;
  return rest;
}

/** Applies a non-apply patch to a JSON value (used for objects and for the Scale subresource). */
export function patchValue(type: PatchType, current: KubeObject, body: Buffer, schema: Schema): unknown {
  const patch = parsePatchBody(type, body);
  try {
    switch (type) {
      case 'json':
        return applyJsonPatch(current, patch);
      case 'merge':
        if (!isJsonObject(patch)) throw badRequest('a merge patch must be a JSON object');
        return applyMergePatch(current, patch);
      case 'strategic':
        if (!isJsonObject(patch)) throw badRequest('a strategic merge patch must be a JSON object');
        return applyStrategicMergePatch(current, patch, schema);
      case 'apply':
        throw unsupportedMediaType('application/apply-patch+yaml');
      default: {
        const never: never = type;
        return never;
      }
    }
  } catch (err) {
    throw asApiError(err);
  }
}

export interface PatchResult {
  readonly object: KubeObject;
  readonly created: boolean;
  readonly warnings: readonly string[];
}

export async function applyPatchRequest(ctx: RequestCtx, type: PatchType, body: Buffer): Promise<PatchResult> {
  const { registry, clock } = ctx.deps;
  const entry = ctx.entry;
  const name = ctx.info.name ?? '';
  const expected = expectedOf(entry);
  const validation = fieldValidationOf(ctx.query['fieldValidation']);
  const dryRun = ctx.query['dryRun'] === 'All';
  const subresource = ctx.info.subresource === 'status' ? ('status' as const) : undefined;
  const gr = { group: entry.def.group, resource: entry.def.plural };
  let warnings: readonly string[] = [];

  if (type === 'apply') {
    const manager = ctx.query['fieldManager'];
    if (!manager) {
      throw invalidPatchOptions('fieldManager: Required value: is required for apply patch');
    }
    const applied = withoutResetFields(parsePatchBody('apply', body), subresource, entry.def.hasStatusSubresource);
    const force = ctx.query['force'] === 'true';
    const now = rfc3339(clock.now());
    const apply = (live: KubeObject | undefined): KubeObject => {
      try {
        return applyPatch(live, applied, entry.def.schema, manager, now, { force, ...(subresource ? { subresource } : {}) });
      } catch (err) {
        throw asApiError(err);
      }
    };
    try {
      const object = await registry.update(
        entry,
        ctx.info.namespace,
        name,
        (current) => {
          const d = checkInput(apply(current), expected, validation);
          warnings = d.warnings;
          return d.obj;
        },
        { dryRun, ...(subresource ? { subresource } : {}), ...userOption(ctx) },
      );
      return { object, created: false, warnings };
    } catch (err) {
      if (!(err instanceof ApiError && err.httpCode === 404) || subresource) throw err;
    }
    const d = checkInput(apply(undefined), expected, validation);
    if (d.obj.metadata.name !== undefined && d.obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${d.obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    authorizeCreate(ctx, name);
    // No fieldManager: the Apply entry is already in place, and an Update entry must not join it.
    const object = await registry.create(entry, ctx.info.namespace, { ...d.obj, metadata: { ...d.obj.metadata, name } }, { dryRun, ...userOption(ctx) });
    return { object, created: true, warnings: d.warnings };
  }

  if (ctx.query['force'] !== undefined) {
    throw invalidPatchOptions('force: Forbidden: may not be specified for non-apply patch');
  }
  const fieldManager = fieldManagerOf(ctx);
  const object = await registry.update(
    entry,
    ctx.info.namespace,
    name,
    (current) => {
      const patched = patchValue(type, current, body, entry.def.schema);
      const d = checkInput(patched, expected, validation);
      warnings = d.warnings;
      const rv = d.obj.metadata.resourceVersion;
      if (rv !== undefined && rv !== current.metadata.resourceVersion) {
        throw conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
      }
      return d.obj;
    },
    { dryRun, ...(fieldManager !== '' ? { fieldManager } : {}), ...(subresource ? { subresource } : {}), ...userOption(ctx) },
  );
  return { object, created: false, warnings };
}

/** An apply that creates needs `create` as well as `patch` (upstream's withAuthorization on create). */
function authorizeCreate(ctx: RequestCtx, name: string): void {
  const authorizer = ctx.deps.authorizer;
  if (authorizer === undefined || ctx.user === undefined) return;
  const attrs: Attributes = {
    user: ctx.user,
    verb: 'create',
    resourceRequest: true,
    apiGroup: ctx.info.group,
    apiVersion: ctx.info.version,
    resource: ctx.info.resource,
    subresource: '',
    namespace: ctx.info.namespace ?? '',
    name,
    path: '',
  };
  const d = authorizer.authorize(attrs);
  if (d.verdict !== 'allow') throw forbidden(forbiddenMessage(attrs, d.reason));
}

function invalidPatchOptions(detail: string): ApiError {
  return new ApiError(422, 'Invalid', `PatchOptions.meta.k8s.io "" is invalid: ${detail}`);
}
