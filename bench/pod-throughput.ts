/**
 * `node dist/bench/pod-throughput.js`: cross-node pod-to-pod TCP throughput against the node-to-node
 * underlay, measured in the same run (issue 4; goal: pod-to-pod >= 0.9 x underlay).
 *
 * Brings up a two-worker lab (`knode lab up --nodes 2`, the built CLI), creates one pod bound to each
 * worker (testserver image, already imported) and waits for both to be Running with an IP. Then it
 * alternates R times (default 3) an underlay run and a pod run, so machine noise hits both alike:
 *   underlay: iperf3 -s -1 in w2's netns, iperf3 -c <w2 underlay address> -t S -J in w1's netns
 *   pod:      iperf3 -s -1 in the w2 pod's netns, iperf3 -c <that pod's IP> in the w1 pod's netns
 * iperf3 is Debian's, run through `nsenter --net=<path>` (the pods' images need none). The pods'
 * netns paths come from containerd (PodSandboxStatus verbose). The figure is the receiver's
 * bits/s (end.sum_received); the report gives the medians, their ratio and the goal verdict, with
 * the MTUs and the cross-node path in use (static routes or a VXLAN link such as `knode.1`), since
 * both decide the result: encapsulation costs 50 bytes of every 1500-byte packet plus the per-packet
 * work of the vxlan device. When the agents loaded the pod fast path (cni/fastpath/), a fourth leg
 * per round runs the pod path with it switched off on both nodes, so its gain is measured too.
 *
 * Both ends run on this machine, so a run is bounded by CPU (2 cores on the project VMs): each figure
 * is what the kernel path costs in CPU, not a wire speed. Compare the ratio, not the absolute values.
 *
 * A third leg per round runs the underlay with the pods' MSS (MTU - 52: IPv4 + TCP headers with
 * timestamps), so the report splits the gap into the MTU's share and the pod path's. Each figure also
 * carries the CPU time both iperf3 processes spent per received byte (from iperf3's rusage figures):
 * on a loaded 2-core machine bits/s swing by 2x with other work, the cost per byte much less.
 *
 * What was measured first (2 cores, load 4-6, kernel 6.x, before the fast path): the pods' 64 KB GSO
 * packets cross the VXLAN device, the veths and the switch unsegmented (tcpdump shows 64308-byte frames
 * on both underlay ends); the gap was the pod's own plumbing (a veth and the bridge knode0 with
 * br_netfilter on each node, IP forwarding with its hooks). The fast path skips all of that but the
 * pod's veth; bench/README.md has the figures.
 *
 * Flags: --seconds S (1..60, default 5), --runs R (1..20, default 3), --lab NAME (default bip),
 * --timeout S (default 180 + R x 4 x (S + 25), i.e. 540 s). Report on stdout, progress on stderr.
 * `lab down` runs on success, failure, Ctrl-C and the deadline; every iperf3 is bounded by a timer
 * and killed by pid. A lab of the same name that exists already is refused, never reused or removed.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import type { Pod } from '../api/core/pod.js';
import { connectCri } from '../kubelet/cri/connect.js';
import { labBpfDir } from '../lab/plan.js';
import { readLabState } from '../lab/state.js';
import type { LabHost } from '../lab/plan.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { Cleanup } from './lib/cleanup.js';
import { runIperfPair } from './lib/iperf.js';
import type { IperfResult } from './lib/iperf.js';
import { cliPath } from './lib/knode-server.js';
import { findPodNetns, linkMtu, namedNetnsPath, routeTo, vxlanLinks } from './lib/netns-probe.js';
import type { PodNetns, RouteChoice, VxlanLink } from './lib/netns-probe.js';
import { Progress } from './lib/progress.js';
import { median } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const IMAGE = 'knode.local/testserver:1.0';
const NAMESPACE = 'bench';
const GOAL_RATIO = 0.9;
const LAB_ROOT = '/var/lib/knode-lab';

interface Options {
  seconds: number;
  runs: number;
  lab: string;
  /** Default: room for the lab, the pods and every run with a margin (see deadlineSeconds). */
  timeout?: number;
}

