import { describe, expect, it } from 'vitest';
import type { Node, NodeCondition } from '../../api/core/node.js';
import type { Lease } from '../../api/coordination/lease.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import type { HeartbeatRecord, NodeHealthPlan, ZoneInfo } from './node-lifecycle-health.js';
import { allZonesFullyDisrupted, computeZoneStates, observeHeartbeat, planNodeHealth, zoneKey, zoneTaintRate } from './node-lifecycle-health.js';

const T0 = Date.UTC(2026, 0, 1);
const at = (s: number): string => rfc3339(new Date(T0 + s * 1000));
const OPTS = { gracePeriodMs: 40_000, startupGracePeriodMs: 60_000 };

const cond = (type: string, status: NodeCondition['status'], heartbeatS = 0): NodeCondition => ({
  type,
  status,
  reason: 'KubeletReady',
  message: 'kubelet is posting ready status',
  lastHeartbeatTime: at(heartbeatS),
  lastTransitionTime: at(0),
});
const healthyConditions = (): NodeCondition[] => [cond('MemoryPressure', 'False'), cond('DiskPressure', 'False'), cond('PIDPressure', 'False'), cond('Ready', 'True')];
/** null: a node that never posted status. */
const node = (conditions: NodeCondition[] | null = healthyConditions(), labels: Record<string, string> = {}): Node => ({
  metadata: { name: 'n1', creationTimestamp: at(0), labels },
  spec: {},
  ...(conditions !== null ? { status: { conditions } } : {}),
});
const lease = (renewS: number): Lease => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: at(renewS) } });
/** Times in seconds after T0; an absent lease or status time is 0 (never seen). */
const rec = (probeS: number, leaseS?: number, statusS?: number): HeartbeatRecord => ({
  probeTimeMs: T0 + probeS * 1000,
  leaseRenewMs: leaseS !== undefined ? T0 + leaseS * 1000 : 0,
  statusHeartbeatMs: statusS !== undefined ? T0 + statusS * 1000 : 0,
});

describe('observeHeartbeat', () => {
  const cases: Array<[string, HeartbeatRecord | undefined, Node, Lease | undefined, number, HeartbeatRecord]> = [
    ['a node seen for the first time counts as heard from now', undefined, node(), lease(5), 100, { probeTimeMs: T0 + 100_000, leaseRenewMs: T0 + 5000, statusHeartbeatMs: T0 }],
    ['a first-seen node that never posted Ready counts from its creation', undefined, node(null), undefined, 100, { probeTimeMs: T0, leaseRenewMs: 0, statusHeartbeatMs: 0 }],
    ['a renewed lease is a heartbeat at local time', rec(10, 10, 0), node(), lease(20), 25, { probeTimeMs: T0 + 25_000, leaseRenewMs: T0 + 20_000, statusHeartbeatMs: T0 }],
    ['an unchanged lease and status are no heartbeat', rec(10, 20, 0), node(), lease(20), 60, rec(10, 20, 0)],
    ['an OLDER lease renewTime (stale cache) is no heartbeat', rec(10, 20, 0), node(), lease(15), 60, rec(10, 20, 0)],
    [
      'a newer Ready lastHeartbeatTime is a heartbeat',
      rec(10, 20, 0),
      node([cond('Ready', 'True', 50)]),
      lease(20),
      55,
      { probeTimeMs: T0 + 55_000, leaseRenewMs: T0 + 20_000, statusHeartbeatMs: T0 + 50_000 },
    ],
    ['the controller\'s own Unknown write (heartbeat untouched) is no heartbeat', rec(10, 20, 0), node([cond('Ready', 'Unknown', 0)]), lease(20), 70, rec(10, 20, 0)],
    ['no lease at all: only status counts', rec(10, undefined, 0), node(), undefined, 70, rec(10, undefined, 0)],
  ];
  for (const [name, prev, n, l, nowS, expected] of cases) it(name, () => expect(observeHeartbeat(prev, n, l, T0 + nowS * 1000)).toEqual(expected));
});

