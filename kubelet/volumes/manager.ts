/**
 * HostVolumeManager: the VolumeManager of knode's kubelet. Thin executor over the pure plans:
 *   setUpPod    fetch the ConfigMaps/Secrets the volumes name and the service account tokens they
 *               project (tokens.ts) -> planPodVolumes (plan.ts) -> apply each step (mkdir, tmpfs
 *               mount, hostPath check, atomic projection) -> write the managed /etc/hosts -> return
 *               volume name -> host path.
 *               Called on every pod sync that starts something, so ConfigMap/Secret/label changes
 *               reach the volumes then (the atomic writer skips unchanged content). Call it again
 *               once the sandbox has its IP: the hosts file needs the pod IPs.
 *   refreshVolumes  for a running pod, on every other sync (the executor, every 10 s):
 *               - once `apiDataRefreshMs` (default 60 s, upstream's --sync-frequency) has passed since
 *                 the pod's volumes were last projected: re-projects every volume carrying API data
 *                 (configMap, secret, downwardAPI, projected) from freshly fetched objects and the pod
 *                 as it is now, so an edited ConfigMap or Secret, or new labels, reach the running
 *                 containers within about a minute, as upstream's (subPath mounts and env vars do not
 *                 change, as upstream). The atomic writer leaves unchanged volumes alone; a volume whose
 *                 object has gone keeps its last content and the failure is a FailedMount event;
 *               - otherwise asks the token manager for the pod's tokens (a cache hit until 80% of a
 *                 token's lifetime) and, only when one differs from what was written, re-projects the
 *                 volumes holding tokens.
 *   mountsFor   planContainerMounts (mounts.ts) + the small synchronous effects a container start needs:
 *               creating missing subPath directories without following symlinks out of the volume,
 *               and a fresh termination-log file per start (upstream's <pod>/containers/<name>/<8 hex>).
 *   tearDownPod forget the pod's tokens, unmount every mount below the pod directory (read from the
 *               mount table, so it also works after an agent restart), then remove the directory.
 * Layout in paths.ts. Errors: VolumeSetupError (FailedMount) from setUpPod, ContainerConfigError
 * from mountsFor.
 *
 * Cost model per setUpPod: one lookup per referenced ConfigMap/Secret, a token cache lookup (a
 * TokenRequest when due) per projected token, one mountinfo read per memory-backed volume, and for
 * API-data volumes a read of the current files (writes only on change). Per refreshVolumes: the token
 * cache lookups; when a token changed, what setUpPod costs for the volumes holding tokens; once a
 * minute per pod, one GET per ConfigMap/Secret its volumes name and a read of their files.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ResourceList } from '../../api/core/common.js';
import type { Container, Pod, Volume } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import type { Exec } from '../../lib/exec.js';
import { realExec } from '../../lib/exec.js';
import type { Logger } from '../../lib/log.js';
import { ContainerConfigError, VolumeSetupError } from '../errors.js';
import { hostsFileFor } from '../hosts-file.js';
import type { EnvVar, HostMount, ObjectLookup, PodRuntimeFacts, VolumeManager } from '../types.js';
import { writeAtomically } from './atomic-writer.js';
import { ensureHostPath } from './host-path.js';
import type { Mounter } from './mounter.js';
import { ExecMounter } from './mounter.js';
import { planContainerMounts, terminationMessagePath } from './mounts.js';
import { PodPaths, isSafeSegment } from './paths.js';
import type { FetchedToken, TokenSpec, VolumeObjects, VolumeStep } from './plan.js';
import { hasTokenProjection, planPodVolumes, tokenKey, volumeReferences } from './plan.js';
import type { ServiceAccountTokens } from './tokens.js';

export interface HostVolumeManagerOptions {
  /** The kubelet root, e.g. /var/lib/kubelet. */
  readonly rootDir: string;
  readonly lookup: ObjectLookup;
  /** Bound tokens for serviceAccountToken projections; without it such volumes fail to set up. */
  readonly tokens?: ServiceAccountTokens;
  readonly clock: Clock;
  /** Runs mount/umount for the default mounter (default: real processes). */
  readonly exec?: Exec;
  /** Replaces the mount(8)-based mounter (tests use FakeMounter). */
  readonly mounter?: Mounter;
  /** For the FQDN line of the managed /etc/hosts (default `cluster.local`). */
  readonly clusterDomain?: string;
  /** Node allocatable: downward API limits and the tmpfs size ceiling. */
  readonly nodeAllocatable?: ResourceList;
  /** Secret, downwardAPI and projected volumes on tmpfs, as upstream (default true). */
  readonly memoryBackedSecrets?: boolean;
  /** How often a running pod's API-data volumes are projected again (default 60 s, upstream's sync period). */
  readonly apiDataRefreshMs?: number;
  /** Names termination-log files (default 8 random hex digits, as upstream). */
  readonly randomId?: () => string;
  readonly log?: Logger;
}

