/**
 * The self reviews: POST-only, answered from the caller's own identity, never stored.
 *   /apis/authentication.k8s.io/v1/selfsubjectreviews        who the server thinks you are
 *   /apis/authorization.k8s.io/v1/selfsubjectaccessreviews   may you do VERB on RESOURCE
 *   /apis/authorization.k8s.io/v1/selfsubjectrulesreviews    what you may do in a namespace
 *
 * The answers describe this server's policy as it is, so `kubectl auth can-i` never contradicts what
 * a request would get: there is no RBAC yet (debt), every authenticated user may do everything except
 * that bootstrap tokens and nodes may not open pods/exec, attach or portforward (`streamRefusal`) nor
 * use pods/proxy, services/proxy or nodes/proxy (`proxyRefusal`).
 * Rules cannot express that exception, so a rules review for those users says it is incomplete and
 * lists nothing rather than over-promise.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KindDefinition } from '../../api/kind.js';
import type { KubeObject } from '../../api/meta.js';
import type {
  ResourceAttributes,
  SelfSubjectAccessReview,
  SelfSubjectRulesReview,
  SelfSubjectReview,
  SubjectAccessReviewStatus,
} from '../../api/authorization/reviews.js';
import { selfSubjectAccessReviewKind, selfSubjectReviewKind, selfSubjectRulesReviewKind } from '../../api/authorization/reviews.js';
import { invalid, methodNotAllowed } from './errors.js';
import { readBody, writeJson } from './http-util.js';
import { decodeInput, fieldValidationOf, warningHeader } from './input.js';
import type { ResourceRequest } from './request-info.js';
import type { RequestUser } from './resource-table.js';
import { isNodeOrBootstrapper } from './subresources.js';

/** The review kinds, for discovery and OpenAPI (they have no storage and no other verb). */
export const REVIEW_KINDS: readonly KindDefinition[] = [selfSubjectAccessReviewKind, selfSubjectRulesReviewKind, selfSubjectReviewKind] as readonly KindDefinition[];

const STREAMS = new Set(['exec', 'attach', 'portforward']);

/** The review kind a request path names, if any. */
export function reviewKindOf(info: ResourceRequest): KindDefinition | undefined {
  if (info.name !== undefined || info.subresource !== undefined || info.namespace !== undefined) return undefined;
  return REVIEW_KINDS.find((k) => k.group === info.group && k.version === info.version && k.plural === info.resource);
}

const STREAM_REASON = 'bootstrap tokens and nodes may not open streams into pods';
const PROXY_REASON = 'bootstrap tokens and nodes may not use pods/proxy, services/proxy or nodes/proxy';

/** Why a node or bootstrap token is refused `attrs`; `*` stands for every resource or subresource. */
function restrictedRefusal(attrs: ResourceAttributes): string | undefined {
  if (!['', '*'].includes(attrs.group ?? '')) return undefined;
  const resource = attrs.resource ?? '';
  const sub = attrs.subresource ?? '';
  if (resource === '*') return `${STREAM_REASON}, nor use the proxies`;
  if (resource === 'pods' && (STREAMS.has(sub) || sub === '*')) return STREAM_REASON;
  if ((resource === 'pods' || resource === 'services' || resource === 'nodes') && (sub === 'proxy' || sub === '*')) return PROXY_REASON;
  return undefined;
}

/** This server's decision for `user` on `attrs` (see the header). */
export function accessDecision(user: RequestUser, attrs: ResourceAttributes | undefined): SubjectAccessReviewStatus {
  const refusal = attrs !== undefined && isNodeOrBootstrapper(user) ? restrictedRefusal(attrs) : undefined;
  if (refusal !== undefined) return { allowed: false, reason: refusal };
  return { allowed: true, reason: 'every authenticated user is allowed (this server has no RBAC yet)' };
}

/** The rules a rules review reports for `user`. */
export function rulesFor(user: RequestUser): NonNullable<SelfSubjectRulesReview['status']> {
  const restricted = isNodeOrBootstrapper(user);
  if (restricted) {
    return {
      resourceRules: [],
      nonResourceRules: [],
      incomplete: true,
      evaluationError: 'this user may do everything except create pods/exec, pods/attach and pods/portforward and use pods/proxy, services/proxy and nodes/proxy, which rules cannot express',
    };
  }
  return {
    resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
    nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
    incomplete: false,
  };
}

/** Handles a POST to one of the review resources; `kind` is what `reviewKindOf` found. */
export async function handleReview(req: IncomingMessage, res: ServerResponse, kind: KindDefinition, user: RequestUser, query: Record<string, string>): Promise<void> {
  if (req.method !== 'POST') throw methodNotAllowed(req.method ?? '', req.url ?? '');
  const body = await readBody(req);
  const apiVersion = `${kind.group}/${kind.version}`;
  const { obj, warnings } = decodeInput(body, req.headers['content-type'], { apiVersion, kind: kind.kind, schema: kind.schema }, fieldValidationOf(query['fieldValidation']));
  const errors = kind.validate(obj);
  if (errors.length > 0) throw invalid(kind.kind, kind.group, obj.metadata.name ?? '', errors);
  const answer = ((): KubeObject => {
    const base = { apiVersion, kind: kind.kind, metadata: obj.metadata };
    switch (kind.kind) {
      case 'SelfSubjectAccessReview': {
        const spec = (obj as SelfSubjectAccessReview).spec;
        return { ...base, spec, status: accessDecision(user, spec.resourceAttributes) } as SelfSubjectAccessReview;
      }
      case 'SelfSubjectRulesReview':
        return { ...base, spec: (obj as SelfSubjectRulesReview).spec, status: rulesFor(user) } as SelfSubjectRulesReview;
      default:
        return { ...base, status: { userInfo: { username: user.name, groups: [...user.groups], ...(user.uid !== undefined ? { uid: user.uid } : {}) } } } as SelfSubjectReview;
    }
  })();
  writeJson(res, 201, answer, warningHeader(warnings));
}
