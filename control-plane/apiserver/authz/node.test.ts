import { describe, expect, it } from 'vitest';
import { NodeAuthorizer, PodGraph, nodeNameOf, podReferences } from './node.js';
import { nodeUser, pathAttrs, plainUser, pod, podKey, resourceAttrs } from './testing.js';
import type { PodObject } from './testing.js';

const w1 = nodeUser('w1');
const w2 = nodeUser('w2');

describe('nodeNameOf', () => {
  it('is the node of system:node:<name> in group system:nodes, nobody else', () => {
    expect(nodeNameOf(w1)).toBe('w1');
    expect(nodeNameOf({ name: 'system:node:w1', groups: ['system:authenticated'] })).toBeUndefined();
    expect(nodeNameOf({ name: 'w1', groups: ['system:nodes'] })).toBeUndefined();
    expect(nodeNameOf({ name: 'system:node:', groups: ['system:nodes'] })).toBeUndefined();
  });
});

describe('podReferences', () => {
  it('lists every secret, config map and the service account a pod refers to, once each', () => {
    const p = pod('ns', 'web', {
      nodeName: 'w1',
      volumes: [
        { secret: { secretName: 'vol-secret' } },
        { configMap: { name: 'vol-cm' } },
        { projected: { sources: [{ secret: { name: 'proj-secret' } }, { configMap: { name: 'proj-cm' } }, {}] } },
        { emptyDir: {} },
      ],
      containers: [
        {
          env: [
            { name: 'A', value: 'x' },
            { name: 'B', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } },
            { name: 'C', valueFrom: { configMapKeyRef: { name: 'env-cm', key: 'k' } } },
            { name: 'D', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          ],
          envFrom: [{ secretRef: { name: 'from-secret' } }, { configMapRef: { name: 'from-cm' } }],
        },
      ],
      initContainers: [{ env: [{ name: 'E', valueFrom: { secretKeyRef: { name: 'init-secret', key: 'k' } } }], envFrom: [{ configMapRef: { name: 'vol-cm' } }] }],
      imagePullSecrets: [{ name: 'pull' }, { name: '' }],
    });
    expect(podReferences(p).sort()).toEqual(
      [
        'configmap:ns/env-cm',
        'configmap:ns/from-cm',
        'configmap:ns/proj-cm',
        'configmap:ns/vol-cm',
        'secret:ns/env-secret',
        'secret:ns/from-secret',
        'secret:ns/init-secret',
        'secret:ns/proj-secret',
        'secret:ns/pull',
        'secret:ns/vol-secret',
        'serviceaccount:ns/default',
      ].sort(),
    );
    expect(podReferences(pod('ns', 'bare', {}))).toEqual(['serviceaccount:ns/default']);
    expect(podReferences(pod('ns', 'robot', { serviceAccountName: 'robot' } as never))).toEqual(['serviceaccount:ns/robot']);
    const mirror = { metadata: { name: 'static', namespace: 'ns', annotations: { 'kubernetes.io/config.mirror': 'h' } }, spec: { serviceAccountName: 'default' } };
    expect(podReferences(mirror)).toEqual([]);
  });
});

