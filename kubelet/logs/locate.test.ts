import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { RuntimeContainer, RuntimePod } from '../types.js';
import { ContainerLogUnavailableError } from './errors.js';
import { containerLogPath, containerLogRelativePath, locateContainerLog, podLogDirectory } from './locate.js';

const pod = (restartPolicy: 'Always' | 'OnFailure' | 'Never' = 'Always', status?: Pod['status']): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
  spec: {
    restartPolicy,
    initContainers: [{ name: 'init' }],
    containers: [{ name: 'app' }, { name: 'side' }],
  },
  ...(status ? { status } : {}),
});

function rc(id: string, state: RuntimeContainer['state'], restartCount: number, exitCode?: number): RuntimeContainer {
  return {
    id,
    name: 'app',
    sandboxId: 's',
    attempt: restartCount,
    state,
    createdAt: 0,
    image: 'i',
    imageRef: 'i',
    hash: 'h',
    restartCount,
    isInit: false,
    ...(exitCode !== undefined ? { exitCode } : {}),
  };
}

const rp = (...containers: RuntimeContainer[]): RuntimePod => ({ uid: 'u-1', name: 'web', namespace: 'shop', sandboxes: [], containers });
const path = (n: number): string => `/var/log/pods/shop_web_u-1/app/${n}.log`;

describe('log paths', () => {
  it('follow /var/log/pods/<ns>_<pod>_<uid>/<container>/<restartCount>.log', () => {
    expect(podLogDirectory('shop', 'web', 'u-1')).toBe('/var/log/pods/shop_web_u-1');
    expect(containerLogRelativePath('app', 3)).toBe('app/3.log');
    expect(containerLogPath('shop', 'web', 'u-1', 'app', 3, '/tmp/logs/')).toBe('/tmp/logs/shop_web_u-1/app/3.log');
  });
});

describe('locateContainerLog', () => {
  const cases: Array<{ name: string; pod: Pod; runtime: RuntimePod; previous: boolean; want: { path: string; running: boolean } | string }> = [
    { name: 'the running instance', pod: pod(), runtime: rp(rc('c2', 'running', 2), rc('c1', 'exited', 1, 1)), previous: false, want: { path: path(2), running: true } },
    { name: '--previous: the instance before the running one', pod: pod(), runtime: rp(rc('c2', 'running', 2), rc('c1', 'exited', 1, 1)), previous: true, want: { path: path(1), running: false } },
    {
      name: 'a crashed container waiting to restart: its last instance, also for --previous',
      pod: pod(),
      runtime: rp(rc('c2', 'exited', 2, 1), rc('c1', 'exited', 1, 1)),
      previous: true,
      want: { path: path(2), running: false },
    },
    { name: 'a completed container under Never: that instance', pod: pod('Never'), runtime: rp(rc('c1', 'exited', 0, 0)), previous: false, want: { path: path(0), running: false } },
    {
      name: 'a completed container under OnFailure: --previous has nothing before it',
      pod: pod('OnFailure'),
      runtime: rp(rc('c1', 'exited', 0, 0)),
      previous: true,
      want: 'previous terminated container "app" in pod "web" not found',
    },
    {
      name: 'a created instance after a crash: the crashed one',
      pod: pod(),
      runtime: rp(rc('c2', 'created', 1), rc('c1', 'exited', 0, 2)),
      previous: false,
      want: { path: path(0), running: false },
    },
    { name: 'a running first instance has no previous', pod: pod(), runtime: rp(rc('c1', 'running', 0)), previous: true, want: 'previous terminated container "app" in pod "web" not found' },
    { name: 'nothing started yet', pod: pod(), runtime: rp(), previous: false, want: 'container "app" in pod "web" is waiting to start: ContainerCreating' },
    {
      name: 'waiting on an image: upstream explains it',
      pod: pod('Always', { containerStatuses: [{ name: 'app', ready: false, restartCount: 0, image: 'i', imageID: '', state: { waiting: { reason: 'ImagePullBackOff' } } }] }),
      runtime: rp(),
      previous: false,
      want: 'container "app" in pod "web" is waiting to start: trying and failing to pull image',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (typeof c.want === 'string') {
        expect(() => locateContainerLog(c.pod, c.runtime, 'app', c.previous)).toThrow(ContainerLogUnavailableError);
        expect(() => locateContainerLog(c.pod, c.runtime, 'app', c.previous)).toThrow(c.want);
      } else {
        expect(locateContainerLog(c.pod, c.runtime, 'app', c.previous)).toMatchObject(c.want);
      }
    });
  }

  it('a container not in the spec is not available', () => {
    expect(() => locateContainerLog(pod(), rp(), 'db', false)).toThrow('container "db" in pod "web" is not available');
  });
});