describe('planNodeHealth', () => {
  const unknown = (c: NodeCondition, nowS: number): NodeCondition => ({ ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: at(nowS) });
  const cases: Array<[string, Node, HeartbeatRecord, number, NodeHealthPlan]> = [
    ['within the grace period nothing changes', node(), rec(10), 30, { observedReady: 'True', ready: 'True' }],
    ['exactly at the grace period nothing changes yet', node(), rec(10), 50, { observedReady: 'True', ready: 'True' }],
    [
      'past the grace period the four conditions become Unknown, heartbeats kept',
      node(),
      rec(10),
      51,
      { conditions: healthyConditions().map((c) => unknown(c, 51)), observedReady: 'True', ready: 'Unknown' },
    ],
    [
      'a condition the kubelet never posted is added as NeverUpdated; other conditions are kept',
      node([cond('Ready', 'True'), cond('NetworkUnavailable', 'False')]),
      rec(10),
      51,
      {
        conditions: [
          unknown(cond('Ready', 'True'), 51),
          cond('NetworkUnavailable', 'False'),
          ...['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((type): NodeCondition => ({
            type,
            status: 'Unknown',
            reason: 'NodeStatusNeverUpdated',
            message: 'Kubelet never posted node status.',
            lastHeartbeatTime: at(0),
            lastTransitionTime: at(51),
          })),
        ],
        observedReady: 'True',
        ready: 'Unknown',
      },
    ],
    ['already Unknown: nothing to write', node(healthyConditions().map((c) => unknown(c, 51))), rec(10), 90, { observedReady: 'Unknown', ready: 'Unknown' }],
    [
      'a kubelet-posted Ready=False also goes Unknown when it stops posting',
      node([cond('Ready', 'False'), cond('MemoryPressure', 'False'), cond('DiskPressure', 'False'), cond('PIDPressure', 'False')]),
      rec(0),
      41,
      { conditions: [unknown(cond('Ready', 'False'), 41), ...['MemoryPressure', 'DiskPressure', 'PIDPressure'].map((t) => unknown(cond(t, 'False'), 41))], observedReady: 'False', ready: 'Unknown' },
    ],
    ['a node that never posted Ready gets the startup grace (60 s)', node(null), rec(0), 59, {}],
  ];
  for (const [name, n, r, nowS, expected] of cases) it(name, () => expect(planNodeHealth(n, r, T0 + nowS * 1000, OPTS)).toEqual(expected));

  it('a never-posting node past the startup grace gets all four as NeverUpdated', () => {
    const plan = planNodeHealth(node(null), rec(0), T0 + 61_000, OPTS);
    expect(plan.ready).toBe('Unknown');
    expect(plan.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['Ready', 'Unknown', 'NodeStatusNeverUpdated'],
      ['MemoryPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['DiskPressure', 'Unknown', 'NodeStatusNeverUpdated'],
      ['PIDPressure', 'Unknown', 'NodeStatusNeverUpdated'],
    ]);
  });

  it('a lease renewed every 10 s keeps the node healthy; stopping it makes it Unknown 40 s later (FakeClock)', async () => {
    const clock = new FakeClock(T0);
    let record: HeartbeatRecord | undefined;
    let renew = 0;
    const step = (): NodeHealthPlan => {
      record = observeHeartbeat(record, node(), lease(renew), clock.now().getTime());
      return planNodeHealth(node(), record, clock.now().getTime(), OPTS);
    };
    for (let i = 0; i < 12; i++) {
      renew = (clock.now().getTime() - T0) / 1000;
      expect(step().ready).toBe('True');
      await clock.advance(10_000);
    }
    const stoppedAt = clock.now().getTime();
    const seen: Array<[number, string | undefined]> = [];
    for (let i = 0; i < 10; i++) {
      seen.push([(clock.now().getTime() - stoppedAt) / 1000, step().ready]);
      await clock.advance(5_000);
    }
    // the last renewal was seen 10 s before stoppedAt: Unknown once 40 s have passed since then
    expect(seen.filter(([, r]) => r === 'Unknown').map(([s]) => s)[0]).toBe(35);
  });
});

describe('zones', () => {
  it('zoneKey joins region and zone, empty without labels', () => {
    expect(zoneKey(node())).toBe('');
    expect(zoneKey(node(null, { 'topology.kubernetes.io/region': 'r', 'topology.kubernetes.io/zone': 'a' }))).toBe('r:\u0000:a');
    expect(zoneKey(node(null, { 'failure-domain.beta.kubernetes.io/zone': 'b' }))).toBe(':\u0000:b');
  });

  const z = (zone: string, ...ready: Array<'True' | 'False' | 'Unknown' | undefined>) => ready.map((r) => ({ zone, ready: r }));
  const cases: Array<[string, Array<{ zone: string; ready: 'True' | 'False' | 'Unknown' | undefined }>, Record<string, ZoneInfo>]> = [
    ['all ready: Normal', z('a', 'True', 'True'), { a: { state: 'Normal', size: 2 } }],
    ['one of two lost: Normal', z('a', 'True', 'Unknown'), { a: { state: 'Normal', size: 2 } }],
    ['none ready: FullDisruption', z('a', 'Unknown', 'False', undefined), { a: { state: 'FullDisruption', size: 3 } }],
    ['3 of 5 lost (>2 and >= 55%): PartialDisruption', z('a', 'True', 'True', 'Unknown', 'Unknown', 'False'), { a: { state: 'PartialDisruption', size: 5 } }],
    ['3 of 6 lost (50%): Normal', z('a', 'True', 'True', 'True', 'Unknown', 'Unknown', 'False'), { a: { state: 'Normal', size: 6 } }],
    ['zones count apart', [...z('a', 'Unknown'), ...z('b', 'True')], { a: { state: 'FullDisruption', size: 1 }, b: { state: 'Normal', size: 1 } }],
  ];
  for (const [name, nodes, expected] of cases) {
    it(name, () => expect(Object.fromEntries(computeZoneStates(nodes, { unhealthyZoneThreshold: 0.55 }))).toEqual(expected));
  }

  const rates = { nodeEvictionRate: 0.1, secondaryNodeEvictionRate: 0.01, largeClusterSizeThreshold: 50 };
  it('taint rate: normal and fully disrupted zones at the normal rate; partial: 0 when small, secondary when large', () => {
    expect(zoneTaintRate({ state: 'Normal', size: 3 }, rates)).toBe(0.1);
    expect(zoneTaintRate({ state: 'FullDisruption', size: 3 }, rates)).toBe(0.1);
    expect(zoneTaintRate({ state: 'PartialDisruption', size: 50 }, rates)).toBe(0);
    expect(zoneTaintRate({ state: 'PartialDisruption', size: 51 }, rates)).toBe(0.01);
  });

  it('master disruption only when every zone is fully disrupted', () => {
    const states = (...s: ZoneInfo['state'][]) => new Map(s.map((state, i) => [String(i), { state, size: 1 }]));
    expect(allZonesFullyDisrupted(states('FullDisruption', 'FullDisruption'))).toBe(true);
    expect(allZonesFullyDisrupted(states('FullDisruption', 'Normal'))).toBe(false);
    expect(allZonesFullyDisrupted(new Map())).toBe(false);
  });
});
