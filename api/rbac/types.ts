/**
 * rbac.authorization.k8s.io/v1 types and schemas: Role, ClusterRole, RoleBinding, ClusterRoleBinding.
 * Field names and JSON shapes are upstream's (k8s.io/api/rbac/v1/types.go). Every list is atomic
 * upstream (`+listType=atomic`), so strategic merge replaces them whole.
 */
import type { KubeObject, LabelSelector, ObjectMeta } from '../meta.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';

/** The API group, also the only valid `roleRef.apiGroup` and the apiGroup of User and Group subjects. */
export const RBAC_GROUP = 'rbac.authorization.k8s.io';

/** Subject kinds. */
export const SERVICE_ACCOUNT_KIND = 'ServiceAccount';
export const USER_KIND = 'User';
export const GROUP_KIND = 'Group';

/** Wildcards of PolicyRule fields, as upstream's rbacv1.VerbAll, APIGroupAll, ResourceAll, NonResourceAll. */
export const VERB_ALL = '*';
export const API_GROUP_ALL = '*';
export const RESOURCE_ALL = '*';
export const NON_RESOURCE_ALL = '*';

export interface PolicyRule {
  /** `*` means every verb. */
  readonly verbs: readonly string[];
  /** `''` is the core group, `*` every group. */
  readonly apiGroups?: readonly string[];
  /** `*` every resource; `pods/log` a subresource; `*\/scale` a subresource of any resource. */
  readonly resources?: readonly string[];
  /** Empty means every name. */
  readonly resourceNames?: readonly string[];
  /** ClusterRoles only: `/healthz`, `/api/*` (a `*` only as the last character), or `*` alone. */
  readonly nonResourceURLs?: readonly string[];
}

export interface AggregationRule {
  readonly clusterRoleSelectors?: readonly LabelSelector[];
}

export interface Role extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly rules?: readonly PolicyRule[];
}

export interface ClusterRole extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly rules?: readonly PolicyRule[];
  /** When set, the rules are the union of the rules of the ClusterRoles its selectors match. */
  readonly aggregationRule?: AggregationRule;
}

export interface Subject {
  /** `ServiceAccount`, `User` or `Group`. */
  readonly kind: string;
  /** `''` for ServiceAccount; `rbac.authorization.k8s.io` for User and Group (defaulted when empty). */
  readonly apiGroup?: string;
  readonly name: string;
  /** ServiceAccount subjects only; in a RoleBinding, empty means the binding's namespace. */
  readonly namespace?: string;
}

export interface RoleRef {
  /** Always `rbac.authorization.k8s.io` (defaulted when empty). */
  readonly apiGroup: string;
  /** `Role` or `ClusterRole` (a ClusterRoleBinding may only refer to a ClusterRole). */
  readonly kind: string;
  readonly name: string;
}

export interface RoleBinding extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly subjects?: readonly Subject[];
  /** Immutable. */
  readonly roleRef: RoleRef;
}

export interface ClusterRoleBinding extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly subjects?: readonly Subject[];
  /** Immutable; refers to a ClusterRole. */
  readonly roleRef: RoleRef;
}

// ---- schemas ----------------------------------------------------------------------------------------

export const policyRuleSchema: ObjectSchema = obj(
  {
    verbs: arrayOf(str(), { description: "Verbs that apply to all the resources of this rule; '*' represents all verbs." }),
    apiGroups: arrayOf(str(), { description: 'API groups of the resources; "" is the core group and "*" all groups.' }),
    resources: arrayOf(str(), { description: "Resources this rule applies to; '*' represents all resources." }),
    resourceNames: arrayOf(str(), { description: 'Optional list of names the rule applies to; empty means every name.' }),
    nonResourceURLs: arrayOf(str(), {
      description: 'Partial URLs a user should have access to (ClusterRoles only); a * is allowed only as the final step.',
    }),
  },
  { description: 'A rule of a Role or ClusterRole.', required: ['verbs'] },
);

export const aggregationRuleSchema: ObjectSchema = obj(
  { clusterRoleSelectors: arrayOf(labelSelectorSchema, { description: 'Selectors of the ClusterRoles whose rules are aggregated.' }) },
  { description: 'How to build the rules of a ClusterRole from other ClusterRoles.' },
);

export const subjectSchema: ObjectSchema = obj(
  {
    kind: str('Kind of the subject: "User", "Group" or "ServiceAccount".'),
    apiGroup: str('API group of the subject: "" for ServiceAccount, "rbac.authorization.k8s.io" for User and Group.'),
    name: str('Name of the subject.'),
    namespace: str('Namespace of a ServiceAccount subject.'),
  },
  { description: 'A user, group or service account a binding applies to.', required: ['kind', 'name'] },
);

export const roleRefSchema: ObjectSchema = obj(
  {
    apiGroup: str('API group of the referenced role.'),
    kind: str('Kind of the referenced role: "Role" or "ClusterRole".'),
    name: str('Name of the referenced role.'),
  },
  { description: 'The role a binding grants. Immutable.', required: ['apiGroup', 'kind', 'name'] },
);

const rulesField = arrayOf(policyRuleSchema, { description: 'The PolicyRules of this role.' });
const subjectsField = arrayOf(subjectSchema, { description: 'The subjects the role applies to.' });

export const roleSchema: ObjectSchema = obj(
  { ...typeMetaFields, metadata: objectMetaSchema, rules: rulesField },
  { description: 'A namespaced set of PolicyRules, granted by a RoleBinding.' },
);

export const clusterRoleSchema: ObjectSchema = obj(
  { ...typeMetaFields, metadata: objectMetaSchema, rules: rulesField, aggregationRule: aggregationRuleSchema },
  { description: 'A cluster-wide set of PolicyRules, granted by a RoleBinding or ClusterRoleBinding.' },
);

export const roleBindingSchema: ObjectSchema = obj(
  { ...typeMetaFields, metadata: objectMetaSchema, subjects: subjectsField, roleRef: roleRefSchema },
  { description: 'Grants a Role or ClusterRole to subjects within one namespace.', required: ['roleRef'] },
);

export const clusterRoleBindingSchema: ObjectSchema = obj(
  { ...typeMetaFields, metadata: objectMetaSchema, subjects: subjectsField, roleRef: roleRefSchema },
  { description: 'Grants a ClusterRole to subjects cluster-wide.', required: ['roleRef'] },
);
