/**
 * Rows of nodes, namespaces, events and the small configuration kinds (ConfigMaps, Secrets,
 * ServiceAccounts, Leases), plus the NAME/AGE row of anything without a printer of its own.
 */
import { parseTimestamp, translateTimestampSince } from './duration.js';
import type { Printer } from './printer.js';
import { ageColumn, ageOf, arr, at, col, count, nameColumn, nameOf, rec, size, stringMap, text } from './format.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const LEGACY_ROLE_LABEL = 'kubernetes.io/role';

/** Roles from `node-role.kubernetes.io/<role>` label keys and the older `kubernetes.io/role=<role>`, sorted. */
export function nodeRoles(node: unknown): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(stringMap(at(node, 'metadata', 'labels')))) {
    if (k.startsWith(ROLE_LABEL_PREFIX)) {
      const role = k.slice(ROLE_LABEL_PREFIX.length);
      if (role !== '') roles.add(role);
    } else if (k === LEGACY_ROLE_LABEL && v !== '') {
      roles.add(v);
    }
  }
  return [...roles].sort();
}

/** `Ready`, `NotReady` (Ready condition not True), `Unknown` (no Ready condition), `,SchedulingDisabled`. */
export function nodeStatus(node: unknown): string {
  // Later duplicates of a condition type win, as in upstream's map of conditions.
  let ready: string | undefined;
  for (const c of arr(at(node, 'status', 'conditions')).map(rec)) if (text(c.type) === 'Ready') ready = text(c.status);
  const parts = [ready === undefined ? 'Unknown' : ready === 'True' ? 'Ready' : 'NotReady'];
  if (at(node, 'spec', 'unschedulable') === true) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeAddress(node: unknown, type: string): string {
  const found = arr(at(node, 'status', 'addresses')).map(rec).find((a) => text(a.type) === type);
  return found ? text(found.address) : '<none>';
}

export const nodePrinter: Printer = {
  columns: [
    nameColumn,
    col('Status', 'string', 'The status of the node.'),
    col('Roles', 'string', 'The roles of the node.'),
    ageColumn,
    col('Version', 'string', 'Kubelet version reported by the node.'),
    col('Internal-IP', 'string', 'The node address of type InternalIP.', { priority: 1 }),
    col('External-IP', 'string', 'The node address of type ExternalIP.', { priority: 1 }),
    col('OS-Image', 'string', 'Operating system image reported by the node.', { priority: 1 }),
    col('Kernel-Version', 'string', 'Kernel version reported by the node.', { priority: 1 }),
    col('Container-Runtime', 'string', 'Container runtime and version reported by the node.', { priority: 1 }),
  ],
  cells(node, now) {
    const info = rec(at(node, 'status', 'nodeInfo'));
    const orUnknown = (v: unknown): string => text(v) || '<unknown>';
    const roles = nodeRoles(node);
    return [
      nameOf(node),
      nodeStatus(node),
      roles.length > 0 ? roles.join(',') : '<none>',
      ageOf(node, now),
      text(info.kubeletVersion),
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      orUnknown(info.osImage),
      orUnknown(info.kernelVersion),
      orUnknown(info.containerRuntimeVersion),
    ];
  },
};

export const namespacePrinter: Printer = {
  columns: [nameColumn, col('Status', 'string', 'The status of the namespace.'), ageColumn],
  cells: (ns, now) => [nameOf(ns), text(at(ns, 'status', 'phase')), ageOf(ns, now)],
};

export const configMapPrinter: Printer = {
  columns: [nameColumn, col('Data', 'string', 'Number of entries in data and binaryData.'), ageColumn],
  cells: (cm, now) => [nameOf(cm), size(at(cm, 'data')) + size(at(cm, 'binaryData')), ageOf(cm, now)],
};

export const secretPrinter: Printer = {
  columns: [
    nameColumn,
    col('Type', 'string', 'Used to facilitate programmatic handling of secret data.'),
    col('Data', 'string', 'Number of entries in data.'),
    ageColumn,
  ],
  cells: (s, now) => [nameOf(s), text(at(s, 'type')), size(at(s, 'data')), ageOf(s, now)],
};

export const serviceAccountPrinter: Printer = {
  columns: [nameColumn, col('Secrets', 'string', 'Number of secrets listed by the service account.'), ageColumn],
  cells: (sa, now) => [nameOf(sa), arr(at(sa, 'secrets')).length, ageOf(sa, now)],
};

export const leasePrinter: Printer = {
  columns: [nameColumn, col('Holder', 'string', 'The identity of the current holder of the lease.'), ageColumn],
  cells: (l, now) => [nameOf(l), text(at(l, 'spec', 'holderIdentity')), ageOf(l, now)],
};

export const defaultPrinter: Printer = {
  columns: [nameColumn, ageColumn],
  cells: (o, now) => [nameOf(o), ageOf(o, now)],
};

/** Core/v1 and events.k8s.io/v1 Events in one shape (the latter renames most fields). */
interface EventView {
  readonly first: unknown;
  readonly last: unknown;
  readonly eventTime: unknown;
  readonly series: Readonly<Record<string, unknown>> | undefined;
  readonly count: number;
  readonly involved: Readonly<Record<string, unknown>>;
  readonly source: Readonly<Record<string, unknown>>;
}

function eventView(e: unknown): EventView {
  const o = rec(e);
  const v1 = o.regarding !== undefined || o.note !== undefined || text(o.apiVersion).startsWith('events.k8s.io/');
  const series = o.series === undefined || o.series === null ? undefined : rec(o.series);
  return {
    first: v1 ? o.deprecatedFirstTimestamp : o.firstTimestamp,
    last: v1 ? o.deprecatedLastTimestamp : o.lastTimestamp,
    eventTime: o.eventTime,
    series,
    count: count(v1 ? o.deprecatedCount : o.count),
    involved: rec(v1 ? o.regarding : o.involvedObject),
    source: rec(v1 ? o.deprecatedSource : o.source),
  };
}

function eventMessage(e: unknown): string {
  const o = rec(e);
  return text(o.message !== undefined ? o.message : o.note).trim();
}

export const eventPrinter: Printer = {
  columns: [
    col('Last Seen', 'string', 'Time of the most recent occurrence.'),
    col('Type', 'string', 'Type of this event (Normal, Warning).'),
    col('Reason', 'string', 'Short, machine-understandable reason for the event.'),
    col('Object', 'string', 'The object this event is about.'),
    col('Subobject', 'string', 'The part of the object this event is about, e.g. a container.', { priority: 1 }),
    col('Source', 'string', 'The component reporting this event.', { priority: 1 }),
    col('Message', 'string', 'A human-readable description of the event.'),
    col('First Seen', 'string', 'Time of the first occurrence.', { priority: 1 }),
    col('Count', 'string', 'The number of times this event has occurred.', { priority: 1 }),
    col('Name', 'string', 'Name of the event object.', { priority: 1, format: 'name' }),
  ],
  cells(e, now) {
    const v = eventView(e);
    const o = rec(e);
    const firstSeen = translateTimestampSince(parseTimestamp(v.first) !== undefined ? v.first : v.eventTime, now);
    let lastSeen = parseTimestamp(v.last) !== undefined ? translateTimestampSince(v.last, now) : firstSeen;
    let n = v.count;
    if (v.series) {
      lastSeen = translateTimestampSince(v.series.lastObservedTime, now);
      n = count(v.series.count);
    } else if (n === 0) {
      // Events written through events.k8s.io carry no count when they happened once.
      n = 1;
    }
    const kind = text(v.involved.kind).toLowerCase();
    const involvedName = text(v.involved.name);
    const component = text(v.source.component) || text(o.reportingController);
    const host = text(v.source.host) || text(o.reportingInstance);
    return [
      lastSeen,
      text(o.type),
      text(o.reason),
      involvedName !== '' ? `${kind}/${involvedName}` : kind,
      text(v.involved.fieldPath),
      host === '' ? component : `${component}, ${host}`,
      eventMessage(e),
      firstSeen,
      n,
      nameOf(e),
    ];
  },
};
