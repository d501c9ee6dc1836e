import { describe, expect, it } from 'vitest';
import { defaultKubeletAuthorizer, requestAttributes } from './auth.js';

const admin = { name: 'kube-apiserver-kubelet-client', groups: ['system:masters', 'system:authenticated'] };
const node = { name: 'system:node:w2', groups: ['system:nodes', 'system:authenticated'] };

describe('defaultKubeletAuthorizer', () => {
  it.each([
    ['POST', '/exec/default/web/app?command=sh', admin, true],
    ['POST', '/exec/default/web/app?command=sh', node, false],
    ['POST', '/portForward/default/web?port=80', node, false],
    ['GET', '/containerLogs/default/web/app', node, false],
    ['GET', '/metrics', node, true],
    ['GET', '/healthz', node, false],
  ] as const)('%s %s as %o -> %s', (method, path, user, allowed) => {
    expect(defaultKubeletAuthorizer(user, requestAttributes(method, path))).toBe(allowed);
  });
});
