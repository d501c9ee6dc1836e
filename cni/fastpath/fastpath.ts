/**
 * The node agent's side of the pod fast path (fastpath.bpf.c; design in README.md beside this file).
 * Node.js cannot hold a BPF file descriptor, so every kernel step is one run of the C helper
 * `knode-fastpath` (knode-fastpath.c); what it sets up lives on in bpffs pins and tc filters.
 *
 *   load       at agent start: the programs and maps pinned under the node's bpffs directory (maps of
 *              an earlier start are reused, so pods keep their entries across agent restarts);
 *   configure  once the node's pod CIDR and underlay are known (the overlay agent): the settings, and
 *              from_underlay on the underlay link;
 *   setPeers   whenever the overlay agent has programmed the VXLAN device's FDB: the same entries
 *              (VTEP MAC -> underlay IP) in the map from_pod encapsulates with;
 *   addPod / removePod
 *              at CNI ADD / DEL / GC (the plugin): from_pod on the pod's host veth, the pod in the map;
 *   reconcile  after the CNI GC at start: every pod of the IPAM store whose veth exists is (re)attached,
 *              map entries of pods that are gone are removed.
 *
 * The fast path is an optimisation: a pod it does not know, or a node where it failed to load, uses
 * the normal path (bridge, IP forwarding, VXLAN device), which is always set up. So addPod never
 * fails an ADD: a failure is logged and counted, and the pod works on the normal path.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import type { Registry } from 'prom-client';
import type { Exec } from '../../lib/exec.js';
import { mustRun } from '../../lib/exec.js';
import type { Logger } from '../../lib/log.js';
import type { AttachmentRecord } from '../ipam/store.js';
import { hostVethMac, podMac } from '../names.js';

export const HELPER_NAME = 'knode-fastpath';
export const OBJECT_NAME = 'fastpath.bpf.o';
const HELPER_TIMEOUT_MS = 10_000;

/**
 * The helper and the object the build made (dist/cni/fastpath/), for a module one level below the
 * project root or below dist/ (as builtPluginPath in ../install.ts).
 */
export function builtFastPathFiles(moduleFile: string): { helper: string; object: string } {
  const up = resolve(dirname(moduleFile), '..');
  const base = basename(up) === 'dist' ? join(up, 'cni', 'fastpath') : join(up, 'dist', 'cni', 'fastpath');
  return { helper: join(base, HELPER_NAME), object: join(base, OBJECT_NAME) };
}

/** Why the fast path cannot be loaded from these files, or undefined when both exist. */
export function missingFastPathFiles(files: { helper: string; object: string }): string | undefined {
  const missing = [files.helper, files.object].filter((f) => !existsSync(f));
  return missing.length === 0 ? undefined : `not built (${missing.join(', ')} missing: the build needs clang and libbpf-dev)`;
}

/** What the programs need to know about the node. */
export interface FastPathNetwork {
  readonly clusterCIDR: string;
  readonly podCIDR: string;
  readonly nodeIP: string;
  /** The VXLAN device (from_pod only redirects packets whose route leaves through it). */
  readonly device: string;
  readonly vni: number;
  readonly port: number;
  /** The underlay link, where from_underlay decapsulates. */
  readonly underlay: string;
}

/** A pod as the map holds it. */
export interface FastPathPod {
  readonly ip: string;
  readonly hostVeth: string;
  readonly podMac: string;
  readonly hostMac: string;
}

/** What the CNI plugin needs (PluginDeps.fastPath). Neither call throws. */
export interface PodFastPath {
  addPod(pod: FastPathPod): Promise<void>;
  removePod(ip: string): Promise<void>;
}

/** Another node's VTEP, as the VXLAN device's FDB holds it. */
export interface FastPathPeer {
  readonly mac: string;
  readonly ip: string;
}

export interface MapEntry {
  readonly ip: string;
  readonly ifindex: number;
  readonly podMac: string;
  readonly hostMac: string;
}

/** `knode-fastpath pods` output: `IP IFINDEX POD_MAC HOST_MAC` per line. */
export function parsePods(stdout: string): MapEntry[] {
  const out: MapEntry[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 4) continue;
    const [ip, ifindex, podMac, hostMac] = f as [string, string, string, string];
    out.push({ ip, ifindex: Number(ifindex), podMac, hostMac });
  }
  return out;
}