/** Lab up + pods ~20 s, each iperf3 pair (4 legs a round) at most seconds + 25 s (client limit + server grace), lab down. */
function deadlineSeconds(o: Options): number {
  return o.timeout ?? 180 + o.runs * 4 * (o.seconds + 25);
}

/** The TCP MSS on a link of this MTU: IPv4 (20) + TCP (20) + timestamps option (12). */
export function mssForMtu(mtu: number): number {
  return mtu - 52;
}

/**
 * `underlay-mss` is the underlay with the pods' segment size (`iperf3 -M <pod MTU - 52>`): the reference
 * that tells the cost of the smaller MTU apart from the cost of the pod path itself. `pod-normal` is the
 * pod path with the fast path switched off on both nodes (`knode-fastpath disable`, then `enable`): what
 * the bridge, forwarding and VXLAN device path gives, in the same rounds.
 */
type PathKind = 'underlay' | 'underlay-mss' | 'pod' | 'pod-normal';

interface RunRecord {
  readonly kind: PathKind;
  readonly round: number;
  readonly result?: IperfResult;
  readonly error?: string;
  /** The 1-minute load average when the run ended. */
  readonly load: string;
}

function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return n;
  };
}

const FASTPATH_HELPER = join('dist', 'cni', 'fastpath', 'knode-fastpath');

/** Both nodes' fast path pins answer (the agents loaded it). */
function fastPathLoaded(lab: string, nodes: readonly string[]): boolean {
  if (!existsSync(FASTPATH_HELPER)) return false;
  return nodes.every((n) => {
    try {
      execFileSync(FASTPATH_HELPER, ['stats', labBpfDir(lab, n)], { stdio: 'ignore', timeout: 10_000 });
      return true;
    } catch {
      return false;
    }
  });
}

function switchFastPath(lab: string, nodes: readonly string[], how: 'enable' | 'disable'): void {
  for (const n of nodes) execFileSync(FASTPATH_HELPER, [how, labBpfDir(lab, n)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 10_000 });
}

function knode(args: readonly string[]): string {
  return execFileSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** A lab of that name already exists (state dir or any of its namespaces): never reuse or remove it. */
function labExists(name: string): boolean {
  if (existsSync(join(LAB_ROOT, name))) return true;
  const netnsDir = '/run/netns';
  return existsSync(netnsDir) && readdirSync(netnsDir).some((n) => n.startsWith(`knode-${name}-`));
}

/** The 1-minute load average: other work on the machine competes with iperf3 for the same CPUs. */
function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?';
  } catch {
    return '?';
  }
}

function podManifest(name: string, node: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: NAMESPACE, labels: { app: 'bench-throughput' } },
    spec: { nodeName: node, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: IMAGE, imagePullPolicy: 'IfNotPresent' }] },
  };
}

/** Polls until the pod is Running with an IP; returns it. */
async function waitRunning(client: KubeClient, name: string, timeoutMs: number): Promise<Pod> {
  const deadline = Date.now() + timeoutMs;
  let last: Pod | undefined;
  while (Date.now() < deadline) {
    last = await client.get<Pod>(resources.pods, name, { namespace: NAMESPACE });
    if (last.status?.phase === 'Running' && (last.status.podIP ?? '') !== '') return last;
    await sleep(200);
  }
  throw new Error(`pod ${NAMESPACE}/${name} not Running with an IP after ${timeoutMs / 1000} s (phase ${last?.status?.phase ?? 'unknown'})`);
}

const gbit = (bps: number): string => (Number.isFinite(bps) ? (bps / 1e9).toFixed(2) : '-');
const show = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '-' : String(v));

function describeRoute(r: RouteChoice | undefined): string {
  if (r === undefined) return 'no route';
  return `dev ${r.dev}${r.gateway !== undefined ? ` via ${r.gateway}` : ''}`;
}

