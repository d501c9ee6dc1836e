/**
 * Pod sources: the pods this kubelet must run, merged from the apiserver (an informer on pods with
 * `spec.nodeName=<node>`) and the static pod manifests, as upstream's PodConfig merges its api and
 * file sources. Every change is handed to a sink (the pod workers): `update(pod)` for a new or changed
 * pod, `remove(uid, pod)` for one that left its source.
 *
 *  - Mirror pods (the API copies of static pods, annotation kubernetes.io/config.mirror) are never
 *    run: the static pod is. They are only remembered so the status of a static pod can be written
 *    to its mirror; one being deleted is reported (`onMirrorChange`) so it is replaced at once.
 *  - `synced()` is true once the informer listed and the static pod directory was scanned once: only
 *    then may the kubelet call anything in the runtime an orphan (`findOrphans`) or collect garbage.
 *
 * Cost model: O(1) per event; `findOrphans` is O(runtime pods).
 */
import type { Pod } from '../api/core/pod.js';
import { ANNOTATION_CONFIG_MIRROR, ANNOTATION_CONFIG_SOURCE } from './static-pods.js';

/** What receives pod changes (PodWorkers). */
export interface PodSink {
  update(pod: Pod): void;
  remove(uid: string, pod?: Pod): void;
}

/** The informer surface the sources use (lib/client Informer<Pod>). */
export interface PodInformerLike {
  addEventHandler(h: { onAdd?(p: Pod): void; onUpdate?(o: Pod, n: Pod): void; onDelete?(p: Pod): void }): () => void;
  hasSynced(): boolean;
}

export function isMirrorPod(pod: Pod): boolean {
  return pod.metadata.annotations?.[ANNOTATION_CONFIG_MIRROR] !== undefined;
}

/** A pod from the manifest directory (not the apiserver). */
export function isStaticPod(pod: Pod): boolean {
  const src = pod.metadata.annotations?.[ANNOTATION_CONFIG_SOURCE];
  return src !== undefined && src !== 'api';
}

/** Pods with running things in the runtime that no source wants and no worker handles. Pure. */
export function findOrphans(runtimeLiveUids: Iterable<string>, known: (uid: string) => boolean, handled: (uid: string) => boolean): string[] {
  const out: string[] = [];
  for (const uid of runtimeLiveUids) if (!known(uid) && !handled(uid)) out.push(uid);
  return out;
}

const keyOf = (p: Pod): string => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`;

export class PodSources {
  private readonly api = new Map<string, Pod>();
  private readonly statics = new Map<string, Pod>();
  /** Mirror pods by namespace/name. */
  private readonly mirrors = new Map<string, Pod>();
  private staticsSeen: boolean;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly sink: PodSink,
    private readonly informer: PodInformerLike,
    private readonly opts: { readonly staticPods?: boolean; readonly onMirrorChange?: (mirror: Pod) => void } = {},
  ) {
    this.staticsSeen = opts.staticPods !== true;
  }

  /** Subscribes to the informer (call before the informer starts, so no event is missed). */
  start(): void {
    this.unsubscribe = this.informer.addEventHandler({
      onAdd: (p) => this.apiUpsert(p),
      onUpdate: (_o, p) => this.apiUpsert(p),
      onDelete: (p) => this.apiDelete(p),
    });
  }

  stop(): void {
    this.unsubscribe?.();
  }

  /** The static pod source's onChange: the full set of static pods. */
  setStaticPods(pods: readonly Pod[]): void {
    const next = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));
    for (const [uid, old] of this.statics) {
      if (!next.has(uid)) {
        this.statics.delete(uid);
        this.sink.remove(uid, old);
      }
    }
    for (const [uid, p] of next) {
      const old = this.statics.get(uid);
      this.statics.set(uid, p);
      if (old !== p) this.sink.update(p);
    }
    this.staticsSeen = true;
  }

  synced(): boolean {
    return this.staticsSeen && this.informer.hasSynced();
  }

  get(uid: string): Pod | undefined {
    return this.api.get(uid) ?? this.statics.get(uid);
  }

  has(uid: string): boolean {
    return this.api.has(uid) || this.statics.has(uid);
  }

  all(): Pod[] {
    return [...this.api.values(), ...this.statics.values()];
  }

  /** UIDs of pods that exist and are not being deleted (garbage collection keeps their history). */
  activeUids(): Set<string> {
    return new Set(this.all().filter((p) => p.metadata.deletionTimestamp === undefined).map((p) => p.metadata.uid ?? ''));
  }

  /** The mirror pod in the API for a static pod (same namespace/name), if the informer has it. */
  mirrorPodOf(staticPod: Pod): Pod | undefined {
    return this.mirrors.get(keyOf(staticPod));
  }

  private apiUpsert(p: Pod): void {
    if (isMirrorPod(p)) {
      this.mirrors.set(keyOf(p), p);
      // a user deleting a mirror pod: the mirror manager replaces it now, not at its next resync
      if (p.metadata.deletionTimestamp !== undefined) this.opts.onMirrorChange?.(p);
      return;
    }
    const uid = p.metadata.uid ?? '';
    if (uid === '') return;
    this.api.set(uid, p);
    this.sink.update(p);
  }

  private apiDelete(p: Pod): void {
    if (isMirrorPod(p)) {
      if (this.mirrors.get(keyOf(p))?.metadata.uid === p.metadata.uid) this.mirrors.delete(keyOf(p));
      return;
    }
    const uid = p.metadata.uid ?? '';
    const known = this.api.get(uid) ?? p;
    this.api.delete(uid);
    this.sink.remove(uid, known);
  }
}
