import { describe, expect, it } from 'vitest';
import { parseRequestPath } from './request-info.js';

describe('parseRequestPath', () => {
  const cases: Array<[string, unknown]> = [
    ['/api', { kind: 'other', path: '/api' }],
    ['/api/v1', { kind: 'group-version', group: '', version: 'v1' }],
    ['/apis/apps', { kind: 'group', group: 'apps' }],
    ['/apis/apps/v1', { kind: 'group-version', group: 'apps', version: 'v1' }],
    ['/api/v1/pods', { kind: 'resource', group: '', version: 'v1', resource: 'pods', legacyWatch: false }],
    [
      '/api/v1/namespaces/default/pods/web/status',
      { kind: 'resource', group: '', version: 'v1', namespace: 'default', resource: 'pods', name: 'web', subresource: 'status', legacyWatch: false },
    ],
    ['/api/v1/namespaces/kube-system', { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'kube-system', legacyWatch: false }],
    [
      '/api/v1/namespaces/kube-system/status',
      { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'kube-system', subresource: 'status', legacyWatch: false },
    ],
    [
      '/api/v1/namespaces/kube-system/finalize',
      { kind: 'resource', group: '', version: 'v1', resource: 'namespaces', name: 'kube-system', subresource: 'finalize', legacyWatch: false },
    ],
    [
      '/api/v1/namespaces/ns1/configmaps',
      { kind: 'resource', group: '', version: 'v1', namespace: 'ns1', resource: 'configmaps', legacyWatch: false },
    ],
    [
      '/apis/apps/v1/namespaces/a/deployments/d/scale',
      { kind: 'resource', group: 'apps', version: 'v1', namespace: 'a', resource: 'deployments', name: 'd', subresource: 'scale', legacyWatch: false },
    ],
    ['/api/v1/watch/pods', { kind: 'resource', group: '', version: 'v1', resource: 'pods', legacyWatch: true }],
    ['/api/v1/namespaces/a/pods/b/c/d', { kind: 'other', path: '/api/v1/namespaces/a/pods/b/c/d' }],
    ['/healthz', { kind: 'other', path: '/healthz' }],
    ['/api/v1/pods?watch=1', { kind: 'resource', group: '', version: 'v1', resource: 'pods', legacyWatch: false }],
  ];
  it.each(cases)('%s', (path, expected) => {
    expect(parseRequestPath(path)).toEqual(expected);
  });
});
