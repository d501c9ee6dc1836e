/**
 * `node dist/bench/sandbox-create.js`: how much does knode-cni add to a pod sandbox's creation, next to
 * Debian's reference `bridge` + `host-local`, on the same node, the same containerd, in the same run?
 *
 * Brings up a one-worker lab (`knode lab up --nodes 1`, the built CLI) and drives w1's containerd
 * straight through the CRI. Each phase times N RunPodSandbox calls (wall time of the call: netns,
 * pause container, CNI ADD), then checks every sandbox got an IP from the phase's network and stops
 * and removes them (timed apart, not part of the goal). Phases alternate knode-cni and the reference
 * in ABBA order (bench/lib/sandbox-create-plan.ts).
 *
 * Switching networks: containerd (max_conf_num = 1) loads the one conf file of w1's CNI conf dir and
 * reloads it on change, within ~2 s. The bench saves the lab's file text, writes the reference
 * conflist in its place (own subnet 10.244.250.0/24, own bridge, IPAM dir under the node's dir; the
 * lab's CNI bin dir gets `bridge` and `host-local` symlinks for it), and before each phase creates
 * probe sandboxes until one gets an IP in the expected range (at most 30 s). The probe also pays the
 * first-use costs (bridge creation) outside the timed calls. At the end the original text is written
 * back byte for byte and a probe checks knode-cni serves again.
 *
 * Sandboxes carry no `io.kubernetes.pod.uid` label: w1's agent ignores what it did not make.
 *
 * Flags: --sandboxes N (default 100), --in-flight K (default 1: sequential), --rounds R (default 2:
 * phases KRRK), --lab NAME (default bsb), --timeout S (default 1800). Report on stdout, progress on
 * stderr. The sandboxes, the conf file and the lab are undone on success, failure, Ctrl-C and the
 * deadline. Needs root and the lab's Debian packages (containerd, runc, containernetworking-plugins).
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { lstat, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command, InvalidArgumentError } from 'commander';
import { connectCri } from '../kubelet/cri/connect.js';
import type { RuntimeService } from '../kubelet/cri/services.js';
import type { PodSandboxConfig } from '../kubelet/cri/types-sandbox.js';
import { LAB_CNI, SYSTEM_CNI_DIR } from '../lab/cni-config.js';
import { defaultStateDir, labCgroupName } from '../lab/plan.js';
import { readLabState } from '../lab/state.js';
import { Cleanup } from './lib/cleanup.js';
import { parseMachineBusy } from './lib/cpu-accounting.js';
import { cliPath } from './lib/knode-server.js';
import { Progress } from './lib/progress.js';
import { buildReferenceConf, CNI_LABEL, ipInCidr, planPhases, renderSandboxReport } from './lib/sandbox-create-plan.js';
import type { PhaseCni, PhaseResult } from './lib/sandbox-create-plan.js';

const WORKER = 'w1';
const NAMESPACE = 'bench-sandbox';
const REFERENCE_SUBNET = '10.244.250.0/24';
const REFERENCE_BRIDGE = 'cniref0';
const GOAL_RATIO = 1.5;
const SWITCH_TIMEOUT_MS = 30_000;

interface Options {
  sandboxes: number;
  inFlight: number;
  rounds: number;
  lab: string;
  settle: number;
  timeout: number;
}

function intFlag(name: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}.`);
    return n;
  };
}

function labName(v: string): string {
  if (!/^[a-z][a-z0-9]{0,8}$/.test(v)) throw new InvalidArgumentError(`--lab must be 1 to 9 lowercase letters or digits starting with a letter, got ${JSON.stringify(v)}.`);
  return v;
}

function knode(args: readonly string[]): string {
  return execFileSync(process.execPath, [cliPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
}

/** Runs `n` tasks with at most `limit` in flight. */
async function limited<T>(n: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** CNI conf files as libcni picks them: by extension, in lexical order; containerd takes the first. */
async function firstConfFile(dir: string): Promise<string | undefined> {
  return (await readdir(dir)).filter((f) => /\.(conf|conflist|json)$/.test(f)).sort()[0];
}

/** Replaces the file's contents atomically (containerd must never load half a config). */
async function writeConf(path: string, text: string): Promise<void> {
  const tmp = `${path}.bench-tmp`;
  await writeFile(tmp, text, { mode: 0o644 });
  await rename(tmp, path);
}

/** Everything the bench has alive in containerd, so a failure can remove it. */
class Sandboxes {
  readonly live = new Set<string>();
  private seq = 0;
  constructor(
    private readonly runtime: RuntimeService,
    private readonly cgroupParent: string,
  ) {}

  config(kind: string): PodSandboxConfig {
    const name = `bsb-${kind}-${this.seq++}`;
    return {
      metadata: { name, namespace: NAMESPACE, uid: randomUUID(), attempt: 0 },
      hostname: name,
      // no io.kubernetes.pod.* labels: the node's agent leaves sandboxes it did not make alone
      labels: { 'bench.knode.io/sandbox-create': 'true' },
      linux: { cgroupParent: this.cgroupParent, securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
  }

  async run(config: PodSandboxConfig): Promise<string> {
    const { podSandboxId } = await this.runtime.runPodSandbox({ config });
    this.live.add(podSandboxId);
    return podSandboxId;
  }

  async ip(id: string): Promise<string> {
    return (await this.runtime.podSandboxStatus({ podSandboxId: id })).status?.network?.ip ?? '';
  }

  /** Stop then remove; resolves with the wall time of each call (ms). */
  async destroy(id: string): Promise<{ stop: number; remove: number }> {
    const t0 = performance.now();
    await this.runtime.stopPodSandbox({ podSandboxId: id });
    const t1 = performance.now();
    await this.runtime.removePodSandbox({ podSandboxId: id });
    const t2 = performance.now();
    this.live.delete(id);
    return { stop: t1 - t0, remove: t2 - t1 };
  }

  async destroyAll(): Promise<void> {
    for (const id of [...this.live]) {
      await this.destroy(id).catch((err: unknown) => process.stderr.write(`cleanup: sandbox ${id}: ${String(err)}\n`));
    }
  }
}

/**
 * Creates probe sandboxes (each removed at once) until one gets an IP in `cidr`, i.e. containerd has
 * loaded the network the next phase means to measure. Returns the time it took (ms).
 */
async function waitForNetwork(sb: Sandboxes, cidr: string, what: string): Promise<number> {
  const t0 = performance.now();
  let last = 'no probe yet';
  for (;;) {
    let id: string | undefined;
    try {
      id = await sb.run(sb.config('probe'));
      const ip = await sb.ip(id);
      if (ipInCidr(ip, cidr)) return performance.now() - t0;
      last = `probe got IP ${JSON.stringify(ip)}`;
    } catch (err) {
      last = `probe failed: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      if (id !== undefined) await sb.destroy(id).catch(() => undefined);
    }
    if (performance.now() - t0 > SWITCH_TIMEOUT_MS) throw new Error(`containerd did not switch to ${what} (${cidr}) within ${SWITCH_TIMEOUT_MS / 1000} s; last: ${last}`);
    await sleep(250);
  }
}

/** Busy seconds of all CPUs so far (/proc/stat); NaN where there is none. */
async function machineBusy(): Promise<number> {
  return parseMachineBusy(await readFile('/proc/stat', 'utf8').catch(() => ''));
}

async function runPhase(sb: Sandboxes, cni: PhaseCni, cidr: string, opts: Options, label: string, progress: Progress): Promise<PhaseResult> {
  const ids: string[] = new Array<string>(opts.sandboxes);
  progress.start(`${label}: ${CNI_LABEL[cni]} RunPodSandbox`, opts.sandboxes);
  const busy0 = await machineBusy();
  const wall0 = performance.now();
  const run = await limited(opts.sandboxes, opts.inFlight, async (i) => {
    const config = sb.config(cni === 'knode' ? 'k' : 'r');
    const t0 = performance.now();
    ids[i] = await sb.run(config);
    const dt = performance.now() - t0;
    progress.tick();
    return dt;
  });
  const busyPercent = (100 * ((await machineBusy()) - busy0)) / ((performance.now() - wall0) / 1000);
  progress.done();
  progress.start(`${label}: check IPs, StopPodSandbox + RemovePodSandbox`, opts.sandboxes);
  const torn = await limited(opts.sandboxes, opts.inFlight, async (i) => {
    const id = ids[i] ?? '';
    const ip = await sb.ip(id);
    // a sandbox from the other network would make the whole phase measure the wrong plugin
    if (!ipInCidr(ip, cidr)) throw new Error(`${label}: sandbox ${id} got IP ${JSON.stringify(ip)}, outside ${CNI_LABEL[cni]}'s ${cidr}`);
    const t = await sb.destroy(id);
    progress.tick();
    return t;
  });
  progress.done();
  return { cni, run, stop: torn.map((t) => t.stop), remove: torn.map((t) => t.remove), machineBusyPercent: busyPercent };
}

async function main(opts: Options): Promise<void> {
  const progress = new Progress();
  const cleanup = new Cleanup();
  cleanup.installSignalHandlers();
  const lab = opts.lab;
  const deadline = setTimeout(() => {
    process.stderr.write(`deadline of ${opts.timeout} s reached: cleaning up\n`);
    cleanup.runAllSync();
    process.exit(124);
  }, opts.timeout * 1000);
  deadline.unref();
  try {
    progress.note(`creating lab ${lab} (1 worker)`);
    const down = (): void => {
      knode(['lab', 'down', '--name', lab]);
    };
    cleanup.add({ what: `knode lab down --name ${lab}`, async: async () => down(), sync: down });
    knode(['lab', 'up', '--nodes', '1', '--name', lab]);

    const state = await readLabState(defaultStateDir(lab));
    const worker = state?.plan.workers.find((w) => w.host === WORKER);
    const host = state?.plan.hosts.find((h) => h.name === WORKER);
    if (!state || !worker || !host?.podCidr) throw new Error(`lab ${lab} has no worker ${WORKER} with a pod CIDR`);
    const knodeCidr = host.podCidr;
    const cidrOf = (cni: PhaseCni): string => (cni === 'knode' ? knodeCidr : REFERENCE_SUBNET);

    const confPath = join(worker.cniConfDir, LAB_CNI.confFileName);
    const first = await firstConfFile(worker.cniConfDir);
    if (first !== LAB_CNI.confFileName) throw new Error(`containerd loads ${first ?? 'nothing'} from ${worker.cniConfDir}, not the lab's ${LAB_CNI.confFileName}`);
    const original = await readFile(confPath, 'utf8');
    const reference = buildReferenceConf({ lab, host: WORKER, hostDir: host.dir, subnet: REFERENCE_SUBNET, bridge: REFERENCE_BRIDGE });

    // the reference plugins must be in containerd's CNI bin dir; link only what is missing
    const links: string[] = [];
    const restore = async (): Promise<void> => {
      await writeConf(confPath, original);
      for (const l of links.splice(0)) await rm(l, { force: true });
    };
    cleanup.add({
      what: `restore ${confPath}`,
      async: restore,
      sync: () => {
        writeFileSync(confPath, original);
        for (const l of links.splice(0)) rmSync(l, { force: true });
      },
    });
    if (worker.cniBinDir !== SYSTEM_CNI_DIR) {
      for (const plugin of ['bridge', 'host-local']) {
        const path = join(worker.cniBinDir, plugin);
        if (await lstat(path).then(() => true, () => false)) continue;
        await symlink(join(SYSTEM_CNI_DIR, plugin), path);
        links.push(path);
      }
    }

    const cri = await connectCri({ endpoint: `unix://${worker.socket}` });
    const sb = new Sandboxes(cri.runtime, `/${labCgroupName(lab)}/${WORKER}/bench-sandbox`);
    cleanup.add({
      what: 'remove the bench sandboxes',
      async: async () => {
        await sb.destroyAll();
        cri.close();
      },
      // on a signal there is no time for gRPC: `lab down` stops containerd with everything in it
      sync: () => cri.close(),
    });
    const runtime = `${cri.version.runtimeName} ${cri.version.runtimeVersion}`;

    let current: PhaseCni = 'knode';
    const use = async (cni: PhaseCni): Promise<void> => {
      if (cni !== current) await writeConf(confPath, cni === 'knode' ? original : reference);
      current = cni;
      const ms = await waitForNetwork(sb, cidrOf(cni), CNI_LABEL[cni]);
      progress.note(`containerd serves ${CNI_LABEL[cni]} (${cidrOf(cni)}), checked in ${(ms / 1000).toFixed(1)} s`);
    };

    const phases: PhaseResult[] = [];
    const order = planPhases(opts.rounds);
    for (const [i, cni] of order.entries()) {
      await use(cni);
      if (opts.settle > 0) {
        // the kernel tears the previous phase's pod netns down asynchronously (cleanup_net); let it finish
        progress.note(`settling ${opts.settle} s`);
        await sleep(opts.settle * 1000);
      }
      phases.push(await runPhase(sb, cni, cidrOf(cni), opts, `phase ${i + 1}/${order.length}`, progress));
    }

    // back to the lab's own network, byte for byte, and proven by a probe
    await restore();
    current = 'knode';
    if ((await readFile(confPath, 'utf8')) !== original) throw new Error(`${confPath} differs from the lab's original after the restore`);
    await use('knode');
    try {
      execFileSync('ip', ['-n', host.netns, 'link', 'del', REFERENCE_BRIDGE], { stdio: 'ignore' });
    } catch {
      // never created (no reference phase ran) or already gone
    }

    process.stdout.write(
      `${renderSandboxReport({ sandboxes: opts.sandboxes, inFlight: opts.inFlight, lab, runtime, referenceSubnet: REFERENCE_SUBNET, goalRatio: GOAL_RATIO, cores: cpus().length, phases })}\n`,
    );
  } finally {
    progress.note('removing the sandboxes and the lab');
    await cleanup.runAll();
    clearTimeout(deadline);
  }
}

const program = new Command('sandbox-create')
  .option('--sandboxes <n>', 'RunPodSandbox calls per phase', intFlag('--sandboxes', 1, 500), 100)
  .option('--in-flight <k>', 'calls in flight at a time (1 = sequential)', intFlag('--in-flight', 1, 50), 1)
  .option('--rounds <r>', 'rounds of two phases (knode-cni and reference, ABBA order)', intFlag('--rounds', 1, 10), 2)
  .option('--settle <s>', 'quiet seconds before each timed phase', intFlag('--settle', 0, 600), 0)
  .option('--lab <name>', 'name of the lab to create (and remove)', labName, 'bsb')
  .option('--timeout <s>', 'abort the whole run after this long', intFlag('--timeout', 60, 7200), 1800)
  .action(async (o: Options) => main(o));

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`bench sandbox-create: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
