/**
 * ClusterRole aggregation (upstream's clusterrole-aggregation controller): a ClusterRole with an
 * `aggregationRule` gets as its rules the rules of every other ClusterRole whose labels match one of
 * its `clusterRoleSelectors`, in name order, each distinct rule once. The aggregated role's own rules
 * are the controller's: edits to them are overwritten. This is how `admin`, `edit` and `view` grow
 * when a ClusterRole labelled `rbac.authorization.k8s.io/aggregate-to-view: "true"` is created.
 *
 * It runs inside `knode server` (upstream: kube-controller-manager), beside the default policy it
 * completes, so the user-facing roles work even with `--controllers none`. Loop: a store mirror of
 * ClusterRoles (list + watch, relisting after a failed watch) keeps a name -> role map; any change
 * queues every aggregated role; sync writes the
 * computed rules when they differ. Aggregation chains (admin aggregates edit, which aggregates view)
 * converge because each write is itself a change.
 */
import type { ClusterRole, PolicyRule } from '../../api/rbac/rbac.js';
import { RBAC_GROUP } from '../../api/rbac/rbac.js';
import { labelSelectorAsSelector, matches } from '../../api/labels.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { WorkQueue } from '../../lib/work-queue.js';
import { deepEqual } from '../../lib/json.js';
import { ApiError } from '../apiserver/errors.js';
import { StoreMirror } from '../apiserver/authz/store-mirror.js';
import type { Registry } from '../apiserver/registry.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';

/** The rules `role` aggregates from `all` (pure); undefined when it has no aggregationRule. */
export function aggregatedRules(role: ClusterRole, all: Iterable<ClusterRole>): PolicyRule[] | undefined {
  const selectors = role.aggregationRule?.clusterRoleSelectors;
  if (selectors === undefined) return undefined;
  const compiled = selectors.map((s) => labelSelectorAsSelector(s));
  const sources = [...all]
    .filter((r) => r.metadata.name !== role.metadata.name && compiled.some((sel) => matches(sel, r.metadata.labels ?? {})))
    .sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
  const out: PolicyRule[] = [];
  for (const src of sources) {
    for (const rule of src.rules ?? []) if (!out.some((r) => deepEqual(r, rule))) out.push(rule);
  }
  return out;
}

export class ClusterRoleAggregationController {
  private readonly entry: ResourceEntry;
  private readonly roles = new Map<string, ClusterRole>();
  private readonly queue: WorkQueue<string>;

  constructor(
    private readonly registry: Registry,
    index: ResourceIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {
    const e = index.find(RBAC_GROUP, 'v1', 'clusterroles');
    if (e === undefined) throw new Error('clusterroles are not served');
    this.entry = e;
    this.queue = new WorkQueue<string>(this.clock, 50, 5_000);
  }

  /** Reads every ClusterRole and aggregates them once (repeating while a write changes a source). */
  async syncAll(): Promise<number> {
    await this.load();
    let writes = 0;
    for (let round = 0; round < 10; round++) {
      let changed = 0;
      for (const name of this.aggregatedNames()) if (await this.sync(name)) changed++;
      writes += changed;
      if (changed === 0) break;
    }
    return writes;
  }

  async run(signal: AbortSignal): Promise<void> {
    // StoreMirror lists, follows, and lists again after a failed watch (compaction, a lost etcd member)
    await new StoreMirror<ClusterRole>(this.registry.store, this.entry.storagePrefix, {
      reset: () => this.roles.clear(),
      apply: (key, role) => {
        const name = key.slice(this.entry.storagePrefix.length);
        if (role === undefined) this.roles.delete(name);
        else this.roles.set(name, role);
        for (const n of this.aggregatedNames()) this.queue.add(n);
      },
    }, { clock: this.clock, log: this.log }).start(signal);
    await this.queue.process(signal, async (name) => {
      await this.sync(name);
    }, (name, err) => this.log.warn({ clusterrole: name, err: err instanceof Error ? err.message : String(err) }, 'clusterrole aggregation failed; will retry'));
  }

  private async load(): Promise<void> {
    const page = await this.registry.store.list(this.entry.storagePrefix);
    this.roles.clear();
    for (const kv of page.items) this.remember(kv.value, undefined);
  }

  private remember(put: string | undefined, deleted: string | undefined): void {
    if (put !== undefined) {
      const r = JSON.parse(put) as ClusterRole;
      this.roles.set(r.metadata.name ?? '', r);
    }
    if (deleted !== undefined) this.roles.delete((JSON.parse(deleted) as ClusterRole).metadata.name ?? '');
  }

  private aggregatedNames(): string[] {
    return [...this.roles.values()].filter((r) => r.aggregationRule !== undefined).map((r) => r.metadata.name ?? '');
  }

  /** Writes the aggregated rules of `name` if they differ; true when it wrote. */
  private async sync(name: string): Promise<boolean> {
    const role = this.roles.get(name);
    if (role === undefined) return false;
    const rules = aggregatedRules(role, this.roles.values());
    if (rules === undefined || deepEqual(rules, role.rules ?? [])) return false;
    try {
      const updated = (await this.registry.update(this.entry, undefined, name, (cur) => ({ ...cur, rules }), { fieldManager: 'clusterrole-aggregation-controller' })) as unknown as ClusterRole;
      this.roles.set(name, updated);
      this.log.info({ clusterrole: name, rules: rules.length }, 'aggregated');
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return false;
      throw err;
    }
  }
}
