/**
 * `node dist/bench/cni-add.js`: wall time of knode-cni ADD and DEL (the binary as a runtime runs it:
 * process start included) next to Debian's reference `bridge` + `host-local` plugins (/usr/lib/cni)
 * with an equivalent config, in the same kind of throwaway namespaces (cni/testing/harness.ts). Also
 * prints the floors that explain the figures: bare `node` start, the plugin's VERSION, one
 * `ip -batch` and `nsenter ip -batch` exec, and loading the `netlink` N-API package.
 *
 * The thin-client rows run `knode-cni` as `knode agent` installs it against the agent's CNI server
 * (cni/agent-server.ts, the same plugin code in-process): the C client (cni/client/, a configured copy
 * of dist/cni/knode-cni-client) and the sh + curl script (cni/thin-client.ts), then both once more
 * with that server stopped (their fallback to the binary). The server runs in a child of this bench
 * (this file with `--serve-cni SOCKET`) entered into the node namespace, as the agent sits in a lab
 * node's: the plugin acts on the namespace of its process, never the machine's root one. It runs the
 * agent's composition (node ops over netlink, agent-server.ts's createCniHandlers); one more phase
 * runs the C client against a server that uses `ip -batch` execs as the binary does, to show that cut.
 * The child reports, per request, its handling time and the time in execs and in netlink, so the
 * "where an ADD goes" table splits each client's wall time into client + transport, the agent's own
 * work, and the execs (paired per request).
 *
 * Flags: --iterations N (default 100, 10..1000), --bin PATH (default dist/cni/knode-cni.js, made by
 * `npm run build`), --no-reference. Needs root. Everything runs in namespaces it creates and deletes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join, resolve } from 'node:path';
import type { Exec } from '../lib/exec.js';
import { realExec } from '../lib/exec.js';
import { startCniServer } from '../cni/agent-server.js';
import { compileClient } from '../cni/client/compile.js';
import { configureClient } from '../cni/client/embed.js';
import { NetExecutor, resolveTools } from '../cni/executor.js';
import { FileStore } from '../cni/ipam/file-store.js';
import { NetlinkNodeNet, type NodeNet } from '../cni/netlink-node.js';
import { realNodeHost } from '../cni/node-host.js';
import { createPlugin } from '../cni/plugin.js';
import { buildPluginBinary, cniEnv, netnsPath, Sandbox, TEST_POD_CIDR } from '../cni/testing/harness.js';
import { thinClientScript } from '../cni/thin-client.js';
import { fmtMs, fmtRatio, median, summarize, type LatencySummary } from './lib/stats.js';
import { renderTable } from './lib/table.js';

interface Options {
  readonly iterations: number;
  readonly bin?: string;
  readonly reference: boolean;
}

function parseArgs(argv: readonly string[]): Options {
  let iterations = 100;
  let bin: string | undefined;
  let reference = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--iterations') {
      iterations = Number(argv[++i]);
      if (!Number.isInteger(iterations) || iterations < 10 || iterations > 1000) throw new Error('--iterations must be an integer from 10 to 1000');
    } else if (a === '--bin') bin = argv[++i];
    else if (a === '--no-reference') reference = false;
    else throw new Error(`unknown flag ${a}; flags: --iterations N, --bin PATH, --no-reference`);
  }
  return { iterations, reference, ...(bin !== undefined ? { bin } : {}) };
}

/** Wall time of one process, start to exit. */
function timeProcess(argv: readonly string[], stdin: string, env?: Record<string, string>): Promise<{ ms: number; code: number; stdout: string }> {
  const start = performance.now();
  return new Promise((res, rej) => {
    const [file, ...args] = argv;
    const child = spawn(file ?? '', args, { stdio: ['pipe', 'pipe', 'inherit'], ...(env ? { env } : {}) });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ ms: performance.now() - start, code: code ?? -1, stdout }));
    child.stdin.end(stdin);
  });
}

async function floor(argv: readonly string[], stdin = '', n = 30, env?: Record<string, string>): Promise<LatencySummary> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) samples.push((await timeProcess(argv, stdin, env)).ms);
  return summarize(samples);
}

interface Phase {
  readonly add: LatencySummary;
  readonly del: LatencySummary;
  /** Wall times in request order, to pair with the server's per-request figures. */
  readonly addSamples: readonly number[];
}