describe('NodeAuthorizer', () => {
  const onW1 = pod('ns', 'a', { nodeName: 'w1', volumes: [{ secret: { secretName: 'db' } }], containers: [{ envFrom: [{ configMapRef: { name: 'settings' } }] }] });
  const onW2 = pod('ns', 'b', { nodeName: 'w2', volumes: [{ secret: { secretName: 'other' } }] });
  const unbound = pod('ns', 'c', { volumes: [{ secret: { secretName: 'pending' } }] });

  function setup(...pods: PodObject[]): { graph: PodGraph; node: NodeAuthorizer } {
    const graph = new PodGraph();
    for (const p of pods) graph.apply(podKey(p), p);
    return { graph, node: new NodeAuthorizer(graph) };
  }
  const getSecret = (u: typeof w1, name: string, namespace = 'ns') => resourceAttrs(u, 'get', { resource: 'secrets', namespace, name });

  it('a node may get a secret or config map a pod bound to it refers to, and nothing else', () => {
    const { node } = setup(onW1, onW2, unbound);
    expect(node.authorize(getSecret(w1, 'db'))).toEqual({ verdict: 'allow', reason: '' });
    expect(node.authorize(resourceAttrs(w1, 'get', { resource: 'configmaps', namespace: 'ns', name: 'settings' })).verdict).toBe('allow');
    // a secret of the same name in another namespace, a config map named like the secret
    expect(node.authorize(getSecret(w1, 'db', 'other')).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'get', { resource: 'configmaps', namespace: 'ns', name: 'db' })).verdict).toBe('no-opinion');
    const d = node.authorize(getSecret(w1, 'other'));
    expect(d).toEqual({ verdict: 'no-opinion', reason: "no relationship found between node 'w1' and this object" });
    expect(node.authorize(getSecret(w2, 'other')).verdict).toBe('allow');
    expect(node.authorize(getSecret(w2, 'db')).verdict).toBe('no-opinion');
    // an unbound pod's references belong to no node
    expect(node.authorize(getSecret(w1, 'pending')).verdict).toBe('no-opinion');
  });

  it('only reads of one named object: no list of all secrets, a list narrowed to a name is fine, no writes', () => {
    const { node } = setup(onW1);
    expect(node.authorize(resourceAttrs(w1, 'list', { resource: 'secrets', namespace: 'ns' }))).toEqual({
      verdict: 'no-opinion',
      reason: "node 'w1' can only get individual secrets",
    });
    expect(node.authorize(resourceAttrs(w1, 'list', { resource: 'secrets' })).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'list', { resource: 'secrets', namespace: 'ns', name: 'db' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'watch', { resource: 'secrets', namespace: 'ns', name: 'db' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'update', { resource: 'secrets', namespace: 'ns', name: 'db' })).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'delete', { resource: 'secrets', namespace: 'ns', name: 'db' })).verdict).toBe('no-opinion');
  });

  it('the access goes with the pod: deleted, moved, or no longer referring', () => {
    const { graph, node } = setup(onW1);
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('allow');
    graph.apply(podKey(onW1), undefined);
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('no-opinion');

    graph.apply(podKey(onW1), onW1);
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('allow');
    graph.apply(podKey(onW1), { ...onW1, spec: { ...onW1.spec, nodeName: 'w2' } });
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('no-opinion');
    expect(node.authorize(getSecret(w2, 'db')).verdict).toBe('allow');
    expect(graph.nodeOfPod('ns', 'a')).toBe('w2');

    graph.apply(podKey(onW1), { ...onW1, spec: { nodeName: 'w2' } });
    expect(node.authorize(getSecret(w2, 'db')).verdict).toBe('no-opinion');
  });

  it('references are counted: a secret stays readable while one of two pods refers to it', () => {
    const twin = pod('ns', 'a2', { nodeName: 'w1', volumes: [{ secret: { secretName: 'db' } }] });
    const { graph, node } = setup(onW1, twin);
    graph.apply(podKey(onW1), undefined);
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('allow');
    graph.apply(podKey(twin), undefined);
    expect(node.authorize(getSecret(w1, 'db')).verdict).toBe('no-opinion');
    graph.reset();
    expect(graph.nodeOfPod('ns', 'a')).toBe('');
  });

  it('its own lease in kube-node-lease only', () => {
    const { node } = setup();
    const lease = (u: typeof w1, verb: string, name: string, namespace = 'kube-node-lease') => resourceAttrs(u, verb, { group: 'coordination.k8s.io', resource: 'leases', namespace, name });
    for (const verb of ['get', 'update', 'patch', 'delete']) expect(node.authorize(lease(w1, verb, 'w1')).verdict).toBe('allow');
    expect(node.authorize(lease(w1, 'create', '')).verdict).toBe('allow');
    expect(node.authorize(lease(w1, 'get', 'w2'))).toEqual({ verdict: 'no-opinion', reason: "node 'w1' can only access its own lease in kube-node-lease" });
    expect(node.authorize(lease(w1, 'update', 'w1', 'default')).verdict).toBe('no-opinion');
    expect(node.authorize(lease(w1, 'list', '')).verdict).toBe('no-opinion');
    expect(node.authorize(lease(w1, 'watch', 'w1')).verdict).toBe('no-opinion');
  });

  it('the fixed node rules apply; exec and the node proxy do not', () => {
    const { node } = setup();
    expect(node.authorize(resourceAttrs(w1, 'patch', { resource: 'nodes', subresource: 'status', name: 'w1' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'list', { group: 'discovery.k8s.io', resource: 'endpointslices' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'create', { group: 'authentication.k8s.io', resource: 'tokenreviews' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'update', { resource: 'pods', subresource: 'status', namespace: 'ns', name: 'a' })).verdict).toBe('allow');
    expect(node.authorize(resourceAttrs(w1, 'create', { resource: 'pods', subresource: 'exec', namespace: 'ns', name: 'a' })).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'get', { resource: 'nodes', subresource: 'proxy', name: 'w1' })).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'update', { resource: 'pods', namespace: 'ns', name: 'a' })).verdict).toBe('no-opinion');
    expect(node.authorize(resourceAttrs(w1, 'get', { resource: 'secrets', subresource: 'x', namespace: 'ns', name: 'db' })).verdict).toBe('no-opinion');
    expect(node.authorize(pathAttrs(w1, 'get', '/healthz')).verdict).toBe('no-opinion');
  });

  it('has no opinion about users that are not nodes', () => {
    const { node } = setup(onW1);
    const jane = plainUser('jane');
    expect(node.authorize(getSecret(jane, 'db'))).toEqual({ verdict: 'no-opinion', reason: '' });
    expect(node.authorize(resourceAttrs(jane, 'list', { resource: 'pods' })).verdict).toBe('no-opinion');
    // a name that looks like a node's without the group
    expect(node.authorize(getSecret({ name: 'system:node:w1', groups: ['system:authenticated'] }, 'db')).verdict).toBe('no-opinion');
  });
});
