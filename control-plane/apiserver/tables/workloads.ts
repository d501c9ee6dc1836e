/**
 * Rows of the apps/v1 workload controllers: replica counts from status against the desired count from
 * spec, and with `-o wide` the pod template's containers, images and the selector.
 */
import type { Printer } from './printer.js';
import {
  ageColumn,
  ageOf,
  at,
  col,
  containerCells,
  count,
  formatLabels,
  formatLabelSelector,
  nameColumn,
  nameOf,
  selectorString,
  stringMap,
} from './format.js';

const containersColumn = col('Containers', 'string', 'Names of each container in the template.', { priority: 1 });
const imagesColumn = col('Images', 'string', 'Images referenced by each container in the template.', { priority: 1 });
const selectorColumn = col('Selector', 'string', 'Label query over the pods the controller manages.', { priority: 1 });

export const deploymentPrinter: Printer = {
  columns: [
    nameColumn,
    col('Ready', 'string', 'Ready pods out of the desired number.'),
    col('Up-to-date', 'string', 'Pods running the latest pod template.'),
    col('Available', 'string', 'Pods ready for at least minReadySeconds.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(d, now) {
    const [containers, images] = containerCells(at(d, 'spec', 'template', 'spec'));
    return [
      nameOf(d),
      `${count(at(d, 'status', 'readyReplicas'))}/${count(at(d, 'spec', 'replicas'))}`,
      count(at(d, 'status', 'updatedReplicas')),
      count(at(d, 'status', 'availableReplicas')),
      ageOf(d, now),
      containers,
      images,
      // Deployments print the bare selector (empty when it selects everything), unlike ReplicaSets.
      selectorString(at(d, 'spec', 'selector'), '<invalid>'),
    ];
  },
};

export const replicaSetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Desired', 'integer', 'Number of desired pods.'),
    col('Current', 'integer', 'Number of pods the controller has created.'),
    col('Ready', 'integer', 'Number of ready pods.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(rs, now) {
    const [containers, images] = containerCells(at(rs, 'spec', 'template', 'spec'));
    return [
      nameOf(rs),
      count(at(rs, 'spec', 'replicas')),
      count(at(rs, 'status', 'replicas')),
      count(at(rs, 'status', 'readyReplicas')),
      ageOf(rs, now),
      containers,
      images,
      formatLabelSelector(at(rs, 'spec', 'selector')),
    ];
  },
};

export const daemonSetPrinter: Printer = {
  columns: [
    nameColumn,
    col('Desired', 'integer', 'Number of nodes that should run the daemon pod.'),
    col('Current', 'integer', 'Number of nodes running at least one daemon pod.'),
    col('Ready', 'integer', 'Number of nodes whose daemon pod is ready.'),
    col('Up-to-date', 'integer', 'Number of nodes running the updated daemon pod.'),
    col('Available', 'integer', 'Number of nodes whose daemon pod is available.'),
    col('Node Selector', 'string', 'Labels a node must have to run the daemon pod.'),
    ageColumn,
    containersColumn,
    imagesColumn,
    selectorColumn,
  ],
  cells(ds, now) {
    const [containers, images] = containerCells(at(ds, 'spec', 'template', 'spec'));
    return [
      nameOf(ds),
      count(at(ds, 'status', 'desiredNumberScheduled')),
      count(at(ds, 'status', 'currentNumberScheduled')),
      count(at(ds, 'status', 'numberReady')),
      count(at(ds, 'status', 'updatedNumberScheduled')),
      count(at(ds, 'status', 'numberAvailable')),
      formatLabels(stringMap(at(ds, 'spec', 'template', 'spec', 'nodeSelector'))),
      ageOf(ds, now),
      containers,
      images,
      formatLabelSelector(at(ds, 'spec', 'selector')),
    ];
  },
};

/** Upstream printStatefulSet: READY is ready pods out of spec.replicas; no selector column, even wide. */
export const statefulSetPrinter: Printer = {
  columns: [nameColumn, col('Ready', 'string', 'Number of the pod with ready state'), ageColumn, containersColumn, imagesColumn],
  cells(sts, now) {
    const [containers, images] = containerCells(at(sts, 'spec', 'template', 'spec'));
    return [nameOf(sts), `${count(at(sts, 'status', 'readyReplicas'))}/${count(at(sts, 'spec', 'replicas'))}`, ageOf(sts, now), containers, images];
  },
};

/** `daemonset.apps/name` for the controller owner, as upstream prints ControllerRevisions. */
function controllerOf(obj: unknown): string {
  const refs = at(obj, 'metadata', 'ownerReferences');
  const ref = Array.isArray(refs) ? (refs as { controller?: boolean; apiVersion?: string; kind?: string; name?: string }[]).find((r) => r.controller === true) : undefined;
  if (ref === undefined) return '<none>';
  const slash = (ref.apiVersion ?? '').indexOf('/');
  const group = slash < 0 ? '' : (ref.apiVersion ?? '').slice(0, slash);
  return `${(ref.kind ?? '').toLowerCase()}${group !== '' ? `.${group}` : ''}/${ref.name ?? ''}`;
}

export const controllerRevisionPrinter: Printer = {
  columns: [nameColumn, col('Controller', 'string', 'The controller that owns this revision.'), col('Revision', 'integer', 'The revision of the state.'), ageColumn],
  cells(r, now) {
    return [nameOf(r), controllerOf(r), count(at(r, 'revision')), ageOf(r, now)];
  },
};
