/**
 * What setting up a pod's volumes means, as plain data (the executor in manager.ts applies it):
 * - emptyDir: a directory (mode 0777), or with `medium: Memory` a tmpfs sized like upstream
 *   (the smaller of sizeLimit, the pod's memory limit and node allocatable memory);
 * - hostPath: a type check (and creation for the ...OrCreate types), see host-path.ts;
 * - configMap, secret, downwardAPI, projected: files projected atomically (atomic-writer.ts), with
 *   upstream's key -> path mapping, modes (item mode, else defaultMode, else 0644) and messages:
 *   `configmap "x" not found`, `configmap references non-existent config key: k`,
 *   `secret "x" not found`, `references non-existent secret key: k`. Optional sources that are missing
 *   give an empty volume. Secret, downwardAPI and projected volumes live on tmpfs as upstream keeps
 *   them (never on disk); configMap volumes on disk.
 * - serviceAccountToken projections: the pod's bound token (tokens.ts) at the projection's path, with
 *   the projected volume's mode; a token that could not be had fails the volume with the reason
 *   (`failed to fetch token: serviceaccounts "x" not found`).
 *
 * Pure: the ConfigMaps, Secrets and tokens come in pre-fetched (tokens keyed by tokenKey: audience and
 * expirationSeconds). Errors are VolumeSetupError naming the volume.
 * Cost model: one pass over each referenced object's data; content is base64-decoded once.
 */
import type { ResourceList } from '../../api/core/common.js';
import type { ConfigMap } from '../../api/core/configmap.js';
import type { DownwardAPIVolumeFile, HostPathType, KeyToPath, Pod, Volume } from '../../api/core/pod.js';
import type { Secret } from '../../api/core/secret.js';
import type { ServiceAccountTokenProjection } from '../../api/core/volume.js';
import { DEFAULT_VOLUME_MODE } from '../../api/core/volume.js';
import { tryParseQuantity, quantityValue } from '../../api/quantity.js';
import { DownwardAPIError, extractFieldPath, extractResourceFieldRef } from '../downward-api.js';
import type { DownwardFacts } from '../downward-api.js';
import { VolumeSetupError } from '../errors.js';
import { cleanPayloadPath, payloadPathError } from './atomic-writer.js';
import type { PodPaths, VolumePlugin } from './paths.js';

export interface PlannedFile {
  /** Relative to the volume root, clean. */
  readonly path: string;
  readonly mode: number;
  readonly content: Uint8Array;
}

export type FilesPlugin = Extract<VolumePlugin, 'configmap' | 'secret' | 'downward-api' | 'projected'>;

export interface VolumeFiles {
  readonly volume: string;
  readonly plugin: FilesPlugin;
  readonly files: readonly PlannedFile[];
}

/** A service account token as fetched for the pod, or why there is none. */
export type FetchedToken = { readonly token: string } | { readonly error: string };

/**
 * ConfigMaps and Secrets of the pod's namespace by name (`undefined` means looked up and absent), and
 * the pod's service account tokens by tokenKey.
 */
export interface VolumeObjects {
  readonly configMaps: ReadonlyMap<string, ConfigMap | undefined>;
  readonly secrets: ReadonlyMap<string, Secret | undefined>;
  readonly tokens?: ReadonlyMap<string, FetchedToken>;
}

/** What a token is requested for: a projection's audience and expirationSeconds. */
export type TokenSpec = Pick<ServiceAccountTokenProjection, 'audience' | 'expirationSeconds'>;

/** The key of a projection's token in VolumeObjects.tokens: its audience and expirationSeconds. */
export function tokenKey(t: TokenSpec): string {
  return JSON.stringify([t.audience ?? '', t.expirationSeconds ?? null]);
}

export interface VolumePlanOptions {
  /** For downwardAPI fieldRefs beyond metadata (node name, IPs). */
  readonly facts?: DownwardFacts;
  /** Limits for resourceFieldRef and the tmpfs size ceiling. */
  readonly nodeAllocatable?: ResourceList;
}

