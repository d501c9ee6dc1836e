/**
 * Static pods: pod manifests in a directory (`--pod-manifest-path`) that this kubelet runs on its own,
 * whatever the apiserver says, as upstream's file source (pkg/kubelet/config/file.go) does:
 * - every regular file not starting with `.` is read, in name order, without recursing; YAML or JSON;
 *   a file may hold several YAML documents (knode extension; upstream reads one pod per file);
 * - each pod gets a deterministic UID, md5(`host:<node>` `file:<path>` + the manifest's content), so an
 *   unchanged file keeps its pod across rescans and agent restarts and an edited one is a new pod;
 *   name `<name>-<node>`, namespace `default` when absent, spec.nodeName, annotations
 *   kubernetes.io/config.source=file, config.hash=<uid>, config.seen=<first seen>, a NoExecute
 *   toleration of every taint (so node problems never evict it), then API defaults and validation;
 * - a file that does not parse or validate is logged with its name and skipped (the others still run);
 *   the second definition of one namespace/name is skipped the same way;
 * - the directory is watched (fs.watch) and rescanned every 20 s anyway (upstream's
 *   --file-check-frequency), since inotify misses events on some filesystems and editors.
 * The rest of the kubelet consumes the pods through `onChange(pods)`: the full set, called on the first
 * scan (even empty, so the kubelet knows the source has been seen) and whenever the set changes.
 * Cost model: a scan reads every manifest (a few KB each); scans are coalesced, never concurrent.
 */
