import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import type { ListContainersResponse } from './cri/types-container.js';
import type { ListPodSandboxResponse } from './cri/types-sandbox.js';
import { changedPods, fingerprintPods, Pleg } from './pleg.js';
import { LABEL_POD_UID } from './types.js';

const sb = (id: string, uid: string, state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY' = 'SANDBOX_READY') => ({ id, state, labels: { [LABEL_POD_UID]: uid } });
const ct = (id: string, uid: string, state: 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' = 'CONTAINER_RUNNING') => ({ id, state, labels: { [LABEL_POD_UID]: uid } });

describe('fingerprintPods', () => {
  it('groups by pod UID and ignores objects without one', () => {
    const fp = fingerprintPods([sb('s1', 'a'), { id: 'x', state: 'SANDBOX_READY', labels: {} }], [ct('c1', 'a'), ct('c2', 'b')]);
    expect([...fp.keys()].sort()).toEqual(['a', 'b']);
  });
  it('does not depend on list order', () => {
    expect(fingerprintPods([], [ct('c1', 'a'), ct('c2', 'a')]).get('a')).toBe(fingerprintPods([], [ct('c2', 'a'), ct('c1', 'a')]).get('a'));
  });
});

describe('changedPods', () => {
  const base = fingerprintPods([sb('s1', 'a')], [ct('c1', 'a'), ct('c2', 'b')]);
  it.each([
    ['nothing when nothing changed', fingerprintPods([sb('s1', 'a')], [ct('c1', 'a'), ct('c2', 'b')]), []],
    ['a container that exited', fingerprintPods([sb('s1', 'a')], [ct('c1', 'a', 'CONTAINER_EXITED'), ct('c2', 'b')]), ['a']],
    ['a new container', fingerprintPods([sb('s1', 'a')], [ct('c1', 'a'), ct('c2', 'b'), ct('c3', 'b')]), ['b']],
    ['a pod that vanished', fingerprintPods([sb('s1', 'a')], [ct('c1', 'a')]), ['b']],
    ['a new pod', fingerprintPods([sb('s1', 'a'), sb('s9', 'n')], [ct('c1', 'a'), ct('c2', 'b')]), ['n']],
    ['a sandbox that died', fingerprintPods([sb('s1', 'a', 'SANDBOX_NOTREADY')], [ct('c1', 'a'), ct('c2', 'b')]), ['a']],
  ])('reports %s', (_n, next, want) => {
    expect(changedPods(base, next).sort()).toEqual(want);
  });
});

describe('Pleg', () => {
  function fakeRuntime() {
    const state: { sandboxes: ReturnType<typeof sb>[]; containers: ReturnType<typeof ct>[]; fail: boolean } = { sandboxes: [], containers: [], fail: false };
    const runtime = {
      listPodSandbox: async (): Promise<ListPodSandboxResponse> => {
        if (state.fail) throw new Error('unavailable');
        return { items: state.sandboxes.map((s) => ({ ...s, createdAt: 0n, annotations: {}, runtimeHandler: '' })) };
      },
      listContainers: async (): Promise<ListContainersResponse> => ({
        containers: state.containers.map((c) => ({ ...c, podSandboxId: '', imageRef: '', imageId: '', createdAt: 0n, annotations: {} })),
      }),
    };
    return { state, runtime };
  }

  it('reports every pod on the first relist, then only changes', async () => {
    const { state, runtime } = fakeRuntime();
    const seen: string[][] = [];
    const pleg = new Pleg({ runtime, onChange: (u) => seen.push([...u]), clock: new FakeClock() });
    state.sandboxes = [sb('s1', 'a')];
    state.containers = [ct('c1', 'a')];
    await pleg.relist();
    await pleg.relist();
    state.containers = [ct('c1', 'a', 'CONTAINER_EXITED')];
    await pleg.relist();
    expect(seen).toEqual([['a'], ['a']]);
    expect(pleg.runtimeUids()).toEqual(['a']);
  });

  it('keeps its view through a failed relist and turns unhealthy once failures last', async () => {
    const { state, runtime } = fakeRuntime();
    const clock = new FakeClock();
    const seen: string[][] = [];
    const pleg = new Pleg({ runtime, onChange: (u) => seen.push([...u]), clock, healthThresholdMs: 5_000 });
    expect(pleg.healthy).toBe(false);
    state.containers = [ct('c1', 'a')];
    await pleg.relist();
    expect(pleg.healthy).toBe(true);
    state.fail = true;
    await clock.advance(6_000);
    expect(await pleg.relist()).toEqual([]);
    expect(pleg.healthy).toBe(false);
    expect(pleg.stats.failures).toBe(1);
    state.fail = false;
    await pleg.relist();
    expect(seen).toEqual([['a']]);
    expect(pleg.healthy).toBe(true);
  });
});
