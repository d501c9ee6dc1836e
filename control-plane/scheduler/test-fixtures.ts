/**
 * Builders for the scheduler's unit tests and benchmark: a Ready node with allocatable resources and
 * a pending pod with requests, each then changed per case by a `mutate` function.
 */
import type { Node } from '../../api/core/node.js';
import type { Container, Pod } from '../../api/core/pod.js';

export interface NodeShape {
  readonly cpu?: string;
  readonly memory?: string;
  readonly pods?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export function makeNode(name: string, shape: NodeShape = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...shape.labels } },
    spec: {},
    status: {
      capacity: { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' },
      allocatable: { cpu: shape.cpu ?? '4', memory: shape.memory ?? '8Gi', pods: shape.pods ?? '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  };
}

export interface PodShape {
  readonly namespace?: string;
  readonly cpu?: string;
  readonly memory?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly ownerUID?: string;
  readonly hostPort?: number;
}

export function makePod(name: string, shape: PodShape = {}): Pod {
  const requests: Record<string, string> = {};
  if (shape.cpu !== undefined) requests['cpu'] = shape.cpu;
  if (shape.memory !== undefined) requests['memory'] = shape.memory;
  const container: Container = {
    name: 'main',
    image: 'registry.k8s.io/pause:3.10',
    ...(Object.keys(requests).length > 0 ? { resources: { requests } } : {}),
    ...(shape.hostPort !== undefined ? { ports: [{ containerPort: 80, hostPort: shape.hostPort, protocol: 'TCP' as const }] } : {}),
  };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: shape.namespace ?? 'default',
      uid: `uid-${name}`,
      ...(shape.labels !== undefined ? { labels: shape.labels } : {}),
      ...(shape.ownerUID !== undefined
        ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: shape.ownerUID, controller: true }] }
        : {}),
    },
    spec: { containers: [container], ...(shape.nodeName !== undefined ? { nodeName: shape.nodeName } : {}) },
    status: { phase: 'Pending' },
  };
}

export type DeepMutable<T> = { -readonly [K in keyof T]: DeepMutable<T[K]> };

/** A copy of `obj` changed by `mutate` (plain JSON objects only). */
export function mutated<T>(obj: T, mutate?: (draft: DeepMutable<T>) => void): T {
  const copy = structuredClone(obj) as DeepMutable<T>;
  mutate?.(copy);
  return copy as T;
}
