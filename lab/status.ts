/**
 * `knode lab status`: what the state file says, checked against the machine: do the namespaces and
 * the root link exist, are the recorded processes alive (pid + start time), and, when the apiserver
 * answers, which nodes are registered and Ready. Read-only. Cost: a few /proc and /sys reads and one
 * API call (2 s timeout).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { listNodes } from './kube-api.js';
import type { NodeReadiness } from './kube-api.js';
import { isAlive, netnsPath } from './processes.js';
import { readLabState } from './state.js';
import type { LabPhase } from './state.js';

export interface HostStatus {
  readonly name: string;
  readonly role: string;
  readonly netns: string;
  readonly netnsExists: boolean;
  readonly address: string;
  readonly podCidr?: string;
}

export interface ProcessStatus {
  readonly host: string;
  readonly kind: string;
  /** etcd only: the member's name. */
  readonly member?: string;
  readonly pid: number;
  readonly alive: boolean;
  readonly logFile: string;
}

export interface LabStatus {
  readonly name: string;
  readonly stateDir: string;
  readonly phase: LabPhase;
  readonly error?: string;
  readonly upSeconds?: number;
  readonly underlay: string;
  readonly root: { readonly link: string; readonly address: string; readonly exists: boolean };
  readonly switchNetns: { readonly name: string; readonly exists: boolean };
  readonly hosts: readonly HostStatus[];
  readonly processes: readonly ProcessStatus[];
  readonly api: { readonly url: string; readonly kubeconfig: string };
  /** The etcd cluster the server stores everything in; absent: the server's embedded store. */
  readonly etcd?: { readonly members: readonly string[]; readonly endpoints: readonly string[] };
  readonly cni: string;
  readonly bootstrapToken: string;
  /** Nodes from the API, or why they could not be read. */
  readonly nodes: readonly NodeReadiness[] | { readonly error: string };
}

/** The lab's status, or undefined when it has no state file (no lab). */
export async function labStatus(stateDir: string): Promise<LabStatus | undefined> {
  const state = await readLabState(stateDir);
  if (state === undefined) return undefined;
  const plan = state.plan;
  const processes: ProcessStatus[] = [];
  for (const p of state.processes) {
    processes.push({ host: p.host, kind: p.kind, ...(p.member !== undefined ? { member: p.member } : {}), pid: p.pid, alive: await isAlive(p), logFile: p.logFile });
  }
  let nodes: LabStatus['nodes'];
  const serverUp = processes.some((p) => p.kind === 'server' && p.alive);
  if (!serverUp) nodes = { error: 'the server is not running' };
  else {
    try {
      nodes = await listNodes(plan.api.kubeconfig, 2_000);
    } catch (err) {
      nodes = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  return {
    name: state.name,
    stateDir,
    phase: state.phase,
    ...(state.error !== undefined ? { error: state.error } : {}),
    ...(state.upSeconds !== undefined ? { upSeconds: state.upSeconds } : {}),
    underlay: plan.underlay,
    root: { link: plan.root.link, address: plan.root.address, exists: existsSync(join('/sys/class/net', plan.root.link)) },
    switchNetns: { name: plan.switchNetns, exists: existsSync(netnsPath(plan.switchNetns)) },
    hosts: plan.hosts.map((h) => ({
      name: h.name,
      role: h.role,
      netns: h.netns,
      netnsExists: existsSync(netnsPath(h.netns)),
      address: h.address,
      ...(h.podCidr !== undefined ? { podCidr: h.podCidr } : {}),
    })),
    processes,
    api: { url: plan.api.url, kubeconfig: plan.api.kubeconfig },
    ...(plan.etcd !== undefined ? { etcd: { members: plan.etcd.members.map((m) => m.name), endpoints: plan.etcd.endpoints } } : {}),
    cni: plan.cni.description,
    bootstrapToken: plan.bootstrapToken,
    nodes,
  };
}

function table(rows: readonly (readonly string[])[]): string[] {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd());
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'MISSING');

/** Human-readable status, as `knode lab status` prints it. */
export function formatStatus(s: LabStatus): string {
  const lines = [
    `lab ${s.name}: ${s.phase}${s.upSeconds !== undefined ? ` (up took ${s.upSeconds}s)` : ''}${s.error !== undefined ? `: ${s.error}` : ''}`,
    `state dir   ${s.stateDir}`,
    `underlay    ${s.underlay}; root ns: ${s.root.link} ${s.root.address} (${s.root.exists ? 'present' : 'MISSING'}); switch ${s.switchNetns.name} (${s.switchNetns.exists ? 'present' : 'MISSING'})`,
    `apiserver   ${s.api.url}; kubeconfig ${s.api.kubeconfig}`,
    `store       ${s.etcd !== undefined ? `etcd, ${s.etcd.members.length} member${s.etcd.members.length === 1 ? '' : 's'}: ${s.etcd.endpoints.join(', ')}` : 'embedded (SQLite in the server\'s data dir)'}`,
    `pod network ${s.cni}`,
    `join token  ${s.bootstrapToken}`,
    '',
    ...table([
      ['HOST', 'ROLE', 'NAMESPACE', 'NETNS', 'ADDRESS', 'PODS'],
      ...s.hosts.map((h) => [h.name, h.role, h.netns, yesNo(h.netnsExists), h.address, h.podCidr ?? '-']),
    ]),
    '',
    ...(s.processes.length > 0
      ? table([
          ['HOST', 'PROCESS', 'PID', 'ALIVE', 'LOG'],
          ...s.processes.map((p) => [p.host, p.member !== undefined ? `${p.kind} ${p.member}` : p.kind, String(p.pid), p.alive ? 'yes' : 'NO', p.logFile]),
        ])
      : ['no processes recorded']),
    '',
  ];
  if ('error' in s.nodes) lines.push(`nodes: unknown (${s.nodes.error})`);
  else if (s.nodes.length === 0) lines.push('nodes: none registered');
  else lines.push(...table([['NODE', 'READY'], ...s.nodes.map((n) => [n.name, n.ready])]));
  return `${lines.join('\n')}\n`;
}
