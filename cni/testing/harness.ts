/**
 * Runs the real knode-cni binary the way a container runtime does (environment + config on stdin,
 * result on stdout) inside throwaway network namespaces, for the spec suite and the benchmark.
 *
 * IP plan (inside the namespaces only; nothing is added to the root namespace):
 *   knode-t-<random>       the "node": lo up, ip_forward=1, underlay veth u0 172.31.254.2/24 (peer u1,
 *                          both ends inside the node, so nothing leaves it), the plugin's bridge
 *   knode-t-<random>p<i>   one per "pod"
 *   10.244.200.0/24        pod CIDR of the suite (and of the benchmark)
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { mustRun, realExec } from '../../lib/exec.js';

export const NODE_UNDERLAY_IP = '172.31.254.2';
export const TEST_POD_CIDR = '10.244.200.0/24';

/** The same bundle `scripts/build.mjs` makes, built fresh into `dir` so tests never run a stale dist. */
export async function buildPluginBinary(dir: string): Promise<string> {
  await build({
    entryPoints: { 'knode-cni': join(import.meta.dirname, '..', 'main.ts') },
    outdir: dir,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node' },
    logLevel: 'warning',
  });
  writeFileSync(join(dir, 'package.json'), '{ "type": "commonjs" }\n');
  const bin = join(dir, 'knode-cni.js');
  chmodSync(bin, 0o755);
  return bin;
}

export interface CniRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout parsed, when it is JSON. */
  readonly json?: Record<string, unknown>;
  readonly ms: number;
}

export function netnsPath(name: string): string {
  return `/run/netns/${name}`;
}

/** Everything a test made, undone newest first by `cleanup()` (also after failures). */
export class Sandbox {
  readonly id = randomBytes(3).toString('hex');
  readonly node = `knode-t-${this.id}`;
  private readonly namespaces: string[] = [];
  private readonly dirs: string[] = [];
  private readonly pids: number[] = [];
  private podCount = 0;

  async createNode(underlayMtu = 1500): Promise<void> {
    await this.addNamespace(this.node);
    await mustRun(realExec, ['ip', '-n', this.node, '-batch', '-'], {
      stdin: [
        'link set lo up',
        `link add u0 mtu ${underlayMtu} type veth peer name u1 mtu ${underlayMtu}`,
        `addr add ${NODE_UNDERLAY_IP}/24 dev u0`,
        'link set u0 up',
        'link set u1 up',
        '',
      ].join('\n'),
    });
    // the node routes between its pods (hairpin through a host port is forwarded); only in this namespace
    await mustRun(realExec, ['nsenter', `--net=${netnsPath(this.node)}`, '--', 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward']);
  }

  private async addNamespace(name: string): Promise<void> {
    await mustRun(realExec, ['ip', 'netns', 'add', name]);
    this.namespaces.push(name);
  }

  async createPod(): Promise<string> {
    const name = `${this.node}p${this.podCount++}`;
    await this.addNamespace(name);
    return name;
  }

  tempDir(prefix = 'knode-cni-'): string {
    const d = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(d);
    return d;
  }

  trackPid(pid: number | undefined): void {
    if (pid !== undefined) this.pids.push(pid);
  }

  /** Removes a namespace now (a test of DEL with the pod's netns gone). */
  async deleteNamespace(name: string): Promise<void> {
    await realExec.run(['ip', 'netns', 'del', name]);
    this.namespaces.splice(this.namespaces.indexOf(name), 1);
  }

  async cleanup(): Promise<string[]> {
    const problems: string[] = [];
    for (const pid of this.pids.reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of this.namespaces.reverse()) {
      const r = await realExec.run(['ip', 'netns', 'del', ns]);
      if (r.code !== 0) problems.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
    }
    this.namespaces.length = 0;
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    return problems;
  }

  /** For signal handlers, where awaiting is unsafe: kill and delete by pid and name, synchronously. */
  cleanupSync(): void {
    for (const pid of this.pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    for (const ns of this.namespaces.splice(0).reverse()) spawnSync('ip', ['netns', 'del', ns]);
    for (const d of this.dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  }

  /**
   * Runs the plugin inside the node namespace (it acts on its own namespace), with a runtime-like
   * environment: PATH and the CNI variables only.
   */
  runPlugin(bin: string, env: Readonly<Record<string, string>>, stdin: string, opts: { onSpawn?: (pid: number) => void } = {}): Promise<CniRun> {
    const start = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', [`--net=${netnsPath(this.node)}`, '--', bin], {
        env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      if (child.pid !== undefined) opts.onSpawn?.(child.pid);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        let json: Record<string, unknown> | undefined;
        try {
          json = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 0), stdout, stderr, ms: performance.now() - start, ...(json ? { json } : {}) });
      });
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    });
  }
}

/** The CNI_* variables of one attachment. */
export function cniEnv(command: string, containerId: string, netns: string | undefined, ifname = 'eth0'): Record<string, string> {
  return {
    CNI_COMMAND: command,
    CNI_CONTAINERID: containerId,
    ...(netns !== undefined ? { CNI_NETNS: netns } : {}),
    CNI_IFNAME: ifname,
    CNI_PATH: '/opt/cni/bin',
    CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=${containerId}`,
  };
}
