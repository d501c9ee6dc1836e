import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/clock.js';
import type { KubeObject } from '../../../api/meta.js';
import { MemoryStore } from '../../storage/memory-store.js';
import { AdmissionChain } from '../admission.js';
import { Registry } from '../registry.js';
import type { ResourceEntry } from '../resource-table.js';
import { servedResources } from '../resources.js';
import { AGGREGATE_TO_ADMIN, AGGREGATE_TO_EDIT, AGGREGATE_TO_VIEW, AUTOUPDATE_ANNOTATION, DEFAULT_CLUSTER_ROLES, defaultPolicyObjects, reconcileDefaultPolicy } from './policy.js';
import type { PolicyLog } from './policy.js';
import { RBAC_GROUP } from './rbac.js';
import { uncoveredRules } from './rules.js';
import type { SubjectRef } from './rules.js';
import { testChain, plainUser, resourceAttrs, pathAttrs, nodeUser } from './testing.js';
import type { Rule } from './types.js';

const index = servedResources();
function entryOf(plural: string): ResourceEntry {
  const e = index.find(RBAC_GROUP, 'v1', plural);
  if (e === undefined) throw new Error(`${plural} not served`);
  return e;
}
const rulesOf = (o: KubeObject): Rule[] => (o as unknown as { rules?: Rule[] }).rules ?? [];
const subjectsOf = (o: KubeObject): SubjectRef[] => (o as unknown as { subjects?: SubjectRef[] }).subjects ?? [];
const defaultRules = (name: string): readonly Rule[] => DEFAULT_CLUSTER_ROLES.find((r) => r.name === name)?.rules ?? [];

