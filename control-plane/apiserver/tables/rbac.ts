/**
 * Rows of the rbac.authorization.k8s.io/v1 kinds. Roles and ClusterRoles have no printer upstream, so
 * kubectl shows the apiserver's default table: NAME and CREATED AT (the creationTimestamp in RFC 3339).
 * Bindings print NAME, ROLE (`ClusterRole/view`), AGE and, with `-o wide`, USERS, GROUPS and
 * SERVICEACCOUNTS (`namespace/name`), each list joined with `, ` as upstream's printRoleBinding does.
 */
import type { Printer } from './printer.js';
import type { TableColumnDefinition } from './format.js';
import { ageColumn, ageOf, arr, at, col, nameColumn, nameOf, rec, text } from './format.js';

/** Go's zero time, which upstream prints for an object without a creationTimestamp. */
const ZERO_TIME = '0001-01-01T00:00:00Z';

/** The creationTimestamp as Go's `Time.UTC().Format(time.RFC3339)`: whole seconds, `Z`. */
export function createdAt(obj: unknown): string {
  const ms = Date.parse(text(at(obj, 'metadata', 'creationTimestamp')));
  return Number.isNaN(ms) ? ZERO_TIME : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
}

export const rolePrinter: Printer = {
  columns: [nameColumn, col('Created At', 'date', 'The time this object was created.')],
  cells: (r) => [nameOf(r), createdAt(r)],
};

/** Upstream rbac.SubjectsStrings: users, groups and service accounts (`namespace/name`); other kinds left out. */
export function subjectsStrings(subjects: unknown): { users: string[]; groups: string[]; serviceAccounts: string[] } {
  const out = { users: [] as string[], groups: [] as string[], serviceAccounts: [] as string[] };
  for (const s of arr(subjects).map(rec)) {
    const name = text(s.name);
    switch (s.kind) {
      case 'ServiceAccount':
        out.serviceAccounts.push(`${text(s.namespace)}/${name}`);
        break;
      case 'User':
        out.users.push(name);
        break;
      case 'Group':
        out.groups.push(name);
        break;
      default:
        break;
    }
  }
  return out;
}

function bindingPrinter(what: string, roleRefDoc: string): Printer {
  const wide = (name: string, description: string): TableColumnDefinition => col(name, 'string', description, { priority: 1 });
  return {
    columns: [
      nameColumn,
      col('Role', 'string', roleRefDoc),
      ageColumn,
      wide('Users', `Users in the ${what}`),
      wide('Groups', `Groups in the ${what}`),
      wide('ServiceAccounts', `ServiceAccounts in the ${what}`),
    ],
    cells(b, now) {
      const { users, groups, serviceAccounts } = subjectsStrings(at(b, 'subjects'));
      const role = `${text(at(b, 'roleRef', 'kind'))}/${text(at(b, 'roleRef', 'name'))}`;
      return [nameOf(b), role, ageOf(b, now), users.join(', '), groups.join(', '), serviceAccounts.join(', ')];
    },
  };
}

export const roleBindingPrinter: Printer = bindingPrinter(
  'roleBinding',
  'RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace.',
);

export const clusterRoleBindingPrinter: Printer = bindingPrinter(
  'clusterRoleBinding',
  'RoleRef can only reference a ClusterRole in the global namespace.',
);