/** Per iteration: a fresh pod namespace (untimed), ADD (timed), DEL (timed), namespace removed. */
async function measure(s: Sandbox, bin: string, conf: string, iterations: number, env: Record<string, string> = {}): Promise<Phase> {
  const adds: number[] = [];
  const dels: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const pod = await s.createPod();
    const add = await s.runPlugin(bin, { ...cniEnv('ADD', `bench${i}`, netnsPath(pod)), ...env }, conf);
    if (add.code !== 0) throw new Error(`ADD ${i} failed: ${add.stdout}${add.stderr}`);
    adds.push(add.ms);
    const del = await s.runPlugin(bin, { ...cniEnv('DEL', `bench${i}`, netnsPath(pod)), ...env }, conf);
    if (del.code !== 0) throw new Error(`DEL ${i} failed: ${del.stdout}${del.stderr}`);
    dels.push(del.ms);
    await s.deleteNamespace(pod);
    if ((i + 1) % 25 === 0) process.stderr.write(`  ${i + 1}/${iterations}\n`);
  }
  return { add: summarize(adds), del: summarize(dels), addSamples: adds };
}

/** What the server child reports per request (one JSON line on stdout). */
interface Served {
  readonly command: string;
  /** In the plugin's handler (after the request was read and parsed, before the answer is written). */
  readonly ms: number;
  /** Of which in `ip` / `nsenter ... ip` / `nft` processes. */
  readonly execMs: number;
  readonly execs: readonly string[];
  /** Of which applying node ops over the server's netlink socket. */
  readonly netlinkMs: number;
}

/**
 * The child's side: serve CNI on `socketPath` until SIGTERM (the bench runs it in the node namespace),
 * with the agent's composition (agent-server.ts's createCniHandlers) but an Exec and handlers that are
 * timed. Requests come one at a time here, so the execs since the last answer are that request's.
 */
