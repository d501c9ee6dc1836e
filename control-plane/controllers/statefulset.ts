/**
 * The StatefulSet controller, as upstream's (pkg/controller/statefulset): pods with a stable identity,
 * `<set>-<ordinal>`, hostname = that name and subdomain = spec.serviceName (so the headless Service
 * gives each one a DNS name), created in order and replaced at the same name.
 *
 * Loop: StatefulSet, pod and ControllerRevision informers -> the keys of the sets concerned ->
 * KeyQueue -> sync(key):
 *   1. claim the namespace's pods the selector matches and whose name is one of this set's;
 *   2. history: the current template's ControllerRevision (daemonset-history.ts, shared with the
 *      DaemonSet controller), so `kubectl rollout history|undo statefulset` work; pods carry the
 *      revision's name as their controller-revision-hash label, as upstream;
 *   3. plan (statefulset-plan.ts): creates, deletes, status;
 *   4. write: pods created by name (a create that meets an existing pod is fine: the cache was behind),
 *      pods deleted, the status when it changed. Events as upstream: SuccessfulCreate "create Pod web-0
 *      in StatefulSet web successful", SuccessfulDelete, FailedCreate, from `statefulset-controller`.
 * volumeClaimTemplates: knode serves no PersistentVolumeClaims, so a set that has them gets no pods
 * and a FailedCreate event saying so (rather than pods that silently lose their data).
 */
import type { ControllerRevision } from '../../api/apps/controllerrevision.js';
import type { StatefulSet, StatefulSetStatus } from '../../api/apps/statefulset.js';
import type { Pod, PodTemplateSpec } from '../../api/core/pod.js';
import type { Selector } from '../../api/labels.js';
import { matches } from '../../api/labels.js';
import type { OwnerReference } from '../../api/meta.js';
import { workloadSelector } from '../../api/apps/common.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../lib/client/errors.js';
import type { Informer } from '../../lib/client/informer.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue, objectKey, queueKeys, splitKey } from '../controller-manager/controller.js';
import { applyHistoryPlan, ownedRevisions, planHistory } from './daemonset-history.js';
import { controllerRef, LABEL_REVISION_HASH, templateHash } from './daemonset-pods.js';
import { adoptPatch, controllerRefOf, planClaim, releasePatch } from './replicaset-claim.js';
import { DelayedRequeue } from './replicaset-requeue.js';
import { controllerEvents, SpamFilteredEvents } from './replicaset-events.js';
import { isPodReady } from './replicaset-pods.js';
import { ordinalOf, planStatefulSet, statefulSetPod, statefulSetStatus, statefulSetStatusChanged, STS_REF } from './statefulset-plan.js';

const errMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

const selectorOf = (set: StatefulSet): Selector | undefined => workloadSelector(set.spec.selector);

/** The template a revision holds (its data is the patch `{spec: {template: {..., $patch: replace}}}`). */
function templateOf(r: ControllerRevision | undefined): PodTemplateSpec | undefined {
  const t = (r?.data as { spec?: { template?: PodTemplateSpec & { $patch?: string } } } | undefined)?.spec?.template;
  if (t === undefined) return undefined;
  const { $patch: _p, ...template } = t;
  return template;
}

