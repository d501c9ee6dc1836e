/**
 * The lab on a real etcd cluster: `knode lab up --nodes 1 --etcd 3` starts three members of Debian's
 * etcd inside the cp namespace (etcd0..etcd2, client ports 2379/12379/22379 on the cp address) and
 * `knode server --etcd-servers` on them. Checked the way a user would: a configmap made with kubectl
 * is a key under /registry/configmaps/default/ in etcd (etcdctl from the machine's namespace, which
 * reaches the cp address through the lab's root link); a pod runs on w1; after kill -9 of member
 * etcd0 the other two keep a quorum and kubectl keeps creating and listing (the one call in flight
 * when the member dies may fail, so the first is retried for up to 20 s; the ones after must not
 * fail); `lab down` leaves no etcd process of the lab (found in /proc by the state dir in its
 * command line). `lab down` runs again in afterAll whatever happened (it is safe to repeat).
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTSERVER_IMAGE } from '../lab/images/lab-images.js';
import { isAlive } from '../lab/processes.js';
import { labName, run, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('etcdl'));
let endpoints: readonly string[] = [];

/** Keys (only) under a prefix, through every member's endpoint (etcdctl picks one that answers). */
async function etcdKeys(prefix: string): Promise<string[]> {
  const r = await run('etcdctl', ['--endpoints', endpoints.join(','), '--dial-timeout', '3s', '--command-timeout', '5s', 'get', '--prefix', '--keys-only', prefix], undefined, 15_000);
  if (r.code !== 0) throw new Error(`etcdctl get --prefix ${prefix} failed (${r.code}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l !== '');
}

/** Pids of etcd processes whose command line names this lab's state dir. */
async function labEtcdPids(): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = (await readFile(`/proc/${name}/cmdline`, 'utf8')).split('\0');
      if (/(^|\/)etcd$/.test(argv[0] ?? '') && argv.some((a) => a.includes(lab.stateDir))) out.push(Number(name));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

beforeAll(async () => {
  await lab.up(1, { etcd: 3 });
  endpoints = (await lab.state()).plan.etcd?.endpoints ?? [];
}, 180_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('knode lab up --etcd 3', () => {
  it('runs three members on cp, recorded in the state and shown by `lab status`', async () => {
    const state = await lab.state();
    const cp = state.plan.hosts.find((h) => h.name === 'cp');
    expect(endpoints).toEqual([2379, 12379, 22379].map((p) => `http://${cp?.address}:${p}`));
    const members = state.processes.filter((p) => p.kind === 'etcd');
    expect(members.map((p) => p.member)).toEqual(['etcd0', 'etcd1', 'etcd2']);
    for (const m of members) expect(await isAlive(m), `${m.member} pid ${m.pid}`).toBe(true);
    expect((await labEtcdPids()).sort()).toEqual(members.map((m) => m.pid).sort());
    const server = state.processes.find((p) => p.kind === 'server');
    expect(server?.argv.slice(-2)).toEqual(['--etcd-servers', endpoints.join(',')]);
    const status = await lab.knode(['lab', 'status', '--name', lab.name]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toContain(`store       etcd, 3 members: ${endpoints.join(', ')}`);
    expect(status.stdout).toMatch(/cp\s+etcd etcd2\s+\d+\s+yes/);
  });

  it('stores what kubectl creates in etcd, under /registry', async () => {
    await lab.kubectlOk(['create', 'configmap', 'before', '--from-literal=k=v']);
    expect(await etcdKeys('/registry/configmaps/default/')).toContain('/registry/configmaps/default/before');
    expect((await lab.kubectlOk(['get', 'configmap', 'before', '-o', 'jsonpath={.data.k}']))).toBe('v');
  });

  it('runs a pod on w1', async () => {
    await lab.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'web' },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: TESTSERVER_IMAGE, imagePullPolicy: 'IfNotPresent' }] },
    });
    const view = await waitFor(
      'pod web Running',
      async () => {
        const pod = JSON.parse(await lab.kubectlOk(['get', 'pod', 'web', '-o', 'json'])) as { spec?: { nodeName?: string }; status?: { phase?: string } };
        return pod.status?.phase === 'Running' ? pod : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500 },
    );
    expect(view.spec?.nodeName).toBe('w1');
    expect(await etcdKeys('/registry/pods/default/')).toContain('/registry/pods/default/web');
  });

  it('keeps working after kill -9 of member etcd0 (two of three keep the quorum)', async () => {
    const etcd0 = (await lab.state()).processes.find((p) => p.kind === 'etcd' && p.member === 'etcd0');
    if (etcd0 === undefined) throw new Error('no etcd0 recorded in the lab state');
    process.kill(etcd0.pid, 'SIGKILL');
    await waitFor('etcd0 to exit', async () => !(await isAlive(etcd0)), { timeoutMs: 10_000 });

    // the first call may meet a request in flight on the dead member: retried, and AlreadyExists means
    // an earlier attempt got through
    await waitFor(
      'kubectl create configmap after-1 to succeed',
      async () => {
        const r = await lab.kubectl(['create', 'configmap', 'after-1', '--from-literal=k=1']);
        if (r.code === 0 || /AlreadyExists/.test(r.stderr)) return true;
        throw new Error(r.stderr);
      },
      { timeoutMs: 20_000, intervalMs: 500 },
    );
    // from here on, nothing may fail
    await lab.kubectlOk(['create', 'configmap', 'after-2', '--from-literal=k=2']);
    const names = (await lab.kubectlOk(['get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}'])).split(/\s+/);
    expect(names).toEqual(expect.arrayContaining(['before', 'after-1', 'after-2']));
    await lab.kubectlOk(['delete', 'configmap', 'before']);
    expect(await etcdKeys('/registry/configmaps/default/')).toEqual(
      expect.arrayContaining(['/registry/configmaps/default/after-1', '/registry/configmaps/default/after-2']),
    );
    expect(await etcdKeys('/registry/configmaps/default/')).not.toContain('/registry/configmaps/default/before');
    expect((await lab.kubectlOk(['get', 'pod', 'web', '-o', 'jsonpath={.status.phase}']))).toBe('Running');
  });

  it('`lab down` leaves no etcd process of the lab', async () => {
    expect((await labEtcdPids()).length).toBe(2);
    await lab.down();
    expect(await labEtcdPids()).toEqual([]);
  });
});
