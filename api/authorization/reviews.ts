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

export const selfSubjectReviewSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  status: obj({
    userInfo: obj({
      username: str('The name that uniquely identifies this user among all active users.'),
      uid: str('A unique value that identifies this user across time.'),
      groups: strings('The names of groups this user is a part of.'),
      extra: mapOf(strings('Values.'), 'Any additional information provided by the authenticator.'),
    }),
  }),
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

/** Shared by the three: create-only, cluster-scoped, nothing defaulted, no updates. */
function reviewKind<T extends KubeObject>(
  group: string,
  kind: string,
  schema: ObjectSchema,
  validate: (obj: T) => FieldError[],
): KindDefinition<T> {
  return {
    group,
    version: 'v1',
    kind,
    plural: `${kind.toLowerCase()}s`,
    singular: kind.toLowerCase(),
    namespaced: false,
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
