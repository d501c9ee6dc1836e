import { describe, expect, it } from 'vitest';
import { planContainerGC } from './gc-plan.js';
import type { RuntimeContainer, RuntimePod, RuntimeSandbox } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

const sb = (id: string, createdAt: number, state: RuntimeSandbox['state'] = 'notready'): RuntimeSandbox => ({ id, state, attempt: 0, createdAt, hostNetwork: false });
const c = (id: string, name: string, createdAt: number, state: RuntimeContainer['state'] = 'exited', sandboxId = 'sb-new'): RuntimeContainer => ({
  id,
  name,
  sandboxId,
  attempt: 0,
  state,
  createdAt,
  image: 'busybox',
  imageRef: 'sha256:1',
  hash: 'h',
  restartCount: 0,
  isInit: false,
});
const pod = (uid: string, sandboxes: RuntimeSandbox[], containers: RuntimeContainer[]): RuntimePod => ({ uid, name: uid, namespace: 'default', sandboxes, containers });

interface Case {
  readonly name: string;
  readonly pods: RuntimePod[];
  readonly active: string[];
  readonly minAge?: number;
  readonly maxPerPodContainer?: number;
  readonly removeContainers: string[];
  readonly removeSandboxes: string[];
}

const cases: Case[] = [
  {
    name: 'an active pod keeps the newest exited container per name (for --previous logs) and loses older ones',
    pods: [pod('u1', [sb('sb-new', T0, 'ready')], [c('run', 'app', T0 + 40, 'running'), c('e3', 'app', T0 + 30), c('e2', 'app', T0 + 20), c('e1', 'app', T0 + 10), c('d1', 'db', T0 + 5)])],
    active: ['u1'],
    removeContainers: ['e2', 'e1'],
    removeSandboxes: [],
  },
  {
    name: 'a deleted pod loses every exited container and every dead sandbox',
    pods: [pod('gone', [sb('sb-new', T0 + 10), sb('sb-old', T0)], [c('e1', 'app', T0 + 20), c('e0', 'app', T0 + 15, 'exited', 'sb-old')])],
    active: [],
    removeContainers: ['e1', 'e0'],
    removeSandboxes: ['sb-new', 'sb-old'],
  },
  {
    name: 'running containers are never removed, and keep their sandbox',
    pods: [pod('gone', [sb('sb-new', T0)], [c('r', 'app', T0, 'running')])],
    active: [],
    removeContainers: [],
    removeSandboxes: [],
  },
  {
    name: 'a ready sandbox is never removed, even for a deleted pod',
    pods: [pod('gone', [sb('sb-new', T0, 'ready')], [])],
    active: [],
    removeContainers: [],
    removeSandboxes: [],
  },
  {
    name: 'an active pod keeps its newest sandbox even when not ready, and loses older empty ones',
    pods: [pod('u1', [sb('sb-old', T0), sb('sb-new', T0 + 10), sb('sb-mid', T0 + 5)], [])],
    active: ['u1'],
    removeContainers: [],
    removeSandboxes: ['sb-mid', 'sb-old'],
  },
  {
    name: 'an old sandbox still holding the kept container stays',
    pods: [pod('u1', [sb('sb-new', T0 + 10, 'ready'), sb('sb-old', T0)], [c('keep', 'app', T0 + 5, 'exited', 'sb-old'), c('older', 'app', T0 + 1, 'exited', 'sb-old')])],
    active: ['u1'],
    removeContainers: ['older'],
    removeSandboxes: [],
  },
  {
    name: 'a sandbox whose containers are all removed in this plan goes too',
    pods: [pod('u1', [sb('sb-new', T0 + 10, 'ready'), sb('sb-old', T0)], [c('keep', 'app', T0 + 20, 'exited', 'sb-new'), c('old', 'app', T0 + 1, 'exited', 'sb-old')])],
    active: ['u1'],
    removeContainers: ['old'],
    removeSandboxes: ['sb-old'],
  },
  {
    name: 'containers younger than minAge are kept',
    pods: [pod('gone', [], [c('young', 'app', T0 + 59_000), c('old', 'app', T0)])],
    active: [],
    minAge: 60_000,
    removeContainers: ['old'],
    removeSandboxes: [],
  },
  {
    name: 'a negative maxPerPodContainer keeps everything of active pods',
    pods: [pod('u1', [sb('sb-new', T0, 'ready')], [c('e2', 'app', T0 + 2), c('e1', 'app', T0 + 1)])],
    active: ['u1'],
    maxPerPodContainer: -1,
    removeContainers: [],
    removeSandboxes: [],
  },
  {
    name: 'created and unknown containers count as dead',
    pods: [pod('u1', [sb('sb-new', T0, 'ready')], [c('cr', 'app', T0 + 2, 'created'), c('un', 'app', T0 + 1, 'unknown')])],
    active: ['u1'],
    removeContainers: ['un'],
    removeSandboxes: [],
  },
];

describe('planContainerGC', () => {
  it.each(cases)('$name', (k) => {
    const plan = planContainerGC(new Map(k.pods.map((p) => [p.uid, p])), {
      activePodUIDs: new Set(k.active),
      now: T0 + 60_000,
      ...(k.minAge !== undefined ? { minAge: k.minAge } : {}),
      ...(k.maxPerPodContainer !== undefined ? { maxPerPodContainer: k.maxPerPodContainer } : {}),
    });
    expect(plan).toEqual({ removeContainers: k.removeContainers, removeSandboxes: k.removeSandboxes });
  });

  it('accepts any iterable of runtime pods', () => {
    const plan = planContainerGC([pod('gone', [], [c('e', 'app', T0)])], { activePodUIDs: new Set(), now: T0 });
    expect(plan.removeContainers).toEqual(['e']);
  });
});
