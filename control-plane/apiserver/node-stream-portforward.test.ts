import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { ApiError } from './errors.js';
import { checkPodStreamable, kubeletPortForwardUrl, parsePortForwardPorts } from './node-stream.js';

const pod = (phase?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { containers: [{ name: 'app' }], nodeName: 'w1' },
  ...(phase !== undefined ? { status: { phase } } : {}),
} as Pod);

function status(fn: () => unknown): { code: number; message: string } {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return { code: err.httpCode, message: err.message };
    throw err;
  }
  throw new Error('no error');
}

describe('pods/portforward', () => {
  it('reads ports repeated or comma-separated; none is fine (kubectl names ports per SPDY stream)', () => {
    expect(parsePortForwardPorts(new URLSearchParams('ports=8083&ports=80,443'))).toEqual([8083, 80, 443]);
    expect(parsePortForwardPorts(new URLSearchParams(''))).toEqual([]);
  });
  it.each(['0', '70000', 'http'])('400 for port %j', (p) => {
    expect(status(() => parsePortForwardPorts(new URLSearchParams({ ports: p })))).toEqual({ code: 400, message: `invalid port ${JSON.stringify(p)}: must be between 1 and 65535, inclusive` });
  });
  it('builds the kubelet URL as upstream PortForwardLocation does', () => {
    expect(kubeletPortForwardUrl({ host: '10.0.0.2', port: 10250 }, pod(), [8083, 80]).href).toBe('https://10.0.0.2:10250/portForward/shop/web?port=8083&port=80');
    expect(kubeletPortForwardUrl({ host: 'fd00::2', port: 10250 }, pod(), []).href).toBe('https://[fd00::2]:10250/portForward/shop/web');
  });
  it('refuses a completed pod', () => {
    expect(checkPodStreamable(pod('Running'), 'portforward')).toBe('w1');
    expect(status(() => checkPodStreamable(pod('Failed'), 'portforward'))).toEqual({ code: 400, message: 'cannot forward ports of a completed pod; current phase is Failed' });
  });
});
