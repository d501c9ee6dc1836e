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
import { fmtMs } from '../../bench/lib/stats.js';
import { manyServices, OPTS, state } from '../testing/fixtures.js';
import type { Applied, MeasureArgs } from '../testing/measure-harness.js';
import { createNetns, deleteNetns, log, row, runMeasure, timedIn } from '../testing/measure-harness.js';
import { timed, withChangedEndpoint, withExtraService } from '../testing/scale-states.js';
import type { NftTransaction } from './ir.js';
import { renderTransaction } from './render.js';
import { buildRuleset } from './ruleset.js';

const NETNS_PREFIX = 'knode-kpt';

/** `nft -f -` in the namespace, timed. */
const apply = (ns: string, script: string): Promise<Applied> => timedIn(ns, ['nft', '-f', '-'], script, 600_000);

async function measure(n: number, args: MeasureArgs): Promise<string[]> {
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
    const ns = await createNetns(NETNS_PREFIX);
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

  const ns = await createNetns(NETNS_PREFIX);
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

runMeasure('kube-proxy nftables sync', measure);
