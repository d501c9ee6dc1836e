import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ClusterRole } from '../../api/rbac/rbac.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { AdmissionChain } from '../apiserver/admission.js';
import { reconcileDefaultPolicy } from '../apiserver/authz/policy.js';
import { Registry } from '../apiserver/registry.js';
import type { ResourceEntry } from '../apiserver/resource-table.js';
import { servedResources } from '../apiserver/resources.js';
import { MemoryStore } from '../storage/memory-store.js';
import { aggregatedRules, ClusterRoleAggregationController } from './clusterrole-aggregation.js';

const role = (name: string, labels: Record<string, string>, rules: ClusterRole['rules'], selector?: Record<string, string>): ClusterRole => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRole',
  metadata: { name, labels },
  ...(rules !== undefined ? { rules } : {}),
  ...(selector !== undefined ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: selector }] } } : {}),
});

describe('aggregatedRules', () => {
  const pods = { verbs: ['get'], apiGroups: [''], resources: ['pods'] };
  const cms = { verbs: ['list'], apiGroups: [''], resources: ['configmaps'] };

  it('collects the rules of matching roles in name order, each distinct rule once, never its own', () => {
    const agg = role('agg', { pick: 'yes' }, [{ verbs: ['delete'], apiGroups: [''], resources: ['nodes'] }], { pick: 'yes' });
    const all = [agg, role('b', { pick: 'yes' }, [cms, pods]), role('a', { pick: 'yes' }, [pods]), role('c', { pick: 'no' }, [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }])];
    expect(aggregatedRules(agg, all)).toEqual([pods, cms]);
  });

  it('is undefined without an aggregationRule, empty when nothing matches', () => {
    expect(aggregatedRules(role('plain', {}, []), [])).toBeUndefined();
    expect(aggregatedRules(role('agg', {}, [], { x: 'y' }), [role('other', {}, [pods])])).toEqual([]);
  });
});

describe('ClusterRoleAggregationController with the default policy', () => {
  let store: MemoryStore;
  let registry: Registry;
  let entry: ResourceEntry;
  const index = servedResources();
  let abort: AbortController;

  beforeEach(() => {
    abort = new AbortController();
    store = new MemoryStore();
    registry = new Registry(store, new AdmissionChain([]), new FakeClock());
    const e = index.find('rbac.authorization.k8s.io', 'v1', 'clusterroles');
    if (e === undefined) throw new Error('clusterroles not served');
    entry = e;
  });
  afterEach(async () => {
    abort.abort();
    await store.close();
  });

  const rulesOf = async (name: string): Promise<NonNullable<ClusterRole['rules']>> => ((await registry.get(entry, undefined, name)) as unknown as ClusterRole).rules ?? [];
  const grants = (rules: NonNullable<ClusterRole['rules']>, resource: string, verb: string): boolean =>
    rules.some((r) => (r.resources ?? []).includes(resource) && r.verbs.includes(verb));

  it('fills admin, edit and view through the chain (admin > edit > view), and a second pass writes nothing', async () => {
    await reconcileDefaultPolicy(registry, index, silentLogger());
    expect(await rulesOf('view')).toEqual([]);
    const controller = new ClusterRoleAggregationController(registry, index, new FakeClock(), silentLogger());
    expect(await controller.syncAll()).toBeGreaterThanOrEqual(3);
    const [view, edit, admin] = [await rulesOf('view'), await rulesOf('edit'), await rulesOf('admin')];
    expect(grants(view, 'pods', 'list')).toBe(true);
    expect(grants(view, 'secrets', 'get')).toBe(false);
    expect(grants(edit, 'pods', 'list') && grants(edit, 'secrets', 'get') && grants(edit, 'pods/exec', 'create')).toBe(true);
    expect(grants(edit, 'rolebindings', 'create')).toBe(false);
    expect(grants(admin, 'rolebindings', 'create') && grants(admin, 'secrets', 'get') && grants(admin, 'pods', 'list')).toBe(true);
    expect(await controller.syncAll()).toBe(0);
  });

  it('a new ClusterRole labelled aggregate-to-view reaches view, edit and admin while it runs; deleting it takes it away', async () => {
    await reconcileDefaultPolicy(registry, index, silentLogger());
    const controller = new ClusterRoleAggregationController(registry, index, new FakeClock(), silentLogger());
    await controller.syncAll();
    const running = controller.run(abort.signal);
    const widget = role('widgets-view', { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }, [{ verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] }]);
    await registry.create(entry, undefined, widget);
    for (const name of ['view', 'edit', 'admin']) {
      await expect.poll(async () => grants(await rulesOf(name), 'widgets', 'get'), { timeout: 5_000, interval: 10 }).toBe(true);
    }
    await registry.delete(entry, undefined, 'widgets-view');
    for (const name of ['view', 'edit', 'admin']) {
      await expect.poll(async () => grants(await rulesOf(name), 'widgets', 'get'), { timeout: 5_000, interval: 10 }).toBe(false);
    }
    // an edit to an aggregated role's rules is overwritten
    await registry.update(entry, undefined, 'view', (cur) => ({ ...cur, rules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }] }));
    await expect.poll(async () => grants(await rulesOf('view'), '*', '*'), { timeout: 5_000, interval: 10 }).toBe(false);
    abort.abort();
    await running;
  });
});
