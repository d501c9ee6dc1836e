import { describe, expect, it } from 'vitest';
import { podPrinter, summarizePod } from './pods.js';

const now = new Date('2026-01-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();

type Json = Record<string, unknown>;

function pod(mutate: (p: { metadata: Json; spec: Json; status: Json }) => void = () => {}): Json {
  const p = {
    metadata: { name: 'web', namespace: 'default', creationTimestamp: ago(600) },
    spec: { containers: [{ name: 'app', image: 'nginx' }] } as Json,
    status: { phase: 'Pending' } as Json,
  };
  mutate(p);
  return p;
}

const running = (name = 'app', extra: Json = {}): Json => ({ name, ready: true, restartCount: 0, state: { running: { startedAt: ago(60) } }, ...extra });
const waiting = (reason: string, name = 'app', extra: Json = {}): Json => ({ name, ready: false, restartCount: 0, state: { waiting: { reason } }, ...extra });
const terminated = (t: Json, name = 'app'): Json => ({ name, ready: false, restartCount: 0, state: { terminated: t } });

describe('pod STATUS, READY and RESTARTS', () => {
  const cases: Array<[string, Json, { ready?: string; status: string; restarts?: string }]> = [
    ['a pod without container statuses shows its phase', pod(), { ready: '0/1', status: 'Pending', restarts: '0' }],
    [
      'a container being created shows the waiting reason',
      pod((p) => (p.status.containerStatuses = [waiting('ContainerCreating')])),
      { ready: '0/1', status: 'ContainerCreating' },
    ],
    [
      'a ready running container counts as ready',
      pod((p) => Object.assign(p.status, { phase: 'Running', containerStatuses: [running()] })),
      { ready: '1/1', status: 'Running', restarts: '0' },
    ],
    [
      'a running container that is not ready is not counted',
      pod((p) => Object.assign(p.status, { phase: 'Running', containerStatuses: [running('app', { ready: false })] })),
      { ready: '0/1', status: 'Running' },
    ],
    [
      'a crash-looping container shows CrashLoopBackOff and when it last restarted',
      pod((p) =>
        Object.assign(p.status, {
          phase: 'Running',
          containerStatuses: [waiting('CrashLoopBackOff', 'app', { restartCount: 3, lastState: { terminated: { exitCode: 1, finishedAt: ago(300) } } })],
        }),
      ),
      { ready: '0/1', status: 'CrashLoopBackOff', restarts: '3 (5m ago)' },
    ],
    ['image pull back-off', pod((p) => (p.status.containerStatuses = [waiting('ImagePullBackOff')])), { status: 'ImagePullBackOff' }],
    ['image pull error', pod((p) => (p.status.containerStatuses = [waiting('ErrImagePull')])), { status: 'ErrImagePull' }],
    [
      'a missing ConfigMap or Secret',
      pod((p) => (p.status.containerStatuses = [waiting('CreateContainerConfigError')])),
      { status: 'CreateContainerConfigError' },
    ],
    [
      'a container that exited 0 with reason Completed',
      pod((p) => Object.assign(p.status, { phase: 'Succeeded', containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' })] })),
      { ready: '0/1', status: 'Completed' },
    ],
    [
      'a container that failed with reason Error',
      pod((p) => Object.assign(p.status, { phase: 'Failed', containerStatuses: [terminated({ exitCode: 1, reason: 'Error' })] })),
      { status: 'Error' },
    ],
    [
      'a terminated container without reason shows its exit code',
      pod((p) => (p.status.containerStatuses = [terminated({ exitCode: 137 })])),
      { status: 'ExitCode:137' },
    ],
    [
      'a terminated container without reason killed by a signal shows the signal',
      pod((p) => (p.status.containerStatuses = [terminated({ exitCode: 0, signal: 9 })])),
      { status: 'Signal:9' },
    ],
    [
      'the first container decides when several have a reason',
      pod((p) => {
        p.spec.containers = [{ name: 'a' }, { name: 'b' }];
        p.status.containerStatuses = [waiting('ErrImagePull', 'a'), waiting('ContainerCreating', 'b')];
      }),
      { ready: '0/2', status: 'ErrImagePull' },
    ],
    [
      'Completed with another container still running reads Running when the pod is Ready',
      pod((p) => {
        p.spec.containers = [{ name: 'a' }, { name: 'b' }];
        Object.assign(p.status, {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' }, 'a'), running('b')],
        });
      }),
      { ready: '1/2', status: 'Running' },
    ],
    [
      'Completed with another container still running reads NotReady without the Ready condition',
      pod((p) => {
        p.spec.containers = [{ name: 'a' }, { name: 'b' }];
        Object.assign(p.status, { phase: 'Running', containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' }, 'a'), running('b')] });
      }),
      { ready: '1/2', status: 'NotReady' },
    ],
    [
      'an init container still running shows Init:0/2',
      pod((p) => {
        p.spec.initContainers = [{ name: 'i1' }, { name: 'i2' }];
        p.status.initContainerStatuses = [running('i1', { ready: false }), waiting('PodInitializing', 'i2')];
        p.status.containerStatuses = [waiting('PodInitializing')];
      }),
      { ready: '0/1', status: 'Init:0/2' },
    ],
    [
      'a finished init container moves the count on',
      pod((p) => {
        p.spec.initContainers = [{ name: 'i1' }, { name: 'i2' }];
        p.status.initContainerStatuses = [terminated({ exitCode: 0, reason: 'Completed' }, 'i1'), running('i2', { ready: false })];
      }),
      { status: 'Init:1/2' },
    ],
    [
      'a crash-looping init container shows Init:CrashLoopBackOff and its restarts',
      pod((p) => {
        p.spec.initContainers = [{ name: 'i1' }];
        p.status.initContainerStatuses = [
          waiting('CrashLoopBackOff', 'i1', { restartCount: 4, lastState: { terminated: { exitCode: 1, finishedAt: ago(30) } } }),
        ];
        p.status.containerStatuses = [waiting('PodInitializing')];
      }),
      { status: 'Init:CrashLoopBackOff', restarts: '4 (30s ago)' },
    ],
    [
      'a failed init container shows Init:<reason>',
      pod((p) => {
        p.spec.initContainers = [{ name: 'i1' }];
        p.status.initContainerStatuses = [terminated({ exitCode: 1, reason: 'Error' }, 'i1')];
      }),
      { status: 'Init:Error' },
    ],
    [
      'a failed init container without reason shows Init:ExitCode:N',
      pod((p) => {
        p.spec.initContainers = [{ name: 'i1' }];
        p.status.initContainerStatuses = [terminated({ exitCode: 2 }, 'i1')];
      }),
      { status: 'Init:ExitCode:2' },
    ],
    [
      'a started sidecar (restartable init container) counts towards READY and RESTARTS',
      pod((p) => {
        p.spec.initContainers = [{ name: 'proxy', restartPolicy: 'Always' }];
        Object.assign(p.status, {
          phase: 'Running',
          conditions: [{ type: 'Initialized', status: 'True' }],
          initContainerStatuses: [
            running('proxy', { started: true, restartCount: 1, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } }),
          ],
          containerStatuses: [running('app', { restartCount: 2, lastState: { terminated: { exitCode: 1, finishedAt: ago(90) } } })],
        });
      }),
      { ready: '2/2', status: 'Running', restarts: '3 (90s ago)' },
    ],
    [
      'restarts without a recorded termination time are a bare count',
      pod((p) => Object.assign(p.status, { phase: 'Running', containerStatuses: [running('app', { restartCount: 5 })] })),
      { status: 'Running', restarts: '5' },
    ],
    [
      'a pod being deleted shows Terminating',
      pod((p) => {
        p.metadata.deletionTimestamp = ago(5);
        Object.assign(p.status, { phase: 'Running', containerStatuses: [running()] });
      }),
      { ready: '1/1', status: 'Terminating' },
    ],
    [
      'a finished pod being deleted keeps its final status',
      pod((p) => {
        p.metadata.deletionTimestamp = ago(5);
        Object.assign(p.status, { phase: 'Succeeded', containerStatuses: [terminated({ exitCode: 0, reason: 'Completed' })] });
      }),
      { status: 'Completed' },
    ],
    [
      'a pod on an unreachable node being deleted shows Unknown',
      pod((p) => {
        p.metadata.deletionTimestamp = ago(5);
        Object.assign(p.status, { phase: 'Running', reason: 'NodeLost' });
      }),
      { status: 'Unknown' },
    ],
    ['a pod-level reason replaces the phase', pod((p) => Object.assign(p.status, { phase: 'Failed', reason: 'Evicted' })), { status: 'Evicted' }],
    [
      'a scheduling-gated pod shows SchedulingGated',
      pod((p) => (p.status.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }])),
      { status: 'SchedulingGated' },
    ],
  ];
  it.each(cases)('%s', (_name, p, expected) => {
    const got = summarizePod(p, now);
    expect(got.status).toBe(expected.status);
    if (expected.ready !== undefined) expect(got.ready).toBe(expected.ready);
    if (expected.restarts !== undefined) expect(got.restarts).toBe(expected.restarts);
  });

  it('never throws on an object without spec or status', () => {
    expect(summarizePod({ metadata: { name: 'x' } }, now)).toEqual({ ready: '0/0', status: '', restarts: '0' });
  });
});

describe('pod row', () => {
  it('has upstream columns, the wide ones at priority 1', () => {
    expect(podPrinter.columns.map((c) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ]);
    expect(podPrinter.columns[0]?.format).toBe('name');
  });

  it('fills the wide cells from status and spec', () => {
    const p = pod((x) => {
      x.spec.nodeName = 'node-a';
      x.spec.readinessGates = [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }];
      Object.assign(x.status, {
        phase: 'Running',
        podIPs: [{ ip: '10.244.1.5' }, { ip: 'fd00::5' }],
        conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'False' }],
        containerStatuses: [running()],
      });
    });
    expect(podPrinter.cells(p, now)).toEqual(['web', '1/1', 'Running', '0', '10m', '10.244.1.5', 'node-a', '<none>', '1/2']);
  });

  it('shows <none> for an unscheduled pod', () => {
    expect(podPrinter.cells(pod(), now).slice(5)).toEqual(['<none>', '<none>', '<none>', '<none>']);
  });

  it('marks finished pods with a Completed row condition', () => {
    const done = pod((p) => (p.status.phase = 'Succeeded'));
    const failed = pod((p) => (p.status.phase = 'Failed'));
    expect(podPrinter.conditions?.(done)).toEqual([
      { type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' },
    ]);
    expect(podPrinter.conditions?.(failed)?.[0]?.reason).toBe('Failed');
    expect(podPrinter.conditions?.(pod())).toEqual([]);
  });
});
