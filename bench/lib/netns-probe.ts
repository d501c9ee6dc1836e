/**
 * Read-only look-ups in a network namespace for the network benches: a link's MTU, the VXLAN links
 * present, the route the kernel picks to an address, and where a pod's netns is. Every query is one
 * `nsenter --net=<path> ip -j ...` (a netlink socket acts in the netns of its process, and Node
 * cannot setns), so the namespace is always an explicit path argument. Nothing here changes state.
 *
 * A pod's netns comes from containerd through the CRI: PodSandboxStatus with verbose=true returns
 * `info.info`, containerd's JSON with the sandbox's `pid` and its OCI `runtimeSpec`, whose network
 * namespace entry carries the bind-mounted netns path (containerd 1.6 puts it under its --state dir).
 * When that path is missing the pause process's `/proc/<pid>/ns/net` names the same namespace.
 */
import { existsSync } from 'node:fs';
import type { RuntimeService } from '../../kubelet/cri/services.js';
import { mustRun, realExec } from '../../lib/exec.js';
import type { Exec } from '../../lib/exec.js';

/** The path of a named netns (`ip netns add` bind-mounts them here). */
export function namedNetnsPath(name: string): string {
  return `/run/netns/${name}`;
}

async function ipJson(netnsPath: string, args: readonly string[], exec: Exec): Promise<unknown> {
  const r = await mustRun(exec, ['nsenter', `--net=${netnsPath}`, 'ip', '-j', ...args], { timeoutMs: 10_000 });
  const text = r.stdout.trim();
  return text === '' ? [] : (JSON.parse(text) as unknown);
}

function records(v: unknown): Record<string, unknown>[] {
  return Array.isArray(v) ? v.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
}

/** The MTU of `ifname` in the netns, or undefined when there is no such link. */
export async function linkMtu(netnsPath: string, ifname: string, exec: Exec = realExec): Promise<number | undefined> {
  const links = records(await ipJson(netnsPath, ['link', 'show'], exec));
  const link = links.find((l) => l['ifname'] === ifname);
  const mtu = link?.['mtu'];
  return typeof mtu === 'number' ? mtu : undefined;
}

export interface VxlanLink {
  readonly ifname: string;
  readonly mtu: number;
  /** The VNI, when `ip -d` reports it. */
  readonly vni?: number;
}

/** Every VXLAN link in the netns. */
export async function vxlanLinks(netnsPath: string, exec: Exec = realExec): Promise<VxlanLink[]> {
  const links = records(await ipJson(netnsPath, ['-d', 'link', 'show', 'type', 'vxlan'], exec));
  return links.map((l) => {
    const data = (l['linkinfo'] as { info_data?: { id?: unknown } } | undefined)?.info_data;
    const vni = typeof data?.id === 'number' ? data.id : undefined;
    return { ifname: String(l['ifname']), mtu: typeof l['mtu'] === 'number' ? l['mtu'] : Number.NaN, ...(vni !== undefined ? { vni } : {}) };
  });
}

export interface RouteChoice {
  readonly dev: string;
  readonly gateway?: string;
}

/** `ip route get <dst>` in the netns: the device (and gateway) the kernel would use. */
export async function routeTo(netnsPath: string, dst: string, exec: Exec = realExec): Promise<RouteChoice | undefined> {
  const r = records(await ipJson(netnsPath, ['route', 'get', dst], exec))[0];
  if (r === undefined || typeof r['dev'] !== 'string') return undefined;
  return { dev: r['dev'], ...(typeof r['gateway'] === 'string' ? { gateway: r['gateway'] } : {}) };
}

export interface PodNetns {
  readonly sandboxId: string;
  /** A path nsenter --net accepts. */
  readonly path: string;
  /** Where the path came from. */
  readonly source: 'runtimeSpec' | 'pid';
  readonly pid?: number;
}

/** Extracts the netns path and the sandbox pid from containerd's verbose `info` JSON. */
export function parseSandboxInfo(infoJson: string): { netnsPath?: string; pid?: number } {
  const doc = JSON.parse(infoJson) as { pid?: unknown; runtimeSpec?: { linux?: { namespaces?: unknown } } };
  const pid = typeof doc.pid === 'number' && doc.pid > 0 ? doc.pid : undefined;
  const ns = records(doc.runtimeSpec?.linux?.namespaces).find((n) => n['type'] === 'network');
  const netnsPath = typeof ns?.['path'] === 'string' && ns['path'] !== '' ? ns['path'] : undefined;
  return { ...(netnsPath !== undefined ? { netnsPath } : {}), ...(pid !== undefined ? { pid } : {}) };
}

/** Finds the ready sandbox of the pod with `podUid` (the kubelet's `io.kubernetes.pod.uid` label). */
export async function findPodNetns(runtime: RuntimeService, podUid: string): Promise<PodNetns> {
  const list = await runtime.listPodSandbox({ filter: { labelSelector: { 'io.kubernetes.pod.uid': podUid }, state: { state: 'SANDBOX_READY' } } });
  const sandbox = list.items[0];
  if (sandbox === undefined) throw new Error(`no ready sandbox for pod uid ${podUid}`);
  const status = await runtime.podSandboxStatus({ podSandboxId: sandbox.id, verbose: true });
  const info = status.info['info'];
  if (info === undefined) throw new Error(`PodSandboxStatus(verbose) of ${sandbox.id} has no info.info (keys: ${Object.keys(status.info).join(', ') || 'none'})`);
  const { netnsPath, pid } = parseSandboxInfo(info);
  if (netnsPath !== undefined && existsSync(netnsPath)) return { sandboxId: sandbox.id, path: netnsPath, source: 'runtimeSpec', ...(pid !== undefined ? { pid } : {}) };
  if (pid !== undefined && existsSync(`/proc/${pid}/ns/net`)) return { sandboxId: sandbox.id, path: `/proc/${pid}/ns/net`, source: 'pid', pid };
  throw new Error(`sandbox ${sandbox.id}: neither a netns path nor a live pid in containerd's info`);
}