describe('reconcileDefaultPolicy', () => {
  let registry: Registry;
  let log: PolicyLog & { infos: object[]; warns: Array<[object, string]> };
  const clusterRoles = entryOf('clusterroles');
  const crbs = entryOf('clusterrolebindings');

  beforeEach(() => {
    registry = new Registry(new MemoryStore(), new AdmissionChain([]), new FakeClock());
    const infos: object[] = [];
    const warns: Array<[object, string]> = [];
    log = { infos, warns, info: (o) => infos.push(o), warn: (o, m) => warns.push([o, m]) };
  });

  it('creates the whole policy on the first run, and does nothing on the second', async () => {
    const first = await reconcileDefaultPolicy(registry, index, log);
    const objects = defaultPolicyObjects();
    expect(first).toHaveLength(objects.length);
    expect(first.every((a) => a.action === 'created')).toBe(true);
    expect(first).toContainEqual({ kind: 'ClusterRole', name: 'cluster-admin', action: 'created' });
    expect(first).toContainEqual({ kind: 'Role', name: 'kubeadm:bootstrap-signer-clusterinfo', namespace: 'kube-public', action: 'created' });
    expect(log.infos).toHaveLength(objects.length);
    for (const [plural, obj] of objects) {
      const stored = await registry.get(entryOf(plural), obj.metadata.namespace, obj.metadata.name ?? '');
      expect(stored.metadata.annotations?.[AUTOUPDATE_ANNOTATION]).toBe('true');
      expect(stored.metadata.labels?.['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
    }
    const admin = await registry.get(crbs, undefined, 'cluster-admin');
    expect(admin).toMatchObject({ roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'Group', name: 'system:masters' }] });
    const rv = admin.metadata.resourceVersion;

    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([]);
    expect((await registry.get(crbs, undefined, 'cluster-admin')).metadata.resourceVersion).toBe(rv);
  });

  it('adds the rules a default role lacks and keeps what a user added', async () => {
    await reconcileDefaultPolicy(registry, index, log);
    const name = 'system:aggregate-to-view';
    const extra: Rule = { verbs: ['get'], apiGroups: ['example.com'], resources: ['widgets'] };
    const [firstViewRule] = defaultRules(name);
    expect(firstViewRule).toBeDefined();
    await registry.update(clusterRoles, undefined, name, (cur) => ({ ...cur, rules: [firstViewRule, extra] }) as KubeObject);
    expect(uncoveredRules(rulesOf(await registry.get(clusterRoles, undefined, name)), defaultRules(name))).not.toEqual([]);

    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([{ kind: 'ClusterRole', name, action: 'updated' }]);
    const rules = rulesOf(await registry.get(clusterRoles, undefined, name));
    expect(rules).toContainEqual(extra);
    expect(rules[0]).toEqual(firstViewRule);
    expect(uncoveredRules(rules, defaultRules(name))).toEqual([]);
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([]);
  });

  it('an aggregated role keeps the rules it has (the controller writes them) but gets back its aggregationRule and labels', async () => {
    await reconcileDefaultPolicy(registry, index, log);
    const view = await registry.get(clusterRoles, undefined, 'view');
    expect(view).toMatchObject({ aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO_VIEW]: 'true' } }] } });
    expect(view.metadata.labels?.[AGGREGATE_TO_EDIT]).toBe('true');
    const aggregatedByController: Rule[] = [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }];
    await registry.update(clusterRoles, undefined, 'view', (cur) => ({ ...cur, rules: aggregatedByController }) as KubeObject);
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([]);

    await registry.update(clusterRoles, undefined, 'view', (cur) => {
      const { aggregationRule: _a, ...rest } = cur as KubeObject & { aggregationRule?: unknown };
      return { ...rest, metadata: { ...cur.metadata, labels: { mine: 'yes' } } } as KubeObject;
    });
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([{ kind: 'ClusterRole', name: 'view', action: 'updated' }]);
    const back = await registry.get(clusterRoles, undefined, 'view');
    expect(back).toMatchObject({ aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO_VIEW]: 'true' } }] } });
    expect(back.metadata.labels).toEqual({ mine: 'yes', 'kubernetes.io/bootstrapping': 'rbac-defaults', [AGGREGATE_TO_EDIT]: 'true' });
    expect(rulesOf(back)).toEqual(aggregatedByController);
  });

  it('leaves an object with autoupdate "false" alone', async () => {
    await reconcileDefaultPolicy(registry, index, log);
    await registry.update(
      clusterRoles,
      undefined,
      'system:aggregate-to-edit',
      (cur) => ({ ...cur, metadata: { ...cur.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, rules: [] }) as KubeObject,
    );
    await registry.update(crbs, undefined, 'system:discovery', (cur) => ({ ...cur, metadata: { ...cur.metadata, annotations: { [AUTOUPDATE_ANNOTATION]: 'false' } }, subjects: [] }) as KubeObject);
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([]);
    expect(rulesOf(await registry.get(clusterRoles, undefined, 'system:aggregate-to-edit'))).toEqual([]);
    expect(subjectsOf(await registry.get(crbs, undefined, 'system:discovery'))).toEqual([]);
  });

  it('a default binding gains a missing subject and keeps the others; one pointing at another role is left alone', async () => {
    await reconcileDefaultPolicy(registry, index, log);
    const mine: SubjectRef = { kind: 'User', name: 'jane' };
    await registry.update(crbs, undefined, 'system:public-info-viewer', (cur) => ({ ...cur, subjects: [mine, { kind: 'Group', name: 'system:unauthenticated' }] }) as KubeObject);
    // roleRef is immutable: a user re-creates the binding to point it elsewhere
    const monitoring = await registry.get(crbs, undefined, 'system:monitoring');
    await registry.store.delete(`/registry/${RBAC_GROUP}/clusterrolebindings/system:monitoring`);
    const { resourceVersion: _rv, uid: _uid, ...meta } = monitoring.metadata;
    await registry.create(crbs, undefined, { ...monitoring, metadata: meta, roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name: 'view' }, subjects: [] } as KubeObject);

    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([{ kind: 'ClusterRoleBinding', name: 'system:public-info-viewer', action: 'updated' }]);
    // (subjects are defaulted with apiGroup on write)
    expect(subjectsOf(await registry.get(crbs, undefined, 'system:public-info-viewer')).map((s) => `${s.kind}:${s.name}`)).toEqual([
      'User:jane',
      'Group:system:unauthenticated',
      'Group:system:authenticated',
    ]);
    expect(subjectsOf(await registry.get(crbs, undefined, 'system:monitoring'))).toEqual([]);
    expect(log.warns.map(([, m]) => m)).toEqual(['default RBAC binding points at another role; left as it is']);
  });

  it('re-creates a deleted default object', async () => {
    await reconcileDefaultPolicy(registry, index, log);
    await registry.store.delete(`/registry/${RBAC_GROUP}/clusterroles/admin`);
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([{ kind: 'ClusterRole', name: 'admin', action: 'created' }]);
    expect(await registry.get(clusterRoles, undefined, 'admin')).toMatchObject({ aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [AGGREGATE_TO_ADMIN]: 'true' } }] } });
    await registry.store.delete(`/registry/${RBAC_GROUP}/clusterroles/system:basic-user`);
    expect(await reconcileDefaultPolicy(registry, index, log)).toEqual([{ kind: 'ClusterRole', name: 'system:basic-user', action: 'created' }]);
    expect(rulesOf(await registry.get(clusterRoles, undefined, 'system:basic-user'))).toEqual(defaultRules('system:basic-user'));
  });
});

