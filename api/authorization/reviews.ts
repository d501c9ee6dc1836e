/**
 * The "who am I / may I" reviews a user asks the apiserver about itself (create-only, never stored):
 *   authorization.k8s.io/v1 SelfSubjectAccessReview   `kubectl auth can-i VERB RESOURCE`
 *   authorization.k8s.io/v1 SelfSubjectRulesReview    `kubectl auth can-i --list`
 *   authentication.k8s.io/v1 SelfSubjectReview        `kubectl auth whoami`
 * Types, schemas and spec validation as upstream (pkg/apis/authorization/validation); the answers are
 * the server's (control-plane/apiserver/reviews.ts).
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import type { ObjectSchema } from '../schema.js';
import { arrayOf, bool, mapOf, obj, str } from '../schema.js';

export interface ResourceAttributes {
  readonly namespace?: string;
  readonly verb?: string;
  readonly group?: string;
  readonly version?: string;
  readonly resource?: string;
  readonly subresource?: string;
  readonly name?: string;
}

export interface NonResourceAttributes {
  readonly path?: string;
  readonly verb?: string;
}

export interface SubjectAccessReviewStatus {
  readonly allowed: boolean;
  readonly denied?: boolean;
  readonly reason?: string;
  readonly evaluationError?: string;
}

export interface SelfSubjectAccessReview extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly resourceAttributes?: ResourceAttributes; readonly nonResourceAttributes?: NonResourceAttributes };
  readonly status?: SubjectAccessReviewStatus;
}

export interface ResourceRule {
  readonly verbs: readonly string[];
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface NonResourceRule {
  readonly verbs: readonly string[];
  readonly nonResourceURLs?: readonly string[];
}

export interface SelfSubjectRulesReview extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly namespace?: string };
  readonly status?: {
    readonly resourceRules: readonly ResourceRule[];
    readonly nonResourceRules: readonly NonResourceRule[];
    readonly incomplete: boolean;
    readonly evaluationError?: string;
  };
}

export interface UserInfo {
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface SelfSubjectReview extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly status?: { readonly userInfo: UserInfo };
}

const strings = (description: string): ReturnType<typeof arrayOf> => arrayOf(str(), { description });

const resourceAttributesSchema: ObjectSchema = obj({
  namespace: str('The namespace of the action; empty means all namespaces for a namespaced resource.'),
  verb: str('A kubernetes resource API verb, like get, list, watch, create, update, delete, proxy. "*" means all.'),
  group: str('The API group of the resource. "*" means all.'),
  version: str('The API version of the resource. "*" means all.'),
  resource: str('One of the existing resource types. "*" means all.'),
  subresource: str('One of the existing subresource types. "" means none.'),
  name: str('The name of the resource for a get or delete. "" means all.'),
});

const nonResourceAttributesSchema: ObjectSchema = obj({
  path: str('The URL path of the request.'),
  verb: str('The standard HTTP verb.'),
});

const accessStatusSchema: ObjectSchema = obj({
  allowed: bool('True if the action would be allowed.'),
  denied: bool('True if the action would be denied.'),
  reason: str('Why the request was allowed or denied.'),
  evaluationError: str('An error that occurred during the authorization check.'),
});

export const selfSubjectAccessReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({ resourceAttributes: resourceAttributesSchema, nonResourceAttributes: nonResourceAttributesSchema }),
  status: accessStatusSchema,
});

export const selfSubjectRulesReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({ namespace: str('The namespace to evaluate rules for. Required.') }),
  status: obj({
    resourceRules: arrayOf(obj({ verbs: strings('Verbs.'), apiGroups: strings('API groups.'), resources: strings('Resources.'), resourceNames: strings('Resource names.') })),
    nonResourceRules: arrayOf(obj({ verbs: strings('Verbs.'), nonResourceURLs: strings('Partial URLs.') })),
    incomplete: bool('True when the rules returned are incomplete.'),
    evaluationError: str('Why the rules may be incomplete.'),
  }),
});

const userInfoSchema: ObjectSchema = obj({
  username: str('The name that uniquely identifies this user among all active users.'),
  uid: str('A unique value that identifies this user across time.'),
  groups: strings('The names of groups this user is a part of.'),
  extra: mapOf(strings('Values.'), 'Any additional information provided by the authenticator.'),
});

export const selfSubjectReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  status: obj({ userInfo: userInfoSchema }),
});

/** Upstream's ValidateSelfSubjectAccessReviewSpec: exactly one kind of attributes. */
export function validateSelfSubjectAccessReview(r: SelfSubjectAccessReview): FieldError[] {
  const spec = FieldPath.root('spec');
  const { resourceAttributes, nonResourceAttributes } = r.spec ?? {};
  if (resourceAttributes !== undefined && nonResourceAttributes !== undefined) {
    return [invalid(spec.child('nonResourceAttributes'), nonResourceAttributes, 'cannot be specified in combination with resourceAttributes')];
  }
  if (resourceAttributes === undefined && nonResourceAttributes === undefined) {
    return [invalid(spec.child('resourceAttributes'), null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  }
  return [];
}

export function validateSelfSubjectRulesReview(r: SelfSubjectRulesReview): FieldError[] {
  return (r.spec?.namespace ?? '') === '' ? [required(FieldPath.root('spec').child('namespace'), 'the namespace to evaluate rules for')] : [];
}

// ---- reviews about somebody else: SubjectAccessReview, LocalSubjectAccessReview, TokenReview ----

/** The subject a (Local)SubjectAccessReview asks about (upstream's SubjectAccessReviewSpec). */
export interface SubjectAccessReviewSpec {
  readonly resourceAttributes?: ResourceAttributes;
  readonly nonResourceAttributes?: NonResourceAttributes;
  readonly user?: string;
  readonly groups?: readonly string[];
  readonly uid?: string;
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface SubjectAccessReview extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: SubjectAccessReviewSpec;
  readonly status?: SubjectAccessReviewStatus;
}

export const subjectAccessReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({
    resourceAttributes: resourceAttributesSchema,
    nonResourceAttributes: nonResourceAttributesSchema,
    user: str('The user you are testing for.'),
    groups: strings('The groups you are testing for.'),
    uid: str('Information about the requesting user.'),
    extra: mapOf(strings('Values.'), 'What the authenticator would have added.'),
  }),
  status: accessStatusSchema,
});