export class StatefulSetController implements Controller {
  readonly name = 'statefulset';
  private readonly sets: Informer<StatefulSet>;
  private readonly pods: Informer<Pod>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly queue: KeyQueue;
  private readonly later: DelayedRequeue;
  private readonly events: SpamFilteredEvents;
  private signal: AbortSignal | undefined;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.later = new DelayedRequeue(ctx.clock, (key) => this.queue.add(key));
    this.events = controllerEvents(ctx, 'statefulset-controller');
    this.sets = ctx.informers.informerFor<StatefulSet>(resources.statefulSets);
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.revisions = ctx.informers.informerFor<ControllerRevision>(resources.controllerRevisions);
    this.sets.addEventHandler(queueKeys(this.queue));
    this.pods.addEventHandler({
      onAdd: (p) => this.podChanged(undefined, p),
      onUpdate: (o, p) => this.podChanged(o, p),
      onDelete: (p) => this.podChanged(undefined, p),
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    this.signal = signal;
    try {
      await Promise.all([this.sets.waitForSync(signal), this.pods.waitForSync(signal), this.revisions.waitForSync(signal)]);
    } catch {
      return;
    }
    await this.queue.run(signal, (key) => this.sync(key));
    await this.events.flush();
  }

  private setRef(pod: Pod): OwnerReference | undefined {
    const ref = controllerRefOf(pod);
    return ref?.kind === STS_REF.kind ? ref : undefined;
  }

  private podChanged(old: Pod | undefined, pod: Pod): void {
    if (old !== undefined && old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const ns = pod.metadata.namespace ?? '';
    for (const p of old !== undefined ? [old, pod] : [pod]) {
      const ref = this.setRef(p);
      if (ref !== undefined) this.queue.add(`${ns}/${ref.name}`);
      else if (controllerRefOf(p) === undefined) {
        for (const s of this.sets.list()) {
          const sel = selectorOf(s);
          if ((s.metadata.namespace ?? '') === ns && sel !== undefined && matches(sel, p.metadata.labels)) this.queue.add(objectKey(s));
        }
      }
    }
    // a pod that turned Ready lets an OrderedReady set go on; minReadySeconds later it is available
    if (old !== undefined && !isPodReady(old) && isPodReady(pod)) {
      const ref = this.setRef(pod);
      const set = ref !== undefined ? this.sets.getByName(ref.name, ns) : undefined;
      const minReady = set?.spec.minReadySeconds ?? 0;
      if (ref !== undefined && minReady > 0) this.later.after(`${ns}/${ref.name}`, minReady * 1000 + 1, this.signal);
    }
  }

  private async sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    const set = this.sets.getByName(name, namespace);
    if (set === undefined || set.metadata.deletionTimestamp !== undefined) return;
    const sel = selectorOf(set);
    if (sel === undefined) {
      this.ctx.log.warn({ controller: this.name, key }, 'statefulset has an invalid selector; not syncing it');
      return;
    }
    const pods = await this.claim(set, sel);

    // history: the revision of the current template, and the one the pods move away from
    const owned = ownedRevisions(set, this.revisions.list());
    // kept whatever the history limit: the revisions pods carry and the one the set is moving away from
    const keep = (r: ControllerRevision): boolean => r.metadata.name === set.status?.currentRevision || pods.some((p) => p.metadata.labels?.[LABEL_REVISION_HASH] === r.metadata.name);
    const live = new Set(owned.filter(keep).map((r) => r.metadata.labels?.[LABEL_REVISION_HASH] ?? ''));
    const history = planHistory(set, owned, templateHash(set), live, controllerRef(set, STS_REF.kind));
    await applyHistoryPlan(this.ctx.client, set, history, controllerRef(set, STS_REF.kind));
    const update = history.current;
    const currentName = set.status?.currentRevision;
    const currentRev = owned.find((r) => r.metadata.name === currentName);
    const current = currentRev !== undefined ? (currentName ?? update) : update;

    const now = this.ctx.clock.now();
    const decision = planStatefulSet(set, pods, { current, update }, now);
    const result = await this.apply(set, decision.create, decision.delete, { current, update }, current === update ? undefined : templateOf(currentRev));
    // only the creates that succeeded count in the status (upstream counts a pod once it exists)
    const status = result.created.length === decision.create.length ? decision.status : statefulSetStatus(set, pods, result.created, { current, update }, now);
    await this.writeStatus(set, status);
    // a pod becomes available minReadySeconds after it turned Ready: look again then
    const minReady = set.spec.minReadySeconds ?? 0;
    if (minReady > 0 && (status.availableReplicas ?? 0) !== (set.spec.replicas ?? 1)) this.later.after(key, minReady * 1000 + 1, this.signal);
    if (result.failure !== undefined) throw new Error(`statefulset ${key}: ${result.failure}`);
  }

  /** The set's pods: selected and named as its members; orphans adopted, strays released. */
  private async claim(set: StatefulSet, sel: Selector): Promise<Pod[]> {
    const name = set.metadata.name ?? '';
    const ns = set.metadata.namespace ?? '';
    const candidates = this.pods.list().filter((p) => (p.metadata.namespace ?? '') === ns);
    const plan = planClaim(set, candidates, (p) => matches(sel, p.metadata.labels) && ordinalOf(name, p) !== undefined);
    const owned = [...plan.owned];
    const nsOpt = { namespace: ns };
    for (const pod of plan.adopt) {
      try {
        owned.push(await this.ctx.client.patch<Pod>(resources.pods, pod.metadata.name ?? '', adoptPatch(controllerRef(set, STS_REF.kind), pod.metadata.uid ?? ''), { type: 'strategic', ...nsOpt }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    for (const pod of plan.release) {
      try {
        await this.ctx.client.patch(resources.pods, pod.metadata.name ?? '', releasePatch(set.metadata.uid ?? '', pod.metadata.uid ?? ''), { type: 'strategic', ...nsOpt });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    return owned;
  }

  /** Creates and deletes; returns what failed (the key is retried), or undefined. */
  private async apply(
    set: StatefulSet,
    create: readonly { ordinal: number; revision: 'current' | 'update' }[],
    toDelete: readonly Pod[],
    revs: { readonly current: string; readonly update: string },
    currentTemplate: PodTemplateSpec | undefined,
  ): Promise<{ readonly failure?: string; readonly created: { ordinal: number; revision: 'current' | 'update' }[] }> {
    const { client } = this.ctx;
    const setName = set.metadata.name ?? '';
    let failure: string | undefined;
    const created: { ordinal: number; revision: 'current' | 'update' }[] = [];
    if (create.length > 0 && (set.spec.volumeClaimTemplates ?? []).length > 0) {
      this.events.record(set, STS_REF, 'Warning', 'FailedCreate', 'create Pods in StatefulSet ' + setName + ' failed error: volumeClaimTemplates need PersistentVolumeClaims, which knode does not serve');
      return { created }; // nothing a retry would change: the next change of the set brings it back here
    }
    await Promise.all(
      create.map(async ({ ordinal, revision }) => {
        // below the partition of a rolling update, a pod comes back at the revision it is leaving
        const old = revision === 'current' && currentTemplate !== undefined;
        const podName = `${setName}-${ordinal}`;
        try {
          await client.create<Pod>(resources.pods, statefulSetPod(set, old ? currentTemplate : set.spec.template, old ? revs.current : revs.update, ordinal));
          created.push({ ordinal, revision });
          this.events.record(set, STS_REF, 'Normal', 'SuccessfulCreate', `create Pod ${podName} in StatefulSet ${setName} successful`);
        } catch (err) {
          if (isAlreadyExists(err) && (await this.ours(set, podName))) return; // the cache had not shown it yet
          this.events.record(set, STS_REF, 'Warning', 'FailedCreate', `create Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(err)}`);
          failure ??= errMessage(err);
        }
      }),
    );
    await Promise.all(
      toDelete.map(async (pod) => {
        const podName = pod.metadata.name ?? '';
        try {
          await client.delete(resources.pods, podName, { namespace: pod.metadata.namespace ?? 'default', preconditions: { uid: pod.metadata.uid ?? '' } });
          this.events.record(set, STS_REF, 'Normal', 'SuccessfulDelete', `delete Pod ${podName} in StatefulSet ${setName} successful`);
        } catch (err) {
          if (isNotFound(err) || isConflict(err)) return; // gone, or a new pod of that name already
          this.events.record(set, STS_REF, 'Warning', 'FailedDelete', `delete Pod ${podName} in StatefulSet ${setName} failed error: ${errMessage(err)}`);
          failure ??= errMessage(err);
        }
      }),
    );
    return { ...(failure !== undefined ? { failure } : {}), created };
  }

  /** Whether the pod of that name is this set's (a pod of the same name owned elsewhere blocks the ordinal). */
  private async ours(set: StatefulSet, podName: string): Promise<boolean> {
    try {
      const pod = await this.ctx.client.get<Pod>(resources.pods, podName, { namespace: set.metadata.namespace ?? 'default' });
      return controllerRefOf(pod)?.uid === set.metadata.uid;
    } catch (err) {
      return isNotFound(err) ? false : Promise.reject(err);
    }
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (!statefulSetStatusChanged(set, status)) return;
    const { client } = this.ctx;
    try {
      await client.updateStatus<StatefulSet>(resources.statefulSets, { ...set, status });
      return;
    } catch (err) {
      if (isNotFound(err)) return;
      if (!isConflict(err)) throw err;
    }
    const fresh = await client.get<StatefulSet>(resources.statefulSets, set.metadata.name ?? '', { namespace: set.metadata.namespace ?? 'default' });
    await client.updateStatus<StatefulSet>(resources.statefulSets, { ...fresh, status });
  }
}
