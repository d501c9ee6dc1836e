import { describe, expect, it } from 'vitest';
import type { Lease } from '../../api/coordination/lease.js';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock, rfc3339Micro } from '../clock.js';
import { silentLogger } from '../log.js';
import { ClientApiError } from './errors.js';
import type { LeaderElectionConfig, LeaseApi, Observation } from './leader-election.js';
import { decide, LeaderElector, observe } from './leader-election.js';

const CFG: LeaderElectionConfig = { namespace: 'kube-system', name: 'kube-scheduler', identity: 'a' };
const T0 = Date.UTC(2026, 0, 1);

function lease(holder: string, opts: { renew?: number; transitions?: number; duration?: number } = {}): Lease {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'kube-scheduler', namespace: 'kube-system', resourceVersion: '7' },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: opts.duration ?? 15,
      renewTime: rfc3339Micro(new Date(opts.renew ?? T0)),
      acquireTime: rfc3339Micro(new Date(T0 - 60_000)),
      leaseTransitions: opts.transitions ?? 3,
    },
  };
}

describe('decide', () => {
  it('creates the lease when there is none', () => {
    const d = decide({ observedAt: T0 }, CFG, new Date(T0));
    expect(d.kind).toBe('create');
    expect(d.kind === 'create' && d.lease.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 10, leaseTransitions: 0 });
  });

  it.each<[string, Observation, number, string, Record<string, unknown>?]>([
    ['waits while another holder observed less than 15 s ago', { lease: lease('b'), observedAt: T0 }, T0 + 14_999, 'wait'],
    ['takes over once 15 s passed since the record last changed (local clock)', { lease: lease('b'), observedAt: T0 }, T0 + 15_000, 'update', { holderIdentity: 'a', leaseTransitions: 4 }],
    ['judges expiry by when it saw the record, not by the holder renewTime (clock skew)', { lease: lease('b', { renew: T0 - 3_600_000 }), observedAt: T0 }, T0 + 1_000, 'wait'],
    ['honours the holder lease duration', { lease: lease('b', { duration: 60 }), observedAt: T0 }, T0 + 30_000, 'wait'],
    ['renews its own lease without a transition, keeping acquireTime', { lease: lease('a'), observedAt: T0 }, T0 + 2_000, 'update', { holderIdentity: 'a', leaseTransitions: 3, acquireTime: rfc3339Micro(new Date(T0 - 60_000)) }],
    ['takes a released lease at once', { lease: lease(''), observedAt: T0 }, T0 + 1, 'update', { holderIdentity: 'a', leaseTransitions: 4 }],
  ])('%s', (_name, obs, now, kind, spec) => {
    const d = decide(obs, CFG, new Date(now));
    expect(d.kind).toBe(kind);
    if (spec !== undefined && d.kind === 'update') expect(d.lease.spec).toMatchObject({ ...spec, renewTime: rfc3339Micro(new Date(now)) });
  });
});

describe('observe', () => {
  it('keeps the first time a record was seen until the record changes', () => {
    const first = observe(undefined, lease('b'), T0);
    expect(observe(first, lease('b'), T0 + 5_000).observedAt).toBe(T0);
    expect(observe(first, lease('b', { renew: T0 + 2_000 }), T0 + 5_000).observedAt).toBe(T0 + 5_000);
  });
});

