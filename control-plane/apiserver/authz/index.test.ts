import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../lib/clock.js';
import { MemoryStore } from '../../storage/memory-store.js';
import { AuthorizerChain, DEFAULT_AUTHORIZATION_MODES, alwaysAllowChain, parseAuthorizationModes, startAuthorization } from './index.js';
import { RBAC_GROUP } from './rbac.js';
import { ADMIN, clusterRole, clusterRoleBinding, nodeUser, pathAttrs, plainUser, pod, podKey, rbacKey, resourceAttrs, testChain, user } from './testing.js';
import type { Authorizer, Decision } from './types.js';

const jane = plainUser('jane');
const podsReader = clusterRoleBinding('jane-view', 'view', [user('jane')]);

describe('parseAuthorizationModes', () => {
  it('keeps the order given, trims spaces', () => {
    expect(parseAuthorizationModes('Node,RBAC')).toEqual(['Node', 'RBAC']);
    expect(parseAuthorizationModes(' RBAC , Node ')).toEqual(['RBAC', 'Node']);
    expect(parseAuthorizationModes('AlwaysAllow')).toEqual(['AlwaysAllow']);
    expect(parseAuthorizationModes('AlwaysDeny,RBAC')).toEqual(['AlwaysDeny', 'RBAC']);
    expect(DEFAULT_AUTHORIZATION_MODES).toEqual(['Node', 'RBAC']);
  });

  it('refuses unknown, empty and repeated modes', () => {
    expect(() => parseAuthorizationModes('Node,ABAC')).toThrow('unknown authorization mode "ABAC" in "Node,ABAC"; known: AlwaysAllow, AlwaysDeny, Node, RBAC');
    expect(() => parseAuthorizationModes('rbac')).toThrow(/unknown authorization mode "rbac"/);
    expect(() => parseAuthorizationModes('')).toThrow(/unknown authorization mode ""/);
    expect(() => parseAuthorizationModes('Node,,RBAC')).toThrow(/unknown authorization mode ""/);
    expect(() => parseAuthorizationModes('RBAC,Node,RBAC')).toThrow('authorization mode RBAC is listed twice in "RBAC,Node,RBAC"');
  });
});

describe('AuthorizerChain', () => {
  const listPods = (u: typeof jane) => resourceAttrs(u, 'list', { resource: 'pods', namespace: 'default' });

  it('system:masters may do anything, whatever the modes', () => {
    for (const modes of [['AlwaysDeny'], ['Node', 'RBAC'], []] as const) {
      const { chain } = testChain({ modes, defaultPolicy: false });
      expect(chain.authorize(resourceAttrs(ADMIN, 'delete', { resource: 'nodes', name: 'w1' }))).toEqual({ verdict: 'allow', reason: '' });
      expect(chain.allowed(pathAttrs(ADMIN, 'get', '/anything'))).toBe(true);
      expect(chain.rulesFor(ADMIN, 'default')).toEqual({
        resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
        nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        incomplete: false,
      });
    }
  });

  it('AlwaysDeny denies, unless an earlier mode allowed', () => {
    const deny = testChain({ modes: ['AlwaysDeny', 'RBAC'], objects: [podsReader] }).chain;
    expect(deny.authorize(listPods(jane))).toEqual({ verdict: 'deny', reason: 'Everything is forbidden.' });
    const rbacFirst = testChain({ modes: ['RBAC', 'AlwaysDeny'], objects: [podsReader] }).chain;
    expect(rbacFirst.authorize(listPods(jane)).verdict).toBe('allow');
    expect(rbacFirst.authorize(listPods(plainUser('bob'))).verdict).toBe('deny');
  });

  it('the first allow or deny decides; no opinion everywhere is a refusal carrying the reasons', () => {
    const seen: string[] = [];
    const member = (name: string, d: Decision): Authorizer => ({
      authorize: () => {
        seen.push(name);
        return d;
      },
    });
    const chain = new AuthorizerChain(
      ['RBAC'],
      [member('a', { verdict: 'no-opinion', reason: 'not mine' }), member('b', { verdict: 'allow', reason: 'b says yes' }), member('c', { verdict: 'deny', reason: 'c says no' })],
    );
    expect(chain.authorize(listPods(jane))).toEqual({ verdict: 'allow', reason: 'b says yes' });
    expect(seen).toEqual(['a', 'b']);
    const none = new AuthorizerChain(['RBAC'], [member('a', { verdict: 'no-opinion', reason: 'x' }), member('b', { verdict: 'no-opinion', reason: '' }), member('c', { verdict: 'no-opinion', reason: 'y' })]);
    expect(none.authorize(listPods(jane))).toEqual({ verdict: 'no-opinion', reason: 'x, y' });
    expect(none.allowed(listPods(jane))).toBe(false);
  });

  it('Node then RBAC: a node reason travels with the refusal; RBAC may still grant a node', () => {
    const { chain } = testChain({ objects: [clusterRoleBinding('w1-view', 'view', [user('system:node:w1')])] });
    const w1 = nodeUser('w1');
    expect(chain.authorize(resourceAttrs(w1, 'get', { resource: 'secrets', namespace: 'ns', name: 'db' }))).toEqual({
      verdict: 'no-opinion',
      reason: "no relationship found between node 'w1' and this object",
    });
    expect(chain.authorize(resourceAttrs(w1, 'get', { resource: 'pods', subresource: 'log', namespace: 'ns', name: 'a' }))).toEqual({
      verdict: 'allow',
      reason: 'RBAC: allowed by ClusterRoleBinding "w1-view" of ClusterRole "view" to User "system:node:w1"',
    });
  });

  it('rulesFor: RBAC rules; a node is incomplete; AlwaysAllow is everything; AlwaysDeny stops', () => {
    const { chain } = testChain({ objects: [podsReader] });
    const j = chain.rulesFor(jane, 'default');
    expect(j.incomplete).toBe(false);
    expect(j.evaluationError).toBeUndefined();
    expect(j.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] });
    expect(j.resourceRules.some((r) => r.resources?.includes('pods') === true)).toBe(true);
    expect(j.nonResourceRules.length).toBeGreaterThan(0);

    const n = chain.rulesFor(nodeUser('w1'), 'default');
    expect(n.incomplete).toBe(true);
    expect(n.evaluationError).toBe('the Node authorizer grants access by relationships between objects, which rules cannot list');
    // the node's RBAC rules are still listed (those of system:authenticated)
    expect(n.nonResourceRules.length).toBeGreaterThan(0);
    // a node user under RBAC alone is complete
    expect(testChain({ modes: ['RBAC'] }).chain.rulesFor(nodeUser('w1'), 'default').incomplete).toBe(false);

    expect(alwaysAllowChain().rulesFor(jane, 'x').resourceRules).toEqual([{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }]);
    expect(alwaysAllowChain().authorize(listPods(jane)).verdict).toBe('allow');
    expect(alwaysAllowChain().modes).toEqual(['AlwaysAllow']);
    expect(testChain({ modes: ['AlwaysDeny', 'RBAC'], objects: [podsReader] }).chain.rulesFor(jane, 'default')).toEqual({ resourceRules: [], nonResourceRules: [], incomplete: false });
  });
});

