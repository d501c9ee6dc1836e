/**
 * The reviews: POST-only, never stored.
 *   /apis/authentication.k8s.io/v1/selfsubjectreviews        who the server thinks you are
 *   /apis/authorization.k8s.io/v1/selfsubjectaccessreviews   may you do VERB on RESOURCE
 *   /apis/authorization.k8s.io/v1/selfsubjectrulesreviews    what you may do in a namespace
 *   /apis/authorization.k8s.io/v1/subjectaccessreviews       may THAT user (spec.user/groups) do it
 *   /apis/authorization.k8s.io/v1/namespaces/NS/localsubjectaccessreviews   the same, in NS only
 *   /apis/authentication.k8s.io/v1/tokenreviews              whose bearer token is this
 * (the last three for components that check their own callers, like kube-rbac-proxy; who may ask is
 * RBAC's business: create on that resource). JSON bodies only for those three: no protobuf tables.
 *
 * The answers come from the same authorizer chain that judges requests (authz/), so `kubectl auth
 * can-i` never contradicts what a request would get. A rules review lists the RBAC rules bound to the
 * caller; for a node it says it is incomplete (the Node authorizer's grants follow object
 * relationships, not rules).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KindDefinition } from '../../api/kind.js';
import type { KubeObject } from '../../api/meta.js';
import type {
  SelfSubjectAccessReview,
  SelfSubjectRulesReview,
  SelfSubjectReview,
  SubjectAccessReviewStatus,
} from '../../api/authorization/reviews.js';
import {
  localSubjectAccessReviewKind,
  selfSubjectAccessReviewKind,
  selfSubjectReviewKind,
  selfSubjectRulesReviewKind,
  subjectAccessReviewKind,
  tokenReviewKind,
} from '../../api/authorization/reviews.js';
import type { SubjectAccessReview, TokenReview } from '../../api/authorization/reviews.js';
import { badRequest, invalid, methodNotAllowed } from './errors.js';
import { readBody, writeJson } from './http-util.js';
import { decodeInput, fieldValidationOf, warningHeader } from './input.js';
import type { ResourceRequest } from './request-info.js';
import type { RequestUser } from './resource-table.js';
import type { Attributes, Authorizer, RuleResolver } from './authz/types.js';

/** The review kinds, for discovery and OpenAPI (they have no storage and no other verb). */
export const REVIEW_KINDS: readonly KindDefinition[] = [
  selfSubjectAccessReviewKind,
  selfSubjectRulesReviewKind,
  selfSubjectReviewKind,
  subjectAccessReviewKind,
  localSubjectAccessReviewKind,
  tokenReviewKind,
] as readonly KindDefinition[];

/** The review kind a request path names, if any. */
export function reviewKindOf(info: ResourceRequest): KindDefinition | undefined {
  if (info.name !== undefined || info.subresource !== undefined) return undefined;
  return REVIEW_KINDS.find((k) => k.group === info.group && k.version === info.version && k.plural === info.resource && k.namespaced === (info.namespace !== undefined));
}

/** What the reviews about somebody else need from the server. */
export interface ReviewContext {
  /** The request path's namespace (LocalSubjectAccessReview). */
  readonly namespace?: string;
  /** The server's authenticators, asked about a bearer token (TokenReview). */
  authenticateToken(token: string): Promise<RequestUser | undefined>;
  /** The audience tokens are checked for (the only one knode's authenticators know). */
  readonly apiAudience: string;
}

/** A TokenReview's answer: the token's user, or why not (pure apart from the authenticators). */
async function reviewToken(review: TokenReview, ctx: ReviewContext): Promise<NonNullable<TokenReview['status']>> {
  const token = review.spec?.token ?? '';
  if (token === '') return { authenticated: false, error: 'token missing' };
  const audiences = review.spec?.audiences ?? [];
  if (audiences.length > 0 && !audiences.includes(ctx.apiAudience)) {
    return { authenticated: false, error: `knode checks tokens for its API audience only (${ctx.apiAudience}), not ${audiences.join(', ')}` };
  }
  const who = await ctx.authenticateToken(token);
  if (who === undefined) return { authenticated: false, error: 'invalid bearer token' };
  return {
    authenticated: true,
    user: { username: who.name, groups: [...who.groups], ...(who.uid !== undefined ? { uid: who.uid } : {}) },
    audiences: [ctx.apiAudience],
  };
}

/** The user a SubjectAccessReview asks about. */
function subjectOf(spec: SubjectAccessReview['spec']): RequestUser {
  return { name: spec.user ?? '', groups: [...(spec.groups ?? [])], ...(spec.uid !== undefined ? { uid: spec.uid } : {}) };
}

