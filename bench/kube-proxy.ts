/**
 * kube-proxy at scale (issue #6), both modes, through the proxy's real rule backends (NftBackend over
 * `nft -f` and, for partial syncs, over an nf_tables netlink batch; IptablesBackend over
 * `iptables-restore --noflush`: the code `knode agent` runs), each in a throwaway network namespace
 * created here and always deleted (also on Ctrl-C):
 *
 *   sync   N Services x 2 endpoints (N = 1,000 and 10,000): cold full sync into an empty namespace;
 *          then, with N present, a partial sync adding one Service and one changing one endpoint.
 *          nftables runs twice, partial syncs with `nft -f` and with netlink, side by side. Its
 *          syncs run in a child started INSIDE the namespace (`ip netns exec NS node <this file>
 *          --child-sync ...`), as the agent runs inside its node's namespace: a netlink socket acts
 *          in the namespace of its process. iptables still enters the namespace per call (nsenter).
 *   data   with 10,000 Services programmed: TCP connection set-up time from the node to the 1st and
 *          to the 10,000th Service's cluster IP (DNAT to a real listener in a second namespace), and,
 *          as references, to the same listener's address directly (no Service) and to the 10,000th
 *          Service in a namespace where it is the only one programmed (the goal's "at one
 *          Service"), in alternating blocks. A verdict map keeps the 10,000th as fast as the 1st;
 *          iptables' KNODE-SERVICES walks its rules in order.
 *
 * Goals from the issue: nftables add-one with 10,000 present <= 50 ms (upstream ~141 ms after its
 * fix), cold sync of 10,000 <= 5 s (upstream iptables ~40 s), nftables connection set-up at 10,000
 * Services within 1.2x of that at one Service. Medians (p50) and maxima over runs;
 * the machine is noisy, so the load average is printed at start and end. Progress on stderr,
 * figures on stdout. Root only.
 *
 *   node dist/bench/kube-proxy.js [--services 1000,10000] [--runs 3] [--modes nftables,iptables] [--connects 300]
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { BackendOptions, RuleBackend } from '../kube-proxy/backend.js';
import { IptablesBackend } from '../kube-proxy/iptables/backend.js';
import { IptablesCli } from '../kube-proxy/iptables/runner.js';
import type { ProxyState } from '../kube-proxy/model.js';
import { readlinkSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { NftBackend } from '../kube-proxy/nftables/backend.js';
import { NftNetlink } from '../kube-proxy/nftables/netlink/socket.js';
import { NftCli } from '../kube-proxy/nftables/runner.js';
import { manyServices, NODE_IP, OTHER_NODE_IP, state } from '../kube-proxy/testing/fixtures.js';
import { withChangedEndpoint, withExtraService } from '../kube-proxy/testing/scale-states.js';
import { mustRun, realExec } from '../lib/exec.js';
import { Cleanup } from './lib/cleanup.js';
import { Progress } from './lib/progress.js';
import { fmtMs, fmtRatio, summarize } from './lib/stats.js';
import { renderTable } from './lib/table.js';

type Mode = 'nftables' | 'iptables';
/** How nftables partial syncs are applied (full syncs always use nft -f). */
type NftPath = 'nft' | 'netlink';
interface Variant {
  readonly mode: Mode;
  readonly path?: NftPath;
}
const variantLabel = (v: Variant): string => (v.path === undefined ? v.mode : `${v.mode} (${v.path === 'nft' ? 'nft -f' : 'netlink'})`);

interface Args {
  readonly services: readonly number[];
  readonly runs: number;
  readonly modes: readonly Mode[];
  readonly connects: number;
}

const USAGE = 'usage: node dist/bench/kube-proxy.js [--services 1000,10000] [--runs 3] [--modes nftables,iptables] [--connects 300]';

