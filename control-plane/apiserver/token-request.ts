/**
 * POST /api/v1/namespaces/<ns>/serviceaccounts/<name>/token: a TokenRequest answered with a signed
 * token (auth/service-account.ts), as upstream's serviceaccounts/token subresource:
 * - the service account must exist (404 otherwise);
 * - a boundObjectRef names a Pod or Secret in the same namespace that must exist, match the given
 *   uid (409 if it was recreated) and, for a Pod, run as that service account (400);
 * - a kubelet (system:node:<name>) may only ask for tokens bound to pods on its own node (upstream's
 *   NodeRestriction);
 * - audiences default to the API audience, expirationSeconds to 3600 (600 .. 2^32).
 * The answer is 201 with the request, its defaults, and status {token, expirationTimestamp}.
 * Nothing is stored.
 */
import type { TokenRequest } from '../../api/authentication/tokenrequest.js';
import { tokenRequestKind } from '../../api/authentication/tokenrequest.js';
import type { KubeObject } from '../../api/meta.js';
import { rfc3339 } from '../../lib/clock.js';
import type { BoundObject, TokenIssuer } from './auth/service-account.js';
import { nodeNameOf } from './authz/node.js';
import { ApiError, badRequest, conflict, forbidden, invalid, methodNotAllowed } from './errors.js';
import type { RequestCtx } from './handlers.js';
import { readBody, writeJson } from './http-util.js';
import { decodeInput, fieldValidationOf, warningHeader } from './input.js';

interface PodShape {
  readonly metadata: KubeObject['metadata'];
  readonly spec?: { readonly serviceAccountName?: string; readonly nodeName?: string };
}

export async function serveTokenRequest(ctx: RequestCtx, issuer: TokenIssuer | undefined): Promise<void> {
  if (ctx.req.method !== 'POST') throw methodNotAllowed(ctx.req.method ?? '', ctx.req.url ?? '');
  if (issuer === undefined) throw new ApiError(404, 'NotFound', 'this server issues no service account tokens');
  const namespace = ctx.info.namespace ?? '';
  const name = ctx.info.name ?? '';
  const body = await readBody(ctx.req);
  const { obj, warnings } = decodeInput(
    body,
    ctx.req.headers['content-type'],
    { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', schema: tokenRequestKind.schema },
    fieldValidationOf(ctx.query['fieldValidation']),
  );
  const tr = tokenRequestKind.default(obj as TokenRequest);
  const errs = tokenRequestKind.validate(tr);
  if (errs.length > 0) throw invalid('TokenRequest', 'authentication.k8s.io', name, errs);

  const { registry, index } = ctx.deps;
  const entry = (plural: string): NonNullable<ReturnType<typeof index.find>> => {
    const e = index.find('', 'v1', plural);
    if (e === undefined) throw new Error(`${plural} are not served`);
    return e;
  };
  const sa = await registry.get(entry('serviceaccounts'), namespace, name);
  const node = ctx.user !== undefined ? nodeNameOf({ name: ctx.user.name, groups: ctx.user.groups }) : undefined;
  const ref = tr.spec.boundObjectRef;
  let bound: BoundObject | undefined;
  if (ref !== undefined) {
    const kind = ref.kind === 'Secret' ? 'Secret' : 'Pod';
    const plural = kind === 'Pod' ? 'pods' : 'secrets';
    const target = await registry.get(entry(plural), namespace, ref.name ?? '');
    const uid = target.metadata.uid ?? '';
    if ((ref.uid ?? '') !== '' && ref.uid !== uid) {
      throw conflict({ group: '', resource: plural }, ref.name ?? '', `the UID in the bound object reference (${ref.uid ?? ''}) does not match the UID in record. The object might have been deleted and then recreated`);
    }
    const pod = kind === 'Pod' ? (target as PodShape) : undefined;
    if (pod !== undefined && (pod.spec?.serviceAccountName ?? 'default') !== name) {
      throw badRequest(`cannot bind token for serviceaccount "${name}" to pod running with different serviceaccount name.`);
    }
    bound = { kind, name: ref.name ?? '', uid, ...(pod?.spec?.nodeName !== undefined ? { nodeName: pod.spec.nodeName } : {}) };
  }
  if (node !== undefined && (bound?.kind !== 'Pod' || bound.nodeName !== node)) {
    throw forbidden(`node "${node}" can only create tokens for pods bound to itself`);
  }
  const nowMs = ctx.deps.clock.now().getTime();
  const audiences = (tr.spec.audiences ?? []).length > 0 ? [...(tr.spec.audiences ?? [])] : [issuer.apiAudience];
  const seconds = tr.spec.expirationSeconds ?? 3600;
  const { token, claims } = issuer.issue({
    namespace,
    serviceAccount: { name, uid: sa.metadata.uid ?? '' },
    audiences,
    expirationSeconds: seconds,
    ...(bound !== undefined ? { bound } : {}),
    nowMs,
  });
  const answer: TokenRequest = {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    metadata: { ...tr.metadata, name, namespace, creationTimestamp: rfc3339(new Date(nowMs)) },
    spec: { ...tr.spec, audiences, expirationSeconds: seconds },
    status: { token, expirationTimestamp: rfc3339(new Date(claims.exp * 1000)) },
  };
  writeJson(ctx.res, 201, answer, warningHeader(warnings));
}
