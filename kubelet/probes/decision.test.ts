import { describe, expect, it } from 'vitest';
import type { ProbeKind } from '../types.js';
import { applyVerdict, initialResult, initialWorkerState, planTick } from './decision.js';
import type { TickInput, WorkerState } from './decision.js';
import { probeSettings } from './settings.js';

const T0 = Date.UTC(2026, 0, 1);
const settings = probeSettings({ initialDelaySeconds: 5, successThreshold: 2, failureThreshold: 3 });

function input(kind: ProbeKind, over: Partial<TickInput> & { noContainer?: boolean } = {}): TickInput {
  const { noContainer, ...rest } = over;
  const base: TickInput = { kind, settings, started: true, podDeleting: false, willRestart: true, now: T0 + 60_000 };
  return noContainer ? { ...base, ...rest } : { ...base, container: { id: 'c1', state: 'running', startedAt: T0 }, ...rest };
}

const probing: WorkerState = { containerId: 'c1', resultRun: 0, onHold: false };

describe('initialResult', () => {
  it('is failure for readiness, success for liveness, unknown for startup', () => {
    expect([initialResult('readiness'), initialResult('liveness'), initialResult('startup')]).toEqual(['failure', 'success', 'unknown']);
  });
});

describe('planTick', () => {
  const cases: Array<{ name: string; state: WorkerState; input: TickInput; ops: unknown[]; next: string; onHold?: boolean }> = [
    {
      name: 'no container yet: wait without publishing',
      state: initialWorkerState,
      input: input('readiness', { noContainer: true }),
      ops: [],
      next: 'wait',
    },
    {
      name: 'a first container publishes the initial readiness (failure) and probes',
      state: initialWorkerState,
      input: input('readiness'),
      ops: [{ op: 'set', containerId: 'c1', result: 'failure' }],
      next: 'probe',
    },
    {
      name: 'a new container instance replaces the old result and lifts the hold',
      state: { containerId: 'c0', resultRun: 0, onHold: true, lastVerdict: 'failure' },
      input: input('liveness'),
      ops: [
        { op: 'remove', containerId: 'c0' },
        { op: 'set', containerId: 'c1', result: 'success' },
      ],
      next: 'probe',
      onHold: false,
    },
    {
      name: 'on hold after a liveness failure: no probing until the container is replaced',
      state: { ...probing, onHold: true },
      input: input('liveness'),
      ops: [],
      next: 'wait',
    },
    {
      name: 'an exited container that will restart reads as failure and keeps the worker',
      state: probing,
      input: input('readiness', { container: { id: 'c1', state: 'exited' } }),
      ops: [{ op: 'set', containerId: 'c1', result: 'failure' }],
      next: 'wait',
    },
    {
      name: 'an exited container that will not restart ends the worker',
      state: probing,
      input: input('readiness', { container: { id: 'c1', state: 'exited' }, willRestart: false }),
      ops: [{ op: 'set', containerId: 'c1', result: 'failure' }],
      next: 'stop',
    },
    {
      name: 'a created but not started container publishes nothing',
      state: probing,
      input: input('liveness', { container: { id: 'c1', state: 'created' } }),
      ops: [],
      next: 'wait',
    },
    {
      name: 'pod deletion: liveness publishes success and stops',
      state: probing,
      input: input('liveness', { podDeleting: true }),
      ops: [{ op: 'set', containerId: 'c1', result: 'success' }],
      next: 'stop',
    },
    {
      name: 'pod deletion: startup publishes success and stops',
      state: probing,
      input: input('startup', { podDeleting: true, started: false }),
      ops: [{ op: 'set', containerId: 'c1', result: 'success' }],
      next: 'stop',
    },
    {
      name: 'pod deletion: readiness keeps probing',
      state: probing,
      input: input('readiness', { podDeleting: true }),
      ops: [],
      next: 'probe',
    },
    {
      name: 'inside initialDelaySeconds: wait (4.999 s of 5)',
      state: probing,
      input: input('readiness', { now: T0 + 4_999 }),
      ops: [],
      next: 'wait',
    },
    {
      name: 'at initialDelaySeconds: probe',
      state: probing,
      input: input('readiness', { now: T0 + 5_000 }),
      ops: [],
      next: 'probe',
    },
    {
      name: 'liveness waits for the startup probe',
      state: probing,
      input: input('liveness', { started: false }),
      ops: [],
      next: 'wait',
    },
    {
      name: 'readiness waits for the startup probe',
      state: probing,
      input: input('readiness', { started: false }),
      ops: [],
      next: 'wait',
    },
    {
      name: 'startup probes until the container started',
      state: probing,
      input: input('startup', { started: false }),
      ops: [],
      next: 'probe',
    },
    {
      name: 'startup stops probing once the container started',
      state: probing,
      input: input('startup', { started: true }),
      ops: [],
      next: 'wait',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const plan = planTick(c.state, c.input);
      expect(plan.ops).toEqual(c.ops);
      expect(plan.next).toBe(c.next);
      if (c.onHold !== undefined) expect(plan.state.onHold).toBe(c.onHold);
    });
  }
});

describe('applyVerdict', () => {
  function run(kind: ProbeKind, verdicts: Array<'success' | 'failure' | 'error'>): { published: unknown[]; state: WorkerState } {
    let state = probing;
    const published: unknown[] = [];
    for (const v of verdicts) {
      const r = applyVerdict(state, kind, settings, v);
      state = r.state;
      published.push(...r.ops.map((o) => (o.op === 'set' ? o.result : o.op)));
    }
    return { published, state };
  }

  it('publishes failure only after failureThreshold (3) failures in a row', () => {
    expect(run('readiness', ['failure', 'failure']).published).toEqual([]);
    expect(run('readiness', ['failure', 'failure', 'failure']).published).toEqual(['failure']);
  });

  it('a success in between restarts the failure count', () => {
    expect(run('readiness', ['failure', 'failure', 'success', 'failure', 'failure']).published).toEqual([]);
  });

  it('publishes success only after successThreshold (2) successes, then on every further success', () => {
    expect(run('readiness', ['success']).published).toEqual([]);
    expect(run('readiness', ['success', 'success', 'success']).published).toEqual(['success', 'success']);
  });

  it('errored probes are thrown away without breaking a run', () => {
    expect(run('readiness', ['failure', 'error', 'failure', 'error', 'failure']).published).toEqual(['failure']);
  });

  it('a liveness failure past the threshold puts the worker on hold with a fresh count', () => {
    const { published, state } = run('liveness', ['failure', 'failure', 'failure']);
    expect(published).toEqual(['failure']);
    expect(state).toMatchObject({ onHold: true, resultRun: 0 });
  });

  it('a readiness failure does not hold: readiness keeps probing', () => {
    expect(run('readiness', ['failure', 'failure', 'failure']).state.onHold).toBe(false);
  });

  it('a startup success holds the worker (the container has started)', () => {
    const { published, state } = run('startup', ['success', 'success']);
    expect(published).toEqual(['success']);
    expect(state.onHold).toBe(true);
  });
});
