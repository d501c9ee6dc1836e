/**
 * The agent-served knode-cni (agent-server.ts + the thin client of thin-client.ts), run as a runtime
 * runs it (environment + stdin, in the node's namespace) in throwaway namespaces (testing/harness.ts
 * has the IP plan), against the binary's own answers. Needs root.
 *
 * The server runs in a child process entered into the node's namespace, as `knode agent` is in the
 * lab: the plugin acts on the namespace of its process, and this test's process is in the machine's
 * root namespace, which the plugin must never touch. The child is this very module's code
 * (agent-server.ts bundled by esbuild with a four-line entry), not a copy.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realExec } from '../lib/exec.js';
import { compileClient } from './client/compile.js';
import { configureClient } from './client/embed.js';
import { buildPluginBinary, cniEnv, netnsPath, Sandbox, TEST_POD_CIDR, type CniRun } from './testing/harness.js';
import { thinClientScript, type ThinClientOptions } from './thin-client.js';

const isRoot = process.getuid?.() === 0;

/** The child's entry: serve on argv[2]; one JSON line per request on stdout; close on SIGTERM. */
const SERVER_ENTRY = `
import { createCniHandlers, startCniServer } from './agent-server.ts';
const line = (level) => (fields, msg) => process.stdout.write(JSON.stringify({ level, msg, ...fields }) + '\\n');
const server = await startCniServer({ socketPath: process.argv[2], handlers: createCniHandlers(process.env.PATH), log: { debug: line('debug'), info: line('info'), warn: line('warn') } });
process.stdout.write('ready\\n');
process.on('SIGTERM', () => server.close().then(() => process.exit(0)));
`;

let bin = '';
let serverBundle = '';
/** The C client compiled fresh for this run; undefined when gcc is missing (its cases are skipped). */
let cClient: string | undefined;
const sandboxes: Sandbox[] = [];

async function sandbox(): Promise<Sandbox> {
  const s = new Sandbox();
  sandboxes.push(s);
  await s.createNode();
  return s;
}

/** A running server in `s`'s node namespace, with the requests it has logged. */
interface AgentProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly socketPath: string;
  readonly served: () => { command?: string; msg: string }[];
  stop(signal: NodeJS.Signals): Promise<number | null>;
}

async function startAgent(s: Sandbox, socketPath: string): Promise<AgentProcess> {
  const child = spawn('nsenter', [`--net=${netnsPath(s.node)}`, '--', process.execPath, serverBundle, socketPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  s.trackPid(child.pid);
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => {
      if (out.includes('ready\n')) {
        clearInterval(t);
        resolve();
      }
    }, 10);
    void exited.then((code) => {
      clearInterval(t);
      reject(new Error(`the CNI server exited with ${code}: ${err}`));
    });
  });
  return {
    child,
    socketPath,
    served: () =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { command?: string; msg: string })
        .filter((l) => l.msg.startsWith('CNI call')),
    stop: async (signal) => {
      child.kill(signal);
      return exited;
    },
  };
}

/** The two thin clients `knode agent` can install, as it installs them (install.ts). */
interface ClientKind {
  readonly name: string;
  write(dir: string, socketPath: string, over?: Partial<ThinClientOptions>): string;
  /** What it says on stderr when a socket file is there but nothing listens. */
  readonly refusedMessage: string;
  /** The C client needs gcc to be built. */
  readonly available: boolean;
}

const hasGcc = spawnSync('gcc', ['--version'], { stdio: 'ignore' }).error === undefined;

const CLIENTS: readonly ClientKind[] = [
  {
    name: 'the C client',
    write: (dir, socketPath, over = {}) => {
      const path = join(dir, 'knode-cni');
      writeFileSync(path, configureClient(readFileSync(cClient ?? ''), { socketPath, nodePath: process.execPath, pluginPath: bin, ...over }));
      chmodSync(path, 0o755);
      return path;
    },
    refusedMessage: 'did not answer (connect: Connection refused): running the plugin itself',
    available: hasGcc,
  },
  {
    name: 'the sh + curl client',
    write: (dir, socketPath, over = {}) => {
      const path = join(dir, 'knode-cni');
      writeFileSync(path, thinClientScript({ socketPath, nodePath: process.execPath, pluginPath: bin, ...over }));
      chmodSync(path, 0o755);
      return path;
    },
    refusedMessage: 'curl: (7)',
    available: true,
  },
];

