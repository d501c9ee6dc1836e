/**
 * The pure half of `bench/sandbox-create.ts`: which CNI each phase runs, the reference network config,
 * how a probe sandbox's IP tells which config containerd has loaded, and the report. No I/O.
 *
 * Phase order is ABBA (knode, reference, reference, knode, ...): a drift of the machine's load during
 * the run (another job starting, page cache warming) then weighs on both sides alike, which a plain
 * ABAB order does not give when the drift is monotonic.
 */
import { join } from 'node:path';
import type { CniNodeInput } from '../../lab/cni-config.js';
import { referenceBridgeCni } from '../../lab/cni-config.js';
import { overlaps, parseIPv4, parsePrefix4 } from '../../lab/ipv4.js';
import { fmtMs, fmtRatio, summarize } from './stats.js';
import type { LatencySummary } from './stats.js';
import { renderTable } from './table.js';

export type PhaseCni = 'knode' | 'reference';

export const CNI_LABEL: Readonly<Record<PhaseCni, string>> = { knode: 'knode-cni', reference: 'bridge+host-local' };

/** `rounds` rounds of two phases each, alternating which side goes first (ABBA). */
export function planPhases(rounds: number): PhaseCni[] {
  const out: PhaseCni[] = [];
  for (let r = 0; r < rounds; r++) out.push(...(r % 2 === 0 ? (['knode', 'reference'] as const) : (['reference', 'knode'] as const)));
  return out;
}

export interface ReferenceNetwork {
  readonly lab: string;
  readonly host: string;
  /** The worker's state dir; host-local's reservations go under it, so `lab down` removes them. */
  readonly hostDir: string;
  /** Must not overlap the knode pod range, so a probe's IP tells the two configs apart. */
  readonly subnet: string;
  /** Must differ from knode-cni's `knode0`, so the two plugins never share a bridge. */
  readonly bridge: string;
}

/**
 * Debian's bridge + host-local conflist as the lab would write it (same network name, so `lab down`
 * finds containerd's CNI result cache files by the same prefix), on its own subnet, bridge and
 * IPAM dir.
 */
export function buildReferenceConf(net: ReferenceNetwork): string {
  const input: CniNodeInput = { lab: net.lab, host: net.host, podCidr: net.subnet, hostDir: net.hostDir };
  const doc = JSON.parse(referenceBridgeCni.buildConfig(input)) as { plugins: Array<Record<string, unknown> & { ipam: Record<string, unknown> }> };
  const bridge = doc.plugins[0];
  if (bridge === undefined) throw new Error('the reference CNI config has no plugin');
  bridge['bridge'] = net.bridge;
  bridge.ipam['dataDir'] = join(net.hostDir, 'cni', 'bench-reference-ipam');
  return `${JSON.stringify(doc, null, 2)}\n`;
}

/** Whether `ip` (a bare IPv4 address) lies in `cidr`; false for anything unparsable. */
export function ipInCidr(ip: string, cidr: string): boolean {
  const addr = parseIPv4(ip) === undefined ? undefined : parsePrefix4(ip);
  const net = parsePrefix4(cidr);
  return addr !== undefined && net !== undefined && overlaps(addr, net);
}

export interface PhaseResult {
  readonly cni: PhaseCni;
  /** Wall time of each RunPodSandbox call, ms. */
  readonly run: readonly number[];
  /** Wall time of each StopPodSandbox and RemovePodSandbox call (not part of the goal), ms. */
  readonly stop: readonly number[];
  readonly remove: readonly number[];
  /**
   * Busy time of all CPUs while the RunPodSandbox calls ran, in % of one core (200 = two cores busy):
   * tells a phase slowed by other work on the machine.
   */
  readonly machineBusyPercent?: number;
}

export interface SandboxReportInput {
  readonly sandboxes: number;
  readonly inFlight: number;
  readonly lab: string;
  readonly runtime: string;
  readonly referenceSubnet: string;
  readonly goalRatio: number;
  readonly cores: number;
  readonly phases: readonly PhaseResult[];
}