function parseArgs(argv: readonly string[]): Args {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  for (let i = 0; i < argv.length; i += 2) {
    if (!['--services', '--runs', '--modes', '--connects'].includes(argv[i] ?? '')) throw new Error(`unknown flag ${argv[i]}\n${USAGE}`);
  }
  const services = (get('--services') ?? '1000,10000').split(',').map(Number);
  const runs = Number(get('--runs') ?? '3');
  const modes = (get('--modes') ?? 'nftables,iptables').split(',');
  const connects = Number(get('--connects') ?? '300');
  if (services.some((n) => !Number.isInteger(n) || n < 1 || n > 20000)) throw new Error(`--services takes counts from 1 to 20000, comma-separated\n${USAGE}`);
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs takes 1..20\n${USAGE}`);
  if (modes.some((m) => m !== 'nftables' && m !== 'iptables')) throw new Error(`--modes takes nftables and/or iptables\n${USAGE}`);
  if (!Number.isInteger(connects) || connects < 10 || connects > 5000) throw new Error(`--connects takes 10..5000\n${USAGE}`);
  return { services, runs, modes: modes as Mode[], connects };
}

const progress = new Progress();
const cleanup = new Cleanup();
const OPTS: BackendOptions = { clusterCIDR: '10.244.0.0/16', nodeIPs: [NODE_IP] };

async function netns(tag: string): Promise<string> {
  const name = `knode-kpb-${tag}-${randomBytes(3).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  cleanup.add({
    what: `delete netns ${name}`,
    async: async () => void (await realExec.run(['ip', 'netns', 'del', name])),
    sync: () => void spawn('ip', ['netns', 'del', name], { stdio: 'ignore' }),
  });
  return name;
}

const dropNetns = async (name: string): Promise<void> => void (await realExec.run(['ip', 'netns', 'del', name]));

function iptablesIn(ns: string): RuleBackend {
  return new IptablesBackend(new IptablesCli({ netnsPath: `/run/netns/${ns}` }));
}

async function timedSync(b: RuleBackend, s: ProxyState, changed?: ReadonlySet<string>): Promise<number> {
  const t0 = performance.now();
  await b.sync(s, OPTS, changed);
  return performance.now() - t0;
}

interface SyncFigures {
  readonly cold: number[];
  readonly addOne: number[];
  readonly changeEndpoint: number[];
}

/** A cold full sync of `base`, then `partial` pairs of partial syncs (add one Service, change its endpoint). */
async function syncSeries(backend: RuleBackend, base: ProxyState, partial: number, label: string, check?: () => void): Promise<SyncFigures> {
  const figures: SyncFigures = { cold: [await timedSync(backend, base)], addOne: [], changeEndpoint: [] };
  if (partial === 0) return figures;
  let current = base;
  progress.start(`${label}: partial syncs`, partial * 2);
  for (let i = 1; i <= partial; i++) {
    const added = withExtraService(current, i);
    figures.addOne.push(await timedSync(backend, added.state, new Set([added.key])));
    check?.();
    progress.tick();
    const changed = withChangedEndpoint(added.state, added.key, i);
    figures.changeEndpoint.push(await timedSync(backend, changed, new Set([added.key])));
    check?.();
    progress.tick();
    current = changed;
  }
  progress.done();
  return figures;
}

/**
 * `--child-sync PATH --services N --partial K --parent-netns NS`: runs inside the throwaway namespace (started there by
 * `ip netns exec`), so nft and the netlink socket act on it alone; prints SyncFigures as JSON.
 * Refuses to run in its parent's namespace (the machine's root one).
 */
async function childSync(argv: readonly string[]): Promise<void> {
  const get = (flag: string): string => argv[argv.indexOf(flag) + 1] ?? '';
  const path = get('--child-sync') as NftPath;
  const [n, partial] = [Number(get('--services')), Number(get('--partial'))];
  if (readlinkSync('/proc/self/ns/net') === get('--parent-netns')) throw new Error("--child-sync must run inside a throwaway network namespace, not its parent's");
  if ((path !== 'nft' && path !== 'netlink') || !Number.isInteger(n) || !Number.isInteger(partial)) throw new Error('bad --child-sync arguments');
  const { services, slices } = manyServices(n, 2);
  const backend = new NftBackend(new NftCli(), path === 'netlink' ? { netlink: new NftNetlink() } : {});
  const figures = await syncSeries(backend, state(services, slices), partial, `nftables (${path})`, () => {
    if (backend.lastApplyPath !== path) throw new Error(`a partial sync went through ${backend.lastApplyPath ?? 'nothing'}, not ${path}`);
  });
  process.stdout.write(`${JSON.stringify(figures)}\n`);
}

/** Runs `childSync` inside `ns` and returns its figures. */
async function nftSyncsIn(ns: string, path: NftPath, n: number, partial: number): Promise<SyncFigures> {
  const script = process.argv[1];
  if (script === undefined) throw new Error('cannot find this script to start the in-namespace child');
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, script, '--child-sync', path, '--services', String(n), '--partial', String(partial), '--parent-netns', readlinkSync('/proc/self/ns/net')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.addProcess(`nftables sync child in ${ns}`, child);
  const lines: string[] = [];
  for await (const line of createInterface({ input: child.stdout })) lines.push(line);
  const code = await new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));
  const last = lines.at(-1);
  if (code !== 0 || last === undefined) throw new Error(`the in-namespace nftables sync (${path}) failed (exit ${code})`);
  return JSON.parse(last) as SyncFigures;
}

