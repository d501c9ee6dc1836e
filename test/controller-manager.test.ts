/**
 * Two controller managers against one cluster never both act, and a standby takes over when the
 * leader dies: a real `knode server --controllers none` and two `knode controller-manager` processes
 * (the built CLI) competing for the `kube-system/kube-controller-manager` Lease. A ReplicaSet gets
 * exactly its replicas (a second acting manager would race it to more pods); after kill -9 of the
 * leader the other holds the lease within 15 s (lease duration 10 s + retry period) and scaling works again.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
const managers: ChildProcess[] = [];

function startManager(): ChildProcess {
  const p = spawn(process.execPath, [CLI, 'controller-manager', '--kubeconfig', server.kubeconfig], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  Object.defineProperty(p, 'output', { get: () => out });
  managers.push(p);
  return p;
}

const identityOf = (p: ChildProcess): string => /running as (\S+)/.exec((p as unknown as { output: string }).output)?.[1] ?? '';

async function holder(): Promise<string> {
  const r = await server.kubectl(['get', 'lease', '-n', 'kube-system', 'kube-controller-manager', '-o', 'jsonpath={.spec.holderIdentity}']);
  return r.code === 0 ? r.stdout.trim() : '';
}

async function podCount(): Promise<number> {
  const out = await server.kubectlOk(['get', 'pods', '-l', 'app=rs-le', '-o', 'name']);
  return out.split('\n').filter((l) => l !== '').length;
}

beforeAll(async () => {
  server = await startServer(['--controllers', 'none']);
}, 60_000);

afterAll(async () => {
  for (const m of managers) if (m.exitCode === null && m.signalCode === null) m.kill('SIGKILL');
  await server?.stop();
});

describe('controller manager leader election', () => {
  it('lets only one of two managers act, and hands over within 15 s when the leader is killed', async () => {
    const a = startManager();
    const b = startManager();
    await waitFor('both managers started', () => identityOf(a) !== '' && identityOf(b) !== '');
    const first = await waitFor('a lease holder', async () => ((await holder()) !== '' ? holder() : undefined));
    expect([identityOf(a), identityOf(b)]).toContain(first);
    await server.kubectlOk(['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: { name: 'rs-le' },
        spec: { replicas: 5, selector: { matchLabels: { app: 'rs-le' } }, template: { metadata: { labels: { app: 'rs-le' } }, spec: { containers: [{ name: 'c', image: 'knode.local/testserver:1.0' }] } } },
      }),
    });
    await waitFor('5 pods', async () => (await podCount()) === 5);
    // give a second, wrongly acting manager time to overshoot: the count must stay exactly 5
    await waitFor('the ReplicaSet status to settle at 5', async () => (await server.kubectlOk(['get', 'rs', 'rs-le', '-o', 'jsonpath={.status.replicas}'])).trim() === '5');
    expect(await podCount()).toBe(5);

    const leader = identityOf(a) === first ? a : b;
    const standby = leader === a ? b : a;
    const killedAt = Date.now();
    leader.kill('SIGKILL');
    await waitFor('the standby to take the lease', async () => (await holder()) === identityOf(standby), { timeoutMs: 25_000, intervalMs: 250 });
    const handover = Date.now() - killedAt;
    expect(handover).toBeLessThanOrEqual(15_000);
    await server.kubectlOk(['scale', 'rs', 'rs-le', '--replicas', '7']);
    await waitFor('7 pods after the handover', async () => (await podCount()) === 7);
  }, 90_000);
});