export interface SandboxVerdict {
  readonly knode: LatencySummary;
  readonly reference: LatencySummary;
  readonly p50Ratio: number;
  readonly p99Ratio: number;
  /** PASS when both ratios are at most the goal; n/a when a side has no samples. */
  readonly verdict: 'PASS' | 'MISS' | 'n/a';
}

function pooled(phases: readonly PhaseResult[], cni: PhaseCni, key: 'run' | 'stop' | 'remove'): number[] {
  return phases.filter((p) => p.cni === cni).flatMap((p) => p[key]);
}

export function judge(phases: readonly PhaseResult[], goalRatio: number): SandboxVerdict {
  const knode = summarize(pooled(phases, 'knode', 'run'));
  const reference = summarize(pooled(phases, 'reference', 'run'));
  const p50Ratio = knode.p50 / reference.p50;
  const p99Ratio = knode.p99 / reference.p99;
  const verdict = !Number.isFinite(p50Ratio) || !Number.isFinite(p99Ratio) ? 'n/a' : p50Ratio <= goalRatio && p99Ratio <= goalRatio ? 'PASS' : 'MISS';
  return { knode, reference, p50Ratio, p99Ratio, verdict };
}

function ratioVerdict(r: number, goal: number): string {
  return Number.isFinite(r) ? (r <= goal ? 'PASS' : 'MISS') : 'n/a';
}

export function renderSandboxReport(input: SandboxReportInput): string {
  const out: string[] = [];
  const order = input.phases.map((p) => (p.cni === 'knode' ? 'K' : 'R')).join('');
  out.push(
    `sandbox create: ${input.sandboxes} RunPodSandbox per phase, ${input.inFlight === 1 ? 'one at a time' : `${input.inFlight} in flight`}, phases ${order} (K = knode-cni, R = bridge+host-local on ${input.referenceSubnet}); lab ${input.lab}, ${input.runtime}`,
  );
  out.push('');
  const row = (label: string, cni: PhaseCni, run: readonly number[], stop: readonly number[], remove: readonly number[], busy?: number): string[] => {
    const s = summarize(run);
    const busyCell = busy !== undefined && Number.isFinite(busy) ? busy.toFixed(0) : '';
    return [label, CNI_LABEL[cni], String(s.count), fmtMs(s.p50), fmtMs(s.p99), fmtMs(s.mean), fmtMs(s.max), fmtMs(summarize(stop).p50), fmtMs(summarize(remove).p50), busyCell];
  };
  const rows = input.phases.map((p, i) => row(`phase ${i + 1}`, p.cni, p.run, p.stop, p.remove, p.machineBusyPercent));
  for (const cni of ['knode', 'reference'] as const) rows.push(row('all', cni, pooled(input.phases, cni, 'run'), pooled(input.phases, cni, 'stop'), pooled(input.phases, cni, 'remove')));
  out.push(
    renderTable(
      ['phase', 'CNI', 'n', 'run p50 ms', 'run p99 ms', 'run mean ms', 'run max ms', 'stop p50 ms', 'remove p50 ms', 'CPU busy %'],
      rows,
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push(`CPU busy %: all CPUs' busy time while the RunPodSandbox calls ran, in % of one core (this machine has ${input.cores}); compare runs whose phases are alike`);
  const v = judge(input.phases, input.goalRatio);
  out.push('');
  out.push(
    renderTable(
      ['knode-cni / reference (all phases pooled)', 'ratio', `goal <= ${input.goalRatio}`],
      [
        ['RunPodSandbox p50', fmtRatio(v.knode.p50, v.reference.p50), ratioVerdict(v.p50Ratio, input.goalRatio)],
        ['RunPodSandbox p99', fmtRatio(v.knode.p99, v.reference.p99), ratioVerdict(v.p99Ratio, input.goalRatio)],
        ['RunPodSandbox mean', fmtRatio(v.knode.mean, v.reference.mean), ''],
      ],
      ['left', 'right', 'left'],
    ),
  );
  out.push(`\nverdict (issue 4, sandbox creation ratio <= ${input.goalRatio} at p50 and p99): ${v.verdict}`);
  return out.join('\n');
}