describe('the default policy, as authorized', () => {
  const { chain } = testChain();
  const anonymous = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
  const jane = plainUser('jane');

  it('grants discovery and the self reviews to every authenticated user, health to everyone, nothing else', () => {
    expect(chain.allowed(pathAttrs(jane, 'get', '/apis/apps/v1'))).toBe(true);
    expect(chain.allowed(pathAttrs(jane, 'get', '/openapi/v3'))).toBe(true);
    expect(chain.allowed(resourceAttrs(jane, 'create', { group: 'authorization.k8s.io', resource: 'selfsubjectaccessreviews' }))).toBe(true);
    expect(chain.allowed(resourceAttrs(jane, 'create', { group: 'authentication.k8s.io', resource: 'selfsubjectreviews' }))).toBe(true);
    expect(chain.allowed(resourceAttrs(jane, 'list', { resource: 'pods', namespace: 'default' }))).toBe(false);
    expect(chain.allowed(pathAttrs(jane, 'get', '/metrics'))).toBe(false);
    expect(chain.allowed(pathAttrs(anonymous, 'get', '/readyz'))).toBe(true);
    expect(chain.allowed(pathAttrs(anonymous, 'get', '/api'))).toBe(false);
  });

  it('bootstrap tokens may file CSRs and read cluster-info only', () => {
    const token = { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:bootstrappers:kubeadm:default-node-token', 'system:authenticated'] };
    expect(chain.allowed(resourceAttrs(token, 'create', { group: 'certificates.k8s.io', resource: 'certificatesigningrequests' }))).toBe(true);
    expect(chain.allowed(resourceAttrs(token, 'get', { resource: 'configmaps', namespace: 'kube-public', name: 'cluster-info' }))).toBe(true);
    expect(chain.allowed(resourceAttrs(token, 'get', { resource: 'configmaps', namespace: 'kube-public', name: 'other' }))).toBe(false);
    expect(chain.allowed(resourceAttrs(token, 'get', { resource: 'configmaps', namespace: 'default', name: 'cluster-info' }))).toBe(false);
    expect(chain.allowed(resourceAttrs(token, 'list', { resource: 'nodes' }))).toBe(false);
  });

  it('the system:node role is not bound: nodes are served by the Node authorizer', () => {
    const w1 = nodeUser('w1');
    const rbacOnly = testChain({ modes: ['RBAC'] }).chain;
    expect(rbacOnly.allowed(resourceAttrs(w1, 'list', { resource: 'nodes' }))).toBe(false);
    expect(chain.allowed(resourceAttrs(w1, 'list', { resource: 'nodes' }))).toBe(true);
  });
});
