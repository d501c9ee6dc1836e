import { describe, expect, it } from 'vitest';
import type { Endpoints } from '../../api/core/endpoints.js';
import type { Pod } from '../../api/core/pod.js';
import type { Service } from '../../api/core/service-types.js';
import { ApiError } from './errors.js';
import { forwardedRequestHeaders, podProxyPort, proxiedPath, returnedResponseHeaders, serviceBackends, splitSchemeNamePort } from './pod-proxy.js';
import { parseRequestPath } from './request-info.js';

const pod = (ports: { name?: string; containerPort: number }[][]): Pod =>
  ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, spec: { containers: ports.map((p, i) => ({ name: `c${i}`, image: 'x', ports: p })) } }) as Pod;

const svc = (ports: { name?: string; port: number }[], type?: string): Service =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { ports, ...(type !== undefined ? { type } : {}) } }) as Service;

const eps = (subsets: NonNullable<Endpoints['subsets']>): Endpoints => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets });

const status = (fn: () => unknown): [number, string] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return [err.httpCode, err.message];
    throw err;
  }
  throw new Error('no error');
};

describe('proxy targets', () => {
  it.each([
    ['web', { scheme: 'http', name: 'web', port: '' }],
    ['web:8080', { scheme: 'http', name: 'web', port: '8080' }],
    ['web:http', { scheme: 'http', name: 'web', port: 'http' }],
    ['https:web:443', { scheme: 'https', name: 'web', port: '443' }],
    ['http:web:', { scheme: 'http', name: 'web', port: '' }],
  ])('%s', (id, want) => expect(splitSchemeNamePort(id)).toEqual(want));

  it.each(['', ':80', 'ftp:web:80', 'a:b:c:d', 'https::80'])('%j is refused', (id) => expect(splitSchemeNamePort(id)).toBeUndefined());

  it('a pod port: the number, a named container port, the first declared one, else 80 or 443', () => {
    const p = pod([[], [{ name: 'metrics', containerPort: 9100 }, { name: 'http', containerPort: 8083 }]]);
    expect(podProxyPort(p, { scheme: 'http', name: 'web', port: '7000' })).toBe(7000);
    expect(podProxyPort(p, { scheme: 'http', name: 'web', port: 'http' })).toBe(8083);
    expect(podProxyPort(p, { scheme: 'http', name: 'web', port: '' })).toBe(9100);
    expect(podProxyPort(pod([[]]), { scheme: 'http', name: 'web', port: '' })).toBe(80);
    expect(podProxyPort(pod([[]]), { scheme: 'https', name: 'web', port: '' })).toBe(443);
    expect(status(() => podProxyPort(p, { scheme: 'http', name: 'web', port: 'nope' }))).toEqual([400, 'pod "web" has no container port named "nope"']);
    expect(status(() => podProxyPort(p, { scheme: 'http', name: 'web', port: '70000' }))[0]).toBe(400);
  });
});

describe('service backends', () => {
  const ready = (ip: string, name: string): NonNullable<NonNullable<Endpoints['subsets']>[number]['addresses']>[number] => ({ ip, targetRef: { kind: 'Pod', name, namespace: 'default' } });
  const two = eps([
    { addresses: [ready('10.244.1.5', 'a'), ready('10.244.2.7', 'b'), { ip: '192.0.2.1' }], notReadyAddresses: [ready('10.244.1.9', 'c')], ports: [{ name: 'http', port: 8083 }, { name: 'metrics', port: 9100 }] },
  ]);

  it('by port name or number; ready pod addresses only, with the endpoint port', () => {
    const s = svc([{ name: 'http', port: 80 }, { name: 'metrics', port: 9000 }]);
    const want = [{ pod: { namespace: 'default', name: 'a' }, port: 8083 }, { pod: { namespace: 'default', name: 'b' }, port: 8083 }];
    expect(serviceBackends(s, two, { scheme: 'http', name: 'web', port: 'http' })).toEqual(want);
    expect(serviceBackends(s, two, { scheme: 'http', name: 'web', port: '80' })).toEqual(want);
    expect(serviceBackends(s, two, { scheme: 'http', name: 'web', port: '9000' }).map((b) => b.port)).toEqual([9100, 9100]);
  });

  it('no port given: the only port of a one-port Service; several ports need a name', () => {
    const one = eps([{ addresses: [ready('10.244.1.5', 'a')], ports: [{ port: 8083 }] }]);
    expect(serviceBackends(svc([{ port: 80 }]), one, { scheme: 'http', name: 'web', port: '' })).toEqual([{ pod: { namespace: 'default', name: 'a' }, port: 8083 }]);
    expect(status(() => serviceBackends(svc([{ name: 'http', port: 80 }, { name: 'm', port: 9 }]), two, { scheme: 'http', name: 'web', port: '' }))).toEqual([
      503,
      'no endpoints available for service "web:": the service has a port name (it has several ports)',
    ]);
  });

  it('503 without endpoints or without that port; 400 for ExternalName', () => {
    expect(status(() => serviceBackends(svc([{ name: 'http', port: 80 }]), undefined, { scheme: 'http', name: 'web', port: 'http' }))).toEqual([503, 'no endpoints available for service "web"']);
    expect(status(() => serviceBackends(svc([{ name: 'http', port: 80 }]), two, { scheme: 'http', name: 'web', port: '81' }))[1]).toContain('the service has no port "81"');
    expect(status(() => serviceBackends(svc([], 'ExternalName'), undefined, { scheme: 'http', name: 'web', port: '' }))[0]).toBe(400);
  });
});

