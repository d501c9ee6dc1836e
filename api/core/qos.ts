/**
 * Pod quality-of-service class (upstream pkg/apis/core/helper/qos.ComputePodQOS), shared by the
 * apiserver (status.qosClass on create) and the kubelet (cgroup placement, eviction order).
 *
 *  - BestEffort: no container (init or regular) requests or limits any cpu or memory;
 *  - Guaranteed: every container limits both cpu and memory, and the summed requests equal the summed limits;
 *  - Burstable: everything else.
 * Only cpu and memory count; zero quantities count as absent.
 *
 * Cost model: one quantity parse per cpu/memory entry of every container.
 */
import type { Quantity } from '../quantity.js';
import { addQuantities, compareQuantities, tryParseQuantity } from '../quantity.js';
import type { Container } from './container-types.js';
import type { PodQOSClass, PodSpec } from './pod-types.js';

const QOS_RESOURCES = ['cpu', 'memory'] as const;

function accumulate(into: Map<string, Quantity>, list: Readonly<Record<string, string>> | undefined): Set<string> {
  const found = new Set<string>();
  for (const name of QOS_RESOURCES) {
    const text = list?.[name];
    if (text === undefined) continue;
    const q = tryParseQuantity(text);
    if (q === undefined || q.nanos <= 0n) continue;
    found.add(name);
    const prev = into.get(name);
    into.set(name, prev ? addQuantities(prev, q) : q);
  }
  return found;
}

export function computePodQOS(spec: Pick<PodSpec, 'containers' | 'initContainers'>): PodQOSClass {
  const requests = new Map<string, Quantity>();
  const limits = new Map<string, Quantity>();
  let guaranteed = true;
  const all: readonly Container[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  for (const c of all) {
    accumulate(requests, c.resources?.requests);
    const limited = accumulate(limits, c.resources?.limits);
    if (!QOS_RESOURCES.every((r) => limited.has(r))) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [name, req] of requests) {
      const lim = limits.get(name);
      if (lim === undefined || compareQuantities(lim, req) !== 0) {
        guaranteed = false;
        break;
      }
    }
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
