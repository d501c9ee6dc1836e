/**
 * Measures the nftables proxy's sync costs at scale, in throwaway network namespaces (created here,
 * always deleted, even on Ctrl-C): building + rendering a full ruleset of N Services x E endpoints,
 * its text size, applying it cold with `nft -f`, then, with N present, a partial sync adding one
 * Service and one changing one endpoint. nft's own CPU time (user+sys, from /usr/bin/time) is
 * reported beside wall time, since a busy machine inflates the latter. Progress on stderr, report
 * on stdout. Run as root:
 *
 *   npx tsx kube-proxy/nftables/measure-sync.ts [--services 1000,10000] [--endpoints 2] [--runs 3]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { summarize, fmtMs } from '../../bench/lib/stats.js';
import { mustRun, realExec } from '../../lib/exec.js';
import { manyServices, OPTS, state } from '../testing/fixtures.js';
import { timed, withChangedEndpoint, withExtraService } from '../testing/scale-states.js';
import type { NftTransaction } from './ir.js';
import { renderTransaction } from './render.js';
import { buildRuleset } from './ruleset.js';

interface Args {
  readonly services: readonly number[];
  readonly endpoints: number;
  readonly runs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const services = (get('--services') ?? '1000,10000').split(',').map(Number);
  const endpoints = Number(get('--endpoints') ?? '2');
  const runs = Number(get('--runs') ?? '3');
  if (services.some((n) => !Number.isInteger(n) || n < 1 || n > 30000)) throw new Error('--services takes counts from 1 to 30000, comma-separated');
  if (!Number.isInteger(endpoints) || endpoints < 1 || endpoints > 100) throw new Error('--endpoints takes 1..100');
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs takes 1..20');
  return { services, endpoints, runs };
}

const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

const namespaces = new Set<string>();

async function createNetns(): Promise<string> {
  const name = `knode-kpt-${randomBytes(4).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  namespaces.add(name);
  return name;
}

async function deleteNetns(name: string): Promise<void> {
  await realExec.run(['ip', 'netns', 'del', name]);
  namespaces.delete(name);
}

interface Applied {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** `nft -f -` in the namespace, timed from here (wall) and by /usr/bin/time (nft's user+sys). */
async function apply(ns: string, script: string): Promise<Applied> {
  const t0 = performance.now();
  const r = await realExec.run(['/usr/bin/time', '-f', 'KPT-TIME %U %S', 'nsenter', `--net=/run/netns/${ns}`, 'nft', '-f', '-'], { stdin: script, timeoutMs: 600_000 });
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`nft -f failed: ${r.stderr.slice(0, 500)}`);
  const m = /KPT-TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: m !== null ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN };
}

const row = (label: string, samples: readonly number[]): string => {
  const s = summarize(samples);
  return `  ${label.padEnd(34)} p50 ${fmtMs(s.p50).padStart(7)} ms   max ${fmtMs(s.max).padStart(7)} ms   (n=${s.count})`;
};

async function measure(n: number, args: Args): Promise<string[]> {
  log(`${n} services x ${args.endpoints} endpoints: building the state`);
  const { services, slices } = manyServices(n, args.endpoints);
  const [base, stateMs] = timed(() => state(services, slices));
  const build: number[] = [];
  const render: number[] = [];
  const coldWall: number[] = [];
  const coldCpu: number[] = [];
  let bytes = 0;
  let lines = 0;
  let last: NftTransaction | undefined;
  for (let r = 0; r < args.runs; r++) {
    const [tx, b] = timed(() => buildRuleset(base, OPTS));
    const [text, t] = timed(() => renderTransaction(tx));
    build.push(b);
    render.push(t);
    bytes = text.length;
    lines = text.split('\n').length - 1;
    const ns = await createNetns();
    try {
      log(`  cold full sync ${r + 1}/${args.runs} (${(bytes / 1e6).toFixed(1)} MB)`);
      const a = await apply(ns, text);
      coldWall.push(a.wallMs);
      coldCpu.push(a.cpuMs);
    } finally {
      await deleteNetns(ns);
    }
    last = tx;
  }
  if (last === undefined) throw new Error('no run');

  const ns = await createNetns();
  const out: string[] = [];
  try {
    log('  loading the table for the partial syncs');
    await apply(ns, renderTransaction(last));
    let prev = last;
    let current = base;
    const addBuild: number[] = [];
    const addWall: number[] = [];
    const addCpu: number[] = [];
    const epWall: number[] = [];
    const epCpu: number[] = [];
    const epBuild: number[] = [];
    const partialRuns = Math.max(5, args.runs * 3);
    for (let i = 1; i <= partialRuns; i++) {
      log(`  partial syncs ${i}/${partialRuns}`);
      const added = withExtraService(current, i);
      const [[txObj, text], b] = timed(() => {
        const t = buildRuleset(added.state, { ...OPTS, previous: prev.ruleset }, new Set([added.key]));
        return [t, renderTransaction(t)] as const;
      });
      addBuild.push(b);
      const a = await apply(ns, text);
      addWall.push(a.wallMs);
      addCpu.push(a.cpuMs);
      prev = txObj;
      current = added.state;

      const changed = withChangedEndpoint(current, added.key, i);
      const [[tx2, text2], b2] = timed(() => {
        const t = buildRuleset(changed, { ...OPTS, previous: prev.ruleset }, new Set([added.key]));
        return [t, renderTransaction(t)] as const;
      });
      epBuild.push(b2);
      const e = await apply(ns, text2);
      epWall.push(e.wallMs);
      epCpu.push(e.cpuMs);
      prev = tx2;
      current = changed;
    }
    log('  warm full resync');
    const [full, fb] = timed(() => renderTransaction(buildRuleset(current, { ...OPTS, previous: prev.ruleset })));
    const warm = await apply(ns, full);

    out.push(
      `${n} Services x ${args.endpoints} endpoints (${lines} nft commands, ${(bytes / 1e6).toFixed(2)} MB of nft text; state from API objects ${fmtMs(stateMs)} ms)`,
      row('build full ruleset (IR)', build),
      row('render to nft text', render),
      row('cold full sync: nft -f (wall)', coldWall),
      row('cold full sync: nft CPU (user+sys)', coldCpu),
      row('cold total: build+render+apply', coldWall.map((w, i) => w + (build[i] ?? 0) + (render[i] ?? 0))),
      row('add one Service: build+render', addBuild),
      row('add one Service: nft -f (wall)', addWall),
      row('add one Service: nft CPU', addCpu),
      row('change one endpoint: build+render', epBuild),
      row('change one endpoint: nft -f (wall)', epWall),
      row('change one endpoint: nft CPU', epCpu),
      row('warm full resync: build+render', [fb]),
      row('warm full resync: nft -f (wall)', [warm.wallMs]),
    );
  } finally {
    await deleteNetns(ns);
  }
  return out;
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, nft)');
  const args = parseArgs(process.argv.slice(2));
  const onSignal = (): void => {
    for (const ns of namespaces) realExec.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
    setTimeout(() => process.exit(130), 500);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const report: string[] = [`kube-proxy nftables sync, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  try {
    for (const n of args.services) report.push(...(await measure(n, args)));
  } finally {
    for (const ns of [...namespaces]) await deleteNetns(ns);
  }
  report.push(`load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  process.stdout.write(`${report.join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