/**
 * `served()` once it has `n` entries (or what it has after 5 s): the server logs a call after writing
 * its answer, so the line can reach us after the client has exited.
 */
async function servedWhen(agent: AgentProcess, n: number, keep: (l: { msg: string }) => boolean = () => true): Promise<number> {
  const deadline = Date.now() + 5_000;
  let count = agent.served().filter(keep).length;
  while (count < n && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 10));
    count = agent.served().filter(keep).length;
  }
  return count;
}

function conf(dataDir: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: '1.1.0', name: 'knode-thin', type: 'knode-cni', podCIDR: TEST_POD_CIDR, dataDir, ...extra });
}

function ipOf(r: CniRun): string {
  const ips = r.json?.['ips'] as { address: string }[] | undefined;
  return ips?.[0]?.address.split('/')[0] ?? '';
}

function files(dir: string, sub: string): string[] {
  return existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).sort() : [];
}

/** An ADD result with the pod's netns path (the one thing two runs cannot share) taken out. */
function withoutSandbox(r: CniRun): unknown {
  return JSON.parse(r.stdout.replaceAll(/"sandbox":"[^"]*"/g, '"sandbox":"-"'));
}

/** The bridge and veth as `ip -d -j` shows them in `s`'s node, minus what differs between two nodes. */
async function nodeLinks(s: Sandbox): Promise<unknown> {
  const out = (await realExec.run(['ip', '-n', s.node, '-d', '-j', 'link', 'show'])).stdout;
  const links = JSON.parse(out) as Record<string, unknown>[];
  const addrs = JSON.parse((await realExec.run(['ip', '-n', s.node, '-4', '-j', 'addr', 'show', 'dev', 'knode0'])).stdout) as { addr_info: Record<string, unknown>[] }[];
  const bridgeAddrs = addrs.flatMap((a) => a.addr_info).map((a) => ({ local: a['local'], prefixlen: a['prefixlen'], broadcast: a['broadcast'], scope: a['scope'] }));
  return [
    bridgeAddrs,
    links
      .filter((l) => l['ifname'] === 'knode0' || String(l['ifname']).startsWith('veth'))
      .map((l) => {
        const info = (l['linkinfo'] ?? {}) as { info_kind?: unknown; info_slave_data?: { hairpin?: unknown } };
        return { ifname: l['ifname'], mtu: l['mtu'], address: l['address'], master: l['master'], up: (l['flags'] as string[]).includes('UP'), kind: info.info_kind, hairpin: info.info_slave_data?.hairpin };
      }),
  ];
}

async function eth0Of(pod: string): Promise<string> {
  return (await realExec.run(['ip', '-n', pod, '-4', '-br', 'addr', 'show', 'dev', 'eth0'])).stdout;
}

describe.skipIf(!isRoot)('knode-cni served by the agent', () => {
  beforeAll(async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    const dir = s.tempDir('knode-cni-bin-');
    bin = await buildPluginBinary(dir);
    cClient = await compileClient(dir);
    // npm packages (netlink) stay external, so the bundle sits under the repo where node finds them
    const cache = join(import.meta.dirname, '..', 'node_modules', '.cache');
    mkdirSync(cache, { recursive: true });
    serverBundle = join(cache, `knode-cni-server-${process.pid}.mjs`);
    await build({
      stdin: { contents: SERVER_ENTRY, resolveDir: import.meta.dirname, loader: 'ts', sourcefile: 'cni-server-entry.ts' },
      outfile: serverBundle,
      packages: 'external',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      logLevel: 'warning',
    });
  });

  afterAll(async () => {
    rmSync(serverBundle, { force: true });
    const problems: string[] = [];
    for (const s of sandboxes) problems.push(...(await s.cleanup()));
    expect(problems).toEqual([]);
  });

  describe.each(CLIENTS.filter((c) => c.available))('through $name', (client) => {
    it('answers VERSION, ADD, CHECK, GC, STATUS, DEL and their errors exactly as the binary does', async () => {
      const thin = await sandbox();
      const ref = await sandbox();
      const dir = thin.tempDir();
      const agent = await startAgent(thin, join(dir, 'agent.sock'));
      const script = client.write(dir, agent.socketPath);
      expect(statSync(agent.socketPath).mode & 0o777).toBe(0o600);

      const thinData = thin.tempDir();
      const refData = ref.tempDir();
      const thinPod = netnsPath(await thin.createPod());
      const refPod = netnsPath(await ref.createPod());
      /** The same call both ways: through the thin client in `thin`, with the binary in `ref`. */
      const both = async (env: (pod: string) => Record<string, string>, stdin: (data: string) => string): Promise<[CniRun, CniRun]> => [
        await thin.runPlugin(script, env(thinPod), stdin(thinData)),
        await ref.runPlugin(bin, env(refPod), stdin(refData)),
      ];
      const same = ([a, b]: [CniRun, CniRun]): void => {
        expect({ code: a.code, stdout: a.stdout.replaceAll(thinData, 'DATA').replaceAll(thinPod, 'POD') }).toEqual({
          code: b.code,
          stdout: b.stdout.replaceAll(refData, 'DATA').replaceAll(refPod, 'POD'),
        });
      };

      same(await both(() => ({ CNI_COMMAND: 'VERSION' }), () => '{"cniVersion":"1.0.0"}'));
      const [add, refAdd] = await both((p) => cniEnv('ADD', 'c1', p), (d) => conf(d));
      expect(add.code, add.stdout + add.stderr).toBe(0);
      expect(withoutSandbox(add)).toEqual(withoutSandbox(refAdd));
      expect(await eth0Of(thinPod.slice('/run/netns/'.length))).toContain(`${ipOf(add)}/24`);
      // the server set up the node's side over netlink, the binary with ip: the same links either way
      expect(await nodeLinks(thin)).toEqual(await nodeLinks(ref));

      same(await both((p) => cniEnv('CHECK', 'c1', p), (d) => conf(d, { prevResult: add.json })));
      same(await both(() => ({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }), (d) => conf(d)));
      same(await both(() => ({ CNI_COMMAND: 'GC', CNI_PATH: '/x' }), (d) => conf(d, { 'cni.dev/valid-attachments': [{ containerID: 'c1', ifname: 'eth0' }] })));
      expect(files(thinData, 'ips')).toEqual([ipOf(add)]);

      // errors: the spec's JSON, byte for byte the binary's, exit 1
      const errors: [string, (p: string) => Record<string, string>, (d: string) => string][] = [
        ['CHECK of an unknown container (3)', (p) => cniEnv('CHECK', 'nobody', p), (d) => conf(d, { prevResult: { ips: [] } })],
        ['no netns (4)', () => cniEnv('ADD', 'e1', undefined), (d) => conf(d)],
        ['a netns that does not exist (4)', () => cniEnv('ADD', 'e1', '/run/netns/knode-t-does-not-exist'), (d) => conf(d)],
        ['stdin not JSON (6)', (p) => cniEnv('ADD', 'e1', p), () => '{"cniVersion": '],
        ['invalid config (7)', (p) => cniEnv('ADD', 'e1', p), (d) => conf(d, { podCIDR: '10.244.200.7/24' })],
        ['version too old (1)', (p) => cniEnv('ADD', 'e1', p), (d) => conf(d, { cniVersion: '0.2.0' })],
        ['no CNI_COMMAND (4)', () => ({ CNI_PATH: '/x' }), (d) => conf(d)],
        ['STATUS without a pod CIDR (50)', () => ({ CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }), (d) => conf(d, { podCIDR: undefined, nodeStateFile: join(d, 'node.json') })],
      ];
      for (const [name, env, stdin] of errors) {
        const pair = await both(env, stdin);
        expect({ name, code: pair[0].code, json: pair[0].json !== undefined }).toEqual({ name, code: 1, json: true });
        same(pair);
      }

      same(await both((p) => cniEnv('DEL', 'c1', p), (d) => conf(d)));
      same(await both((p) => cniEnv('DEL', 'c1', p), (d) => conf(d)));
      expect(files(thinData, 'ips')).toEqual([]);
      expect(files(thinData, 'attachments')).toEqual([]);

      // every one of those went through the server, none through the fallback
      expect(await servedWhen(agent, 7 + errors.length)).toBe(7 + errors.length);
      expect(await agent.stop('SIGTERM')).toBe(0);
      expect(existsSync(agent.socketPath)).toBe(false);
    });

    it('applies host ports from the agent process', async () => {
      const s = await sandbox();
      const dir = s.tempDir();
      const agent = await startAgent(s, join(dir, 'agent.sock'));
      const script = client.write(dir, agent.socketPath);
      const data = s.tempDir();
      const pod = netnsPath(await s.createPod());
      const withPort = conf(data, { runtimeConfig: { portMappings: [{ HostPort: 54331, ContainerPort: 80, Protocol: 'TCP' }] } });
      const add = await s.runPlugin(script, cniEnv('ADD', 'hp', pod), withPort);
      expect(add.code, add.stdout).toBe(0);
      const table = async (): Promise<string> => (await realExec.run(['ip', 'netns', 'exec', s.node, 'nft', 'list', 'table', 'inet', 'knode-hostport'])).stdout;
      expect(await table()).toMatch(new RegExp(`54331 : ${ipOf(add).replaceAll('.', '\\.')} \\. 80`));
      expect((await s.runPlugin(script, cniEnv('DEL', 'hp', pod), withPort)).code).toBe(0);
      expect(await table()).not.toContain('54331');
      expect(await servedWhen(agent, 2)).toBe(2);
      await agent.stop('SIGTERM');
    });

    it('32 concurrent ADDs through one server get 32 distinct IPs, each configured; 32 concurrent DELs free them', async () => {
      const s = await sandbox();
      const dir = s.tempDir();
      const agent = await startAgent(s, join(dir, 'agent.sock'));
      const script = client.write(dir, agent.socketPath);
      const data = s.tempDir();
      const pods = await Promise.all(Array.from({ length: 32 }, () => s.createPod()));
      const adds = await Promise.all(pods.map((p, i) => s.runPlugin(script, cniEnv('ADD', `par${i}`, netnsPath(p)), conf(data))));
      expect(adds.map((r) => r.code)).toEqual(pods.map(() => 0));
      const ips = adds.map(ipOf);
      expect(new Set(ips).size).toBe(32);
      const seen = await Promise.all(pods.map(eth0Of));
      seen.forEach((line, i) => expect(line).toContain(`${ips[i]}/24`));
      const dels = await Promise.all(pods.map((p, i) => s.runPlugin(script, cniEnv('DEL', `par${i}`, netnsPath(p)), conf(data))));
      expect(dels.map((r) => r.code)).toEqual(pods.map(() => 0));
      expect(files(data, 'ips')).toEqual([]);
      expect(await servedWhen(agent, 64, (l) => l.msg === 'CNI call served')).toBe(64);
      await agent.stop('SIGTERM');
    });

    it('falls back to the binary when the agent is down: closed (no socket), killed (stale socket), and serves again after a restart', async () => {
      const s = await sandbox();
      const dir = s.tempDir();
      const socketPath = join(dir, 'agent.sock');
      const script = client.write(dir, socketPath);
      const data = s.tempDir();
      const pods = await Promise.all([s.createPod(), s.createPod(), s.createPod()]).then((ps) => ps.map(netnsPath));

      // an agent that stopped: the socket is gone, the script runs node itself
      const first = await startAgent(s, socketPath);
      const viaAgent = await s.runPlugin(script, cniEnv('ADD', 'f0', pods[0]!), conf(data));
      expect(viaAgent.code).toBe(0);
      await first.stop('SIGTERM');
      expect(existsSync(socketPath)).toBe(false);
      const add1 = await s.runPlugin(script, cniEnv('ADD', 'f1', pods[1]!), conf(data));
      expect(add1.code, add1.stdout + add1.stderr).toBe(0);
      expect(add1.stderr).toBe('');
      expect(ipOf(add1)).not.toBe(ipOf(viaAgent));
      expect(await eth0Of(pods[1]!.slice('/run/netns/'.length))).toContain(`${ipOf(add1)}/24`);
      // DEL of what the agent added, while it is down
      const del0 = await s.runPlugin(script, cniEnv('DEL', 'f0', pods[0]!), conf(data));
      expect({ code: del0.code, out: del0.stdout }).toEqual({ code: 0, out: '' });
      // an error answered by the binary: the same JSON the agent gives
      const bad = await s.runPlugin(script, cniEnv('ADD', 'e', pods[2]!), '{"cniVersion": ');
      expect({ code: bad.code, spec: bad.json?.['code'] }).toEqual({ code: 1, spec: 6 });

      // an agent killed with -9: its socket file stays, nothing listens (curl 7)
      const second = await startAgent(s, socketPath);
      await second.stop('SIGKILL');
      expect(statSync(socketPath).isSocket()).toBe(true);
      const add2 = await s.runPlugin(script, cniEnv('ADD', 'f2', pods[2]!), conf(data));
      expect(add2.code, add2.stdout + add2.stderr).toBe(0);
      expect(add2.stderr).toContain(client.refusedMessage);
      expect(files(data, 'ips')).toEqual([ipOf(add1), ipOf(add2)].sort());

      // the next agent replaces the stale socket and serves the DELs
      const third = await startAgent(s, socketPath);
      for (const [i, pod] of [[1, pods[1]!], [2, pods[2]!]] as const) {
        const del = await s.runPlugin(script, cniEnv('DEL', `f${i}`, pod), conf(data));
        expect({ code: del.code, out: del.stdout, err: del.stderr }).toEqual({ code: 0, out: '', err: '' });
      }
      expect(await servedWhen(third, 2)).toBe(2);
      expect(files(data, 'ips')).toEqual([]);
      expect(files(data, 'attachments')).toEqual([]);
      await third.stop('SIGTERM');
    });
  });

  describe.skipIf(!hasGcc)('the C client on its own', () => {
    const c = CLIENTS[0]!;

    it('sends a value no header carries verbatim to the binary, which sees it exactly', async () => {
      const s = await sandbox();
      const dir = s.tempDir();
      const agent = await startAgent(s, join(dir, 'agent.sock'));
      const client = c.write(dir, agent.socketPath);
      const data = s.tempDir();
      const pod = netnsPath(await s.createPod());
      for (const args of ['K8S_POD_NAME=caf\u00e9', 'K8S_POD_NAME=x ', 'K8S_POD_NAME=a\tb']) {
        const add = await s.runPlugin(client, { ...cniEnv('ADD', 'odd', pod), CNI_ARGS: args }, conf(data));
        expect({ args, code: add.code, stderr: add.stderr }).toEqual({ args, code: 0, stderr: '' });
      }
      expect(agent.served()).toEqual([]);
      expect((await s.runPlugin(client, cniEnv('DEL', 'odd', pod), conf(data))).code).toBe(0);
      expect(await servedWhen(agent, 1)).toBe(1);
      await agent.stop('SIGTERM');
    });

    it('answers code 11 naming the socket when the agent is down and the binary cannot run either', async () => {
      const s = await sandbox();
      const dir = s.tempDir();
      const socketPath = join(dir, 'agent.sock');
      const client = c.write(dir, socketPath, { nodePath: join(dir, 'no-node') });
      const pod = netnsPath(await s.createPod());
      const add = await s.runPlugin(client, cniEnv('ADD', 'down', pod), conf(s.tempDir(), { cniVersion: '0.4.0' }));
      expect({ code: add.code, json: add.json }).toEqual({
        code: 1,
        json: {
          cniVersion: '0.4.0',
          code: 11,
          msg: `the knode agent at ${socketPath} did not answer and the plugin could not run in its place: exec ${join(dir, 'no-node')} ${bin}: No such file or directory`,
        },
      });
    });

    it('answers code 11 when it was never configured (the build output run as it is)', async () => {
      const s = await sandbox();
      const r = await s.runPlugin(cClient ?? '', { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
      expect({ code: r.code, spec: r.json?.['code'], cniVersion: r.json?.['cniVersion'] }).toEqual({ code: 1, spec: 11, cniVersion: '1.0.0' });
      expect(String(r.json?.['msg'])).toContain('no paths written into it');
    });
  });
});
