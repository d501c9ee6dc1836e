/**
 * Server-side printing: `kubectl get` asks for `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
 * and prints the columns the server chooses, so what users see for each kind is decided here. Columns
 * and cell rules follow upstream's printers (pkg/printers/internalversion) so output reads the same as
 * on any cluster; kinds without a printer get NAME and AGE.
 *
 * Every column is always filled, `-o wide` ones (priority 1) included: kubectl hides them itself.
 * Rows keep the object (`includeObject=Object`, which kubectl sends so it can sort and use
 * `--show-labels`), only its metadata (the default), or nothing.
 *
 * Cost model: one pass over the objects; each row is a handful of field reads. Times are relative to
 * the `now` the caller passes, so results are reproducible.
 */
import type { KubeObject, ListMeta } from '../../../api/meta.js';
import {
  configMapPrinter,
  defaultPrinter,
  eventPrinter,
  leasePrinter,
  namespacePrinter,
  nodePrinter,
  secretPrinter,
  serviceAccountPrinter,
} from './cluster.js';
import type { TableCell, TableColumnDefinition } from './format.js';
import { endpointSlicePrinter, endpointsPrinter, servicePrinter } from './networking.js';
import { podPrinter } from './pods.js';
import { podDisruptionBudgetPrinter } from './policy.js';
import { cronJobPrinter, jobPrinter } from './batch.js';
import { csrPrinter } from './certificates.js';
import { clusterRoleBindingPrinter, roleBindingPrinter, rolePrinter } from './rbac.js';
import type { Printer, TableRowCondition } from './printer.js';
import { controllerRevisionPrinter, daemonSetPrinter, deploymentPrinter, replicaSetPrinter, statefulSetPrinter } from './workloads.js';

export type { TableCell, TableColumnDefinition } from './format.js';
export type { Printer, TableRowCondition } from './printer.js';

export type IncludeObject = 'None' | 'Object' | 'Metadata';

export interface TableRow {
  readonly cells: readonly TableCell[];
  readonly conditions?: readonly TableRowCondition[];
  readonly object?: KubeObject | PartialObjectMetadata;
}

export interface PartialObjectMetadata {
  readonly kind: 'PartialObjectMetadata';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: KubeObject['metadata'];
}

export interface Table {
  readonly kind: 'Table';
  readonly apiVersion: 'meta.k8s.io/v1';
  readonly metadata: ListMeta;
  readonly columnDefinitions: readonly TableColumnDefinition[];
  readonly rows: readonly TableRow[];
}

export interface BuildTableOptions {
  /** What each row carries besides its cells; upstream's default is Metadata. */
  readonly includeObject?: IncludeObject;
  readonly listMeta?: ListMeta;
  /** Filled into objects that lack apiVersion/kind when `includeObject` is Object (stored objects may omit them). */
  readonly typeMeta?: { readonly apiVersion: string; readonly kind: string };
}

/** Printers by resource plural; core and events.k8s.io Events share one. */
const PRINTERS: ReadonlyMap<string, Printer> = new Map<string, Printer>([
  ['pods', podPrinter],
  ['nodes', nodePrinter],
  ['services', servicePrinter],
  ['endpoints', endpointsPrinter],
  ['endpointslices', endpointSlicePrinter],
  ['deployments', deploymentPrinter],
  ['replicasets', replicaSetPrinter],
  ['daemonsets', daemonSetPrinter],
  ['statefulsets', statefulSetPrinter],
  ['controllerrevisions', controllerRevisionPrinter],
  ['jobs', jobPrinter],
  ['cronjobs', cronJobPrinter],
  ['events', eventPrinter],
  ['namespaces', namespacePrinter],
  ['configmaps', configMapPrinter],
  ['secrets', secretPrinter],
  ['serviceaccounts', serviceAccountPrinter],
  ['leases', leasePrinter],
  ['certificatesigningrequests', csrPrinter],
  ['roles', rolePrinter],
  ['clusterroles', rolePrinter],
  ['rolebindings', roleBindingPrinter],
  ['clusterrolebindings', clusterRoleBindingPrinter],
  ['poddisruptionbudgets', podDisruptionBudgetPrinter],
]);

/** The printer of a resource, NAME/AGE for resources without one. */
export function tableFor(plural: string): Printer {
  return PRINTERS.get(plural) ?? defaultPrinter;
}

function rowObject(obj: KubeObject, opts: BuildTableOptions): KubeObject | PartialObjectMetadata | undefined {
  const include = opts.includeObject ?? 'Metadata';
  switch (include) {
    case 'None':
      return undefined;
    case 'Metadata':
      return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
    case 'Object':
      if (opts.typeMeta && (obj.apiVersion === undefined || obj.kind === undefined)) {
        return { ...obj, apiVersion: obj.apiVersion ?? opts.typeMeta.apiVersion, kind: obj.kind ?? opts.typeMeta.kind };
      }
      return obj;
    default: {
      const never: never = include;
      return never;
    }
  }
}

/** One row of a Table (used by buildTable, and by LIST handlers that stream rows one by one). */
export function buildTableRow(plural: string, obj: KubeObject, now: Date, opts: BuildTableOptions = {}): TableRow {
  const printer = tableFor(plural);
  const conditions = printer.conditions?.(obj) ?? [];
  const object = rowObject(obj, opts);
  return {
    cells: printer.cells(obj, now),
    ...(conditions.length > 0 ? { conditions } : {}),
    ...(object !== undefined ? { object } : {}),
  };
}

/** A meta.k8s.io/v1 Table of `objects`, one row each, in the order given. */
export function buildTable(plural: string, objects: readonly KubeObject[], now: Date, opts: BuildTableOptions = {}): Table {
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.listMeta ?? {},
    columnDefinitions: tableFor(plural).columns,
    rows: objects.map((obj) => buildTableRow(plural, obj, now, opts)),
  };
}
