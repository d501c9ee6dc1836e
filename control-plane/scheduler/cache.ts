/**
 * The scheduler's cache (upstream's internal/cache): NodeInfos for every node, with the pods bound to
 * them (from the pod informer) and the pods this scheduler has *assumed* onto them (chosen, binding in
 * flight). Scheduling reads it directly: Node.js runs one scheduling cycle at a time, so there is no
 * need for upstream's per-cycle snapshot copy; an assumed pod is visible to the very next cycle.
 *
 * Pod lifecycle in the cache: assume (chosen) -> the informer reports it bound (confirmed: the informer's
 * copy replaces the assumed one, on the node the server says) -> deleted or terminal (removed). A bind that
 * fails is forgotten. Pods on a node the cache does not know yet are kept on a node-less NodeInfo, so
 * their requests count as soon as the Node appears (upstream does the same).
 *
 * Cost: O(1) per pod event and per assume/forget; `nodeList()` rebuilds its array only after a node
 * was added or removed.
 */
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { NodeInfo } from './node-info.js';
import type { PodInfo } from './pod-info.js';
import { computePodInfo } from './pod-info.js';

interface PodState {
  info: PodInfo;
  nodeName: string;
  assumed: boolean;
}

export function podKey(pod: Pod): string {
  return `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name ?? ''}`;
}

/** Succeeded and Failed pods hold no resources (upstream's informer filters them out). */
export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  private readonly podStates = new Map<string, PodState>();
  private list: NodeInfo[] | undefined;
  /** Nodes holding at least one pod with required anti-affinity (every cycle checks them). */
  private readonly antiAffinityNodes = new Set<NodeInfo>();

  // ---- nodes ----

  addNode(node: Node): void {
    const name = node.metadata.name ?? '';
    let info = this.nodes.get(name);
    if (info === undefined) {
      info = new NodeInfo(name, node);
      this.nodes.set(name, info);
    } else {
      if (info.node === undefined) this.list = undefined;
      info.setNode(node);
    }
    this.list = undefined;
  }

  updateNode(node: Node): void {
    this.addNode(node);
  }

  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (info === undefined) return;
    if (info.pods.size === 0) this.nodes.delete(name);
    else info.clearNode();
    this.list = undefined;
  }

  /** Nodes with a Node object, in a stable order (insertion), for the filter loop. */
  nodeList(): readonly NodeInfo[] {
    if (this.list === undefined) this.list = [...this.nodes.values()].filter((n) => n.node !== undefined);
    return this.list;
  }

  /** Nodes (with a Node object) where some pod has required anti-affinity terms. */
  nodesWithRequiredAntiAffinity(): Iterable<NodeInfo> {
    return this.antiAffinityNodes;
  }

  nodeInfo(name: string): NodeInfo | undefined {
    return this.nodes.get(name);
  }

  // ---- pods ----

  /** A pod the informer reports bound (or an assumed pod being confirmed). Terminal pods are removed. */
  addPod(pod: Pod): void {
    const key = podKey(pod);
    const nodeName = pod.spec.nodeName ?? '';
    if (nodeName === '' || isTerminal(pod)) {
      this.removePodKey(key);
      return;
    }
    const prev = this.podStates.get(key);
    if (prev !== undefined) this.unplace(prev.nodeName, key);
    const info = computePodInfo(pod);
    this.placeOn(nodeName, info);
    this.podStates.set(key, { info, nodeName, assumed: false });
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    this.removePodKey(podKey(pod));
  }

  /** Puts a pod the scheduler chose onto `nodeName` until the informer confirms the binding. */
  assume(info: PodInfo, nodeName: string): void {
    const prev = this.podStates.get(info.key);
    if (prev !== undefined) this.unplace(prev.nodeName, info.key);
    this.placeOn(nodeName, info);
    this.podStates.set(info.key, { info, nodeName, assumed: true });
  }

  /** Drops an assumption (the bind failed). A confirmed pod is left alone. */
  forget(key: string): void {
    const s = this.podStates.get(key);
    if (s === undefined || !s.assumed) return;
    this.removePodKey(key);
  }

  isAssumed(key: string): boolean {
    return this.podStates.get(key)?.assumed === true;
  }

  /** The node a pod is bound or assumed on, if the cache has it. */
  nodeOf(key: string): string | undefined {
    return this.podStates.get(key)?.nodeName;
  }

  podCount(): number {
    return this.podStates.size;
  }

  private placeOn(nodeName: string, info: PodInfo): void {
    let n = this.nodes.get(nodeName);
    if (n === undefined) {
      n = new NodeInfo(nodeName);
      this.nodes.set(nodeName, n);
    }
    n.addPod(info);
    this.trackAntiAffinity(n);
  }

  private trackAntiAffinity(n: NodeInfo): void {
    if (n.podsWithRequiredAntiAffinity.size > 0) this.antiAffinityNodes.add(n);
    else this.antiAffinityNodes.delete(n);
  }

  private unplace(nodeName: string, key: string): void {
    const n = this.nodes.get(nodeName);
    if (n === undefined) return;
    n.removePod(key);
    this.trackAntiAffinity(n);
  }

  private removePodKey(key: string): void {
    const s = this.podStates.get(key);
    if (s === undefined) return;
    this.podStates.delete(key);
    const n = this.nodes.get(s.nodeName);
    if (n === undefined) return;
    n.removePod(key);
    this.trackAntiAffinity(n);
    if (n.node === undefined && n.pods.size === 0) this.nodes.delete(s.nodeName);
  }
}
