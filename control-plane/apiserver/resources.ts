/**
 * The resources this apiserver serves, in discovery order. Adding a kind = writing its api/ module and
 * adding one line here.
 */
import type { KindDefinition } from '../../api/kind.js';
import type { KubeObject } from '../../api/meta.js';
import { namespaceKind } from '../../api/core/namespace.js';
import { nodeKind } from '../../api/core/node.js';
import { podKind } from '../../api/core/pod.js';
import { serviceKind } from '../../api/core/service.js';
import { endpointsKind } from '../../api/core/endpoints.js';
import { configMapKind } from '../../api/core/configmap.js';
import { secretKind } from '../../api/core/secret.js';
import { serviceAccountKind } from '../../api/core/serviceaccount.js';
import { eventKind } from '../../api/core/event.js';
import { deploymentKind } from '../../api/apps/deployment.js';
import { replicaSetKind } from '../../api/apps/replicaset.js';
import { daemonSetKind } from '../../api/apps/daemonset.js';
import { statefulSetKind } from '../../api/apps/statefulset.js';
import { controllerRevisionKind } from '../../api/apps/controllerrevision.js';
import { endpointSliceKind } from '../../api/discovery/endpointslice.js';
import { leaseKind } from '../../api/coordination/lease.js';
import { podDisruptionBudgetKind } from '../../api/policy/pdb.js';
import { jobKind } from '../../api/batch/job.js';
import { cronJobKind } from '../../api/batch/cronjob.js';
import { csrKind, stampCsrRequester } from '../../api/certificates/csr.js';
import { clusterRoleBindingKind, clusterRoleKind, roleBindingKind, roleKind } from '../../api/rbac/rbac.js';
import { eventsV1EventKind } from '../../api/events/event.js';
import { coreToEventsV1, eventsV1ToCore } from '../../api/events/conversion.js';
import type { CoreEvent, EventsV1Event } from '../../api/events/conversion.js';
import { ResourceIndex, storagePrefixFor } from './resource-table.js';
import type { ResourceEntry } from './resource-table.js';

function entry(def: KindDefinition, subresources: readonly string[] = [], extra: Partial<ResourceEntry> = {}): ResourceEntry {
  return {
    def: def as unknown as KindDefinition,
    subresources,
    storagePrefix: storagePrefixFor(def),
    keepStatusOnCreate: false,
    defaultPropagation: 'Background',
    ...extra,
  };
}

const kind = <T extends KubeObject>(d: KindDefinition<T>): KindDefinition => d as unknown as KindDefinition;

export function servedResources(): ResourceIndex {
  return new ResourceIndex([
    entry(kind(namespaceKind), ['status', 'finalize']),
    entry(kind(nodeKind), ['status', 'proxy'], { keepStatusOnCreate: true }),
    entry(kind(podKind), ['status', 'binding', 'eviction', 'ephemeralcontainers', 'log', 'exec', 'attach', 'portforward', 'proxy']),
    entry(kind(serviceKind), ['status', 'proxy']),
    entry(kind(endpointsKind)),
    entry(kind(configMapKind)),
    entry(kind(secretKind)),
    entry(kind(serviceAccountKind), ['token']),
    entry(kind(eventKind)),
    entry(kind(deploymentKind), ['status', 'scale']),
    entry(kind(replicaSetKind), ['status', 'scale']),
    entry(kind(daemonSetKind), ['status']),
    entry(kind(statefulSetKind), ['status', 'scale']),
    entry(kind(controllerRevisionKind)),
    // batch/v1 Jobs orphan their pods when a delete names no propagation policy (upstream, for back
    // compatibility; kubectl sends Background)
    entry(kind(jobKind), ['status'], {
      defaultPropagation: 'Orphan',
      defaultPropagationWarning: 'child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning',
    }),
    entry(kind(cronJobKind), ['status']),
    entry(kind(endpointSliceKind)),
    entry(kind(leaseKind)),
    entry(kind(podDisruptionBudgetKind), ['status']),
    entry(kind(csrKind), ['status', 'approval'], { stampRequester: stampCsrRequester }),
    entry(kind(roleKind)),
    entry(kind(clusterRoleKind)),
    entry(kind(roleBindingKind)),
    entry(kind(clusterRoleBindingKind)),
    // events.k8s.io/v1 Events are the core Events seen through another schema (one storage, as upstream)
    entry(kind(eventsV1EventKind), [], {
      storagePrefix: storagePrefixFor({ group: '', plural: 'events' }),
      toView: (o) => coreToEventsV1(o as CoreEvent) as KubeObject,
      fromView: (o) => eventsV1ToCore(o as EventsV1Event) as KubeObject,
    }),
  ]);
}
