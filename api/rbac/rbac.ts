/**
 * rbac.authorization.k8s.io/v1: Role and RoleBinding (namespaced), ClusterRole and ClusterRoleBinding
 * (cluster-scoped). No status, no short names, no categories, as upstream. Types and schemas live in
 * ./types.ts, defaulting and validation in ./validate.ts; this module is the one to import.
 */
import type { KindDefinition } from '../kind.js';
import type { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from './types.js';
import { RBAC_GROUP, clusterRoleBindingSchema, clusterRoleSchema, roleBindingSchema, roleSchema } from './types.js';
import {
  defaultBinding,
  validateClusterRole,
  validateClusterRoleBinding,
  validateClusterRoleBindingUpdate,
  validateClusterRoleUpdate,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateRoleUpdate,
} from './validate.js';

export * from './types.js';
export {
  defaultBinding,
  defaultSubject,
  validateClusterRole,
  validateClusterRoleBinding,
  validateClusterRoleBindingUpdate,
  validateClusterRoleUpdate,
  validateNonResourceURL,
  validatePolicyRule,
  validateRBACName,
  validateRole,
  validateRoleBinding,
  validateRoleBindingUpdate,
  validateRoleUpdate,
  validateSubject,
} from './validate.js';

const common = { group: RBAC_GROUP, version: 'v1', shortNames: [], categories: [], hasStatusSubresource: false } as const;

export const roleKind: KindDefinition<Role> = {
  ...common,
  kind: 'Role',
  plural: 'roles',
  singular: 'role',
  namespaced: true,
  schema: roleSchema,
  default: (r) => r,
  validate: validateRole,
  validateUpdate: validateRoleUpdate,
};

export const clusterRoleKind: KindDefinition<ClusterRole> = {
  ...common,
  kind: 'ClusterRole',
  plural: 'clusterroles',
  singular: 'clusterrole',
  namespaced: false,
  schema: clusterRoleSchema,
  default: (r) => r,
  validate: validateClusterRole,
  validateUpdate: validateClusterRoleUpdate,
};

export const roleBindingKind: KindDefinition<RoleBinding> = {
  ...common,
  kind: 'RoleBinding',
  plural: 'rolebindings',
  singular: 'rolebinding',
  namespaced: true,
  schema: roleBindingSchema,
  default: defaultBinding,
  validate: validateRoleBinding,
  validateUpdate: validateRoleBindingUpdate,
};

export const clusterRoleBindingKind: KindDefinition<ClusterRoleBinding> = {
  ...common,
  kind: 'ClusterRoleBinding',
  plural: 'clusterrolebindings',
  singular: 'clusterrolebinding',
  namespaced: false,
  schema: clusterRoleBindingSchema,
  default: defaultBinding,
  validate: validateClusterRoleBinding,
  validateUpdate: validateClusterRoleBindingUpdate,
};
