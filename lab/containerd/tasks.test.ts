import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findTasks, ownedTaskProcesses, removeCniResults } from './tasks.js';

const SANDBOX = 'a'.repeat(64);
const CONTAINER = 'b'.repeat(64);
const OTHER = 'c'.repeat(64);

describe('task discovery from a containerd state dir', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-tasks-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bundle = (ns: string, id: string, files: Record<string, string>): void => {
    const b = join(dir, 'state', 'io.containerd.runtime.v2.task', ns, id);
    mkdirSync(b, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(join(b, f), text);
  };

  it('reads each bundle\'s init pid and shim socket, tolerating missing files', async () => {
    bundle('k8s.io', SANDBOX, { 'init.pid': '4242', address: 'unix:///run/containerd/s/0ed0' });
    bundle('k8s.io', CONTAINER, { 'init.pid': 'garbage' });
    bundle('default', OTHER, {});
    const tasks = await findTasks(join(dir, 'state'));
    expect(tasks.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { namespace: 'k8s.io', id: SANDBOX, initPid: 4242, shimSocket: '/run/containerd/s/0ed0' },
      { namespace: 'k8s.io', id: CONTAINER },
      { namespace: 'default', id: OTHER },
    ]);
  });

  it('finds nothing in a state dir without tasks', async () => {
    expect(await findTasks(join(dir, 'missing'))).toEqual([]);
  });

  it('never claims a process whose parent is not one of the instance\'s shims', async () => {
    // our own pid: alive, but its parent is no containerd shim of this (nonexistent) socket
    const tasks = [{ namespace: 'k8s.io', id: SANDBOX, initPid: process.pid }];
    expect(await ownedTaskProcesses(tasks, join(dir, 'no-such.sock'))).toEqual([]);
  });

  it('removes the CNI result cache entries of the given sandboxes only', async () => {
    const cache = join(dir, 'results');
    mkdirSync(cache);
    for (const f of [`cni-loopback-${SANDBOX}-lo`, `knode-lab-w1-${SANDBOX}-eth0`, `knode-lab-w1-${OTHER}-eth0`, 'unrelated']) writeFileSync(join(cache, f), '{}');
    const removed = await removeCniResults([SANDBOX, CONTAINER, 'not-an-id'], cache);
    expect(removed.sort()).toEqual([`cni-loopback-${SANDBOX}-lo`, `knode-lab-w1-${SANDBOX}-eth0`]);
    expect(readdirSync(cache).sort()).toEqual([`knode-lab-w1-${OTHER}-eth0`, 'unrelated']);
  });
});
