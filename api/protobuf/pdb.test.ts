import { describe, expect, it } from 'vitest';
import { decodeObject } from './object.js';
import { allMessages } from './kinds.js';
import { encodeByTable, pb } from './test-encoder.js';

const hex = (lines: readonly string[]): Buffer => Buffer.from(lines.join(' ').replace(/ /g, ''), 'hex');

/**
 * The bodies kubectl 1.x sent for `kubectl create pdb p1 --selector=app=x --min-available=50%` and
 * `kubectl create pdb p2 --selector=app=y --max-unavailable=1`, captured with -v=8 against knode: the
 * field numbers of PodDisruptionBudget come from the wire. Spec: minAvailable 1, selector 2,
 * maxUnavailable 3. Status (all zero): observedGeneration 1, disruptionsAllowed 3, currentHealthy 4,
 * desiredHealthy 5, expectedPods 6.
 */
const KUBECTL_CREATE_PDB_MIN = hex([
  '6b 38 73 00 0a 20 0a 09 70 6f 6c 69 63 79 2f 76',
  '31 12 13 50 6f 64 44 69 73 72 75 70 74 69 6f 6e',
  '42 75 64 67 65 74 12 39 0a 12 0a 02 70 31 12 00',
  '1a 00 22 00 2a 00 32 00 38 00 42 00 12 17 0a 09',
  '08 01 10 00 1a 03 35 30 25 12 0a 0a 08 0a 03 61',
  '70 70 12 01 78 1a 0a 08 00 18 00 20 00 28 00 30',
  '00 1a 00 22 00',
]);

const KUBECTL_CREATE_PDB_MAX = hex([
  '6b 38 73 00 0a 20 0a 09 70 6f 6c 69 63 79 2f 76',
  '31 12 13 50 6f 64 44 69 73 72 75 70 74 69 6f 6e',
  '42 75 64 67 65 74 12 36 0a 12 0a 02 70 32 12 00',
  '1a 00 22 00 2a 00 32 00 38 00 42 00 12 14 12 0a',
  '0a 08 0a 03 61 70 70 12 01 79 1a 06 08 00 10 01',
  '1a 00 1a 0a 08 00 18 00 20 00 28 00 30 00 1a 00',
  '22 00',
]);

describe('PodDisruptionBudget from kubectl create pdb (protobuf)', () => {
  it('decodes a percentage minAvailable and the selector', () => {
    const obj = decodeObject(KUBECTL_CREATE_PDB_MIN);
    expect(obj['apiVersion']).toBe('policy/v1');
    expect(obj['kind']).toBe('PodDisruptionBudget');
    expect(obj['metadata']).toEqual({ name: 'p1' });
    expect(obj['spec']).toEqual({ minAvailable: '50%', selector: { matchLabels: { app: 'x' } } });
    // the counters are non-pointer, non-omitempty int32s upstream: zeros stay
    expect(obj['status']).toEqual({ disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  });

  it('decodes an integer maxUnavailable', () => {
    const obj = decodeObject(KUBECTL_CREATE_PDB_MAX);
    expect(obj['metadata']).toEqual({ name: 'p2' });
    expect(obj['spec']).toEqual({ selector: { matchLabels: { app: 'y' } }, maxUnavailable: 1 });
  });

  it('decodes disruptedPods times, conditions and the eviction policy', () => {
    const status = {
      observedGeneration: 2,
      disruptedPods: { 'web-1': '2026-01-01T10:00:00Z' },
      disruptionsAllowed: 1,
      currentHealthy: 3,
      desiredHealthy: 2,
      expectedPods: 3,
      conditions: [
        { type: 'DisruptionAllowed', status: 'True', observedGeneration: 2, lastTransitionTime: '2026-01-01T10:00:00Z', reason: 'SufficientPods', message: '' },
      ],
    };
    const raw = encodeByTable(allMessages, 'policy.v1.PodDisruptionBudget', {
      metadata: { name: 'p' },
      spec: { maxUnavailable: '10%', unhealthyPodEvictionPolicy: 'AlwaysAllow' },
      status,
    });
    const obj = decodeObject(pb.envelope('policy/v1', 'PodDisruptionBudget', raw));
    expect(obj['spec']).toEqual({ maxUnavailable: '10%', unhealthyPodEvictionPolicy: 'AlwaysAllow' });
    const { message: _m, ...condition } = status.conditions[0]!;
    expect(obj['status']).toEqual({ ...status, conditions: [condition] });
  });
});