/** An apiserver's Lease endpoint: resourceVersion checks, 409 on a stale update or a duplicate create. */
class FakeLeaseApi implements LeaseApi {
  private readonly shared: { stored: Lease | undefined; rv: number; down: Set<string> };
  constructor(
    private readonly who: string = '',
    shared?: { stored: Lease | undefined; rv: number; down: Set<string> },
  ) {
    this.shared = shared ?? { stored: undefined, rv: 1, down: new Set() };
  }
  get stored(): Lease | undefined {
    return this.shared.stored;
  }
  set stored(l: Lease | undefined) {
    this.shared.stored = l;
  }
  get down(): Set<string> {
    return this.shared.down;
  }
  private get rv(): number {
    return this.shared.rv;
  }
  private set rv(n: number) {
    this.shared.rv = n;
  }
  /** The same apiserver, seen by another candidate. */
  as(who: string): FakeLeaseApi {
    return new FakeLeaseApi(who, this.shared);
  }
  private check(): void {
    if (this.down.has(this.who)) throw new Error('connection refused');
  }
  get<T extends KubeObject = KubeObject>(): Promise<T> {
    this.check();
    if (this.stored === undefined) return Promise.reject(new ClientApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' }, 'X', '/leases'));
    return Promise.resolve(structuredClone(this.stored) as unknown as T);
  }
  create<T extends KubeObject = KubeObject>(_ref: unknown, obj: T): Promise<T> {
    this.check();
    if (this.stored !== undefined) return Promise.reject(new ClientApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'AlreadyExists', code: 409, message: 'exists' }, 'X', '/leases'));
    this.stored = { ...(obj as unknown as Lease), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return Promise.resolve(structuredClone(this.stored) as unknown as T);
  }
  update<T extends KubeObject = KubeObject>(_ref: unknown, obj: T): Promise<T> {
    this.check();
    if (this.stored === undefined || obj.metadata.resourceVersion !== this.stored.metadata.resourceVersion) {
      return Promise.reject(new ClientApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'Conflict', code: 409, message: 'conflict' }, 'X', '/leases'));
    }
    this.stored = { ...(obj as unknown as Lease), metadata: { ...obj.metadata, resourceVersion: String(++this.rv) } };
    return Promise.resolve(structuredClone(this.stored) as unknown as T);
  }
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 10; i++) await new Promise<void>((r) => setImmediate(r));
};

function candidate(api: FakeLeaseApi, clock: FakeClock, identity: string) {
  const elector = new LeaderElector(api.as(identity), { ...CFG, identity }, clock, silentLogger());
  const ctl = new AbortController();
  const events: string[] = [];
  const done = elector.run(ctl.signal, {
    onStartedLeading: (signal) =>
      new Promise<void>((resolve) => {
        events.push('started');
        signal.addEventListener('abort', () => resolve(), { once: true });
      }),
    onStoppedLeading: () => events.push('stopped'),
  });
  return { elector, ctl, events, done };
}

/** Advances the fake clock in retry-period steps so every loop gets to run. */
async function advance(clock: FakeClock, ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 500) {
    await clock.advance(500);
    await settle();
  }
}

describe('LeaderElector', () => {
  it('lets exactly one of two candidates lead, and hands over at once when the leader stops', async () => {
    const clock = new FakeClock(T0);
    const api = new FakeLeaseApi();
    const a = candidate(api, clock, 'a');
    await settle();
    const b = candidate(api, clock, 'b');
    await advance(clock, 10_000);
    expect([a.elector.isLeader(), b.elector.isLeader()]).toEqual([true, false]);
    expect(b.events).toEqual([]);
    a.ctl.abort();
    await a.done;
    expect(a.events).toEqual(['started', 'stopped']);
    expect(api.stored?.spec?.holderIdentity).toBe('');
    await advance(clock, 2_000);
    expect(b.elector.isLeader()).toBe(true);
    expect(api.stored?.spec?.holderIdentity).toBe('b');
    b.ctl.abort();
    await b.done;
  });

  it('replaces a leader that died without releasing within 15 s (lease duration 10 s + retry period)', async () => {
    const clock = new FakeClock(T0);
    const api = new FakeLeaseApi();
    const a = candidate(api, clock, 'a');
    await settle();
    const b = candidate(api, clock, 'b');
    await advance(clock, 4_000);
    expect(a.elector.isLeader()).toBe(true);
    api.down.add('a'); // a is cut off: it can neither renew nor release
    const diedAt = clock.now().getTime();
    let tookOver = -1;
    for (let t = 0; t < 30_000 && tookOver < 0; t += 500) {
      await advance(clock, 500);
      if (b.elector.isLeader()) tookOver = clock.now().getTime() - diedAt;
    }
    expect(tookOver).toBeGreaterThan(6_000);
    expect(tookOver).toBeLessThanOrEqual(15_000);
    // the cut-off leader stepped down by its renew deadline (7 s), before b took over
    expect(a.events).toEqual(['started', 'stopped']);
    a.ctl.abort();
    b.ctl.abort();
    await Promise.all([a.done, b.done]);
  });
});
