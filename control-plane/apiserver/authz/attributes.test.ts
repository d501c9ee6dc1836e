import { describe, expect, it } from 'vitest';
import { queryOf } from '../http-util.js';
import { parseRequestPath } from '../request-info.js';
import { nameFromFieldSelector, requestAttributes } from './attributes.js';
import { plainUser } from './testing.js';
import type { Attributes } from './types.js';

const jane = plainUser('jane');

function attrs(method: string, pathAndQuery: string): Attributes {
  const url = new URL(pathAndQuery, 'https://127.0.0.1:6443');
  return requestAttributes(jane, method, parseRequestPath(url.pathname), url);
}

const pick = (a: Attributes): Omit<Attributes, 'user' | 'path' | 'apiVersion'> => ({
  verb: a.verb,
  resourceRequest: a.resourceRequest,
  apiGroup: a.apiGroup,
  resource: a.resource,
  subresource: a.subresource,
  namespace: a.namespace,
  name: a.name,
});

describe('requestAttributes', () => {
  it.each([
    ['GET', '/api/v1/namespaces/ns/pods/web', 'get'],
    ['HEAD', '/api/v1/namespaces/ns/pods/web', 'get'],
    ['GET', '/api/v1/namespaces/ns/pods', 'list'],
    ['GET', '/api/v1/pods', 'list'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=true', 'watch'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=1', 'watch'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=false', 'list'],
    ['GET', '/api/v1/namespaces/ns/pods?watch=0', 'list'],
    ['GET', '/api/v1/namespaces/ns/pods/web?watch=true', 'watch'],
    ['GET', '/api/v1/watch/namespaces/ns/pods', 'watch'],
    ['GET', '/api/v1/watch/namespaces/ns/pods/web', 'watch'],
    ['POST', '/api/v1/namespaces/ns/pods', 'create'],
    ['PUT', '/api/v1/namespaces/ns/pods/web', 'update'],
    ['PUT', '/api/v1/namespaces/ns/pods/web/status', 'update'],
    ['PATCH', '/api/v1/namespaces/ns/pods/web', 'patch'],
    ['DELETE', '/api/v1/namespaces/ns/pods/web', 'delete'],
    ['DELETE', '/api/v1/namespaces/ns/pods', 'deletecollection'],
    ['GET', '/api/v1/namespaces/ns/pods/web/exec?command=sh', 'create'],
    ['POST', '/api/v1/namespaces/ns/pods/web/exec?command=sh', 'create'],
    ['GET', '/api/v1/namespaces/ns/pods/web/attach', 'create'],
    ['GET', '/api/v1/namespaces/ns/pods/web/portforward', 'create'],
    ['GET', '/api/v1/namespaces/ns/pods/web/log', 'get'],
    ['GET', '/api/v1/namespaces/ns/services/web/exec', 'get'],
  ])('%s %s -> %s', (method, path, verb) => {
    expect(attrs(method, path).verb).toBe(verb);
  });

  it('carries group, resource, subresource, namespace and name', () => {
    expect(pick(attrs('GET', '/apis/apps/v1/namespaces/ns/deployments/web/scale'))).toEqual({
      verb: 'get',
      resourceRequest: true,
      apiGroup: 'apps',
      resource: 'deployments',
      subresource: 'scale',
      namespace: 'ns',
      name: 'web',
    });
    const a = attrs('GET', '/apis/apps/v1/deployments');
    expect([a.apiVersion, a.namespace, a.name, a.path]).toEqual(['v1', '', '', '/apis/apps/v1/deployments']);
    expect(pick(attrs('GET', '/api/v1/watch/namespaces/ns/pods/web'))).toMatchObject({ verb: 'watch', namespace: 'ns', resource: 'pods', name: 'web' });
  });

  it('a list or watch narrowed by fieldSelector metadata.name names that object; other verbs ignore the selector', () => {
    expect(attrs('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ddb').name).toBe('db');
    expect(pick(attrs('GET', '/api/v1/namespaces/ns/secrets?watch=1&fieldSelector=metadata.name%3D%3Ddb'))).toMatchObject({ verb: 'watch', name: 'db' });
    expect(attrs('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=type%3Dx,metadata.name%3Ddb').name).toBe('db');
    expect(attrs('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name!%3Ddb').name).toBe('');
    expect(attrs('GET', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.namespace%3Dns').name).toBe('');
    expect(attrs('DELETE', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ddb')).toMatchObject({ verb: 'deletecollection', name: '' });
    expect(attrs('POST', '/api/v1/namespaces/ns/secrets?fieldSelector=metadata.name%3Ddb')).toMatchObject({ verb: 'create', name: '' });
    // a named get keeps its own name
    expect(attrs('GET', '/api/v1/namespaces/ns/secrets/a?fieldSelector=metadata.name%3Db').name).toBe('a');
  });

  it('reads repeated parameters as the handlers do (the first value), so a request is served as it was authorized', () => {
    const url = new URL('https://h/api/v1/namespaces/kube-system/secrets?fieldSelector=metadata.name%3Dfoo&fieldSelector=&watch=false&watch=true');
    const a = requestAttributes(jane, 'GET', parseRequestPath(url.pathname), url);
    expect([a.verb, a.name]).toEqual(['list', 'foo']);
    expect(queryOf(url)).toMatchObject({ fieldSelector: 'metadata.name=foo', watch: 'false' });
    // only what the handlers take for a watch is a watch
    expect(attrs('GET', '/api/v1/namespaces/ns/pods?watch=yes').verb).toBe('list');
    expect(attrs('GET', '/api/v1/namespaces/ns/pods?watch=1').verb).toBe('watch');
  });

  it('nameFromFieldSelector', () => {
    expect(nameFromFieldSelector(null)).toBeUndefined();
    expect(nameFromFieldSelector('')).toBeUndefined();
    expect(nameFromFieldSelector(' metadata.name = x ')).toBe('x');
    expect(nameFromFieldSelector('metadata.name=')).toBeUndefined();
    expect(nameFromFieldSelector('spec.nodeName=w1,metadata.name==y')).toBe('y');
  });

  it('a request on a namespace is in that namespace', () => {
    expect(pick(attrs('GET', '/api/v1/namespaces/foo'))).toMatchObject({ verb: 'get', resource: 'namespaces', name: 'foo', namespace: 'foo' });
    expect(pick(attrs('PUT', '/api/v1/namespaces/foo/status'))).toMatchObject({ verb: 'update', subresource: 'status', name: 'foo', namespace: 'foo' });
    expect(pick(attrs('PUT', '/api/v1/namespaces/foo/finalize'))).toMatchObject({ verb: 'update', subresource: 'finalize', namespace: 'foo' });
    expect(pick(attrs('GET', '/api/v1/namespaces'))).toMatchObject({ verb: 'list', name: '', namespace: '' });
    expect(pick(attrs('DELETE', '/api/v1/namespaces/foo'))).toMatchObject({ verb: 'delete', namespace: 'foo' });
  });

  it('any other path is a non-resource request with the method as verb', () => {
    for (const [method, path] of [
      ['GET', '/healthz'],
      ['GET', '/api'],
      ['GET', '/apis'],
      ['GET', '/api/v1'],
      ['GET', '/apis/apps'],
      ['POST', '/metrics'],
    ] as const) {
      const a = attrs(method, path);
      expect(a).toMatchObject({ verb: method.toLowerCase(), resourceRequest: false, path, resource: '', namespace: '', name: '' });
      expect(a.user).toBe(jane);
    }
    expect(attrs('GET', '/version?x=1').path).toBe('/version');
  });
});