/** `knode-fastpath peers` output: `MAC IP` per line. */
export function parsePeers(stdout: string): FastPathPeer[] {
  const out: FastPathPeer[] = [];
  for (const line of stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length === 2) out.push({ mac: f[0] as string, ip: f[1] as string });
  }
  return out;
}

/** The argv of `knode-fastpath peers-set` (after the helper): the map becomes exactly these peers. */
export function peersArgv(dir: string, peers: readonly FastPathPeer[]): string[] {
  const pairs = peers.map((p) => `${p.mac.toLowerCase()}=${p.ip}`).sort();
  return ['peers-set', dir, ...pairs];
}

/** `knode-fastpath stats` output: `NAME VALUE` per line. */
export function parseStats(stdout: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of stdout.split('\n')) {
    const m = /^(\w+) (\d+)$/.exec(line.trim());
    if (m !== null) out.set(m[1] as string, Number(m[2]));
  }
  return out;
}

/**
 * What reconcile does: attach every known pod whose veth exists (attaching again is harmless and
 * picks up a program reloaded at this start), remove map entries of IPs no pod has.
 */
export function planReconcile(
  pods: readonly FastPathPod[],
  entries: readonly MapEntry[],
  links: ReadonlySet<string>,
): { attach: FastPathPod[]; remove: string[] } {
  const attach = pods.filter((p) => links.has(p.hostVeth));
  const live = new Set(attach.map((p) => p.ip));
  return { attach, remove: entries.filter((e) => !live.has(e.ip)).map((e) => e.ip) };
}

/** The argv of `knode-fastpath config` (after the helper). */
export function configArgv(dir: string, n: FastPathNetwork): string[] {
  return ['config', dir, n.clusterCIDR, n.podCIDR, n.nodeIP, n.device, String(n.vni), String(n.port)];
}

export interface FastPathOptions {
  readonly helper: string;
  readonly object: string;
  /** The bpffs directory of this node's pins. */
  readonly dir: string;
  readonly exec: Exec;
  readonly log: Logger;
  readonly registry?: Registry;
}

const STAT_LABELS: Readonly<Record<string, { program: string; action: string }>> = {
  pod_redirected: { program: 'from_pod', action: 'redirected' },
  pod_passed: { program: 'from_pod', action: 'passed' },
  pod_encapsulated: { program: 'from_pod', action: 'encapsulated' },
  underlay_redirected: { program: 'from_underlay', action: 'redirected' },
  underlay_passed: { program: 'from_underlay', action: 'passed' },
};

export class FastPath implements PodFastPath {
  private readonly o: FastPathOptions;
  private configured: string | undefined;
  private peersSet: string | undefined;
  private readonly failures?: Counter<'operation'>;

  constructor(o: FastPathOptions) {
    this.o = o;
    if (o.registry !== undefined) {
      const registers = [o.registry];
      this.failures = new Counter({
        name: 'knode_fastpath_failures_total',
        help: 'Fast path operations that failed (the pods concerned use the normal path)',
        labelNames: ['operation'],
        registers,
      });
      const self = this;
      new Gauge({
        name: 'knode_fastpath_packets',
        help: 'Packets the fast path programs redirected or left to the normal path, since they were loaded',
        labelNames: ['program', 'action'],
        registers,
        async collect() {
          const stats = await self.stats().catch(() => new Map<string, number>());
          for (const [name, value] of stats) {
            const labels = STAT_LABELS[name];
            if (labels !== undefined) this.set(labels, value);
          }
        },
      });
    }
  }

  private run(args: readonly string[], what: string): Promise<string> {
    return mustRun(this.o.exec, [this.o.helper, ...args], { timeoutMs: HELPER_TIMEOUT_MS }).then(
      (r) => r.stdout,
      (err: unknown) => {
        this.failures?.inc({ operation: what });
        throw err;
      },
    );
  }

  /** Loads (or reloads) the programs; throws with the helper's message. */
  async load(): Promise<void> {
    await this.run(['load', this.o.dir, this.o.object], 'load');
  }

  /** Writes the node's settings and attaches from_underlay, when they changed since the last call. */
  async configure(n: FastPathNetwork): Promise<void> {
    const key = JSON.stringify(n);
    if (key === this.configured) return;
    await this.run(configArgv(this.o.dir, n), 'configure');
    await this.run(['attach', this.o.dir, 'from_underlay', n.underlay], 'configure');
    this.configured = key;
    this.o.log.info({ ...n, dir: this.o.dir }, 'pod fast path enabled');
  }