export type VolumeStep =
  | { readonly kind: 'emptyDir'; readonly volume: string; readonly dir: string; readonly medium: 'disk' | 'memory'; readonly sizeBytes?: number }
  | { readonly kind: 'hostPath'; readonly volume: string; readonly path: string; readonly type: HostPathType }
  | {
      readonly kind: 'files';
      readonly volume: string;
      readonly plugin: FilesPlugin;
      readonly dir: string;
      readonly medium: 'disk' | 'memory';
      readonly sizeBytes?: number;
      readonly files: readonly PlannedFile[];
    };

const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'));
const base64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

/** Names of the ConfigMaps and Secrets the pod's volumes refer to, and the tokens they project (once per tokenKey). */
export function volumeReferences(pod: Pod): { configMaps: string[]; secrets: string[]; tokens: TokenSpec[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  const tokens = new Map<string, TokenSpec>();
  for (const v of pod.spec.volumes ?? []) {
    if (v.configMap) cms.add(v.configMap.name ?? '');
    if (v.secret) secrets.add(v.secret.secretName ?? '');
    for (const s of v.projected?.sources ?? []) {
      if (s.configMap) cms.add(s.configMap.name ?? '');
      if (s.secret) secrets.add(s.secret.name ?? '');
      if (s.serviceAccountToken) {
        const { audience, expirationSeconds } = s.serviceAccountToken;
        const spec: TokenSpec = { ...(audience !== undefined ? { audience } : {}), ...(expirationSeconds !== undefined ? { expirationSeconds } : {}) };
        tokens.set(tokenKey(spec), spec);
      }
    }
  }
  return { configMaps: [...cms], secrets: [...secrets], tokens: [...tokens.values()] };
}

/** Whether a volume projects a service account token (its content expires, so it is rewritten while the pod runs). */
export function hasTokenProjection(v: Volume): boolean {
  return (v.projected?.sources ?? []).some((s) => s.serviceAccountToken !== undefined);
}

/** A payload keyed by clean path: a later source wins a path, as in upstream's projected volumes. */
class Payload {
  private readonly files = new Map<string, PlannedFile>();
  constructor(private readonly volume: string) {}
  add(path: string, mode: number, content: Uint8Array): void {
    const reason = payloadPathError(path);
    if (reason !== undefined) throw new VolumeSetupError(this.volume, reason);
    const clean = cleanPayloadPath(path);
    this.files.set(clean, { path: clean, mode, content });
  }
  list(): PlannedFile[] {
    return [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}

function addConfigMap(p: Payload, volume: string, cm: ConfigMap, items: readonly KeyToPath[] | undefined, mode: number, optional: boolean): void {
  if (items === undefined || items.length === 0) {
    for (const [k, v] of Object.entries(cm.data ?? {})) p.add(k, mode, utf8(v));
    for (const [k, v] of Object.entries(cm.binaryData ?? {})) p.add(k, mode, base64(v));
    return;
  }
  for (const item of items) {
    const text = cm.data?.[item.key];
    const bin = cm.binaryData?.[item.key];
    if (text === undefined && bin === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(volume, `configmap references non-existent config key: ${item.key}`);
    }
    p.add(item.path, item.mode ?? mode, text !== undefined ? utf8(text) : base64(bin ?? ''));
  }
}

function addSecret(p: Payload, volume: string, s: Secret, items: readonly KeyToPath[] | undefined, mode: number, optional: boolean): void {
  if (items === undefined || items.length === 0) {
    for (const [k, v] of Object.entries(s.data ?? {})) p.add(k, mode, base64(v));
    return;
  }
  for (const item of items) {
    const v = s.data?.[item.key];
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeSetupError(volume, `references non-existent secret key: ${item.key}`);
    }
    p.add(item.path, item.mode ?? mode, base64(v));
  }
}

function addDownward(p: Payload, volume: string, pod: Pod, items: readonly DownwardAPIVolumeFile[] | undefined, mode: number, opts: VolumePlanOptions): void {
  for (const item of items ?? []) {
    let value = '';
    try {
      if (item.fieldRef) value = extractFieldPath(pod, item.fieldRef, opts.facts);
      else if (item.resourceFieldRef) value = extractResourceFieldRef(pod, item.resourceFieldRef, undefined, opts.nodeAllocatable);
    } catch (err) {
      if (err instanceof DownwardAPIError) throw new VolumeSetupError(volume, err.message, { cause: err });
      throw err;
    }
    p.add(item.path, item.mode ?? mode, utf8(value));
  }
}

function getConfigMap(objects: VolumeObjects, volume: string, name: string, optional: boolean): ConfigMap | undefined {
  const cm = objects.configMaps.get(name);
  if (cm === undefined && !optional) throw new VolumeSetupError(volume, `configmap ${JSON.stringify(name)} not found`);
  return cm;
}

function getToken(objects: VolumeObjects, volume: string, t: TokenSpec): string {
  const got = objects.tokens?.get(tokenKey(t));
  if (got === undefined) throw new VolumeSetupError(volume, `no service account token was fetched for audience ${JSON.stringify(t.audience ?? '')}`);
  if ('error' in got) throw new VolumeSetupError(volume, got.error);
  return got.token;
}

function getSecret(objects: VolumeObjects, volume: string, name: string, optional: boolean): Secret | undefined {
  const s = objects.secrets.get(name);
  if (s === undefined && !optional) throw new VolumeSetupError(volume, `secret ${JSON.stringify(name)} not found`);
  return s;
}

/** The files of one API-data volume, or undefined for other volume kinds. */
export function planFilesForVolume(pod: Pod, v: Volume, objects: VolumeObjects, opts: VolumePlanOptions = {}): VolumeFiles | undefined {
  const p = new Payload(v.name);
  if (v.configMap) {
    const src = v.configMap;
    const optional = src.optional === true;
    const cm = getConfigMap(objects, v.name, src.name ?? '', optional);
    if (cm) addConfigMap(p, v.name, cm, src.items, src.defaultMode ?? DEFAULT_VOLUME_MODE, optional);
    return { volume: v.name, plugin: 'configmap', files: p.list() };
  }
  if (v.secret) {
    const src = v.secret;
    const optional = src.optional === true;
    const s = getSecret(objects, v.name, src.secretName ?? '', optional);
    if (s) addSecret(p, v.name, s, src.items, src.defaultMode ?? DEFAULT_VOLUME_MODE, optional);
    return { volume: v.name, plugin: 'secret', files: p.list() };
  }
  if (v.downwardAPI) {
    addDownward(p, v.name, pod, v.downwardAPI.items, v.downwardAPI.defaultMode ?? DEFAULT_VOLUME_MODE, opts);
    return { volume: v.name, plugin: 'downward-api', files: p.list() };
  }
  if (v.projected) {
    const mode = v.projected.defaultMode ?? DEFAULT_VOLUME_MODE;
    for (const src of v.projected.sources ?? []) {
      if (src.configMap) {
        const optional = src.configMap.optional === true;
        const cm = getConfigMap(objects, v.name, src.configMap.name ?? '', optional);
        if (cm) addConfigMap(p, v.name, cm, src.configMap.items, mode, optional);
      } else if (src.secret) {
        const optional = src.secret.optional === true;
        const s = getSecret(objects, v.name, src.secret.name ?? '', optional);
        if (s) addSecret(p, v.name, s, src.secret.items, mode, optional);
      } else if (src.downwardAPI) {
        addDownward(p, v.name, pod, src.downwardAPI.items, mode, opts);
      } else if (src.serviceAccountToken) {
        p.add(src.serviceAccountToken.path, mode, utf8(getToken(objects, v.name, src.serviceAccountToken)));
      }
    }
    return { volume: v.name, plugin: 'projected', files: p.list() };
  }
  return undefined;
}

/** The files of every configMap, secret, downwardAPI and projected volume of the pod, in spec order. */
export function planVolumeFiles(pod: Pod, objects: VolumeObjects, opts: VolumePlanOptions = {}): VolumeFiles[] {
  const out: VolumeFiles[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const files = planFilesForVolume(pod, v, objects, opts);
    if (files) out.push(files);
  }
  return out;
}

/** The pod's memory limit when every container sets one (upstream ResourceConfigForPod), in bytes. */
export function podMemoryLimitBytes(pod: Pod): number | undefined {
  const bytes = (text: string | undefined): number | undefined => {
    const q = text !== undefined ? tryParseQuantity(text) : undefined;
    return q !== undefined && q.nanos > 0n ? quantityValue(q) : undefined;
  };
  let sum = 0;
  for (const c of pod.spec.containers) {
    const b = bytes(c.resources?.limits?.['memory']);
    if (b === undefined) return undefined;
    sum += b;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const b = bytes(c.resources?.limits?.['memory']);
    if (b === undefined) return undefined;
    sum = Math.max(sum, b);
  }
  return sum > 0 ? sum : undefined;
}

/**
 * Upstream calculateEmptyDirMemorySize: node allocatable memory, lowered to the pod's memory limit and
 * then to the volume's sizeLimit when those are smaller. Undefined means the kernel default (half of RAM).
 */
export function tmpfsSizeBytes(pod: Pod, sizeLimit: string | undefined, allocatable: ResourceList | undefined): number | undefined {
  const alloc = allocatable?.['memory'] !== undefined ? tryParseQuantity(allocatable['memory']) : undefined;
  let size = alloc !== undefined && alloc.nanos > 0n ? quantityValue(alloc) : undefined;
  const podLimit = podMemoryLimitBytes(pod);
  if (podLimit !== undefined && (size === undefined || podLimit <= size)) size = podLimit;
  const limit = sizeLimit !== undefined ? tryParseQuantity(sizeLimit) : undefined;
  if (limit !== undefined && limit.nanos > 0n) {
    const b = quantityValue(limit);
    if (size === undefined || b <= size) size = b;
  }
  return size;
}

const UNSUPPORTED_SOURCES = ['persistentVolumeClaim', 'nfs', 'csi', 'ephemeral', 'image'] as const;

export interface PodVolumePlanOptions extends VolumePlanOptions {
  /** Secret, downwardAPI and projected volumes on tmpfs, as upstream (default true). */
  readonly memoryBackedSecrets?: boolean;
}

/** Every step that sets up the pod's volumes, in spec order; throws VolumeSetupError for the first bad one. */
export function planPodVolumes(pod: Pod, objects: VolumeObjects, paths: PodPaths, opts: PodVolumePlanOptions = {}): VolumeStep[] {
  const uid = pod.metadata.uid ?? '';
  const memoryBacked = opts.memoryBackedSecrets ?? true;
  const steps: VolumeStep[] = [];
  for (const v of pod.spec.volumes ?? []) {
    const files = planFilesForVolume(pod, v, objects, opts);
    if (files !== undefined) {
      const memory = memoryBacked && files.plugin !== 'configmap';
      const size = memory ? tmpfsSizeBytes(pod, undefined, opts.nodeAllocatable) : undefined;
      steps.push({
        kind: 'files',
        volume: v.name,
        plugin: files.plugin,
        dir: paths.volumeDir(uid, files.plugin, v.name),
        medium: memory ? 'memory' : 'disk',
        ...(size !== undefined ? { sizeBytes: size } : {}),
        files: files.files,
      });
      continue;
    }
    if (v.hostPath) {
      if (v.hostPath.path.split('/').includes('..')) {
        throw new VolumeSetupError(v.name, `invalid HostPath \`${v.hostPath.path}\`: must not contain '..'`);
      }
      steps.push({ kind: 'hostPath', volume: v.name, path: v.hostPath.path, type: v.hostPath.type ?? '' });
      continue;
    }
    const unsupported = UNSUPPORTED_SOURCES.find((k) => v[k] !== undefined);
    if (unsupported !== undefined) {
      throw new VolumeSetupError(v.name, `volume ${JSON.stringify(v.name)}: ${unsupported} volumes are not supported by knode`);
    }
    // a volume without a source is an emptyDir, as API defaulting makes it
    const medium = v.emptyDir?.medium ?? '';
    if (medium === 'HugePages') throw new VolumeSetupError(v.name, `volume ${JSON.stringify(v.name)}: HugePages emptyDir volumes are not supported by knode`);
    const dir = paths.volumeDir(uid, 'empty-dir', v.name);
    if (medium === 'Memory') {
      const size = tmpfsSizeBytes(pod, v.emptyDir?.sizeLimit, opts.nodeAllocatable);
      steps.push({ kind: 'emptyDir', volume: v.name, dir, medium: 'memory', ...(size !== undefined ? { sizeBytes: size } : {}) });
    } else {
      steps.push({ kind: 'emptyDir', volume: v.name, dir, medium: 'disk' });
    }
  }
  return steps;
}
