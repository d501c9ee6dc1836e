/**
 * Subresources other than status: `scale` (Deployments, ReplicaSets, StatefulSets), `pods/binding` (the scheduler's
 * write), `pods/eviction` (`kubectl drain`), `pods/ephemeralcontainers` (`kubectl debug`), `namespaces/finalize`. `pods/log` (node-proxy.ts) and
 * `pods/exec`, `pods/attach`, `pods/portforward` (node-stream.ts) go to the pod's kubelet;
 * `pods/proxy` and `services/proxy` go to a pod's port through its kubelet, `nodes/proxy` to the
 * kubelet itself (pod-proxy.ts).
 */
import type { KubeObject } from '../../api/meta.js';
import { scaleOf, scaleSchema, validateScale } from '../../api/autoscaling/scale.js';
import type { Scalable, Scale } from '../../api/autoscaling/scale.js';
import { rfc3339 } from '../../lib/clock.js';
import { ApiError, badRequest, conflict, forbidden, internalError, invalid, methodNotAllowed, notFound } from './errors.js';
import type { Pod } from '../../api/core/pod.js';
import { budgetPods, podView } from '../controllers/disruption.js';
import type { Budget } from '../controllers/disruption.js';
import { evictionVerdict } from '../controllers/disruption-plan.js';
import { listObjects } from './registry-read.js';
import { everything } from './filter.js';
import { readBody, writeJson } from './http-util.js';
import type { RequestCtx } from './handlers.js';
import type { RequestUser } from './resource-table.js';
import { deleteOptionsOf, expectedOf, managerOption, respondObject, userOption } from './handlers.js';
import { serveTokenRequest } from './token-request.js';
import { checkInput, decodeInput, fieldValidationOf, warningHeader } from './input.js';
import { patchTypeOf, patchValue } from './patching.js';
import { decodeProtobufBody, hasProtobufMagic, isProtobuf } from './protobuf.js';
import { csrApproval } from './csr-approval.js';
import { servePodLog } from './node-proxy.js';
import { servePodStream } from './node-stream.js';
import { serveNodeProxy, servePodProxy, serveServiceProxy } from './pod-proxy.js';

export async function handleSubresource(ctx: RequestCtx): Promise<void> {
  const { info, entry } = ctx;
  const sub = info.subresource ?? '';
  const served = entry.subresources.includes(sub);
  if (!served || info.name === undefined) throw notFound({ group: info.group, resource: `${info.resource}/${sub}` }, info.name ?? '');
  switch (sub) {
    case 'scale':
      return scale(ctx);
    case 'binding':
      return binding(ctx);
    case 'finalize':
      return finalize(ctx);
    case 'approval':
      return csrApproval(ctx);
    case 'proxy':
      if (info.resource === 'services') return serveServiceProxy(ctx);
      if (info.resource === 'nodes') return serveNodeProxy(ctx);
      return servePodProxy(ctx);
    case 'eviction':
      return evict(ctx);
    case 'ephemeralcontainers':
      return ephemeralContainers(ctx);
    case 'token':
      return serveTokenRequest(ctx, ctx.deps.tokens);
    case 'log':
    case 'exec':
    case 'attach':
    case 'portforward':
      return nodeProxy(ctx);
    default:
      throw notFound({ group: info.group, resource: `${info.resource}/${sub}` }, info.name);
  }
}

// ---- scale ----------------------------------------------------------------------------------------

function toScale(obj: KubeObject): Scale {
  return scaleOf(obj as Scalable);
}

const scaleType = { apiVersion: 'autoscaling/v1', kind: 'Scale', schema: scaleSchema };

