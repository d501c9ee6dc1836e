/**
 * Authorization: may this user do this request? An Authorizer looks at the request's attributes and
 * answers allow, deny or "no opinion" (the next authorizer decides; when none allows, the request is
 * refused). This mirrors upstream's authorizer chain (`--authorization-mode Node,RBAC`).
 *
 * Decisions are synchronous: every authorizer answers from memory (caches fed by the store), so
 * authorization costs no I/O on the request path.
 */
import type { PolicyRule } from '../../../api/rbac/types.js';
import type { UserInfo } from '../auth/types.js';

/** What upstream calls authorizer.Attributes: who, which verb, on what. */
export interface Attributes {
  readonly user: UserInfo;
  /** Lower-case API verb: get list watch create update patch delete deletecollection, or impersonate, bind, escalate...; for paths: get post put ... */
  readonly verb: string;
  /** True for /api and /apis resource paths; false for any other path (/healthz, /version, /api). */
  readonly resourceRequest: boolean;
  readonly apiGroup: string;
  readonly apiVersion?: string;
  readonly resource: string;
  readonly subresource: string;
  /** '' for cluster-scoped resources and all-namespace requests. */
  readonly namespace: string;
  /** '' when the request names no object (list, create, collection watch). */
  readonly name: string;
  /** The request path, for non-resource requests. */
  readonly path: string;
}

export type Verdict = 'allow' | 'deny' | 'no-opinion';

export interface Decision {
  readonly verdict: Verdict;
  /** Why: which binding allowed it, or why it was refused (shown in 403s and access reviews). */
  readonly reason: string;
}

export interface Authorizer {
  authorize(attrs: Attributes): Decision;
}

/** A rule as RBAC writes it: rbac.authorization.k8s.io/v1 PolicyRule. */
export type Rule = PolicyRule;

/** What a user may do in a namespace, as a rules review reports it. */
export interface RuleList {
  readonly resourceRules: readonly Rule[];
  readonly nonResourceRules: readonly Rule[];
  /** True when some authorizer's grants cannot be listed as rules (the Node authorizer's object graph). */
  readonly incomplete: boolean;
  readonly evaluationError?: string;
}

/** An authorizer that can also list what it grants (rules reviews, escalation checks). */
export interface RuleResolver {
  rulesFor(user: UserInfo, namespace: string): RuleList;
}

export const allow = (reason: string): Decision => ({ verdict: 'allow', reason });
export const deny = (reason: string): Decision => ({ verdict: 'deny', reason });
export const noOpinion = (reason = ''): Decision => ({ verdict: 'no-opinion', reason });

/** `resource[/subresource]` as it appears in rules and messages. */
export function resourceWithSub(attrs: Pick<Attributes, 'resource' | 'subresource'>): string {
  return attrs.subresource !== '' ? `${attrs.resource}/${attrs.subresource}` : attrs.resource;
}

/**
 * Upstream's wording of a refusal (what kubectl prints after "Error from server (Forbidden):"):
 *   pods "web" is forbidden: User "jane" cannot get resource "pods" in API group "" in the namespace "default"
 *   deployments.apps is forbidden: User "jane" cannot list resource "deployments" in API group "apps" at the cluster scope
 *   forbidden: User "jane" cannot get path "/metrics"
 * followed by ": <reason>" when the deciding authorizer gave one.
 */
export function forbiddenMessage(attrs: Attributes, reason: string): string {
  const who = `User "${attrs.user.name}"`;
  const tail = reason !== '' ? `: ${reason}` : '';
  if (!attrs.resourceRequest) return `forbidden: ${who} cannot ${attrs.verb} path "${attrs.path}"${tail}`;
  const groupResource = attrs.apiGroup !== '' ? `${attrs.resource}.${attrs.apiGroup}` : attrs.resource;
  const subject = attrs.name !== '' ? `${groupResource} "${attrs.name}"` : groupResource;
  const where = attrs.namespace !== '' ? `in the namespace "${attrs.namespace}"` : 'at the cluster scope';
  return `${subject} is forbidden: ${who} cannot ${attrs.verb} resource "${resourceWithSub(attrs)}" in API group "${attrs.apiGroup}" ${where}${tail}`;
}
