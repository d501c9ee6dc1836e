/**
 * The `approval` subresource of CertificateSigningRequests (what `kubectl certificate approve|deny`
 * PUTs): it changes status.conditions and nothing else, and it is the only endpoint through which
 * Approved/Denied conditions may be added. The kind's generic validateUpdate forbids that, so the
 * update runs with the approval rules checked here (validateCsrApprovalUpdate) instead.
 * Cost: one read-modify-write through the Registry, like any update.
 */
import type { CertificateSigningRequest } from '../../api/certificates/csr.js';
import { applyApproval, validateCsrApprovalUpdate } from '../../api/certificates/csr.js';
import type { KubeObject } from '../../api/meta.js';
import { rfc3339 } from '../../lib/clock.js';
import { badRequest, invalid, methodNotAllowed } from './errors.js';
import type { RequestCtx } from './handlers.js';
import { expectedOf, respondObject } from './handlers.js';
import { readBody } from './http-util.js';
import { checkInput, decodeInput, fieldValidationOf } from './input.js';
import { patchTypeOf, patchValue } from './patching.js';

export async function csrApproval(ctx: RequestCtx): Promise<void> {
  const { registry } = ctx.deps;
  const name = ctx.info.name ?? '';
  const method = ctx.req.method ?? 'GET';
  if (method === 'GET') {
    respondObject(ctx, 200, await registry.get(ctx.entry, undefined, name));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed(method, ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  const validation = fieldValidationOf(ctx.query['fieldValidation']);
  const expected = expectedOf(ctx.entry);
  let warnings: readonly string[] = [];
  let precondition: string | undefined;
  if (method === 'PUT') {
    const decoded = decodeInput(body, ctx.req.headers['content-type'], expected, validation);
    warnings = decoded.warnings;
    precondition = decoded.obj.metadata.resourceVersion || undefined;
    if (decoded.obj.metadata.name !== undefined && decoded.obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${decoded.obj.metadata.name}) does not match the name on the URL (${name})`);
    }
  }
  const sentFor = (current: KubeObject): KubeObject => {
    if (method === 'PUT') return decodeInput(body, ctx.req.headers['content-type'], expected, validation).obj;
    const patched = checkInput(patchValue(patchTypeOf(ctx.req.headers['content-type']), current, body, ctx.entry.def.schema), expected, validation);
    warnings = patched.warnings;
    return patched.obj;
  };
  const updated = await registry.update(
    ctx.entry,
    undefined,
    name,
    (current) => {
      const old = current as CertificateSigningRequest;
      const next = applyApproval(old, sentFor(current) as CertificateSigningRequest, rfc3339(ctx.deps.clock.now()));
      const errs = validateCsrApprovalUpdate(next, old);
      if (errs.length > 0) throw invalid(ctx.entry.def.kind, ctx.entry.def.group, name, errs);
      return next;
    },
    {
      subresource: 'status',
      // validated above with the approval rules; the kind's own update rules would refuse the new condition
      trusted: true,
      dryRun: ctx.query['dryRun'] === 'All',
      ...(precondition !== undefined ? { expectedResourceVersion: precondition } : {}),
    },
  );
  respondObject(ctx, 200, updated, warnings);
}