import { createHash } from 'node:crypto';
import type { FSWatcher } from 'node:fs';
import { watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { formatFieldError } from '../api/field-errors.js';
import { defaultPod, validatePod } from '../api/core/pod.js';
import type { Pod, Toleration } from '../api/core/pod.js';
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { silentLogger } from '../lib/log.js';
import { KubeletError } from './errors.js';

export const ANNOTATION_CONFIG_SOURCE = 'kubernetes.io/config.source';
export const ANNOTATION_CONFIG_HASH = 'kubernetes.io/config.hash';
export const ANNOTATION_CONFIG_SEEN = 'kubernetes.io/config.seen';
export const ANNOTATION_CONFIG_MIRROR = 'kubernetes.io/config.mirror';
export const CONFIG_SOURCE_FILE = 'file';

/** A manifest that cannot become a pod; `file` names it, the message says what to fix. */
export class StaticPodManifestError extends KubeletError {
  constructor(
    readonly file: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBELET_STATIC_POD_MANIFEST', `${file}: ${message}`, options);
  }
}

export interface ManifestFile {
  readonly path: string;
  readonly content: string;
}

export interface StaticPodsResult {
  readonly pods: readonly Pod[];
  readonly errors: readonly StaticPodManifestError[];
}

// ---- pure ---------------------------------------------------------------------------------------

/** The documents of a manifest (YAML, of which JSON is a subset); empty documents are skipped. */
export function decodeManifest(file: ManifestFile): unknown[] {
  const docs = parseAllDocuments(file.content);
  if (!Array.isArray(docs)) return []; // an empty stream
  const out: unknown[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err !== undefined) throw new StaticPodManifestError(file.path, `cannot parse YAML/JSON: ${err.message.split('\n')[0] ?? err.message}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** JSON with object keys sorted: the same manifest content hashes the same however keys were ordered. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** Upstream's file-source UID: md5 over the host, the file and the pod as written. */
export function staticPodUid(nodeName: string, source: string, manifest: unknown): string {
  return createHash('md5').update(`host:${nodeName}`).update(`file:${source}`).update(canonicalJson(manifest)).digest('hex');
}

/** Go's time.RFC3339Nano: fraction digits without trailing zeros. */
export function rfc3339Nano(d: Date): string {
  return d.toISOString().replace(/\.(\d*?)0*Z$/, (_m, frac: string) => (frac === '' ? 'Z' : `.${frac}Z`));
}

export interface StaticPodParams {
  readonly nodeName: string;
  /** The manifest's path: part of the UID. */
  readonly source: string;
  /** kubernetes.io/config.seen, or how to find it from the UID; omitted when undefined. */
  readonly seen?: string | ((uid: string) => string);
}

const TOLERATE_ALL_NO_EXECUTE: Toleration = { operator: 'Exists', effect: 'NoExecute' };

/** One manifest document -> the static pod the kubelet runs. Throws StaticPodManifestError. */
export function buildStaticPod(doc: unknown, p: StaticPodParams): Pod {
  const fail = (msg: string): never => {
    throw new StaticPodManifestError(p.source, msg);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return fail('a manifest must be a Pod object');
  const raw = doc as Partial<Pod> & { readonly kind?: unknown; readonly apiVersion?: unknown };
  if (raw.kind === undefined) return fail("Object 'Kind' is missing");
  if (raw.kind !== 'Pod' || raw.apiVersion !== 'v1') return fail(`expected a v1 Pod, got ${String(raw.apiVersion)}/${String(raw.kind)}`);
  const meta = raw.metadata ?? {};
  if (typeof meta.name !== 'string' || meta.name === '') return fail('metadata.name: Required value');

  const uid = meta.uid !== undefined && meta.uid !== '' ? meta.uid : staticPodUid(p.nodeName, p.source, doc);
  const seen = typeof p.seen === 'function' ? p.seen(uid) : p.seen;
  const tolerations = raw.spec?.tolerations ?? [];
  const hasTolerateAll = tolerations.some((t) => t.operator === 'Exists' && t.key === undefined && t.effect === 'NoExecute');
  const pod: Pod = {
    ...raw,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      uid,
      // upstream lower-cases the node name: pod names must be DNS subdomains
      name: `${meta.name}-${p.nodeName.toLowerCase()}`,
      namespace: meta.namespace !== undefined && meta.namespace !== '' ? meta.namespace : 'default',
      annotations: {
        ...meta.annotations,
        [ANNOTATION_CONFIG_HASH]: uid,
        [ANNOTATION_CONFIG_SOURCE]: CONFIG_SOURCE_FILE,
        ...(seen !== undefined ? { [ANNOTATION_CONFIG_SEEN]: seen } : {}),
      },
    },
    spec: {
      ...(raw.spec ?? { containers: [] }),
      nodeName: p.nodeName,
      tolerations: hasTolerateAll ? tolerations : [...tolerations, TOLERATE_ALL_NO_EXECUTE],
    },
    status: { phase: 'Pending' },
  };
  const defaulted = withoutDefaultServiceAccount(defaultPod(pod), raw);
  const errs = validatePod(defaulted);
  if (errs.length > 0) fail(`invalid pod: ${errs.map(formatFieldError).join('; ')}`);
  return defaulted;
}

/**
 * knode's defaultPod fills serviceAccountName, which upstream does in ServiceAccount admission, and
 * upstream forbids on mirror pods: a static pod keeps only what its manifest said.
 */
function withoutDefaultServiceAccount(pod: Pod, raw: Partial<Pod>): Pod {
  const spec = pod.spec;
  if (spec === undefined) return pod;
  const { serviceAccountName, serviceAccount, ...rest } = spec;
  return {
    ...pod,
    spec: {
      ...rest,
      ...(raw.spec?.serviceAccountName !== undefined && serviceAccountName !== undefined ? { serviceAccountName } : {}),
      ...(raw.spec?.serviceAccount !== undefined && serviceAccount !== undefined ? { serviceAccount } : {}),
    },
  };
}

/**
 * Every manifest -> pods, in file order; broken files and duplicates become errors. `seen` maps UIDs
 * already known to their config.seen value (kept stable across rescans); new UIDs get `now`.
 */
export function computeStaticPods(files: readonly ManifestFile[], nodeName: string, seen: ReadonlyMap<string, string>, now: Date): StaticPodsResult {
  const pods: Pod[] = [];
  const errors: StaticPodManifestError[] = [];
  const owner = new Map<string, string>();
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    let built: Pod[];
    try {
      const seenFor = (uid: string): string => seen.get(uid) ?? rfc3339Nano(now);
      built = decodeManifest(file).map((doc) => buildStaticPod(doc, { nodeName, source: file.path, seen: seenFor }));
    } catch (err) {
      errors.push(err instanceof StaticPodManifestError ? err : new StaticPodManifestError(file.path, String(err), { cause: err }));
      continue;
    }
    for (const pod of built) {
      const key = `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
      const first = owner.get(key);
      if (first !== undefined) {
        errors.push(new StaticPodManifestError(file.path, `duplicate pod ${key}, already defined in ${first}; skipped`));
        continue;
      }
      owner.set(key, file.path);
      pods.push(pod);
    }
  }
  return { pods, errors };
}

// ---- effects ------------------------------------------------------------------------------------