/** Cold syncs in fresh namespaces, then partial syncs in the last one (left loaded for `data`). */
async function measureSyncs(v: Variant, base: ProxyState, runs: number, keep: boolean): Promise<{ figures: SyncFigures; ns?: string }> {
  const figures: SyncFigures = { cold: [], addOne: [], changeEndpoint: [] };
  const partial = Math.max(5, runs * 3);
  let ns = '';
  for (let r = 0; r < runs; r++) {
    if (ns !== '') await dropNetns(ns);
    ns = await netns(v.mode === 'nftables' ? 'n' : 'i');
    progress.note(`${variantLabel(v)}: cold full sync of ${base.services.size} Services, run ${r + 1}/${runs}`);
    const last = r === runs - 1;
    const f = v.path !== undefined ? await nftSyncsIn(ns, v.path, base.services.size, last ? partial : 0) : await syncSeries(iptablesIn(ns), base, last ? partial : 0, variantLabel(v));
    figures.cold.push(...f.cold);
    figures.addOne.push(...f.addOne);
    figures.changeEndpoint.push(...f.changeEndpoint);
  }
  if (!keep) {
    await dropNetns(ns);
    return { figures };
  }
  return { figures, ns };
}

/** A namespace where only `key`'s Service is programmed (full sync from here: nft -f / iptables-restore). */
async function oneServiceNs(mode: Mode, base: ProxyState, key: string): Promise<string> {
  const ns = await netns(mode === 'nftables' ? 'o' : 'p');
  const sp = base.services.get(key);
  if (sp === undefined) throw new Error(`no Service port ${key} in the generated state`);
  const only: ProxyState = { services: new Map([[key, sp]]), endpoints: new Map([[key, base.endpoints.get(key) ?? []]]) };
  const backend = mode === 'nftables' ? new NftBackend(new NftCli({ netnsPath: `/run/netns/${ns}` })) : iptablesIn(ns);
  await backend.sync(only, OPTS, undefined);
  return ns;
}

/** Runs in the node namespace: connects to each "ip:port" target in turn, `n` rounds; prints ms per target. */
const CLIENT = `
const net = require('net');
const [targets, n] = [JSON.parse(process.argv[1]), Number(process.argv[2])];
const out = Object.fromEntries(targets.map((t) => [t, []]));
const once = (target) => new Promise((resolve, reject) => {
  const [host, port] = target.split(':');
  const t0 = process.hrtime.bigint();
  const s = net.connect({ host, port: Number(port) });
  s.on('connect', () => { const ms = Number(process.hrtime.bigint() - t0) / 1e6; s.destroy(); resolve(ms); });
  s.on('error', reject);
  s.setTimeout(2000, () => { s.destroy(); reject(new Error('no answer from ' + target)); });
});
(async () => {
  for (let i = 0; i < n; i++) for (const t of targets) out[t].push(await once(t));
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { process.stderr.write(String(e)); process.exit(1); });
`;

/**
 * Connection set-up times from the node namespace `ns` (10,000 Services loaded) to `targets`,
 * interleaved round-robin so drift hits every target alike. The listener lives in a second
 * namespace holding the endpoint addresses, behind a veth pair.
 */
