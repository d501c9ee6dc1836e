import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { ApiError } from './errors.js';
import { checkPodStreamable, kubeletStreamUrl, parsePodStreamOptions } from './node-stream.js';

const pod = (over: Partial<Pod['spec']> = {}, phase?: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop' },
  spec: { containers: [{ name: 'app' }], nodeName: 'w1', ...over },
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

describe('parsePodStreamOptions', () => {
  it('reads kubectl exec query: repeated command, container, true/false flags', () => {
    const p = new URLSearchParams('command=sh&command=-c&command=echo%20a&container=app&stdin=true&stdout=true&stderr=true&tty=false');
    expect(parsePodStreamOptions('exec', p)).toEqual({ container: 'app', command: ['sh', '-c', 'echo a'], stdin: true, stdout: true, stderr: true, tty: false });
  });
  it('attach has no command', () => {
    expect(parsePodStreamOptions('attach', new URLSearchParams('command=x&stdout=1'))).toMatchObject({ command: [], stdout: true });
  });
  const bad: { name: string; kind: 'exec' | 'attach'; query: string; message: string }[] = [
    { name: 'no stream', kind: 'exec', query: 'command=ls', message: 'you must specify at least 1 of stdin, stdout, stderr' },
    { name: 'no command', kind: 'exec', query: 'stdout=true', message: 'you must specify at least one command for the container' },
    { name: 'a bad boolean', kind: 'attach', query: 'stdout=yes', message: 'stdout: strconv.ParseBool: parsing "yes": invalid syntax' },
  ];
  for (const c of bad) it(`400 for ${c.name}`, () => expect(status(() => parsePodStreamOptions(c.kind, new URLSearchParams(c.query)))).toEqual({ code: 400, message: c.message }));
});

describe('checkPodStreamable', () => {
  it('answers the node of a bound pod', () => expect(checkPodStreamable(pod({}, 'Running'), 'exec')).toBe('w1'));
  it('refuses an unbound pod and a completed one as upstream words it', () => {
    expect(status(() => checkPodStreamable(pod({ nodeName: '' }), 'exec'))).toEqual({ code: 400, message: 'pod web does not have a host assigned' });
    expect(status(() => checkPodStreamable(pod({}, 'Succeeded'), 'attach'))).toEqual({ code: 400, message: 'cannot attach into a container in a completed pod; current phase is Succeeded' });
  });
});

describe('kubeletStreamUrl', () => {
  it('encodes the path and the flags as "1", as upstream ExecLocation does', () => {
    const o = { command: ['sh', '-c', 'a b'], stdin: true, stdout: true, stderr: false, tty: true };
    expect(kubeletStreamUrl({ host: '10.0.0.2', port: 10250 }, pod(), 'app', 'exec', o).href).toBe('https://10.0.0.2:10250/exec/shop/web/app?command=sh&command=-c&command=a+b&stdin=1&stdout=1&tty=1');
    expect(kubeletStreamUrl({ host: 'fd00::2', port: 10250 }, pod(), 'app', 'attach', { ...o, command: [] }).href).toBe('https://[fd00::2]:10250/attach/shop/web/app?stdin=1&stdout=1&tty=1');
  });
});
