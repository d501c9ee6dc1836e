/**
 * rbac.authorization.k8s.io/v1 messages (k8s.io/api/rbac/v1/generated.proto): Role, ClusterRole,
 * RoleBinding, ClusterRoleBinding, as kubectl `create role|clusterrole|rolebinding|clusterrolebinding`
 * send them. The only pointer is ClusterRole.aggregationRule; every string is a non-pointer Go field.
 */
import type { MessageTable } from './types.js';
import { PTR, msg, msgs, str, strs } from './types.js';

export const rbacMessages: MessageTable = {
  'rbac.v1.Role': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('rules', 'rbac.v1.PolicyRule'),
  },
  'rbac.v1.ClusterRole': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('rules', 'rbac.v1.PolicyRule'),
    3: msg('aggregationRule', 'rbac.v1.AggregationRule', PTR),
  },
  'rbac.v1.PolicyRule': {
    1: strs('verbs'),
    2: strs('apiGroups'),
    3: strs('resources'),
    4: strs('resourceNames'),
    5: strs('nonResourceURLs'),
  },
  'rbac.v1.AggregationRule': {
    1: msgs('clusterRoleSelectors', 'meta.v1.LabelSelector'),
  },
  'rbac.v1.RoleBinding': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('subjects', 'rbac.v1.Subject'),
    3: msg('roleRef', 'rbac.v1.RoleRef'),
  },
  'rbac.v1.ClusterRoleBinding': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msgs('subjects', 'rbac.v1.Subject'),
    3: msg('roleRef', 'rbac.v1.RoleRef'),
  },
  'rbac.v1.Subject': {
    1: str('kind'),
    2: str('apiGroup'),
    3: str('name'),
    4: str('namespace'),
  },
  'rbac.v1.RoleRef': {
    1: str('apiGroup'),
    2: str('kind'),
    3: str('name'),
  },
};
