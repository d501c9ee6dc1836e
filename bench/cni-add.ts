/**
 * `node dist/bench/cni-add.js`: wall time of knode-cni ADD and DEL (the binary as a runtime runs it:
 * process start included) next to Debian's reference `bridge` + `host-local` plugins (/usr/lib/cni)
 * with an equivalent config, in the same kind of throwaway namespaces (cni/testing/harness.ts). Also
 * prints the floors that explain the figures: bare `node` start, the plugin's VERSION, one
 * `ip -batch` and `nsenter ip -batch` exec, and loading the `netlink` N-API package.
 *
 * The thin-client rows run `knode-cni` as `knode agent` installs it (cni/thin-client.ts: sh + curl)
 * against the agent's CNI server (cni/agent-server.ts, the same plugin code in-process), and once more
 * with that server stopped (the script's fallback to the binary). The server runs in a child of this
 * bench (this file with `--serve-cni SOCKET`) entered into the node namespace, as the agent sits in
 * a lab node's: the plugin acts on the namespace of its process, never the machine's root one.
 *
 * Flags: --iterations N (default 100, 10..1000), --bin PATH (default dist/cni/knode-cni.js, made by
 * `npm run build`), --no-reference. Needs root. Everything runs in namespaces it creates and deletes.
 */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { createCniHandlers, startCniServer } from '../cni/agent-server.js';
import { buildPluginBinary, cniEnv, netnsPath, Sandbox, TEST_POD_CIDR } from '../cni/testing/harness.js';
import { thinClientScript } from '../cni/thin-client.js';
import { fmtMs, fmtRatio, summarize, type LatencySummary } from './lib/stats.js';
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
  return { add: summarize(adds), del: summarize(dels) };
}

/** The child's side: serve CNI on `socketPath` until SIGTERM (the bench runs it in the node namespace). */
async function serveCni(socketPath: string): Promise<void> {
  const server = await startCniServer({ socketPath, handlers: createCniHandlers(process.env['PATH']) });
  process.on('SIGTERM', () => {
    void server.close().then(() => process.exit(0));
  });
  process.stdout.write('ready\n');
}

/** Starts the CNI server inside `s`'s node namespace; resolves to its stopper once it listens. */
async function startAgentServer(s: Sandbox, socketPath: string): Promise<() => Promise<void>> {
  const self = process.argv[1] ?? '';
  const child = spawn('nsenter', [`--net=${netnsPath(s.node)}`, '--', process.execPath, self, '--serve-cni', socketPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  s.trackPid(child.pid);
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise<void>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) res();
    });
    void exited.then(() => rej(new Error('the CNI server exited before listening')));
  });
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
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

    // the thin client, as `knode agent` installs it, in front of the agent's server (same node, own state)
    const thinDir = knode.tempDir('knode-cni-thin-');
    const socketPath = join(thinDir, 'agent.sock');
    const script = join(thinDir, 'knode-cni');
    writeFileSync(script, thinClientScript({ socketPath, nodePath: process.execPath, pluginPath: bin }));
    chmodSync(script, 0o755);
    const thinConf = JSON.stringify({ ...JSON.parse(knodeConf), dataDir: knode.tempDir() });
    const stopServer = await startAgentServer(knode, socketPath);
    process.stderr.write(`thin client + agent server: ${opts.iterations} ADD+DEL...\n`);
    // like the binary's VERSION floor: no namespace entered (VERSION touches no network)
    const thinVersion = await floor([script], '{}', 30, { ...env, CNI_COMMAND: 'VERSION' });
    const thin = await measure(knode, script, thinConf, opts.iterations);
    await stopServer();
    process.stderr.write(`thin client, agent down (fallback to the binary): ${Math.min(opts.iterations, 30)} ADD+DEL...\n`);
    const thinDown = await measure(knode, script, thinConf, Math.min(opts.iterations, 30));

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
          row(`thin client + agent ADD (n=${thin.add.count})`, thin.add, ref?.add),
          row(`thin client + agent DEL (n=${thin.del.count})`, thin.del, ref?.del),
          row(`thin client, agent down ADD (n=${thinDown.add.count})`, thinDown.add, ref?.add),
          row(`thin client, agent down DEL (n=${thinDown.del.count})`, thinDown.del, ref?.del),
          row('reference bridge+host-local ADD', ref?.add),
          row('reference bridge+host-local DEL', ref?.del),
        ],
        ['left', 'right', 'right', 'right', 'right'],
      ),
      '',
      `Goal: ADD p50 <= 60 ms: ${ours.add.p50 <= 60 ? 'PASS' : 'MISS'} (${fmtMs(ours.add.p50)})`,
      '',
      '## Floors (p50 of 30; netlink of 10)',
      '',
      renderTable(
        ['what', 'p50', 'p99'],
        [
          ['node -e 0', fmtMs(bare.p50), fmtMs(bare.p99)],
          ['node -e 0 with NODE_EXTRA_CA_CERTS set', fmtMs(bareCa.p50), fmtMs(bareCa.p99)],
          ['knode-cni VERSION (start + bundle, no work)', fmtMs(version.p50), fmtMs(version.p99)],
          ['thin client VERSION (sh + curl + agent, no work)', fmtMs(thinVersion.p50), fmtMs(thinVersion.p99)],
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
(serving !== undefined ? serveCni(serving) : main()).catch((err: unknown) => {
  process.stderr.write(`bench cni-add: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