async function measureDataPath(ns: string, targets: Record<string, { host: string; port: number }>, listenAddrs: readonly string[], connects: number): Promise<Record<string, number[]>> {
  const be = await netns('b');
  const [a, b] = [`kpb${randomBytes(2).toString('hex')}a`, `kpb${randomBytes(2).toString('hex')}b`];
  const inNs = (n: string, argv: readonly string[]): Promise<unknown> => mustRun(realExec, ['ip', 'netns', 'exec', n, ...argv]);
  await mustRun(realExec, ['ip', 'link', 'add', a, 'netns', ns, 'type', 'veth', 'peer', 'name', b, 'netns', be]);
  await inNs(ns, ['ip', 'link', 'set', 'lo', 'up']);
  await inNs(ns, ['ip', 'addr', 'add', `${NODE_IP}/24`, 'dev', a]);
  await inNs(ns, ['ip', 'link', 'set', a, 'up']);
  await inNs(ns, ['ip', 'route', 'add', '10.244.0.0/16', 'via', OTHER_NODE_IP]);
  // a node's default route would carry cluster IPs; without one, a connect() fails before the DNAT
  await inNs(ns, ['ip', 'route', 'add', '10.96.0.0/12', 'via', OTHER_NODE_IP]);
  await inNs(be, ['ip', 'link', 'set', 'lo', 'up']);
  await inNs(be, ['ip', 'addr', 'add', `${OTHER_NODE_IP}/24`, 'dev', b]);
  for (const ip of listenAddrs) await inNs(be, ['ip', 'addr', 'add', `${ip}/32`, 'dev', b]);
  await inNs(be, ['ip', 'link', 'set', b, 'up']);
  const server = spawn('ip', ['netns', 'exec', be, process.execPath, '-e', "require('net').createServer((s)=>s.on('error',()=>{}).end()).listen(8080,'0.0.0.0',()=>console.log('ready'))"], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  cleanup.addProcess('listener', server);
  await new Promise<void>((resolve, reject) => {
    server.stdout.once('data', () => resolve());
    server.once('exit', (code) => reject(new Error(`the listener exited (${code})`)));
  });
  try {
    const list = Object.values(targets).map((t) => `${t.host}:${t.port}`);
    progress.note(`data path: ${connects} connections to each of ${list.length} targets`);
    const r = await mustRun(realExec, ['ip', 'netns', 'exec', ns, process.execPath, '-e', CLIENT, JSON.stringify(list), String(connects)], { timeoutMs: 600_000 });
    const raw = JSON.parse(r.stdout) as Record<string, number[]>;
    return Object.fromEntries(Object.entries(targets).map(([label, t]) => [label, raw[`${t.host}:${t.port}`] ?? []]));
  } finally {
    server.kill('SIGKILL');
    await dropNetns(be);
  }
}

const cell = (samples: readonly number[]): string => {
  if (samples.length === 0) return '-';
  const s = summarize(samples);
  return `${fmtMs(s.p50)} (max ${fmtMs(s.max)})`;
};

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the kube-proxy bench needs root (network namespaces, nft, iptables)');
  if (process.argv[2] === '--child-sync') return childSync(process.argv.slice(2));
  const args = parseArgs(process.argv.slice(2));
  cleanup.installSignalHandlers();
  const out: string[] = [`kube-proxy bench: ${args.modes.join(' + ')}, load average at start ${loadavg().map((l) => l.toFixed(1)).join(' ')}`];
  const rows: string[][] = [];
  const data: string[][] = [];
  const paths: string[][] = [];
  const variants = args.modes.flatMap((mode): Variant[] => (mode === 'nftables' ? [{ mode, path: 'nft' }, { mode, path: 'netlink' }] : [{ mode }]));
  const largest = Math.max(...args.services);
  try {
    for (const n of args.services) {
      const { services, slices } = manyServices(n, 2);
      const base = state(services, slices);
      const byPath = new Map<NftPath, SyncFigures>();
      for (const v of variants) {
        const mode = v.mode;
        // the data path needs one loaded namespace per mode: nftables keeps its netlink run's
        const keep = n === largest && v.path !== 'nft';
        const { figures, ns } = await measureSyncs(v, base, args.runs, keep);
        rows.push([variantLabel(v), String(n), cell(figures.cold), cell(figures.addOne), cell(figures.changeEndpoint)]);
        if (v.path !== undefined) byPath.set(v.path, figures);
        const [viaNft, viaNetlink] = [byPath.get('nft'), byPath.get('netlink')];
        if (v.path === 'netlink' && viaNft !== undefined && viaNetlink !== undefined) {
          const p50 = (xs: readonly number[]): number => summarize(xs).p50;
          paths.push([
            String(n),
            fmtMs(p50(viaNft.addOne)),
            fmtMs(p50(viaNetlink.addOne)),
            fmtRatio(p50(viaNetlink.addOne), p50(viaNft.addOne)),
            fmtMs(p50(viaNft.changeEndpoint)),
            fmtMs(p50(viaNetlink.changeEndpoint)),
            fmtRatio(p50(viaNetlink.changeEndpoint), p50(viaNft.changeEndpoint)),
          ]);
        }
        if (ns === undefined) continue;
        // KNODE-SERVICES (iptables) holds one rule per Service in key order: the last key is matched last
        const keys = [...base.services.keys()].sort();
        const [first, last] = [base.services.get(keys[0] ?? ''), base.services.get(keys[n - 1] ?? '')];
        const firstEps = (base.endpoints.get(keys[0] ?? '') ?? []).map((e) => e.ip);
        const lastEps = (base.endpoints.get(keys[n - 1] ?? '') ?? []).map((e) => e.ip);
        const ep = lastEps[0];
        if (first?.clusterIPs[0] === undefined || last?.clusterIPs[0] === undefined || ep === undefined) throw new Error('the generated state has no first or last Service');
        // blocks alternate between the loaded namespace and the one-Service one, so drift hits both
        const oneNs = await oneServiceNs(mode, base, keys[n - 1] ?? '');
        const times: Record<string, number[]> = { direct: [], first: [], last: [], one: [] };
        const BLOCKS = 4;
        const per = Math.ceil(args.connects / BLOCKS);
        const lastTarget = { host: last.clusterIPs[0], port: last.port };
        for (let block = 0; block < BLOCKS; block++) {
          const loaded = await measureDataPath(ns, { direct: { host: ep, port: 8080 }, first: { host: first.clusterIPs[0], port: first.port }, last: lastTarget }, [...firstEps, ...lastEps], per);
          const alone = await measureDataPath(oneNs, { one: lastTarget }, lastEps, per);
          for (const [k, v] of Object.entries({ ...loaded, ...alone })) times[k]?.push(...v);
        }
        await dropNetns(oneNs);
        await dropNetns(ns);
        const p50 = (k: string): number => summarize(times[k] ?? []).p50;
        data.push([
          mode,
          String(n),
          cell(times['direct'] ?? []),
          cell(times['first'] ?? []),
          cell(times['last'] ?? []),
          cell(times['one'] ?? []),
          fmtRatio(p50('last'), p50('first')),
          fmtRatio(p50('last'), p50('one')),
          fmtRatio(p50('first'), p50('direct')),
        ]);
      }
    }
  } finally {
    await cleanup.runAll();
  }
  out.push(
    '',
    'Rule syncs through the backend (ms, p50 and max)',
    renderTable(['mode', 'Services', 'cold full sync', 'add one Service', 'change one endpoint'], rows, ['left', 'right', 'right', 'right', 'right']),
    '',
    ...(paths.length > 0
      ? [
          'nftables partial syncs, netlink batch vs nft -f (ms, p50; ratio netlink / nft -f)',
          renderTable(
            ['Services', 'add one: nft -f', 'add one: netlink', 'ratio', 'change endpoint: nft -f', 'change endpoint: netlink', 'ratio'],
            paths,
            ['right', 'right', 'right', 'right', 'right', 'right', 'right'],
          ),
          '',
        ]
      : []),
    `TCP connection set-up from the node (ms, p50 and max over ${args.connects} each)`,
    renderTable(
      ['mode', 'Services', 'direct to endpoint', '1st Service', 'last Service', 'last, programmed alone', 'last/1st', 'last/alone', '1st/direct'],
      data,
      ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    ),
    '',
    'Goals (#6): nftables add one Service with 10,000 present <= 50 ms; cold sync of 10,000 <= 5 s; nftables connection set-up at 10,000 within 1.2x of one Service (last/alone).',
    `load average at end ${loadavg().map((l) => l.toFixed(1)).join(' ')}`,
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch(async (err: unknown) => {
  await cleanup.runAll();
  process.stderr.write(`kube-proxy bench: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
