/**
 * Disruption controller (upstream pkg/controller/disruption, "disruption"): keeps every
 * PodDisruptionBudget's status (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed, the
 * DisruptionAllowed condition) in step with the pods its selector matches, so the eviction
 * subresource (kubectl drain) can refuse evictions that would break the budget.
 *
 * Loop: PDB add/update, pod add/update/delete (-> the budgets of its namespace), ReplicaSet updates
 * (their replicas are the expected count for percentages and maxUnavailable) -> KeyQueue of budget
 * keys -> sync: budgetStatus (disruption-plan.ts), written when it changed. A budget with pods in
 * disruptedPods is looked at again when their 2 minutes run out.
 */
import type { Pod } from '../../api/core/pod.js';
import type { KubeObject, LabelSelector } from '../../api/meta.js';
import { labelSelectorAsSelector, matches } from '../../api/labels.js';
import type { Informer } from '../../lib/client/informer.js';
import { isConflict, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import { deepEqual } from '../../lib/json.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue } from '../controller-manager/controller.js';
import { budgetStatus, DISRUPTED_POD_TIMEOUT_MS } from './disruption-plan.js';
import type { BudgetSpec, BudgetStatus, PodView } from './disruption-plan.js';

export interface Budget extends KubeObject {
  readonly spec?: BudgetSpec & { readonly selector?: LabelSelector };
  readonly status?: BudgetStatus;
}

interface ReplicaSetLike extends KubeObject {
  readonly spec?: { readonly replicas?: number };
}

/** What the budget arithmetic needs of a pod. */
export function podView(pod: Pod): PodView {
  const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const owner = (pod.metadata.ownerReferences ?? []).find((o) => o.controller === true);
  return {
    name: pod.metadata.name ?? '',
    ready,
    deleting: pod.metadata.deletionTimestamp !== undefined,
    phase: pod.status?.phase ?? 'Pending',
    ...(owner !== undefined ? { controller: `${owner.kind}/${owner.name}` } : {}),
  };
}

/** The pods of `namespace` a budget's selector matches (an empty selector matches all, as policy/v1). */
export function budgetPods(budget: Budget, pods: readonly Pod[]): Pod[] {
  const sel = labelSelectorAsSelector(budget.spec?.selector ?? {});
  return pods.filter((p) => p.metadata.namespace === budget.metadata.namespace && matches(sel, p.metadata.labels ?? {}));
}

export class DisruptionController implements Controller {
  readonly name = 'disruption';
  private readonly queue: KeyQueue;
  private readonly budgets: Informer<Budget>;
  private readonly pods: Informer<Pod>;
  private readonly replicaSets: Informer<ReplicaSetLike>;

  constructor(private readonly ctx: ControllerContext) {
    this.queue = new KeyQueue(this.name, ctx);
    this.budgets = ctx.informers.informerFor<Budget>(resources.podDisruptionBudgets);
    this.pods = ctx.informers.informerFor<Pod>(resources.pods);
    this.replicaSets = ctx.informers.informerFor<ReplicaSetLike>(resources.replicaSets);
    const key = (b: Budget): string => `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`;
    this.budgets.addEventHandler({ onAdd: (b) => this.queue.add(key(b)), onUpdate: (_o, b) => this.queue.add(key(b)) });
    const byNamespace = (obj: KubeObject): void => {
      for (const b of this.budgets.list()) if (b.metadata.namespace === obj.metadata.namespace) this.queue.add(key(b));
    };
    this.pods.addEventHandler({ onAdd: byNamespace, onUpdate: (_o, p) => byNamespace(p), onDelete: byNamespace });
    this.replicaSets.addEventHandler({ onUpdate: (_o, rs) => byNamespace(rs) });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ctx.informers.waitForCacheSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await this.queue.run(signal, async (k) => {
      await this.sync(k);
      const b = this.budgets.get(k);
      // evictions remembered in disruptedPods expire: look again when the oldest does
      const oldest = Object.values(b?.status?.disruptedPods ?? {}).map((t) => Date.parse(t)).sort()[0];
      if (oldest !== undefined) this.queue.addAfter(k, Math.max(1_000, oldest + DISRUPTED_POD_TIMEOUT_MS - this.ctx.clock.now().getTime() + 100), signal);
    });
  }

  async sync(key: string): Promise<void> {
    const budget = this.budgets.get(key);
    if (budget === undefined || budget.metadata.deletionTimestamp !== undefined) return;
    const pods = budgetPods(budget, this.pods.list()).map(podView);
    const replicasOf = (controller: string): number | undefined => {
      const [kind, name] = controller.split('/');
      if (kind !== 'ReplicaSet' || name === undefined) return undefined;
      return this.replicaSets.getByName(name, budget.metadata.namespace)?.spec?.replicas;
    };
    const status = budgetStatus(budget.spec ?? {}, budget.metadata.generation ?? 0, pods, budget.status, replicasOf, this.ctx.clock.now());
    if (deepEqual({ ...status, conditions: status.conditions?.map((c) => ({ ...c, lastTransitionTime: '' })) }, { ...budget.status, conditions: budget.status?.conditions?.map((c) => ({ ...c, lastTransitionTime: '' })) })) return;
    try {
      await this.ctx.client.updateStatus<Budget>(resources.podDisruptionBudgets, { ...budget, status });
    } catch (err) {
      // a newer budget (an eviction spent a disruption meanwhile) comes back through the informer
      if (isConflict(err) || isNotFound(err)) return;
      throw err;
    }
  }
}