function describeVxlan(links: readonly VxlanLink[]): string {
  if (links.length === 0) return 'none';
  return links.map((l) => `${l.ifname} (vni ${show(l.vni)}, mtu ${show(l.mtu)})`).join(', ');
}

interface PathFacts {
  readonly w1: LabHost;
  readonly w2: LabHost;
  readonly pod1: Pod;
  readonly pod2: Pod;
  readonly ns1: PodNetns;
  readonly ns2: PodNetns;
  readonly podMtu1?: number;
  readonly podMtu2?: number;
  readonly underlayMtu1?: number;
  readonly underlayMtu2?: number;
  readonly vxlan1: readonly VxlanLink[];
  readonly vxlan2: readonly VxlanLink[];
  readonly route1: RouteChoice | undefined;
  readonly route2: RouteChoice | undefined;
  /** Whether the agents loaded the pod fast path (its pins exist for both nodes). */
  readonly fastPath: boolean;
}

function pathName(f: PathFacts): string {
  const viaVxlan = f.route1 !== undefined && f.vxlan1.some((l) => l.ifname === f.route1?.dev);
  if (viaVxlan) return `VXLAN overlay (${f.route1?.dev ?? '?'})`;
  if (f.route1?.dev === 'eth0') return 'static routes over the underlay (no encapsulation)';
  return `other (${describeRoute(f.route1)})`;
}