async function scale(ctx: RequestCtx): Promise<void> {
  const { registry } = ctx.deps;
  const name = ctx.info.name ?? '';
  const method = ctx.req.method ?? 'GET';
  if (method === 'GET') {
    writeJson(ctx.res, 200, toScale(await registry.get(ctx.entry, ctx.info.namespace, name)));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed(method, ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  const validation = fieldValidationOf(ctx.query['fieldValidation']);
  let warnings: readonly string[] = [];
  let precondition: string | undefined;
  const wanted = async (current: KubeObject): Promise<number> => {
    let desired: KubeObject;
    if (method === 'PUT') {
      const d = decodeInput(body, ctx.req.headers['content-type'], scaleType, validation);
      desired = d.obj;
      warnings = d.warnings;
    } else {
      const patched = patchValue(patchTypeOf(ctx.req.headers['content-type']), toScale(current), body, scaleSchema);
      const d = checkInput(patched, scaleType, validation);
      desired = d.obj;
      warnings = d.warnings;
    }
    precondition = desired.metadata.resourceVersion;
    const errs = validateScale(desired as Scale);
    if (errs.length > 0) throw invalid('Scale', 'autoscaling', name, errs);
    return (desired as Scale).spec?.replicas ?? 0;
  };
  const updated = await registry.update(ctx.entry, ctx.info.namespace, name, async (current) => {
    const replicas = await wanted(current);
    if (precondition && precondition !== current.metadata.resourceVersion) {
      throw conflict({ group: ctx.entry.def.group, resource: ctx.entry.def.plural }, name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    return { ...current, spec: { ...((current['spec'] ?? {}) as object), replicas } };
  }, userOption(ctx));
  writeJson(ctx.res, 200, toScale(updated), warningHeader(warnings));
}

// ---- binding --------------------------------------------------------------------------------------

async function binding(ctx: RequestCtx): Promise<void> {
  if (ctx.req.method !== 'POST') throw methodNotAllowed(ctx.req.method ?? '', ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  let parsed: unknown;
  if (isProtobuf(ctx.req.headers['content-type']) || hasProtobufMagic(body)) {
    // Go schedulers post the Binding as protobuf
    parsed = decodeProtobufBody(body, { apiVersion: 'v1', kind: 'Binding' });
  } else {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw badRequest(`the Binding in the request body is not valid JSON: ${(err as Error).message}`);
    }
  }
  const b = parsed as { metadata?: { name?: string; namespace?: string }; target?: { kind?: string; name?: string } };
  const name = ctx.info.name ?? b.metadata?.name ?? '';
  const node = b.target?.name;
  if (!name) throw invalid('Binding', '', '', [{ type: 'FieldValueRequired', field: 'metadata.name' }]);
  if (!node) throw invalid('Binding', '', name, [{ type: 'FieldValueRequired', field: 'target.name' }]);
  if (b.target?.kind !== undefined && b.target.kind !== '' && b.target.kind !== 'Node') {
    throw invalid('Binding', '', name, [{ type: 'FieldValueNotSupported', field: 'target.kind', value: b.target.kind, detail: 'supported values: "Node"' }]);
  }
  const now = rfc3339(ctx.deps.clock.now());
  await ctx.deps.registry.update(
    ctx.entry,
    ctx.info.namespace,
    name,
    (pod) => {
      const spec = (pod['spec'] ?? {}) as { nodeName?: string };
      if (pod.metadata.deletionTimestamp) {
        throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is being deleted, cannot be assigned to a host`);
      }
      if (spec.nodeName) {
        throw conflict({ group: '', resource: 'pods/binding' }, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      const status = (pod['status'] ?? {}) as { conditions?: Array<{ type: string }> };
      const conditions = (status.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
      return {
        ...pod,
        spec: { ...spec, nodeName: node },
        status: { ...status, conditions: [...conditions, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now }] },
      };
    },
    { subresource: 'binding' },
  );
  writeJson(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

// ---- namespaces/finalize ----------------------------------------------------------------------------

async function finalize(ctx: RequestCtx): Promise<void> {
  if (ctx.req.method !== 'PUT') throw methodNotAllowed(ctx.req.method ?? '', ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  const { obj } = decodeInput(body, ctx.req.headers['content-type'], { apiVersion: 'v1', kind: 'Namespace', schema: ctx.entry.def.schema }, 'Ignore');
  const finalizers = ((obj['spec'] ?? {}) as { finalizers?: string[] }).finalizers ?? [];
  const updated = await ctx.deps.registry.update(ctx.entry, undefined, ctx.info.name ?? '', (ns) => ({
    ...ns,
    spec: { ...((ns['spec'] ?? {}) as object), finalizers },
  }), { subresource: 'finalize', ...userOption(ctx) });
  respondObject(ctx, 200, updated);
}

// ---- pods/ephemeralcontainers -------------------------------------------------------------------------

/**
 * GET, PUT or PATCH pods/{name}/ephemeralcontainers (`kubectl debug` sends a strategic merge patch adding
 * one entry to spec.ephemeralContainers). The body is a whole Pod, but only its spec.ephemeralContainers
 * counts: the registry keeps everything else as stored and validates with the pod's ephemeral container
 * rules. Answers 200 with the Pod.
 */
async function ephemeralContainers(ctx: RequestCtx): Promise<void> {
  const { registry } = ctx.deps;
  const name = ctx.info.name ?? '';
  const method = ctx.req.method ?? 'GET';
  if (method === 'GET') {
    respondObject(ctx, 200, await registry.get(ctx.entry, ctx.info.namespace, name));
    return;
  }
  if (method !== 'PUT' && method !== 'PATCH') throw methodNotAllowed(method, ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  const expected = expectedOf(ctx.entry);
  const validation = fieldValidationOf(ctx.query['fieldValidation']);
  const gr = { group: ctx.entry.def.group, resource: ctx.entry.def.plural };
  const options = { dryRun: ctx.query['dryRun'] === 'All', subresource: 'ephemeralcontainers' as const, ...managerOption(ctx), ...userOption(ctx) };
  let warnings: readonly string[] = [];
  let updated: KubeObject;
  if (method === 'PUT') {
    const d = decodeInput(body, ctx.req.headers['content-type'], expected, validation);
    warnings = d.warnings;
    if (d.obj.metadata.name !== undefined && d.obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${d.obj.metadata.name}) does not match the name on the URL (${name})`);
    }
    const rv = d.obj.metadata.resourceVersion;
    updated = await registry.update(ctx.entry, ctx.info.namespace, name, () => d.obj, { ...options, ...(rv ? { expectedResourceVersion: rv } : {}) });
  } else {
    const type = patchTypeOf(ctx.req.headers['content-type']);
    updated = await registry.update(
      ctx.entry,
      ctx.info.namespace,
      name,
      (current) => {
        const d = checkInput(patchValue(type, current, body, ctx.entry.def.schema), expected, validation);
        warnings = d.warnings;
        const rv = d.obj.metadata.resourceVersion;
        if (rv !== undefined && rv !== current.metadata.resourceVersion) {
          throw conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
        }
        return d.obj;
      },
      options,
    );
  }
  respondObject(ctx, 200, updated, warnings);
}

// ---- eviction ---------------------------------------------------------------------------------------

/**
 * POST pods/{name}/eviction with a policy/v1 (or v1beta1) Eviction: a delete of the pod with the
 * Eviction's deleteOptions, answered 201 with a success Status as upstream, unless the pod's
 * PodDisruptionBudget has no disruption left: then 429 TooManyRequests, `Cannot evict pod as it
 * would violate the pod's disruption budget.` with the budget's reason as a cause (kubectl drain
 * retries). An allowed eviction spends one disruption in the budget's status first (a write guarded
 * by its resourceVersion, retried on a race), as upstream.
 */
async function evict(ctx: RequestCtx): Promise<void> {
  if (ctx.req.method !== 'POST') throw methodNotAllowed(ctx.req.method ?? '', ctx.req.url ?? '');
  const body = await readBody(ctx.req);
  let ev: Record<string, unknown>;
  if (hasProtobufMagic(body)) ev = decodeProtobufBody(body, { apiVersion: 'policy/v1', kind: 'Eviction' });
  else {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      ev = parsed as Record<string, unknown>;
    } catch (err) {
      throw badRequest(`the request body is not an Eviction: ${(err as Error).message}`);
    }
  }
  if (ev['kind'] !== 'Eviction' || (ev['apiVersion'] !== 'policy/v1' && ev['apiVersion'] !== 'policy/v1beta1')) {
    throw badRequest(`the object provided is unrecognized (must be of type Eviction in policy/v1 or policy/v1beta1): ${JSON.stringify(ev['apiVersion'] ?? '')}, ${JSON.stringify(ev['kind'] ?? '')}`);
  }
  const meta = (ev['metadata'] ?? {}) as { name?: unknown; namespace?: unknown };
  const name = ctx.info.name ?? '';
  if (meta.name !== undefined && meta.name !== name) throw badRequest('name in URL does not match name in Eviction object');
  if (meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== ctx.info.namespace) {
    throw badRequest('namespace in URL does not match namespace in Eviction object');
  }
  // a dry run of the eviction is a dry run of its delete (upstream's propagateDryRun)
  const q = ctx.query['dryRun'] !== undefined ? { dryRun: ctx.query['dryRun'] } : {};
  const opts = deleteOptionsOf(q, Buffer.from(JSON.stringify(ev['deleteOptions'] ?? {})));
  await checkDisruptionBudget(ctx, name, opts.dryRun === true);
  await ctx.deps.registry.delete(ctx.entry, ctx.info.namespace, name, { ...opts, ...userOption(ctx) });
  writeJson(ctx.res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";

async function checkDisruptionBudget(ctx: RequestCtx, name: string, dryRun: boolean): Promise<void> {
  const pdbs = ctx.deps.index.find('policy', 'v1', 'poddisruptionbudgets');
  if (pdbs === undefined) return;
  const { registry } = ctx.deps;
  const ns = ctx.info.namespace ?? '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const pod = (await registry.get(ctx.entry, ns, name)) as unknown as Pod;
    // already going: deleting again changes nothing a budget counts (upstream lets it through)
    if (pod.metadata.deletionTimestamp !== undefined) return;
    const budgets = budgetsOf(pod, (await listObjects(registry, pdbs, { namespace: ns, filter: everything })).items as Budget[]);
    if (budgets.length === 0) return;
    if (budgets.length > 1) throw internalError('This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.');
    const budget = budgets[0] as Budget;
    const verdict = evictionVerdict(budget.metadata.name ?? '', budget.metadata.generation ?? 0, budget.spec ?? {}, budget.status, podView(pod), ctx.deps.clock.now());
    if (verdict.kind === 'refuse') {
      throw new ApiError(429, 'TooManyRequests', EVICTION_REFUSED, { causes: [{ reason: 'DisruptionBudget', message: verdict.cause }] });
    }
    if (verdict.status === undefined || dryRun) return;
    const spent = verdict.status;
    const seen = budget.metadata.resourceVersion;
    try {
      await registry.update(pdbs, ns, budget.metadata.name ?? '', (cur) => {
        if (cur.metadata.resourceVersion !== seen) throw new BudgetMoved();
        return { ...cur, status: spent } as KubeObject;
      }, { subresource: 'status' });
      return;
    } catch (err) {
      if (!(err instanceof BudgetMoved)) throw err;
    }
  }
  throw new ApiError(429, 'TooManyRequests', EVICTION_REFUSED, { causes: [{ reason: 'DisruptionBudget', message: 'the disruption budget kept changing; try again' }] });
}

/** The budget changed between reading it and spending a disruption: judge again. */
class BudgetMoved extends Error {}

/** The budgets whose selector matches the pod. */
function budgetsOf(pod: Pod, budgets: readonly Budget[]): Budget[] {
  return budgets.filter((b) => budgetPods(b, [pod]).length > 0);
}

// ---- node proxies ----------------------------------------------------------------------------------

async function nodeProxy(ctx: RequestCtx): Promise<void> {
  if (ctx.info.subresource === 'log') return servePodLog(ctx);
  const sub = ctx.info.subresource;
  if (sub === 'exec' || sub === 'attach' || sub === 'portforward') {
    return servePodStream(ctx, sub);
  }
  throw notFound({ group: ctx.info.group, resource: `${ctx.info.resource}/${sub ?? ''}` }, ctx.info.name ?? '');
}