const EMPTY_DIR_MODE = 0o777;
/** Upstream's --sync-frequency: how stale a running pod's ConfigMap/Secret volume may get. */
export const DEFAULT_API_DATA_REFRESH_MS = 60_000;

/** A volume whose files come from the API (objects or the pod itself), so they may change while it runs. */
function hasApiData(v: Volume): boolean {
  return v.configMap !== undefined || v.secret !== undefined || v.downwardAPI !== undefined || v.projected !== undefined;
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class HostVolumeManager implements VolumeManager {
  private readonly paths: PodPaths;
  private readonly mounter: Mounter;
  private readonly clusterDomain: string;
  private readonly randomId: () => string;
  /** UIDs whose managed hosts file exists, so mountsFor (synchronous) knows to mount it. */
  private readonly hostsFiles = new Set<string>();
  /** The tokens last written into each pod's volumes (tokenSignature), so refreshVolumes knows when to write. */
  private readonly writtenTokens = new Map<string, string>();
  /** When each pod's API-data volumes were last projected (ms since the epoch). */
  private readonly projectedAt = new Map<string, number>();

  constructor(private readonly opts: HostVolumeManagerOptions) {
    this.paths = new PodPaths(opts.rootDir);
    this.mounter = opts.mounter ?? new ExecMounter(opts.exec ?? realExec);
    this.clusterDomain = opts.clusterDomain ?? 'cluster.local';
    this.randomId = opts.randomId ?? ((): string => randomBytes(4).toString('hex'));
  }

  /** Host paths of the pod's directory tree (for the executor and tests). */
  get layout(): PodPaths {
    return this.paths;
  }

  async setUpPod(pod: Pod, facts: PodRuntimeFacts): Promise<ReadonlyMap<string, string>> {
    const uid = pod.metadata.uid ?? '';
    if (!isSafeSegment(uid)) throw new VolumeSetupError('', `pod ${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''} has no usable UID ${JSON.stringify(uid)}`);
    const at = this.opts.clock.now().getTime();
    const result = await this.project(pod, facts, await this.fetchTokens(pod, volumeReferences(pod).tokens));
    this.projectedAt.set(uid, at);
    const hosts = hostsFileFor(pod, facts, this.clusterDomain);
    if (hosts !== undefined) {
      await writeHostsFile(this.paths.etcHosts(uid), hosts, 0o644);
      this.hostsFiles.add(uid);
    }
    return result;
  }

  async refreshVolumes(pod: Pod, facts: PodRuntimeFacts): Promise<void> {
    const uid = pod.metadata.uid ?? '';
    if (!isSafeSegment(uid)) return;
    const now = this.opts.clock.now().getTime();
    const data = (pod.spec.volumes ?? []).filter(hasApiData);
    if (data.length > 0 && now - (this.projectedAt.get(uid) ?? 0) >= (this.opts.apiDataRefreshMs ?? DEFAULT_API_DATA_REFRESH_MS)) {
      // taken as done even if it fails: the next try is a period later, not on every sync
      this.projectedAt.set(uid, now);
      const only: Pod = { ...pod, spec: { ...pod.spec, volumes: data } };
      await this.project(only, facts, await this.fetchTokens(only, volumeReferences(only).tokens));
      return;
    }
    const volumes = (pod.spec.volumes ?? []).filter(hasTokenProjection);
    if (volumes.length === 0 || !isSafeSegment(uid)) return;
    const only: Pod = { ...pod, spec: { ...pod.spec, volumes } };
    const tokens = await this.fetchTokens(only, volumeReferences(only).tokens);
    const signature = tokenSignature(tokens);
    if (signature !== undefined && signature === this.writtenTokens.get(uid)) return;
    await this.project(only, facts, tokens);
    this.opts.log?.info({ pod: `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`, volumes: volumes.map((v) => v.name) }, 'rewrote service account token volumes');
  }

  async tearDownPod(uid: string): Promise<void> {
    if (!isSafeSegment(uid)) throw new VolumeSetupError('', `refusing to tear down pod directory for UID ${JSON.stringify(uid)}`);
    this.opts.tokens?.forget(uid);
    this.writtenTokens.delete(uid);
    this.projectedAt.delete(uid);
    const podDir = this.paths.podDir(uid);
    for (const mountPoint of await this.mounter.mountPointsUnder(podDir)) await this.mounter.unmount(mountPoint);
    const left = await this.mounter.mountPointsUnder(podDir);
    // removing a directory that still has a mount below it would delete what the mount shows
    if (left.length > 0) throw new VolumeSetupError('', `pod ${uid}: ${left.join(', ')} still mounted after unmount`);
    await rm(podDir, { recursive: true, force: true });
    this.hostsFiles.delete(uid);
  }

  mountsFor(pod: Pod, container: Container, volumes: ReadonlyMap<string, string>, env?: readonly EnvVar[]): readonly HostMount[] {
    const uid = pod.metadata.uid ?? '';
    if (!isSafeSegment(uid)) throw new ContainerConfigError(`pod ${pod.metadata.name ?? ''} has no usable UID ${JSON.stringify(uid)}`);
    const plan = planContainerMounts({
      pod,
      container,
      volumes,
      ...(this.hostsFiles.has(uid) ? { etcHostsPath: this.paths.etcHosts(uid) } : {}),
      ...(env !== undefined ? { env } : {}),
    });
    for (const sp of plan.subPaths) {
      if (!prepareSubPath(sp.volumeRoot, posix.relative(sp.volumeRoot, sp.hostPath))) {
        throw new ContainerConfigError(`failed to prepare subPath for volumeMount ${JSON.stringify(sp.volume)} of container ${JSON.stringify(container.name)}`);
      }
    }
    const mounts = [...plan.mounts];
    const termination = this.terminationLogMount(uid, container);
    if (termination !== undefined) mounts.push(termination);
    return mounts;
  }

  private terminationLogMount(uid: string, container: Container): HostMount | undefined {
    const containerPath = terminationMessagePath(container);
    if (containerPath === '') return undefined;
    const dir = this.paths.containerDir(uid, container.name);
    const file = posix.join(dir, this.randomId());
    try {
      mkdirSync(dir, { recursive: true, mode: 0o750 });
      writeFileSync(file, '', { mode: 0o666 });
      // any user in the container must be able to write its termination message, whatever the umask
      chmodSync(file, 0o666);
    } catch (err) {
      // upstream starts the container without the file rather than failing it
      this.opts.log?.warn({ uid, container: container.name, err: errorMessage(err) }, 'cannot create termination-log file');
      return undefined;
    }
    return { hostPath: file, containerPath, readOnly: false };
  }

  /** Plans and applies every volume of `pod` (setUpPod's, or refreshVolumes' token volumes only). */
  private async project(pod: Pod, facts: PodRuntimeFacts, tokens: ReadonlyMap<string, FetchedToken>): Promise<Map<string, string>> {
    const uid = pod.metadata.uid ?? '';
    const objects = await this.fetchObjects(pod, tokens);
    const steps = planPodVolumes(pod, objects, this.paths, {
      facts,
      memoryBackedSecrets: this.opts.memoryBackedSecrets ?? true,
      ...(this.opts.nodeAllocatable !== undefined ? { nodeAllocatable: this.opts.nodeAllocatable } : {}),
    });
    await mkdir(this.paths.volumesDir(uid), { recursive: true, mode: 0o750 });
    const result = new Map<string, string>();
    for (const step of steps) {
      try {
        result.set(step.volume, await this.apply(step));
      } catch (err) {
        this.writtenTokens.delete(uid);
        if (err instanceof VolumeSetupError) throw err;
        throw new VolumeSetupError(step.volume, errorMessage(err), { cause: err });
      }
    }
    const signature = tokenSignature(tokens);
    if (signature !== undefined && tokens.size > 0) this.writtenTokens.set(uid, signature);
    return result;
  }

  /** The pod's token for each projection; a failure is kept as the reason, for the plan to name the volume. */
  private async fetchTokens(pod: Pod, specs: readonly TokenSpec[]): Promise<Map<string, FetchedToken>> {
    const tokens = this.opts.tokens;
    const fetched = await Promise.all(
      specs.map(async (spec): Promise<[string, FetchedToken]> => {
        if (tokens === undefined) return [tokenKey(spec), { error: 'failed to fetch token: this kubelet has no API connection to request service account tokens' }];
        try {
          return [tokenKey(spec), { token: await tokens.get(pod, spec) }];
        } catch (err) {
          return [tokenKey(spec), { error: errorMessage(err) }];
        }
      }),
    );
    return new Map(fetched);
  }

  private async fetchObjects(pod: Pod, tokens: ReadonlyMap<string, FetchedToken>): Promise<VolumeObjects> {
    const ns = pod.metadata.namespace ?? '';
    const refs = volumeReferences(pod);
    try {
      const [cms, secrets] = await Promise.all([
        Promise.all(refs.configMaps.map(async (n) => [n, await this.opts.lookup.getConfigMap(ns, n)] as const)),
        Promise.all(refs.secrets.map(async (n) => [n, await this.opts.lookup.getSecret(ns, n)] as const)),
      ]);
      return { configMaps: new Map(cms), secrets: new Map(secrets), tokens };
    } catch (err) {
      throw new VolumeSetupError('', `cannot read the objects the volumes of pod ${ns}/${pod.metadata.name ?? ''} refer to: ${errorMessage(err)}`, { cause: err });
    }
  }

  private async apply(step: VolumeStep): Promise<string> {
    switch (step.kind) {
      case 'emptyDir':
        await this.ensureDir(step.dir, step.medium, step.sizeBytes);
        return step.dir;
      case 'hostPath':
        await ensureHostPath(step.path, step.type);
        return step.path;
      case 'files':
        await this.ensureDir(step.dir, step.medium, step.sizeBytes);
        await writeAtomically(step.dir, step.files, this.opts.clock);
        return step.dir;
      default: {
        const never: never = step;
        throw new Error(`unknown volume step ${JSON.stringify(never)}`);
      }
    }
  }

  /** The volume directory, on tmpfs for memory-backed volumes, world-writable like upstream's emptyDir. */
  private async ensureDir(dir: string, medium: 'disk' | 'memory', sizeBytes: number | undefined): Promise<void> {
    await mkdir(dir, { recursive: true });
    if (medium === 'memory' && !(await this.mounter.mountPointsUnder(dir)).includes(dir)) {
      await this.mounter.mountTmpfs(dir, sizeBytes);
    }
    const st = await stat(dir);
    if ((st.mode & EMPTY_DIR_MODE) !== EMPTY_DIR_MODE) await chmod(dir, EMPTY_DIR_MODE);
  }
}

/** The tokens of a pod's volumes as one string to compare; undefined when one of them is missing. */
function tokenSignature(tokens: ReadonlyMap<string, FetchedToken>): string | undefined {
  const parts: string[] = [];
  for (const [key, t] of tokens) {
    if ('error' in t) return undefined;
    parts.push(key, t.token);
  }
  return JSON.stringify(parts);
}

/**
 * Rewrites the hosts file in place, as upstream does: running containers bind-mounted this inode, so a
 * rename would hide the update from them. Unchanged content is not rewritten at all.
 */
async function writeHostsFile(path: string, content: string, mode: number): Promise<void> {
  const current = await readFile(path, 'utf8').catch(() => undefined);
  if (current !== content) await writeFile(path, content, { mode });
  await chmod(path, mode);
}

/**
 * Creates `sub` below `root` one component at a time, never following a symlink that leads out of
 * `root` (a container could plant one in an emptyDir to reach the host). New directories copy the
 * root's mode, as upstream does. Returns false when the path escapes the volume.
 */
export function prepareSubPath(root: string, sub: string): boolean {
  try {
    return prepareSubPathUnsafe(root, sub);
  } catch {
    // a dangling link, a loop, a permission problem: upstream reports them all the same way
    return false;
  }
}

function prepareSubPathUnsafe(root: string, sub: string): boolean {
  const realRoot = realpathSync(root);
  const inside = (p: string): boolean => p === realRoot || p.startsWith(`${realRoot}/`);
  const mode = statSync(root).mode & 0o7777;
  let current = root;
  for (const part of sub.split('/').filter((p) => p !== '' && p !== '.')) {
    current = posix.join(current, part);
    let exists = true;
    try {
      lstatSync(current);
    } catch {
      exists = false;
    }
    if (!exists) {
      mkdirSync(current, { mode });
      chmodSync(current, mode);
    }
    if (!inside(realpathSync(current))) return false;
  }
  return inside(realpathSync(current));
}
