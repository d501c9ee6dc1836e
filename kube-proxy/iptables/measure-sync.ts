/**
 * Measures iptables mode's sync costs at scale, in throwaway network namespaces (`knode-ipt-<random>`,
 * created here, always deleted, even on Ctrl-C): building the restore input of N Services x E
 * endpoints, its size, restoring it cold as the runner does (nat in batches of at most 1000 declared
 * chains, one iptables-restore each) and, as the reference, once as a single input; then, with N
 * present, a partial sync adding one Service (its chains plus one rule inserted into KNODE-SERVICES)
 * and one changing one endpoint (one SVC and one SEP chain), and a warm full resync.
 * iptables-restore's own CPU time (user+sys, from /usr/bin/time) is reported beside wall time, since
 * a busy machine inflates the latter. Progress on stderr, report on stdout. Run as root:
 *
 *   npx tsx kube-proxy/iptables/measure-sync.ts [--services 1000,10000] [--endpoints 2] [--runs 3] [--no-single]
 */
import { fmtMs, summarize } from '../../bench/lib/stats.js';
import { manyServices, OPTS, state } from '../testing/fixtures.js';
import type { Applied, MeasureArgs } from '../testing/measure-harness.js';
import { createNetns, deleteNetns, log, row as harnessRow, runMeasure, timedIn } from '../testing/measure-harness.js';
import { timed, withChangedEndpoint, withExtraService } from '../testing/scale-states.js';
import type { IptablesSync } from './ruleset.js';
import { buildIptablesRuleset } from './ruleset.js';

const NETNS_PREFIX = 'knode-ipt';

/** Also restore the cold sync once as a single input (the reference; slow: minutes at 10,000). */
const single = !process.argv.includes('--no-single');

/** One `iptables-restore --noflush` in the namespace, timed. */
async function restoreOne(ns: string, text: string): Promise<Applied> {
  if (text === '') return { wallMs: 0, cpuMs: 0 };
  return timedIn(ns, ['iptables-restore', '--noflush', '-w'], text, 900_000);
}

/** A sync as IptablesCli.apply restores it: nat batches in order, then filter; times summed. */
async function restore(ns: string, sync: IptablesSync): Promise<Applied> {
  const inputs = sync.natBatches.length <= 1 ? [(sync.natBatches[0] ?? '') + sync.filter] : [...sync.natBatches, sync.filter];
  let wallMs = 0;
  let cpuMs = 0;
  for (const text of inputs) {
    const a = await restoreOne(ns, text);
    wallMs += a.wallMs;
    cpuMs += a.cpuMs;
  }
  return { wallMs, cpuMs };
}

const row = (label: string, samples: readonly number[]): string => harnessRow(label, samples, 46);

const size = (x: { readonly filter: string; readonly nat: string }): number => x.filter.length + x.nat.length;
const lines = (x: { readonly filter: string; readonly nat: string }): number => (x.filter + x.nat).split('\n').length - 1;

async function measure(n: number, args: MeasureArgs): Promise<string[]> {
  log(`${n} services x ${args.endpoints} endpoints: building the state`);
  const { services, slices } = manyServices(n, args.endpoints);
  const [base, stateMs] = timed(() => state(services, slices));
  const build: number[] = [];
  const coldWall: number[] = [];
  const coldCpu: number[] = [];
  let last: IptablesSync | undefined;
  for (let r = 0; r < args.runs; r++) {
    const [tx, b] = timed(() => buildIptablesRuleset(base, OPTS));
    build.push(b);
    const ns = await createNetns(NETNS_PREFIX);
    try {
      log(`  cold full sync ${r + 1}/${args.runs} (${(size(tx) / 1e6).toFixed(1)} MB)`);
      const a = await restore(ns, tx);
      coldWall.push(a.wallMs);
      coldCpu.push(a.cpuMs);
    } finally {
      await deleteNetns(ns);
    }
    last = tx;
  }
  if (last === undefined) throw new Error('no run');
  let singleRun: Applied | undefined;
  if (single) {
    const ns = await createNetns(NETNS_PREFIX);
    try {
      log('  cold full sync as a single input (reference)');
      singleRun = await restoreOne(ns, last.nat + last.filter);
    } finally {
      await deleteNetns(ns);
    }
  }

  const ns = await createNetns(NETNS_PREFIX);
  const out: string[] = [];
  try {
    log('  loading the chains for the partial syncs');
    await restore(ns, last);
    let prev = last;
    let current = base;
    const addBuild: number[] = [];
    const addWall: number[] = [];
    const addCpu: number[] = [];
    const epBuild: number[] = [];
    const epWall: number[] = [];
    const epCpu: number[] = [];
    let addSize = 0;
    let epSize = 0;
    const partialRuns = Math.max(5, args.runs * 3);
    for (let i = 1; i <= partialRuns; i++) {
      log(`  partial syncs ${i}/${partialRuns}`);
      const added = withExtraService(current, i);
      const [tx, b] = timed(() => buildIptablesRuleset(added.state, OPTS, new Set([added.key]), prev.ruleset));
      if (tx.full) throw new Error('expected a partial sync');
      addBuild.push(b);
      addSize = size(tx);
      const a = await restore(ns, tx);
      addWall.push(a.wallMs);
      addCpu.push(a.cpuMs);
      prev = tx;
      current = added.state;

      const changed = withChangedEndpoint(current, added.key, i);
      const [tx2, b2] = timed(() => buildIptablesRuleset(changed, OPTS, new Set([added.key]), prev.ruleset));
      epBuild.push(b2);
      epSize = size(tx2);
      const e = await restore(ns, tx2);
      epWall.push(e.wallMs);
      epCpu.push(e.cpuMs);
      prev = tx2;
      current = changed;
    }
    log('  warm full resync');
    const [full, fb] = timed(() => buildIptablesRuleset(current, OPTS, undefined, prev.ruleset));
    const warm = await restore(ns, full);

    out.push(
      `${n} Services x ${args.endpoints} endpoints (${lines(last)} lines, ${(size(last) / 1e6).toFixed(2)} MB of restore input; state from API objects ${fmtMs(stateMs)} ms)`,
      row('build full restore input (IR + text)', build),
      row(`cold full sync, ${last.natBatches.length} nat batches: restore (wall)`, coldWall),
      row('cold full sync, batches: restore CPU', coldCpu),
      row('cold total: build + restore (wall)', coldWall.map((w, i) => w + (build[i] ?? 0))),
      ...(singleRun !== undefined
        ? [
            row('reference: cold, one input: restore (wall)', [singleRun.wallMs]),
            row('reference: cold, one input: restore CPU', [singleRun.cpuMs]),
            `  batches vs one input (CPU p50): ${(singleRun.cpuMs / summarize(coldCpu).p50).toFixed(1)}x less`,
          ]
        : []),
      row(`add one Service: build (${(addSize / 1e3).toFixed(1)} kB input)`, addBuild),
      row('add one Service: restore (wall)', addWall),
      row('add one Service: restore CPU', addCpu),
      row(`change one endpoint: build (${(epSize / 1e3).toFixed(1)} kB input)`, epBuild),
      row('change one endpoint: restore (wall)', epWall),
      row('change one endpoint: restore CPU', epCpu),
      row('warm full resync: build', [fb]),
      row('warm full resync: restore (wall)', [warm.wallMs]),
      row('warm full resync: restore CPU', [warm.cpuMs]),
    );
  } finally {
    await deleteNetns(ns);
  }
  return out;
}

runMeasure('kube-proxy iptables sync (iptables-restore --noflush, nf_tables backend)', measure);