/** This server's decision for `user` on what a SelfSubjectAccessReview asks. */
export function accessDecision(authorizer: Authorizer, user: RequestUser, spec: SelfSubjectAccessReview['spec']): SubjectAccessReviewStatus {
  const r = spec.resourceAttributes;
  const n = spec.nonResourceAttributes;
  const attrs: Attributes =
    r !== undefined || n === undefined
      ? {
          user,
          verb: r?.verb ?? '',
          resourceRequest: true,
          apiGroup: r?.group ?? '',
          ...(r?.version !== undefined ? { apiVersion: r.version } : {}),
          resource: r?.resource ?? '',
          subresource: r?.subresource ?? '',
          namespace: r?.namespace ?? '',
          name: r?.name ?? '',
          path: '',
        }
      : { user, verb: n.verb ?? '', resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: n.path ?? '' };
  const d = authorizer.authorize(attrs);
  return {
    allowed: d.verdict === 'allow',
    ...(d.verdict === 'deny' ? { denied: true } : {}),
    ...(d.reason !== '' ? { reason: d.reason } : {}),
  };
}

/** The rules a rules review reports for `user` in `namespace`. */
export function rulesFor(resolver: RuleResolver, user: RequestUser, namespace: string): NonNullable<SelfSubjectRulesReview['status']> {
  const l = resolver.rulesFor(user, namespace);
  return {
    resourceRules: l.resourceRules.map((r) => ({ verbs: [...r.verbs], ...(r.apiGroups !== undefined ? { apiGroups: [...r.apiGroups] } : {}), ...(r.resources !== undefined ? { resources: [...r.resources] } : {}), ...(r.resourceNames !== undefined && r.resourceNames.length > 0 ? { resourceNames: [...r.resourceNames] } : {}) })),
    nonResourceRules: l.nonResourceRules.map((r) => ({ verbs: [...r.verbs], nonResourceURLs: [...(r.nonResourceURLs ?? [])] })),
    incomplete: l.incomplete,
    ...(l.evaluationError !== undefined ? { evaluationError: l.evaluationError } : {}),
  };
}

/** Handles a POST to one of the review resources; `kind` is what `reviewKindOf` found. */
export async function handleReview(
  req: IncomingMessage,
  res: ServerResponse,
  kind: KindDefinition,
  user: RequestUser,
  query: Record<string, string>,
  authorizer: Authorizer & RuleResolver,
  rctx: ReviewContext,
): Promise<void> {
  if (req.method !== 'POST') throw methodNotAllowed(req.method ?? '', req.url ?? '');
  const body = await readBody(req);
  const apiVersion = `${kind.group}/${kind.version}`;
  const decoded = decodeInput(body, req.headers['content-type'], { apiVersion, kind: kind.kind, schema: kind.schema }, fieldValidationOf(query['fieldValidation']));
  const { warnings } = decoded;
  let obj = decoded.obj;
  if (kind.namespaced) {
    const ns = obj.metadata.namespace;
    if (ns !== undefined && ns !== '' && ns !== rctx.namespace) throw badRequest(`the namespace of the object (${ns}) does not match the namespace on the request (${rctx.namespace ?? ''})`);
    obj = { ...obj, metadata: { ...obj.metadata, namespace: rctx.namespace ?? '' } };
  }
  const errors = kind.validate(obj);
  if (errors.length > 0) throw invalid(kind.kind, kind.group, obj.metadata.name ?? '', errors);
  const tokenStatus = kind.kind === 'TokenReview' ? await reviewToken(obj as TokenReview, rctx) : undefined;
  const answer = ((): KubeObject => {
    const base = { apiVersion, kind: kind.kind, metadata: obj.metadata };
    switch (kind.kind) {
      case 'SubjectAccessReview':
      case 'LocalSubjectAccessReview': {
        const spec = (obj as SubjectAccessReview).spec;
        return { ...base, spec, status: accessDecision(authorizer, subjectOf(spec), spec) } as SubjectAccessReview;
      }
      case 'TokenReview':
        return { ...base, spec: (obj as TokenReview).spec, status: tokenStatus } as TokenReview;
      case 'SelfSubjectAccessReview': {
        const spec = (obj as SelfSubjectAccessReview).spec;
        return { ...base, spec, status: accessDecision(authorizer, user, spec) } as SelfSubjectAccessReview;
      }
      case 'SelfSubjectRulesReview':
        return { ...base, spec: (obj as SelfSubjectRulesReview).spec, status: rulesFor(authorizer, user, (obj as SelfSubjectRulesReview).spec.namespace ?? '') } as SelfSubjectRulesReview;
      default:
        return { ...base, status: { userInfo: { username: user.name, groups: [...user.groups], ...(user.uid !== undefined ? { uid: user.uid } : {}) } } } as SelfSubjectReview;
    }
  })();
  writeJson(res, 201, answer, warningHeader(warnings));
}
