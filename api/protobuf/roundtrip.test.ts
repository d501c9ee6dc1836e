/**
 * Whole-object round trips: a fully-populated Pod (every field of our Pod type set, see
 * api/core/test-fixtures.ts) written through the tables the way Go writes it, then decoded. What comes
 * back must equal what went in, except exactly the values upstream's JSON would not show either.
 */
import { describe, expect, it } from 'vitest';
import { fullPod } from '../core/test-fixtures.js';
import { allMessages } from './kinds.js';
import { decodeObject } from './object.js';
import { encodeByTable, pb } from './test-encoder.js';

/** Paths (`spec.containers[0].tty`) where two JSON values differ. */
function differences(a: unknown, b: unknown, path = ''): string[] {
  if (a === b) return [];
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return [path];
  if (Array.isArray(a) && Array.isArray(b)) {
    const out: string[] = [];
    for (let i = 0; i < Math.max(a.length, b.length); i++) out.push(...differences(a[i], b[i], `${path}[${i}]`));
    return out;
  }
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const out: string[] = [];
  for (const k of new Set([...Object.keys(ra), ...Object.keys(rb)])) out.push(...differences(ra[k], rb[k], path === '' ? k : `${path}.${k}`));
  return out;
}

describe('round trip through the tables', () => {
  it('a fully-populated Pod comes back whole, minus the zero values of non-pointer fields', () => {
    const { apiVersion: _a, kind: _k, ...body } = fullPod;
    const raw = encodeByTable(allMessages, 'core.v1.Pod', body);
    const back = decodeObject(pb.envelope('v1', 'Pod', raw));
    const lost = differences(fullPod, back).map((p) => p.replace(/\[\d+\]/g, '[]'));
    expect([...new Set(lost)].sort()).toEqual(
      [
        // empty strings and false/0 in non-pointer Go fields: omitempty JSON drops them too
        'metadata.selfLink',
        'metadata.managedFields[].subresource',
        'spec.containers[].stdin',
        'spec.containers[].stdinOnce',
        'spec.containers[].tty',
        'spec.initContainers[].stdin',
        'spec.initContainers[].stdinOnce',
        'spec.initContainers[].tty',
        'spec.ephemeralContainers[].stdin',
        'spec.ephemeralContainers[].stdinOnce',
        'spec.ephemeralContainers[].tty',
        'spec.hostNetwork',
        'spec.hostPID',
        'spec.hostIPC',
        'status.containerStatuses[].restartCount',
        'status.containerStatuses[].state.terminated.exitCode',
        'status.containerStatuses[].state.terminated.signal',
        'status.containerStatuses[].lastState.terminated.exitCode',
        'status.containerStatuses[].lastState.terminated.signal',
        'status.initContainerStatuses[].restartCount',
        'status.initContainerStatuses[].state.terminated.exitCode',
        'status.initContainerStatuses[].state.terminated.signal',
        'status.initContainerStatuses[].lastState.terminated.exitCode',
        'status.initContainerStatuses[].lastState.terminated.signal',
        'status.ephemeralContainerStatuses[].restartCount',
        'status.ephemeralContainerStatuses[].state.terminated.exitCode',
        'status.ephemeralContainerStatuses[].state.terminated.signal',
        'status.ephemeralContainerStatuses[].lastState.terminated.exitCode',
        'status.ephemeralContainerStatuses[].lastState.terminated.signal',
        // our generic condition shape has timestamps PodCondition does not carry
        'status.conditions[].lastHeartbeatTime',
        'status.conditions[].lastUpdateTime',
      ].sort(),
    );
  });

  it('keeps every pointer field set to a zero value', () => {
    const back = decodeObject(pb.envelope('v1', 'Pod', encodeByTable(allMessages, 'core.v1.Pod', { spec: fullPod.spec })));
    const spec = back['spec'] as typeof fullPod.spec;
    expect(spec.shareProcessNamespace).toBe(false);
    expect(spec.setHostnameAsFQDN).toBe(false);
    expect(spec.priority).toBe(0);
    expect(spec.containers[0]?.securityContext?.privileged).toBe(false);
    expect(spec.securityContext?.windowsOptions?.hostProcess).toBe(false);
  });
});