describe('startAuthorization', () => {
  const aborts: AbortController[] = [];
  afterEach(() => {
    for (const a of aborts.splice(0)) a.abort();
  });

  it('builds the chain from the store and follows it', async () => {
    const store = new MemoryStore();
    const [crPlural, cr] = clusterRole('pod-reader', [{ verbs: ['get'], apiGroups: [''], resources: ['pods'] }]);
    const [crbPlural, crb] = clusterRoleBinding('jane', 'pod-reader', [user('jane')]);
    await store.create(rbacKey(crPlural, cr), JSON.stringify(cr));
    await store.create(rbacKey(crbPlural, crb), JSON.stringify(crb));
    const p = pod('ns', 'a', { nodeName: 'w1', volumes: [{ secret: { secretName: 'db' } }] });
    await store.create(podKey(p), JSON.stringify(p));
    const abort = new AbortController();
    aborts.push(abort);
    const warns: string[] = [];
    const chain = await startAuthorization(['Node', 'RBAC'], { store, clock: new FakeClock(), log: { warn: (_o, m) => warns.push(m) } }, abort.signal);

    expect(chain.modes).toEqual(['Node', 'RBAC']);
    expect(chain.rbac).toBeDefined();
    const getPod = resourceAttrs(jane, 'get', { resource: 'pods', namespace: 'ns', name: 'a' });
    expect(chain.authorize(getPod).reason).toBe('RBAC: allowed by ClusterRoleBinding "jane" of ClusterRole "pod-reader" to User "jane"');
    expect(chain.allowed(resourceAttrs(nodeUser('w1'), 'get', { resource: 'secrets', namespace: 'ns', name: 'db' }))).toBe(true);

    await store.delete(rbacKey(crbPlural, crb));
    await store.delete(podKey(p));
    await new Promise<void>((r) => setImmediate(r));
    expect(chain.allowed(getPod)).toBe(false);
    expect(chain.allowed(resourceAttrs(nodeUser('w1'), 'get', { resource: 'secrets', namespace: 'ns', name: 'db' }))).toBe(false);
    expect(warns).toEqual([]);
    expect(`/registry/${RBAC_GROUP}/clusterroles/pod-reader`).toBe(rbacKey(crPlural, cr));
  });

  it('AlwaysDeny alone needs no store', async () => {
    const store = new MemoryStore();
    await store.close();
    const chain = await startAuthorization(['AlwaysDeny'], { store, clock: new FakeClock(), log: { warn: () => undefined } }, new AbortController().signal);
    expect(chain.rbac).toBeUndefined();
    expect(chain.authorize(resourceAttrs(jane, 'get', { resource: 'pods', name: 'x', namespace: 'y' })).verdict).toBe('deny');
  });
});
