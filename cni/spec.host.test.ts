/**
 * The CNI spec suite against the real binary, run as a runtime runs it, in throwaway namespaces
 * (see testing/harness.ts for the IP plan). Needs root.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realExec } from '../lib/exec.js';
import { hostVethName } from './names.js';
import { buildPluginBinary, cniEnv, netnsPath, NODE_UNDERLAY_IP, Sandbox, TEST_POD_CIDR, type CniRun } from './testing/harness.js';

const isRoot = process.getuid?.() === 0;

let bin = '';
const sandboxes: Sandbox[] = [];

async function sandbox(underlayMtu = 1500): Promise<Sandbox> {
  const s = new Sandbox();
  sandboxes.push(s);
  await s.createNode(underlayMtu);
  return s;
}

function conf(dataDir: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ cniVersion: '1.1.0', name: 'knode-spec', type: 'knode-cni', podCIDR: TEST_POD_CIDR, dataDir, ...extra });
}

async function ip(ns: string, ...args: string[]): Promise<string> {
  return (await realExec.run(['ip', '-n', ns, ...args])).stdout;
}

function files(dir: string, sub: string): string[] {
  return existsSync(join(dir, sub)) ? readdirSync(join(dir, sub)).sort() : [];
}

function ipOf(r: CniRun): string {
  const ips = r.json?.['ips'] as { address: string }[] | undefined;
  return ips?.[0]?.address.split('/')[0] ?? '';
}

describe.skipIf(!isRoot)('knode-cni, run like a runtime runs it', () => {
  beforeAll(async () => {
    const s = new Sandbox();
    sandboxes.push(s);
    bin = await buildPluginBinary(s.tempDir('knode-cni-bin-'));
  });

  afterAll(async () => {
    const problems: string[] = [];
    for (const s of sandboxes) problems.push(...(await s.cleanup()));
    expect(problems).toEqual([]);
  });

  it('VERSION lists 0.3.0 to 1.1.0', async () => {
    const s = await sandbox();
    const r = await s.runPlugin(bin, { CNI_COMMAND: 'VERSION' }, '{"cniVersion":"1.0.0"}');
    expect(r.code).toBe(0);
    expect(r.json).toEqual({ cniVersion: '1.1.0', supportedVersions: ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] });
  });

  it('ADD wires the pod: eth0 with its IP and MTU underlay-50, default route via the bridge, hairpin on', async () => {
    const s = await sandbox(9000);
    const data = s.tempDir();
    const pod = await s.createPod();
    const r = await s.runPlugin(bin, cniEnv('ADD', 'c1', netnsPath(pod)), conf(data));
    expect(r.stdout).not.toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      cniVersion: '1.1.0',
      ips: [{ address: '10.244.200.2/24', gateway: '10.244.200.1', interface: 2 }],
      routes: [{ dst: '0.0.0.0/0', gw: '10.244.200.1' }],
    });
    const ifaces = r.json?.['interfaces'] as { name: string; mac: string; sandbox?: string; mtu?: number }[];
    expect(ifaces.map((i) => i.name)).toEqual(['knode0', hostVethName({ containerId: 'c1', ifname: 'eth0' }), 'eth0']);
    expect(ifaces[2]).toMatchObject({ sandbox: netnsPath(pod), mtu: 8950 });

    const eth0 = JSON.parse(await ip(pod, '-j', 'addr', 'show', 'dev', 'eth0')) as { mtu: number; address: string; addr_info: { family: string; local: string }[] }[];
    expect(eth0[0]?.mtu).toBe(8950);
    expect(eth0[0]?.address).toBe(ifaces[2]?.mac);
    expect(eth0[0]?.addr_info.filter((a) => a.family === 'inet').map((a) => a.local)).toEqual(['10.244.200.2']);
    expect(await ip(pod, 'route', 'show', 'default')).toContain('default via 10.244.200.1 dev eth0');
    expect(await ip(s.node, '-br', 'addr', 'show', 'dev', 'knode0')).toContain('10.244.200.1/24');
    expect(await ip(s.node, '-d', 'link', 'show', 'dev', ifaces[1]!.name)).toMatch(/hairpin on/);
    // the pod reaches its gateway
    const ping = await realExec.run(['nsenter', `--net=${netnsPath(pod)}`, '--', 'node', '-e', 'require("net").connect(1, "10.244.200.1").on("error", (e) => { console.log(e.code); })']);
    expect(ping.stdout.trim()).toBe('ECONNREFUSED');
  });

  it.each([
    ['1.0.0', false, false],
    ['0.4.0', true, false],
    ['0.3.1', true, false],
    ['1.1.0', false, true],
  ])('ADD answers in the config\'s version %s', async (version, ipVersionField, mtuField) => {
    const s = await sandbox();
    const pod = await s.createPod();
    const r = await s.runPlugin(bin, cniEnv('ADD', 'v', netnsPath(pod)), conf(s.tempDir(), { cniVersion: version }));
    expect(r.code).toBe(0);
    expect(r.json?.['cniVersion']).toBe(version);
    const ip0 = (r.json?.['ips'] as Record<string, unknown>[])[0]!;
    expect('version' in ip0).toBe(ipVersionField);
    if (ipVersionField) expect(ip0['version']).toBe('4');
    expect('mtu' in (r.json?.['interfaces'] as Record<string, unknown>[])[2]!).toBe(mtuField);
  });

  it('reports every error as the spec\'s JSON with its code, a message naming the problem, non-zero exit', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const pod = await s.createPod();
    const cases: [string, Record<string, string>, string, number, string][] = [
      ['incompatible version', cniEnv('ADD', 'e1', netnsPath(pod)), conf(data, { cniVersion: '0.2.0' }), 1, '0.2.0'],
      ['container unknown', cniEnv('CHECK', 'nobody', netnsPath(pod)), conf(data, { prevResult: { ips: [] } }), 3, 'nobody'],
      ['invalid env', { ...cniEnv('ADD', 'e1', undefined) }, conf(data), 4, 'CNI_NETNS'],
      ['netns missing', cniEnv('ADD', 'e1', '/run/netns/knode-t-does-not-exist'), conf(data), 4, 'does not exist'],
      ['I/O', cniEnv('ADD', 'e1', netnsPath(pod)), conf('/dev/null/knode'), 5, 'ENOTDIR'],
      ['decoding', cniEnv('ADD', 'e1', netnsPath(pod)), '{"cniVersion": ', 6, 'decode'],
      ['invalid config', cniEnv('ADD', 'e1', netnsPath(pod)), conf(data, { podCIDR: '10.244.200.7/24' }), 7, 'podCIDR'],
      ['no pod CIDR yet', cniEnv('ADD', 'e1', netnsPath(pod)), conf(data, { podCIDR: undefined, nodeStateFile: join(data, 'node.json') }), 11, 'node.json'],
      ['STATUS not available', { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, conf(data, { podCIDR: undefined, nodeStateFile: join(data, 'node.json') }), 50, 'node.json'],
    ];
    for (const [name, env, stdin, code, word] of cases) {
      const r = await s.runPlugin(bin, env, stdin);
      expect({ name, exit: r.code !== 0, code: r.json?.['code'] }).toEqual({ name, exit: true, code });
      expect(r.json?.['msg']).toContain(word);
      expect(typeof r.json?.['cniVersion']).toBe('string');
    }
  });

  it('DEL is idempotent: twice, and with the pod namespace already gone', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const pod = await s.createPod();
    expect((await s.runPlugin(bin, cniEnv('ADD', 'd1', netnsPath(pod)), conf(data))).code).toBe(0);
    expect(files(data, 'ips')).toEqual(['10.244.200.2']);
    await s.deleteNamespace(pod);
    for (let i = 0; i < 2; i++) {
      const r = await s.runPlugin(bin, cniEnv('DEL', 'd1', netnsPath(pod)), conf(data));
      expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: '' });
    }
    const never = await s.runPlugin(bin, cniEnv('DEL', 'never-added', undefined), conf(data));
    expect(never.code).toBe(0);
    expect(files(data, 'ips')).toEqual([]);
    expect(files(data, 'attachments')).toEqual([]);
    expect(await ip(s.node, '-br', 'link')).not.toContain(hostVethName({ containerId: 'd1', ifname: 'eth0' }));
  });

  it('CHECK passes on a healthy pod and detects a missing address', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const pod = await s.createPod();
    const add = await s.runPlugin(bin, cniEnv('ADD', 'k1', netnsPath(pod)), conf(data));
    const withPrev = conf(data, { prevResult: add.json });
    expect((await s.runPlugin(bin, cniEnv('CHECK', 'k1', netnsPath(pod)), withPrev)).code).toBe(0);
    await ip(pod, 'addr', 'flush', 'dev', 'eth0');
    const r = await s.runPlugin(bin, cniEnv('CHECK', 'k1', netnsPath(pod)), withPrev);
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code: 100 });
    expect(r.json?.['msg']).toContain('eth0 lacks address 10.244.200.2/24');
  });

  it('GC frees what is not in the valid attachments and keeps the rest', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    for (const id of ['g1', 'g2', 'g3']) {
      expect((await s.runPlugin(bin, cniEnv('ADD', id, netnsPath(await s.createPod())), conf(data))).code).toBe(0);
    }
    const gc = await s.runPlugin(bin, { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf(data, { 'cni.dev/valid-attachments': [{ containerID: 'g2', ifname: 'eth0' }] }));
    expect({ code: gc.code, out: gc.stdout }).toEqual({ code: 0, out: '' });
    expect(files(data, 'ips')).toEqual(['10.244.200.3']);
    expect(files(data, 'attachments')).toEqual(['g2:eth0.json']);
    const links = await ip(s.node, '-br', 'link');
    expect(links).toContain(hostVethName({ containerId: 'g2', ifname: 'eth0' }));
    expect(links).not.toContain(hostVethName({ containerId: 'g1', ifname: 'eth0' }));
  });

  it('STATUS succeeds once the agent has written the node state', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const c = conf(data, { podCIDR: undefined, nodeStateFile: join(data, 'node.json') });
    expect((await s.runPlugin(bin, { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, c)).json?.['code']).toBe(50);
    writeFileSync(join(data, 'node.json'), JSON.stringify({ podCIDR: TEST_POD_CIDR }));
    const r = await s.runPlugin(bin, { CNI_COMMAND: 'STATUS', CNI_PATH: '/x' }, c);
    expect({ code: r.code, out: r.stdout }).toEqual({ code: 0, out: '' });
  });

  it('32 concurrent ADDs get 32 distinct IPs, each configured in its pod; 32 concurrent DELs free them all', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const pods = await Promise.all(Array.from({ length: 32 }, () => s.createPod()));
    const adds = await Promise.all(pods.map((p, i) => s.runPlugin(bin, cniEnv('ADD', `par${i}`, netnsPath(p)), conf(data))));
    expect(adds.map((r) => r.code)).toEqual(pods.map(() => 0));
    const ips = adds.map(ipOf);
    expect(new Set(ips).size).toBe(32);
    const seen = await Promise.all(pods.map((p) => ip(p, '-4', '-br', 'addr', 'show', 'dev', 'eth0')));
    seen.forEach((line, i) => expect(line).toContain(`${ips[i]}/24`));
    const dels = await Promise.all(pods.map((p, i) => s.runPlugin(bin, cniEnv('DEL', `par${i}`, netnsPath(p)), conf(data))));
    expect(dels.map((r) => r.code)).toEqual(pods.map(() => 0));
    expect(files(data, 'ips')).toEqual([]);
  });

  it('kill -9 of the plugin mid-ADD, then GC, leaks no IP, record or veth', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const warm = await s.runPlugin(bin, cniEnv('ADD', 'warm', netnsPath(await s.createPod())), conf(data));
    const span = warm.ms;
    let killed = 0;
    for (let i = 0; i < 12; i++) {
      const pod = await s.createPod();
      let pid = 0;
      const run = s.runPlugin(bin, cniEnv('ADD', `kill${i}`, netnsPath(pod)), conf(data), { onSpawn: (p) => (pid = p) });
      // spread the kills over the whole ADD, from process start to its last exec
      await new Promise((r) => setTimeout(r, (span * i) / 12));
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // finished already
      }
      const r = await run;
      if (r.code === 137) killed++;
    }
    // the scenario is real: some ADDs died after taking an address and before finishing
    const leftBehind = files(data, 'ips').length - 1;
    expect(killed).toBeGreaterThan(0);
    expect(leftBehind).toBeGreaterThan(0);
    const gc = await s.runPlugin(bin, { CNI_COMMAND: 'GC', CNI_PATH: '/x' }, conf(data, { 'cni.dev/valid-attachments': [{ containerID: 'warm', ifname: 'eth0' }] }));
    expect(gc.code).toBe(0);
    expect(files(data, 'ips')).toEqual([ipOf(warm)]);
    expect(files(data, 'attachments')).toEqual(['warm:eth0.json']);
    const veths = (await ip(s.node, '-br', 'link')).split('\n').filter((l) => l.startsWith('veth'));
    expect(veths.map((l) => l.split('@')[0])).toEqual([hostVethName({ containerId: 'warm', ifname: 'eth0' })]);
  });

  it('a full range is error 11 naming the CIDR', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const small = conf(data, { podCIDR: '10.244.201.0/29' });
    for (let i = 0; i < 5; i++) expect((await s.runPlugin(bin, cniEnv('ADD', `f${i}`, netnsPath(await s.createPod())), small)).code).toBe(0);
    const r = await s.runPlugin(bin, cniEnv('ADD', 'f5', netnsPath(await s.createPod())), small);
    expect(r.code).not.toBe(0);
    expect(r.json).toMatchObject({ code: 11 });
    expect(r.json?.['msg']).toContain('10.244.201.0/29');
  });

  it('host ports: TCP on 127.0.0.1 and on the node IP, and UDP on the node IP, all port 54323, reach three different pods', async () => {
    const s = await sandbox();
    const data = s.tempDir();
    const mappings: [string, Record<string, unknown>][] = [
      ['tcp-lo', { HostPort: 54323, ContainerPort: 8083, Protocol: 'TCP', HostIP: '127.0.0.1' }],
      ['tcp-node', { HostPort: 54323, ContainerPort: 8083, Protocol: 'TCP', HostIP: NODE_UNDERLAY_IP }],
      ['udp-node', { hostPort: 54323, containerPort: 8081, protocol: 'udp', hostIP: NODE_UNDERLAY_IP }],
    ];
    const pods: Record<string, string> = {};
    for (const [name, m] of mappings) {
      const pod = await s.createPod();
      pods[name] = pod;
      const r = await s.runPlugin(bin, cniEnv('ADD', name, netnsPath(pod)), conf(data, { runtimeConfig: { portMappings: [m] } }));
      expect(r.code, r.stdout).toBe(0);
      await startEchoServer(s, pod, name);
    }
    expect(await client(netnsPath(s.node), 'tcp', '127.0.0.1', 54323)).toBe('tcp-lo');
    expect(await client(netnsPath(s.node), 'tcp', NODE_UNDERLAY_IP, 54323)).toBe('tcp-node');
    expect(await client(netnsPath(s.node), 'udp', NODE_UNDERLAY_IP, 54323)).toBe('udp-node');
    // hairpin: a pod reaching its own host port through the node's address
    expect(await client(netnsPath(pods['tcp-node']!), 'tcp', NODE_UNDERLAY_IP, 54323)).toBe('tcp-node');
    // DEL takes the mapping away
    expect((await s.runPlugin(bin, cniEnv('DEL', 'tcp-node', netnsPath(pods['tcp-node']!)), conf(data))).code).toBe(0);
    expect(await client(netnsPath(s.node), 'tcp', NODE_UNDERLAY_IP, 54323)).toMatch(/^ERR/);
    expect(await client(netnsPath(s.node), 'tcp', '127.0.0.1', 54323)).toBe('tcp-lo');
  });
});

/** TCP :8083 and UDP :8081 servers inside `pod` answering `name`; resolves once both listen. */
async function startEchoServer(s: Sandbox, pod: string, name: string): Promise<void> {
  const script = `
    const net = require('net'), dgram = require('dgram');
    const name = ${JSON.stringify(name)};
    let ready = 0; const up = () => { if (++ready === 2) console.log('ready'); };
    net.createServer((c) => c.end(name)).listen(8083, '0.0.0.0', up);
    const u = dgram.createSocket('udp4');
    u.on('message', (m, r) => u.send(name, r.port, r.address));
    u.bind(8081, '0.0.0.0', up);
    setTimeout(() => process.exit(0), 60000).unref?.();
  `;
  const child = spawn('nsenter', [`--net=${netnsPath(pod)}`, '--', 'node', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  s.trackPid(child.pid);
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`echo server in ${pod} exited with ${code}`)));
  });
}

/** One request from inside `netns`; the answer, or ERR:<reason>. Bounded to 3 s. */
async function client(netns: string, proto: 'tcp' | 'udp', host: string, port: number): Promise<string> {
  const script =
    proto === 'tcp'
      ? `const c = require('net').connect(${port}, '${host}'); let b = '';
         c.on('data', (d) => b += d); c.on('end', () => console.log(b)); c.on('error', (e) => console.log('ERR:' + e.code));
         setTimeout(() => { console.log('ERR:timeout'); process.exit(0); }, 3000).unref();`
      : `const u = require('dgram').createSocket('udp4');
         u.on('message', (m) => { console.log(m.toString()); process.exit(0); });
         const t = setInterval(() => u.send('hostname', ${port}, '${host}'), 200); u.send('hostname', ${port}, '${host}');
         setTimeout(() => { console.log('ERR:timeout'); process.exit(0); }, 3000);`;
  const r = await realExec.run(['nsenter', `--net=${netns}`, '--', 'node', '-e', script], { timeoutMs: 10_000 });
  return r.stdout.trim();
}
