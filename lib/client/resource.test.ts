import { describe, expect, it } from 'vitest';
import { buildQuery, resourcePath, resources } from './resource.js';

describe('resourcePath', () => {
  it.each([
    ['all pods', resourcePath(resources.pods), '/api/v1/pods'],
    ['pods of one namespace', resourcePath(resources.pods, 'default'), '/api/v1/namespaces/default/pods'],
    ['one pod status', resourcePath(resources.pods, 'default', 'web', 'status'), '/api/v1/namespaces/default/pods/web/status'],
    ['a node', resourcePath(resources.nodes, undefined, 'w1'), '/api/v1/nodes/w1'],
    ['a lease', resourcePath(resources.leases, 'kube-node-lease', 'w1'), '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/w1'],
    ['a CSR approval', resourcePath(resources.certificateSigningRequests, undefined, 'c', 'approval'), '/apis/certificates.k8s.io/v1/certificatesigningrequests/c/approval'],
    ['a name with a colon is escaped', resourcePath(resources.nodes, undefined, 'a:b'), '/api/v1/nodes/a%3Ab'],
  ])('%s', (_name, path, expected) => {
    expect(path).toBe(expected);
  });

  it.each([
    ['a namespace for a cluster-scoped kind', () => resourcePath(resources.nodes, 'default', 'w1'), /cluster-scoped/],
    ['a named namespaced object without namespace', () => resourcePath(resources.pods, undefined, 'web'), /namespace is required/],
    ['a name with a slash', () => resourcePath(resources.nodes, undefined, 'a/b'), /cannot be used in a URL path/],
    ['a subresource without a name', () => resourcePath(resources.nodes, undefined, undefined, 'status'), /needs an object name/],
  ])('refuses %s', (_name, fn, message) => {
    expect(fn).toThrow(message);
  });
});

describe('buildQuery', () => {
  it('skips undefined values and escapes the rest', () => {
    expect(buildQuery({ a: 'x=y,z', b: undefined, c: 3, d: true })).toBe('?a=x%3Dy%2Cz&c=3&d=true');
  });
  it('is empty when nothing is set', () => {
    expect(buildQuery({ a: undefined })).toBe('');
  });
});
