/**
 * The real lab image build (gcc -static, busybox-static) and the two helper programs run as
 * processes, inside a throwaway network namespace `knode-t-<random>` (loopback only) so their
 * ports cannot collide with anything. Root only (namespaces); removes the namespace and its temp
 * dir even on failure.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import { ensureLabImages } from './lab-images.js';
import type { LabImages } from './lab-images.js';

const isRoot = process.getuid?.() === 0;

function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

describe.skipIf(!isRoot)('lab images (host)', () => {
  const ns = `knode-t-${randomBytes(3).toString('hex')}`;
  const inNs = (argv: readonly string[]): string[] => ['nsenter', `--net=/run/netns/${ns}`, '--', ...argv];
  let dir = '';
  let images: LabImages;
  let nsCreated = false;
  const children: ChildProcess[] = [];
  let testserverBin = '';
  let pauseBin = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'knode-images-'));
    await mustRun(realExec, ['ip', 'netns', 'add', ns]);
    nsCreated = true;
    await mustRun(realExec, ['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    images = await ensureLabImages(dir);
    const bins = readdirSync(join(dir, 'bin'));
    testserverBin = join(dir, 'bin', bins.find((b) => b.startsWith('testserver-')) ?? 'missing');
    pauseBin = join(dir, 'bin', bins.find((b) => b.startsWith('pause-')) ?? 'missing');
  });

  afterAll(async () => {
    for (const c of children) if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    if (nsCreated) await realExec.run(['ip', 'netns', 'del', ns]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds archives GNU tar lists, with static binaries inside', async () => {
    const outer = await mustRun(realExec, ['tar', '-tf', images.testserver['1.0']]);
    expect(outer.stdout.split('\n')).toEqual(expect.arrayContaining(['manifest.json']));
    const file = await mustRun(realExec, ['file', '-b', testserverBin]).catch(() => undefined);
    if (file) expect(file.stdout).toMatch(/statically linked/);
    const again = await ensureLabImages(dir);
    expect(again.images.every((i) => i.cached)).toBe(true);
  });

  it('testserver answers /hostname, /healthz, /echo, /clientip, /bytes over HTTP and hostname over UDP, and exits 0 on SIGTERM', async () => {
    const child = spawn('nsenter', inNs([testserverBin, '--http-port=18083', '--udp-port=18081']), { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    const hostname = (await mustRun(realExec, ['hostname'])).stdout.trim();
    const get = async (path: string): Promise<string> => {
      const deadline = Date.now() + 5_000;
      for (;;) {
        const r = await realExec.run(inNs(['busybox', 'wget', '-qO-', `http://127.0.0.1:18083${path}`]), { timeoutMs: 3_000 });
        if (r.code === 0) return r.stdout;
        if (Date.now() > deadline) throw new Error(`GET ${path} failed: ${r.stderr}`);
        await new Promise((res) => setTimeout(res, 50));
      }
    };
    expect(await get('/hostname')).toBe(hostname);
    expect(await get('/healthz')).toBe('ok');
    expect(await get('/echo?msg=hello%20knode')).toBe('hello knode');
    expect(await get('/clientip')).toMatch(/^127\.0\.0\.1:\d+$/);
    const bytes = await get('/bytes?n=200000');
    expect(bytes).toHaveLength(200000);
    expect(bytes.slice(0, 28)).toBe('abcdefghijklmnopqrstuvwxyzab');
    expect(bytes.endsWith(String.fromCharCode(97 + (199999 % 26)))).toBe(true);
    const dial = JSON.parse(await get('/dial?request=hostname&protocol=udp&host=127.0.0.1&port=18081&tries=3')) as unknown;
    expect(dial).toEqual({ responses: [hostname, hostname, hostname], errors: [] });
    const refused = JSON.parse(await get('/dial?request=hostname&protocol=http&host=127.0.0.1&port=1&tries=1')) as { errors: string[] };
    expect(refused.errors).toHaveLength(1);

    const udp = await mustRun(realExec, inNs([testserverBin, 'udp', '127.0.0.1', '18081', 'hostname']), { timeoutMs: 5_000 });
    expect(udp.stdout.trim()).toBe(hostname);
    const silent = await realExec.run(inNs([testserverBin, 'udp', '127.0.0.1', '18099', 'hostname', '1']), { timeoutMs: 5_000 });
    expect(silent.code).toBe(1);

    child.kill('SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
  });

  it('pause as PID 1 of a pid namespace exits 0 on SIGTERM', async () => {
    // unshare forks pause as PID 1 of a new pid namespace and exits with its status
    const child = spawn('unshare', ['--pid', '--fork', '--kill-child', pauseBin], { stdio: 'ignore' });
    children.push(child);
    // a pid namespace's init only receives the signals it handles: wait until pause has its handler
    let pausePid = 0;
    let nspid = '';
    const deadline = Date.now() + 5_000;
    for (;;) {
      const kids = await readFile(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').catch(() => '');
      pausePid = Number(kids.trim().split(' ')[0] || 0);
      const status = pausePid ? await readFile(`/proc/${pausePid}/status`, 'utf8').catch(() => '') : '';
      const caught = BigInt(`0x${status.match(/^SigCgt:\s+([0-9a-f]+)$/m)?.[1] ?? '0'}`);
      nspid = status.match(/^NSpid:\s+\d+\s+(\d+)$/m)?.[1] ?? '';
      if ((caught & (1n << 14n)) !== 0n) break; // bit 14 = signal 15
      if (Date.now() > deadline) throw new Error('pause never installed its SIGTERM handler');
      await new Promise((res) => setTimeout(res, 10));
    }
    expect(nspid).toBe('1');
    process.kill(pausePid, 'SIGTERM');
    expect(await exited(child)).toEqual({ code: 0, signal: null });
    const version = await mustRun(realExec, [pauseBin, '-v']);
    expect(version.stdout.trim()).toBe('knode-pause 3.10');
  });
});