describe('what passes through', () => {
  it('the request: no hop-by-hop headers, none named by Connection, no credentials', () => {
    const h = forwardedRequestHeaders({ accept: 'text/html', authorization: 'Bearer secret', 'impersonate-user': 'x', connection: 'keep-alive, x-private', 'x-private': '1', 'keep-alive': 'timeout=5', host: 'apiserver', 'x-keep': 'yes' });
    expect(h).toEqual({ accept: 'text/html', 'x-keep': 'yes' });
  });

  it('the answer: hop-by-hop dropped, an absolute-path Location kept under the proxy prefix', () => {
    const prefix = '/api/v1/namespaces/default/services/web:http/proxy';
    expect(returnedResponseHeaders({ location: '/login?next=%2F', 'content-type': 'text/html', 'transfer-encoding': 'chunked' }, prefix)).toEqual({ location: `${prefix}/login?next=%2F`, 'content-type': 'text/html' });
    expect(returnedResponseHeaders({ location: 'https://example.com/' }, prefix)).toEqual({ location: 'https://example.com/' });
    expect(returnedResponseHeaders({ location: '//evil.example/' }, prefix)).toEqual({ location: '//evil.example/' });
  });

  it('the path below /proxy and the query, as sent (encoding kept)', () => {
    expect(proxiedPath('/api/v1/namespaces/d/pods/web:80/proxy/a%20b/c?x=1', true)).toEqual({ prefix: '/api/v1/namespaces/d/pods/web:80/proxy', path: '/a%20b/c?x=1' });
    expect(proxiedPath('/api/v1/namespaces/d/pods/web/proxy', true)).toEqual({ prefix: '/api/v1/namespaces/d/pods/web/proxy', path: '/' });
    expect(proxiedPath('/api/v1/namespaces/d/pods/web/proxy/?q', true)).toEqual({ prefix: '/api/v1/namespaces/d/pods/web/proxy', path: '/?q' });
    // a namespace, object or path segment named "proxy" is not the subresource
    expect(proxiedPath('/api/v1/namespaces/proxy/pods/web:80/proxy/healthz', true)).toEqual({ prefix: '/api/v1/namespaces/proxy/pods/web:80/proxy', path: '/healthz' });
    expect(proxiedPath('/api/v1/nodes/proxy/proxy/pods', false)).toEqual({ prefix: '/api/v1/nodes/proxy/proxy', path: '/pods' });
    expect(proxiedPath('/api/v1/namespaces/d/services/proxy/proxy/proxy/x', true)).toEqual({ prefix: '/api/v1/namespaces/d/services/proxy/proxy', path: '/proxy/x' });
  });

  it('the request path parser keeps segments below /proxy only for the proxy subresource', () => {
    expect(parseRequestPath('/api/v1/namespaces/d/services/web:http/proxy/a/b')).toMatchObject({ kind: 'resource', resource: 'services', name: 'web:http', subresource: 'proxy' });
    expect(parseRequestPath('/api/v1/namespaces/d/pods/web/log/extra')).toMatchObject({ kind: 'other' });
  });
});