/** The manifests of `dir` (regular files, no dotfiles, no recursion); undefined when the dir is missing. */
export async function readManifestDir(dir: string): Promise<ManifestFile[] | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const files: ManifestFile[] = [];
  for (const name of names.filter((n) => !n.startsWith('.')).sort()) {
    const path = join(dir, name);
    try {
      // stat follows symlinks, as upstream's does: a link to a manifest counts
      if (!(await stat(path)).isFile()) continue;
      files.push({ path, content: await readFile(path, 'utf8') });
    } catch {
      // removed between readdir and read: the next scan sees the directory as it is then
    }
  }
  return files;
}

export interface StaticPodSourceOptions {
  readonly dir: string;
  readonly nodeName: string;
  readonly onChange: (pods: readonly Pod[]) => void | Promise<void>;
  readonly clock?: Clock;
  readonly log?: Logger;
  /** Default 20 s (upstream --file-check-frequency). */
  readonly rescanIntervalMs?: number;
  /** Default true; tests of the periodic rescan turn it off. */
  readonly watch?: boolean;
}

export class StaticPodSource {
  private current: readonly Pod[] = [];
  private fingerprint: string | undefined;
  private seen = new Map<string, string>();
  private inFlight: Promise<void> | undefined;
  private again = false;
  private watcher: FSWatcher | undefined;
  private readonly clock: Clock;
  private readonly log: Logger;

  constructor(private readonly opts: StaticPodSourceOptions) {
    this.clock = opts.clock ?? realClock;
    this.log = (opts.log ?? silentLogger()).child({ component: 'static-pods', dir: opts.dir });
  }

  get pods(): readonly Pod[] {
    return this.current;
  }

  /** Scans now, watches, rescans periodically until aborted. Never throws. */
  async run(signal: AbortSignal): Promise<void> {
    await this.rescan();
    try {
      while (!signal.aborted) {
        if (this.opts.watch !== false) this.ensureWatch();
        try {
          await this.clock.sleep(this.opts.rescanIntervalMs ?? 20_000, signal);
        } catch {
          break;
        }
        await this.rescan();
      }
    } finally {
      this.watcher?.close();
      this.watcher = undefined;
      // a scan a watch event started must not call onChange after run() has returned
      await this.inFlight;
    }
  }

  /** One scan; a call during a scan makes that scan run once more instead of overlapping it. */
  rescan(): Promise<void> {
    if (this.inFlight !== undefined) {
      this.again = true;
      return this.inFlight;
    }
    this.inFlight = (async () => {
      do {
        this.again = false;
        await this.scanOnce();
      } while (this.again);
    })().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async scanOnce(): Promise<void> {
    let files: ManifestFile[] | undefined;
    try {
      files = await readManifestDir(this.opts.dir);
    } catch (err) {
      this.log.error({ err: String(err) }, 'cannot read the static pod manifest directory');
      return;
    }
    if (files === undefined) this.log.debug('static pod manifest directory does not exist (yet)');
    const result = computeStaticPods(files ?? [], this.opts.nodeName, this.seen, this.clock.now());
    for (const e of result.errors) this.log.warn({ file: e.file, err: e.message }, 'skipping static pod manifest');
    this.seen = new Map(result.pods.map((p) => [p.metadata.uid ?? '', p.metadata.annotations?.[ANNOTATION_CONFIG_SEEN] ?? '']));
    const fingerprint = result.pods.map((p) => p.metadata.uid ?? '').join(',');
    if (fingerprint === this.fingerprint) return;
    this.fingerprint = fingerprint;
    this.current = result.pods;
    this.log.info({ pods: result.pods.map((p) => `${p.metadata.namespace ?? ''}/${p.metadata.name ?? ''}`) }, 'static pods changed');
    try {
      await this.opts.onChange(result.pods);
    } catch (err) {
      this.log.error({ err: String(err) }, 'static pod consumer failed');
    }
  }

  private ensureWatch(): void {
    if (this.watcher !== undefined) return;
    try {
      const w = watch(this.opts.dir, { persistent: false }, () => {
        void this.rescan();
      });
      w.on('error', (err) => {
        this.log.warn({ err: String(err) }, 'watch of the manifest directory failed; relying on rescans');
        w.close();
        if (this.watcher === w) this.watcher = undefined;
      });
      this.watcher = w;
    } catch {
      // missing directory: the periodic rescan tries again
    }
  }
}