/** Upstream's ValidateSubjectAccessReviewSpec: one kind of attributes, and a user or a group. */
export function validateSubjectAccessReview(r: SubjectAccessReview): FieldError[] {
  const errs = validateSelfSubjectAccessReview(r as unknown as SelfSubjectAccessReview);
  if ((r.spec?.user ?? '') === '' && (r.spec?.groups ?? []).length === 0) {
    errs.push(invalid(FieldPath.root('spec').child('user'), r.spec?.user ?? '', 'at least one of user or group must be specified'));
  }
  return errs;
}

/** LocalSubjectAccessReview: resource attributes only, in the review's own namespace. */
export function validateLocalSubjectAccessReview(r: SubjectAccessReview): FieldError[] {
  const errs = validateSubjectAccessReview(r);
  const spec = FieldPath.root('spec');
  if (r.spec?.nonResourceAttributes !== undefined) errs.push(invalid(spec.child('nonResourceAttributes'), r.spec.nonResourceAttributes, 'disallowed on this kind of request'));
  const ns = r.spec?.resourceAttributes?.namespace ?? '';
  if (r.spec?.resourceAttributes !== undefined && ns !== (r.metadata.namespace ?? '')) {
    errs.push(invalid(spec.child('resourceAttributes').child('namespace'), ns, 'must match metadata.namespace'));
  }
  return errs;
}

export interface TokenReview extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: { readonly token?: string; readonly audiences?: readonly string[] };
  readonly status?: { readonly authenticated?: boolean; readonly user?: UserInfo; readonly audiences?: readonly string[]; readonly error?: string };
}

export const tokenReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({ token: str('The opaque bearer token.'), audiences: strings('Audiences the resource server identifies as.') }),
  status: obj({
    authenticated: bool('True if the token is valid.'),
    user: userInfoSchema,
    audiences: strings('Audiences the token is valid for.'),
    error: str('Why the token could not be checked.'),
  }),
});

/** Shared by the reviews: create-only, nothing defaulted, no updates; cluster-scoped unless `namespaced`. */
function reviewKind<T extends KubeObject>(
  group: string,
  kind: string,
  schema: ObjectSchema,
  validate: (obj: T) => FieldError[],
  namespaced = false,
): KindDefinition<T> {
  return {
    group,
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    schema,
    hasStatusSubresource: false,
    default: (o) => o,
    validate,
    validateUpdate: validate,
  };
}

export const selfSubjectAccessReviewKind = reviewKind<SelfSubjectAccessReview>('authorization.k8s.io', 'SelfSubjectAccessReview', selfSubjectAccessReviewSchema, validateSelfSubjectAccessReview);
export const selfSubjectRulesReviewKind = reviewKind<SelfSubjectRulesReview>('authorization.k8s.io', 'SelfSubjectRulesReview', selfSubjectRulesReviewSchema, validateSelfSubjectRulesReview);
export const selfSubjectReviewKind = reviewKind<SelfSubjectReview>('authentication.k8s.io', 'SelfSubjectReview', selfSubjectReviewSchema, () => []);
export const subjectAccessReviewKind = reviewKind<SubjectAccessReview>('authorization.k8s.io', 'SubjectAccessReview', subjectAccessReviewSchema, validateSubjectAccessReview);
export const localSubjectAccessReviewKind = reviewKind<SubjectAccessReview>('authorization.k8s.io', 'LocalSubjectAccessReview', subjectAccessReviewSchema, validateLocalSubjectAccessReview, true);
export const tokenReviewKind = reviewKind<TokenReview>('authentication.k8s.io', 'TokenReview', tokenReviewSchema, () => []);