  /** Makes the peer map exactly `peers` (when they changed since the last call); throws with the helper's message. */
  async setPeers(peers: readonly FastPathPeer[]): Promise<void> {
    const argv = peersArgv(this.o.dir, peers);
    const key = argv.join(' ');
    if (key === this.peersSet) return;
    await this.run(argv, 'set_peers');
    this.peersSet = key;
    this.o.log.info({ peers: peers.length }, 'fast path peers set');
  }

  async peers(): Promise<FastPathPeer[]> {
    return parsePeers(await this.run(['peers', this.o.dir], 'list'));
  }

  async addPod(pod: FastPathPod): Promise<void> {
    try {
      await this.run(['pod-add', this.o.dir, pod.ip, pod.hostVeth, pod.podMac, pod.hostMac], 'add_pod');
    } catch (err) {
      this.o.log.warn({ ip: pod.ip, hostVeth: pod.hostVeth, err: errText(err) }, 'pod left on the normal path: the fast path could not take it');
    }
  }

  async removePod(ip: string): Promise<void> {
    try {
      await this.run(['pod-del', this.o.dir, ip], 'remove_pod');
    } catch (err) {
      this.o.log.warn({ ip, err: errText(err) }, 'could not remove a pod from the fast path map (the next agent start does)');
    }
  }

  async pods(): Promise<MapEntry[]> {
    return parsePods(await this.run(['pods', this.o.dir], 'list'));
  }

  async stats(): Promise<Map<string, number>> {
    return parseStats(await this.run(['stats', this.o.dir], 'stats'));
  }

  /** See planReconcile. Never throws: a failure leaves pods on the normal path and is logged. */
  async reconcile(pods: readonly FastPathPod[], links: ReadonlySet<string>): Promise<void> {
    try {
      const plan = planReconcile(pods, await this.pods(), links);
      for (const p of plan.attach) await this.addPod(p);
      for (const ip of plan.remove) await this.removePod(ip);
      this.o.log.info({ attached: plan.attach.length, removed: plan.remove.length }, 'reconciled the fast path with the pods of this node');
    } catch (err) {
      this.o.log.warn({ err: errText(err) }, 'could not reconcile the fast path; pods started from now on still use it');
    }
  }
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The agent's start: the fast path loaded from the built files, or undefined (logged, with the reason)
 * when they are missing or the kernel refuses them. Pods then use the normal path only.
 */
export async function loadFastPath(
  files: { helper: string; object: string },
  dir: string,
  deps: { exec: Exec; log: Logger; registry?: Registry },
): Promise<FastPath | undefined> {
  const missing = missingFastPathFiles(files);
  if (missing !== undefined) {
    deps.log.warn({ reason: missing }, 'pod fast path off: pods use the normal path (bridge, forwarding, VXLAN device)');
    return undefined;
  }
  const fp = new FastPath({ ...files, dir, ...deps });
  try {
    await fp.load();
  } catch (err) {
    deps.log.warn({ reason: errText(err) }, 'pod fast path off: it could not be loaded; pods use the normal path (bridge, forwarding, VXLAN device)');
    return undefined;
  }
  deps.log.info({ dir }, 'pod fast path loaded');
  return fp;
}

/**
 * `--no-fast-path` on a node where an earlier start loaded it: the filters on the pods' veths and the
 * underlay outlive the agent, so they are told to pass everything (`disable`). Nothing loaded: nothing
 * to do. Never throws.
 */
export async function disableFastPath(files: { helper: string }, dir: string, deps: { exec: Exec; log: Logger }): Promise<void> {
  if (!existsSync(files.helper) || !existsSync(`${dir}/maps/knode_config`)) return;
  const r = await deps.exec.run([files.helper, 'disable', dir], { timeoutMs: HELPER_TIMEOUT_MS }).catch((err: unknown) => ({ code: -1, stderr: errText(err), stdout: '' }));
  if (r.code === 0) deps.log.info({ dir }, 'pod fast path off (--no-fast-path): the programs an earlier start attached now pass every packet');
  else deps.log.warn({ dir, err: r.stderr.trim() }, 'could not disable the fast path an earlier start loaded');
}

/** The IPAM store's attachments as the fast path knows pods (MACs are derived as ADD chose them). */
export function fastPathPods(records: readonly AttachmentRecord[]): FastPathPod[] {
  return records.map((r) => ({ ip: r.ip, hostVeth: r.hostVeth, podMac: podMac(r.ip), hostMac: hostVethMac(r) }));
}