function report(opts: Options, f: PathFacts, runs: readonly RunRecord[], load: { before: string; after: string }): string {
  const out: string[] = [];
  const ok = (k: PathKind): IperfResult[] => runs.filter((r) => r.kind === k && r.result !== undefined).map((r) => r.result as IperfResult);
  const failed = runs.filter((r) => r.error !== undefined);
  const pod2Ip = f.pod2.status?.podIP ?? '?';
  out.push(`pod-to-pod TCP throughput, cross-node (w1 -> w2), iperf3 -t ${opts.seconds}, ${opts.runs} runs each, alternating; knode lab ${opts.lab}`);
  out.push('');
  out.push(`cross-node pod path: ${pathName(f)}`);
  out.push(`  w1 route to ${pod2Ip}: ${describeRoute(f.route1)}; w2 route to ${f.pod1.status?.podIP ?? '?'}: ${describeRoute(f.route2)}`);
  out.push(`  vxlan links: w1 ${describeVxlan(f.vxlan1)}; w2 ${describeVxlan(f.vxlan2)}; knode.1 on w1: ${f.vxlan1.some((l) => l.ifname === 'knode.1') ? 'yes' : 'no'}`);
  out.push(`  MTU: pod eth0 ${show(f.podMtu1)} (w1) / ${show(f.podMtu2)} (w2); underlay eth0 ${show(f.underlayMtu1)} (w1) / ${show(f.underlayMtu2)} (w2)`);
  out.push(`  pod netns from containerd ${f.ns1.source}: ${f.ns1.path}`);
  out.push(`  pod fast path (cni/fastpath): ${f.fastPath ? 'on (the pod row); the fast-path-off row switches it off on both nodes' : 'off (not built or not loaded: see the agents\' logs)'}`);
  out.push('');
  const row = (name: string, target: string, rs: readonly IperfResult[]): string[] => {
    const bps = rs.map((r) => r.receivedBps);
    const retr = rs.map((r) => r.retransmits).filter((v): v is number => v !== undefined);
    const cost = rs.map((r) => r.cpuNsPerByte).filter((v): v is number => v !== undefined);
    return [
      name,
      target,
      `${rs.length}/${opts.runs}`,
      gbit(median(bps)),
      gbit(bps.length > 0 ? Math.min(...bps) : Number.NaN),
      gbit(bps.length > 0 ? Math.max(...bps) : Number.NaN),
      retr.length > 0 ? String(median(retr)) : '-',
      show(rs[0]?.mss),
      cost.length > 0 ? median(cost).toFixed(3) : '-',
    ];
  };
  const under = ok('underlay');
  const underMss = ok('underlay-mss');
  const pod = ok('pod');
  const podNormal = ok('pod-normal');
  out.push(
    renderTable(
      ['path', 'target', 'runs', 'median Gbit/s', 'min', 'max', 'retransmits (median)', 'MSS', 'CPU ns/byte (median)'],
      [
        row('underlay: w1 netns -> w2 netns', `${f.w2.address}`, under),
        row('underlay at the pods\' MSS', `${f.w2.address}`, underMss),
        row(`pod: w1 pod -> w2 pod (${f.fastPath ? 'fast path' : 'no fast path'})`, pod2Ip, pod),
        ...(f.fastPath ? [row('pod, fast path off (bridge, forwarding, VXLAN device)', pod2Ip, podNormal)] : []),
      ],
      ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
  );
  out.push('');
  out.push(`runs in order (Gbit/s @ 1-min load): ${runs.map((r) => `${r.kind} ${r.result !== undefined ? gbit(r.result.receivedBps) : 'failed'} @${r.load}`).join(', ')}`);
  out.push(`load average (1 min) before / after the runs: ${load.before} / ${load.after} on ${cpus().length} CPUs (both iperf3 ends share them)`);
  const ratio = median(pod.map((r) => r.receivedBps)) / median(under.map((r) => r.receivedBps));
  const complete = under.length === opts.runs && pod.length === opts.runs && Number.isFinite(ratio);
  // Each round's pod run follows its underlay run within seconds: the ratio of the pair cancels slow
  // drift in the machine's load that the medians of the two columns do not.
  const perRound = (num: PathKind, den: PathKind, of: (r: IperfResult) => number | undefined): number[] => {
    const out: number[] = [];
    for (let round = 1; round <= opts.runs; round++) {
      const a = runs.find((r) => r.kind === num && r.round === round)?.result;
      const b = runs.find((r) => r.kind === den && r.round === round)?.result;
      const x = a !== undefined ? of(a) : undefined;
      const y = b !== undefined ? of(b) : undefined;
      if (x !== undefined && y !== undefined && y > 0) out.push(x / y);
    }
    return out;
  };
  const bpsOf = (r: IperfResult): number => r.receivedBps;
  const costOf = (r: IperfResult): number | undefined => r.cpuNsPerByte;
  const paired = perRound('pod', 'underlay', bpsOf);
  const pairedRatio = median(paired);
  const mssShare = median(perRound('underlay-mss', 'underlay', bpsOf));
  const podVsMss = median(perRound('pod', 'underlay-mss', bpsOf));
  // cost ratio underlay/pod: what the pod would reach against the underlay if CPU were the only limit
  const costRatio = median(perRound('underlay', 'pod', costOf));
  const judge = (v: number): string => (!complete ? 'n/a' : v >= GOAL_RATIO ? 'PASS' : 'MISS');
  const fmt = (v: number): string => (Number.isFinite(v) ? v.toFixed(3) : '-');
  out.push(`per-round pod/underlay: ${paired.map((v) => v.toFixed(2)).join(', ') || '-'}`);
  out.push('');
  out.push(
    renderTable(
      ['figure', 'value', 'goal', 'verdict'],
      [
        ['pod / underlay (ratio of the medians)', fmt(ratio), `>= ${GOAL_RATIO}`, judge(ratio)],
        ['pod / underlay (median of per-round ratios)', fmt(pairedRatio), `>= ${GOAL_RATIO}`, judge(pairedRatio)],
        ['underlay at the pods\' MSS / underlay (the MTU\'s share)', fmt(mssShare), '', 'info'],
        ['pod / underlay at the pods\' MSS (the pod path\'s share)', fmt(podVsMss), '', 'info'],
        ['CPU per byte: underlay / pod (per-round median)', fmt(costRatio), '', 'info'],
        ...(f.fastPath
          ? [
              ['pod with the fast path off / underlay (per-round median)', fmt(median(perRound('pod-normal', 'underlay', bpsOf))), '', 'info'],
              ['pod: fast path on / off (per-round median)', fmt(median(perRound('pod', 'pod-normal', bpsOf))), '', 'info'],
            ]
          : []),
      ],
      ['left', 'right', 'right', 'left'],
    ),
  );
  if (failed.length > 0) {
    out.push('');
    out.push('## Failures');
    for (const r of failed) out.push(`- ${r.kind} run ${r.round}: ${r.error ?? ''}`);
  }
  return out.join('\n');
}

async function main(opts: Options): Promise<void> {
  const progress = new Progress();
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const lab = opts.lab;
  if (labExists(lab)) {
    throw new Error(`a lab named ${lab} exists already (${join(LAB_ROOT, lab)} or /run/netns/knode-${lab}-*); remove it with \`knode lab down --name ${lab}\` or pass --lab`);
  }
  const limit = deadlineSeconds(opts);
  const deadline = setTimeout(() => {
    process.stderr.write(`deadline of ${limit} s reached: cleaning up\n`);
    cleanup.runAllSync();
    process.exit(124);
  }, limit * 1000);
  deadline.unref();
  try {
    progress.note(`creating lab ${lab} (2 workers)`);
    cleanup.add({
      what: `knode lab down --name ${lab}`,
      async: async () => {
        progress.note(`removing lab ${lab}`);
        knode(['lab', 'down', '--name', lab]);
      },
      sync: () => {
        knode(['lab', 'down', '--name', lab]);
      },
    });
    knode(['lab', 'up', '--nodes', '2', '--name', lab]);
    const state = await readLabState(join(LAB_ROOT, lab));
    const w1 = state?.plan.hosts.find((h) => h.name === 'w1');
    const w2 = state?.plan.hosts.find((h) => h.name === 'w2');
    const rt1 = state?.plan.workers.find((w) => w.host === 'w1');
    const rt2 = state?.plan.workers.find((w) => w.host === 'w2');
    if (!state || !w1 || !w2 || !rt1 || !rt2) throw new Error(`lab ${lab} lacks worker w1 or w2 in its state`);

    const client = await KubeClient.fromKubeconfigFile(state.plan.api.kubeconfig);
    try {
      await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } });
      progress.note('creating pods iperf-w1 and iperf-w2');
      await client.create(resources.pods, podManifest('iperf-w1', 'w1'), { namespace: NAMESPACE });
      await client.create(resources.pods, podManifest('iperf-w2', 'w2'), { namespace: NAMESPACE });
      const pod1 = await waitRunning(client, 'iperf-w1', 90_000);
      const pod2 = await waitRunning(client, 'iperf-w2', 90_000);
      const pod1Ip = pod1.status?.podIP ?? '';
      const pod2Ip = pod2.status?.podIP ?? '';
      progress.note(`pods Running: iperf-w1 ${pod1Ip}, iperf-w2 ${pod2Ip}`);

      const findNetns = async (socket: string, pod: Pod): Promise<PodNetns> => {
        const cri = await connectCri({ endpoint: `unix://${socket}` });
        try {
          return await findPodNetns(cri.runtime, pod.metadata.uid ?? '');
        } finally {
          cri.close();
        }
      };
      const ns1 = await findNetns(rt1.socket, pod1);
      const ns2 = await findNetns(rt2.socket, pod2);
      const w1Path = namedNetnsPath(w1.netns);
      const w2Path = namedNetnsPath(w2.netns);
      const podMtu1 = await linkMtu(ns1.path, 'eth0');
      const podMtu2 = await linkMtu(ns2.path, 'eth0');
      const underlayMtu1 = await linkMtu(w1Path, 'eth0');
      const underlayMtu2 = await linkMtu(w2Path, 'eth0');
      const facts: PathFacts = {
        w1,
        w2,
        pod1,
        pod2,
        ns1,
        ns2,
        ...(podMtu1 !== undefined ? { podMtu1 } : {}),
        ...(podMtu2 !== undefined ? { podMtu2 } : {}),
        ...(underlayMtu1 !== undefined ? { underlayMtu1 } : {}),
        ...(underlayMtu2 !== undefined ? { underlayMtu2 } : {}),
        vxlan1: await vxlanLinks(w1Path),
        vxlan2: await vxlanLinks(w2Path),
        route1: await routeTo(w1Path, pod2Ip),
        route2: await routeTo(w2Path, pod1Ip),
        fastPath: fastPathLoaded(lab, ['w1', 'w2']),
      };
      progress.note(`cross-node pod path: ${pathName(facts)}; MTU pod ${show(podMtu1)}, underlay ${show(underlayMtu1)}`);

      const loadBefore = loadAverage();
      const runs: RunRecord[] = [];
      for (let round = 1; round <= opts.runs; round++) {
        const podMss = podMtu1 !== undefined ? mssForMtu(podMtu1) : undefined;
        const legs: ReadonlyArray<{ kind: PathKind; server: string; clientNs: string; target: string; mss?: number }> = [
          { kind: 'underlay', server: w2Path, clientNs: w1Path, target: w2.address },
          ...(podMss !== undefined ? [{ kind: 'underlay-mss' as const, server: w2Path, clientNs: w1Path, target: w2.address, mss: podMss }] : []),
          { kind: 'pod', server: ns2.path, clientNs: ns1.path, target: pod2Ip },
          ...(facts.fastPath ? [{ kind: 'pod-normal' as const, server: ns2.path, clientNs: ns1.path, target: pod2Ip }] : []),
        ];
        for (const leg of legs) {
          progress.note(`run ${round}/${opts.runs} ${leg.kind}: iperf3 -c ${leg.target} -t ${opts.seconds}${leg.mss !== undefined ? ` -M ${leg.mss}` : ''}`);
          if (leg.kind === 'pod-normal') switchFastPath(lab, ['w1', 'w2'], 'disable');
          try {
            const result = await runIperfPair(cleanup, {
              serverNetns: leg.server,
              clientNetns: leg.clientNs,
              target: leg.target,
              seconds: opts.seconds,
              ...(leg.mss !== undefined ? { mss: leg.mss } : {}),
            });
            const load = loadAverage();
            progress.note(`  ${gbit(result.receivedBps)} Gbit/s, ${show(result.retransmits)} retransmits, ${result.cpuNsPerByte?.toFixed(3) ?? '-'} CPU ns/byte, load ${load}`);
            runs.push({ kind: leg.kind, round, result, load });
          } catch (err) {
            const error = err instanceof Error ? err.message : String(err);
            progress.note(`  failed: ${error}`);
            runs.push({ kind: leg.kind, round, error, load: loadAverage() });
          } finally {
            if (leg.kind === 'pod-normal') switchFastPath(lab, ['w1', 'w2'], 'enable');
          }
        }
      }
      process.stdout.write(`${report(opts, facts, runs, { before: loadBefore, after: loadAverage() })}\n`);
    } finally {
      client.close();
    }
  } finally {
    await cleanup.runAll();
    clearTimeout(deadline);
  }
}

const program = new Command('pod-throughput')
  .option('--seconds <s>', 'length of each iperf3 run', intFlag('--seconds', 1, 60), 5)
  .option('--runs <n>', 'runs per path (underlay, underlay at the pods\' MSS, pod, pod with the fast path off; alternating)', intFlag('--runs', 1, 20), 3)
  .option('--lab <name>', 'name of the lab to create (must not exist)', 'bip')
  .option('--timeout <s>', 'abort the whole run after this long (default: 180 + runs x 3 x (seconds + 25))', intFlag('--timeout', 30, 7200))
  .action(async (o: Options) => main(o));

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench pod-throughput: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