async function serveCni(socketPath: string, netlink: boolean): Promise<void> {
  let execMs = 0;
  let netlinkMs = 0;
  let handlerMs = 0;
  let execs: string[] = [];
  const timed: Exec = {
    async run(argv, opts) {
      const start = performance.now();
      try {
        return await realExec.run(argv, opts);
      } finally {
        execMs += performance.now() - start;
        execs.push(basename(argv[0] ?? '?'));
      }
    },
  };
  const real = new NetlinkNodeNet().preload();
  const nodeNet: NodeNet = {
    async apply(ops, what) {
      const start = performance.now();
      try {
        await real.apply(ops, what);
      } finally {
        netlinkMs += performance.now() - start;
      }
    },
  };
  const plugin = createPlugin({
    net: new NetExecutor(timed, resolveTools(process.env['PATH'])),
    host: realNodeHost,
    openStore: (dir) => new FileStore(dir),
    ...(netlink ? { nodeNet } : {}),
  });
  const time = async <T>(f: () => Promise<T>): Promise<T> => {
    const start = performance.now();
    try {
      return await f();
    } finally {
      handlerMs = performance.now() - start;
    }
  };
  const report = (fields: Record<string, unknown>): void => {
    const line: Served = { command: String(fields['command']), ms: handlerMs, execMs, execs, netlinkMs };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    execMs = 0;
    netlinkMs = 0;
    handlerMs = 0;
    execs = [];
  };
  const server = await startCniServer({
    socketPath,
    handlers: {
      add: (req) => time(() => plugin.add(req)),
      del: (req) => time(() => plugin.del(req)),
      check: (req) => time(() => plugin.check(req)),
      gc: (req) => time(() => plugin.gc(req)),
      status: (req) => time(() => plugin.status(req)),
    },
    log: { debug: report, info: report, warn: () => undefined },
  });
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

interface AgentServer {
  /** Requests answered since the last call, in order. */
  take(): Promise<Served[]>;
  stop(): Promise<void>;
}

/** Starts the CNI server inside `s`'s node namespace; resolves once it listens. */
async function startAgentServer(s: Sandbox, socketPath: string, netlink: boolean): Promise<AgentServer> {
  const self = process.argv[1] ?? '';
  const args = [self, '--serve-cni', socketPath, ...(netlink ? [] : ['--no-netlink'])];
  const child = spawn('nsenter', [`--net=${netnsPath(s.node)}`, '--', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  s.trackPid(child.pid);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  let out = '';
  let served: Served[] = [];
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      let nl;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (line === 'ready') res();
        else if (line.startsWith('{')) served.push(JSON.parse(line) as Served);
      }
    });
    void exited.then(() => rej(new Error('the CNI server exited before listening')));
  });
  return {
    // the report line is written after the answer: give the last one a moment to arrive
    take: async () => {
      await new Promise((r) => setTimeout(r, 50));
      const all = served;
      served = [];
      return all;
    },
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** A client's ADD split per request: its wall time, the agent's handling, the execs inside that. */
interface AddSplit {
  readonly total: number;
  readonly agent: number;
  readonly execs: number;
  readonly netlink: number;
  /** Wall time outside the plugin's handler: process starts, connect, HTTP, parsing, stdin/stdout. */
  readonly outside: number;
  readonly execList: string;
}

function splitAdds(phase: Phase, served: readonly Served[]): AddSplit | undefined {
  const adds = served.filter((r) => r.command === 'ADD');
  if (adds.length !== phase.addSamples.length) return undefined;
  const agent = adds.map((r) => r.ms);
  return {
    total: median([...phase.addSamples]),
    agent: median(agent),
    execs: median(adds.map((r) => r.execMs)),
    netlink: median(adds.map((r) => r.netlinkMs)),
    outside: median(phase.addSamples.map((t, i) => t - (agent[i] ?? 0))),
    // the last ADD's: the first one also creates the bridge and detects the MTU
    execList: adds[adds.length - 1]?.execs.join(' + ') ?? '',
  };
}

/** Issue #4's goal, for the fastest way a runtime can run knode-cni that was measured. */
function goalLine(candidates: readonly (readonly [string, LatencySummary | undefined])[]): string {
  const best = candidates.filter((c): c is readonly [string, LatencySummary] => c[1] !== undefined).sort((a, b) => a[1].p50 - b[1].p50)[0];
  if (best === undefined) return 'Goal: ADD p50 <= 60 ms: not measured';
  return `Goal: ADD p50 <= 60 ms: ${best[1].p50 <= 60 ? 'PASS' : 'MISS'} (${best[0]}: ${fmtMs(best[1].p50)})`;
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces)');
  const sandboxes: Sandbox[] = [];
  const onSignal = (): void => {
    for (const s of sandboxes) s.cleanupSync();
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const knode = new Sandbox();
    sandboxes.push(knode);
    await knode.createNode();
    const bin = opts.bin ?? (existsSync('dist/cni/knode-cni.js') ? resolve('dist/cni/knode-cni.js') : await buildPluginBinary(knode.tempDir('knode-cni-bin-')));
    const env = { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin' };

    process.stderr.write('floors...\n');
    const bare = await floor(['node', '-e', '0'], '', 30, env);
    const bareCa = await floor(['node', '-e', '0'], '', 30, { ...env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' });
    const version = await floor([bin], '{}', 30, { ...env, CNI_COMMAND: 'VERSION' });
    const ipBatch = await floor(['ip', '-batch', '-'], 'link show lo\n');
    const nsenterIp = await floor(['nsenter', `--net=${netnsPath(knode.node)}`, '--', 'ip', '-batch', '-'], 'link show lo\n');
    const netlinkPath = createRequire(resolve('package.json')).resolve('netlink');
    const netlink = await floor(['node', '-e', `require(${JSON.stringify(netlinkPath)})`], '', 10, env);

    process.stderr.write(`knode-cni (${bin}): ${opts.iterations} ADD+DEL...\n`);
    const knodeConf = JSON.stringify({ cniVersion: '1.1.0', name: 'knode-bench', type: 'knode-cni', podCIDR: TEST_POD_CIDR, dataDir: knode.tempDir() });
    const ours = await measure(knode, bin, knodeConf, opts.iterations);
    const withPorts = await measure(
      knode,
      bin,
      JSON.stringify({ ...JSON.parse(knodeConf), runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }] } }),
      Math.min(opts.iterations, 30),
    );

    // the thin clients, as `knode agent` installs them, in front of the agent's server (same node, own state)
    const thinDir = knode.tempDir('knode-cni-thin-');
    const socketPath = join(thinDir, 'agent.sock');
    const clientPaths = { socketPath, nodePath: process.execPath, pluginPath: bin };
    const script = join(thinDir, 'knode-cni');
    writeFileSync(script, thinClientScript(clientPaths));
    chmodSync(script, 0o755);
    const built = existsSync('dist/cni/knode-cni-client') ? resolve('dist/cni/knode-cni-client') : await compileClient(thinDir, resolve('cni/client/knode-cni-client.c'));
    let cClient: string | undefined;
    if (built !== undefined) {
      cClient = join(thinDir, 'knode-cni-c');
      writeFileSync(cClient, configureClient(readFileSync(built), clientPaths));
      chmodSync(cClient, 0o755);
    } else process.stderr.write('no C client (dist/cni/knode-cni-client missing and no gcc): its rows are skipped\n');
    const thinConf = JSON.stringify({ ...JSON.parse(knodeConf), dataDir: knode.tempDir() });
    const server = await startAgentServer(knode, socketPath, true);
    // like the binary's VERSION floor: no namespace entered (VERSION touches no network)
    const thinVersion = await floor([script], '{}', 30, { ...env, CNI_COMMAND: 'VERSION' });
    const cVersion = cClient !== undefined ? await floor([cClient], '{}', 30, { ...env, CNI_COMMAND: 'VERSION' }) : undefined;
    let c: Phase | undefined;
    let cSplit: AddSplit | undefined;
    if (cClient !== undefined) {
      process.stderr.write(`C client + agent server: ${opts.iterations} ADD+DEL...\n`);
      await server.take();
      c = await measure(knode, cClient, thinConf, opts.iterations);
      cSplit = splitAdds(c, await server.take());
    }
    process.stderr.write(`sh client + agent server: ${opts.iterations} ADD+DEL...\n`);
    await server.take();
    const thin = await measure(knode, script, thinConf, opts.iterations);
    const thinSplit = splitAdds(thin, await server.take());
    await server.stop();
    // the same C client against a server that runs `ip -batch` for the node's part, as the binary does
    let cExec: Phase | undefined;
    let cExecSplit: AddSplit | undefined;
    if (cClient !== undefined) {
      const execServer = await startAgentServer(knode, socketPath, false);
      process.stderr.write(`C client + agent server without netlink (ip execs): ${opts.iterations} ADD+DEL...\n`);
      await execServer.take();
      cExec = await measure(knode, cClient, thinConf, opts.iterations);
      cExecSplit = splitAdds(cExec, await execServer.take());
      await execServer.stop();
    }
    const downN = Math.min(opts.iterations, 30);
    process.stderr.write(`sh client, agent down (fallback to the binary): ${downN} ADD+DEL...\n`);
    const thinDown = await measure(knode, script, thinConf, downN);
    let cDown: Phase | undefined;
    if (cClient !== undefined) {
      process.stderr.write(`C client, agent down (fallback to the binary): ${downN} ADD+DEL...\n`);
      cDown = await measure(knode, cClient, thinConf, downN);
    }

    let ref: Phase | undefined;
    if (opts.reference) {
      const r = new Sandbox();
      sandboxes.push(r);
      await r.createNode();
      process.stderr.write(`reference bridge + host-local: ${opts.iterations} ADD+DEL...\n`);
      const refConf = JSON.stringify({
        cniVersion: '1.0.0',
        name: 'ref-bench',
        type: 'bridge',
        bridge: 'knode0',
        isGateway: true,
        ipMasq: false,
        hairpinMode: true,
        mtu: 1450,
        ipam: { type: 'host-local', ranges: [[{ subnet: TEST_POD_CIDR }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: r.tempDir() },
      });
      ref = await measure(r, '/usr/lib/cni/bridge', refConf, opts.iterations, { CNI_PATH: '/usr/lib/cni' });
    }

    const row = (name: string, s: LatencySummary | undefined, base?: LatencySummary): string[] => [
      name,
      s ? fmtMs(s.p50) : '-',
      s ? fmtMs(s.p99) : '-',
      s && base ? fmtRatio(s.p50, base.p50) : '',
      s && base ? fmtRatio(s.p99, base.p99) : '',
    ];
    const out = [
      '# knode-cni ADD/DEL (wall time, process start included)',
      '',
      renderTable(
        ['what', 'p50', 'p99', 'p50 vs reference', 'p99 vs reference'],
        [
          row(`knode-cni ADD (n=${ours.add.count})`, ours.add, ref?.add),
          row(`knode-cni DEL (n=${ours.del.count})`, ours.del, ref?.del),
          row(`knode-cni ADD with a host port (n=${withPorts.add.count})`, withPorts.add),
          row(`knode-cni DEL with a host port`, withPorts.del),
          row(`C client + agent ADD (n=${c?.add.count ?? 0})`, c?.add, ref?.add),
          row(`C client + agent DEL`, c?.del, ref?.del),
          row(`C client + agent, ip execs only ADD (n=${cExec?.add.count ?? 0})`, cExec?.add, ref?.add),
          row(`C client + agent, ip execs only DEL`, cExec?.del, ref?.del),
          row(`sh client + agent ADD (n=${thin.add.count})`, thin.add, ref?.add),
          row(`sh client + agent DEL`, thin.del, ref?.del),
          row(`C client, agent down ADD (n=${cDown?.add.count ?? 0})`, cDown?.add, ref?.add),
          row(`C client, agent down DEL`, cDown?.del, ref?.del),
          row(`sh client, agent down ADD (n=${thinDown.add.count})`, thinDown.add, ref?.add),
          row(`sh client, agent down DEL`, thinDown.del, ref?.del),
          row('reference bridge+host-local ADD', ref?.add),
          row('reference bridge+host-local DEL', ref?.del),
        ],
        ['left', 'right', 'right', 'right', 'right'],
      ),
      '',
      goalLine([
        ['C client + agent', c?.add],
        ['C client + agent, ip execs only', cExec?.add],
        ['sh client + agent', thin.add],
        ['binary', ours.add],
      ]),
      '',
      '## Where a thin client\'s ADD goes (medians, ms; agent = the plugin\'s handler, paired per request)',
      '',
      renderTable(
        ['client, server', 'ADD total', 'outside the agent', 'agent handler', 'of which execs', 'of which netlink', 'execs'],
        (
          [
            ['C client, netlink server', cSplit],
            ['C client, ip-exec server', cExecSplit],
            ['sh + curl client, netlink server', thinSplit],
          ] as const
        ).map(([name, sp]) => [
          name,
          sp ? fmtMs(sp.total) : '-',
          sp ? fmtMs(sp.outside) : '-',
          sp ? fmtMs(sp.agent) : '-',
          sp ? fmtMs(sp.execs) : '-',
          sp ? fmtMs(sp.netlink) : '-',
          sp?.execList ?? '',
        ]),
        ['left', 'right', 'right', 'right', 'right', 'right', 'left'],
      ),
      '',
      '## Floors (p50 of 30; netlink of 10)',
      '',
      renderTable(
        ['what', 'p50', 'p99'],
        [
          ['node -e 0', fmtMs(bare.p50), fmtMs(bare.p99)],
          ['node -e 0 with NODE_EXTRA_CA_CERTS set', fmtMs(bareCa.p50), fmtMs(bareCa.p99)],
          ['knode-cni VERSION (start + bundle, no work)', fmtMs(version.p50), fmtMs(version.p99)],
          ['C client VERSION (client + agent, no work)', cVersion ? fmtMs(cVersion.p50) : '-', cVersion ? fmtMs(cVersion.p99) : '-'],
          ['sh client VERSION (sh + curl + agent, no work)', fmtMs(thinVersion.p50), fmtMs(thinVersion.p99)],
          ['ip -batch - (one exec)', fmtMs(ipBatch.p50), fmtMs(ipBatch.p99)],
          ['nsenter --net ip -batch -', fmtMs(nsenterIp.p50), fmtMs(nsenterIp.p99)],
          ["node -e require('netlink')", fmtMs(netlink.p50), fmtMs(netlink.p99)],
        ],
        ['left', 'right', 'right'],
      ),
      '',
    ].join('\n');
    process.stdout.write(out);
  } finally {
    for (const s of sandboxes.reverse()) await s.cleanup();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const serving = process.argv[2] === '--serve-cni' ? process.argv[3] : undefined;
(serving !== undefined ? serveCni(serving, process.argv[4] !== '--no-netlink') : main()).catch((err: unknown) => {
  process.stderr.write(`bench cni-add: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
