/**
 * Durability of acknowledged writes: the embedded store fsyncs before the apiserver answers, so every
 * 201/200 a client received must survive `kill -9` of the server at any moment. Writers (one
 * sequential, then eight concurrent with updates mixed in) run as fast as they can; the server is
 * killed after a few hundred acknowledgements while requests are still in flight; it restarts on the
 * same data directory and every acknowledged object must be there with its uid and (for updates) a
 * value no older than the acknowledged one.
 *
 * Also: a clean SIGTERM exits 0 promptly, and a restart reuses the certificates and kubeconfig.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { adminClient, createApiClient, itemsOf, loadKubeconfig, metaOf } from './helpers/api-client.js';
import type { ApiClient } from './helpers/api-client.js';

const NS = 'default';
const CM = `/api/v1/namespaces/${NS}/configmaps`;

let servers: TestServer[] = [];
let clients: ApiClient[] = [];

afterEach(async () => {
  for (const c of clients) c.close();
  clients = [];
  for (const s of servers) await s.stop();
  servers = [];
});

async function start(): Promise<{ server: TestServer; api: ApiClient }> {
  const server = await startServer(APISERVER_ONLY);
  servers.push(server);
  const api = await adminClient(server.kubeconfig);
  clients.push(api);
  return { server, api };
}

async function reconnect(server: TestServer): Promise<ApiClient> {
  const api = await adminClient(server.kubeconfig);
  clients.push(api);
  return api;
}

interface AckedObject {
  readonly uid: string;
  /** resourceVersion of the last acknowledged write. */
  rv: number;
  /** Value of the last acknowledged write. */
  value: string;
  /** Value of a write sent but not answered when the server died (it may or may not have landed). */
  pending?: string;
}

interface KillRun {
  readonly acked: Map<string, AckedObject>;
  readonly ackedUpdates: number;
  readonly inflightAtKill: number;
  readonly maxRv: number;
}

/**
 * Runs `workers` writers until `killAfter` writes were acknowledged, then SIGKILLs the server while the
 * writers keep sending. A writer with `updateEvery` > 0 also rewrites one of its own objects every
 * `updateEvery` operations (an unconditional PUT), so one object never has two writes in flight.
 */
async function writeUntilKilled(server: TestServer, api: ApiClient, workers: number, killAfter: number, updateEvery: number): Promise<KillRun> {
  const acked = new Map<string, AckedObject>();
  let ackCount = 0;
  let ackedUpdates = 0;
  let inflight = 0;
  let inflightAtKill = -1;
  let dead = false;
  let maxRv = 0;

  const ack = (): void => {
    ackCount++;
    if (ackCount >= killAfter && inflightAtKill < 0) {
      inflightAtKill = inflight;
      server.proc.kill('SIGKILL');
    }
  };

  const writer = async (id: number): Promise<void> => {
    const mine: string[] = [];
    for (let i = 0; !dead; i++) {
      const target = updateEvery > 0 && i % updateEvery === updateEvery - 1 ? mine[i % Math.max(mine.length, 1)] : undefined;
      inflight++;
      try {
        if (target !== undefined) {
          const obj = acked.get(target);
          if (!obj) continue;
          const value = `update-${i}`;
          obj.pending = value;
          const res = await api.put(`${CM}/${target}`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: target }, data: { v: value } }, { timeoutMs: 10_000 });
          if (res.status !== 200) throw new Error(`update ${target}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
          obj.value = value;
          obj.rv = Number(metaOf(res.body).resourceVersion);
          delete obj.pending;
          ackedUpdates++;
          maxRv = Math.max(maxRv, obj.rv);
        } else {
          const name = `w${id}-${i}`;
          const value = `create-${i}`;
          const res = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: value } }, { timeoutMs: 10_000 });
          if (res.status !== 201) throw new Error(`create ${name}: HTTP ${res.status} ${res.text.slice(0, 200)}`);
          const md = metaOf(res.body);
          const rv = Number(md.resourceVersion);
          acked.set(name, { uid: md.uid ?? '', rv, value });
          mine.push(name);
          maxRv = Math.max(maxRv, rv);
        }
        ack();
      } catch (err) {
        // after the kill every request fails (reset, refused): that is the end of this writer
        if (inflightAtKill < 0) throw err;
        dead = true;
      } finally {
        inflight--;
      }
    }
  };

  await Promise.all(Array.from({ length: workers }, (_, i) => writer(i)));
  await server.stopProcess('SIGKILL'); // waits for the exit of the killed process
  return { acked, ackedUpdates, inflightAtKill, maxRv };
}

async function expectAllAcknowledgedWritesSurvived(api: ApiClient, run: KillRun): Promise<void> {
  const list = await api.get(CM);
  expect(list.status).toBe(200);
  const byName = new Map(itemsOf(list.body).map((o) => [metaOf(o).name ?? '', o]));
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [name, want] of run.acked) {
    const got = byName.get(name);
    if (!got) {
      missing.push(name);
      continue;
    }
    const value = (got['data'] as { v?: string } | undefined)?.v;
    const okValue = value === want.value || (want.pending !== undefined && value === want.pending);
    if (metaOf(got).uid !== want.uid || !okValue || Number(metaOf(got).resourceVersion) < want.rv) {
      wrong.push(`${name}: uid ${metaOf(got).uid} value ${value} rv ${metaOf(got).resourceVersion}; acknowledged uid ${want.uid} value ${want.value} rv ${want.rv}`);
    }
  }
  expect(missing, `${missing.length} acknowledged objects lost after kill -9`).toEqual([]);
  expect(wrong, 'acknowledged objects that came back different').toEqual([]);
  // the revision counter resumed past everything acknowledged
  expect(Number((list.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion)).toBeGreaterThanOrEqual(run.maxRv);
  const after = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-restart' } });
  expect(after.status).toBe(201);
  expect(Number(metaOf(after.body).resourceVersion)).toBeGreaterThan(run.maxRv);
}

describe('kill -9 loses no acknowledged write', () => {
  it('a sequential writer, killed after 200 acknowledgements', async () => {
    const { server, api } = await start();
    const run = await writeUntilKilled(server, api, 1, 200, 0);
    expect(run.acked.size).toBeGreaterThanOrEqual(200);
    await server.restart();
    await expectAllAcknowledgedWritesSurvived(await reconnect(server), run);
  });

  it('eight concurrent writers with updates, killed after 400 acknowledgements with requests in flight', async () => {
    const { server, api } = await start();
    const run = await writeUntilKilled(server, api, 8, 400, 3);
    expect(run.inflightAtKill, 'requests in flight when the server was killed').toBeGreaterThan(0);
    expect(run.ackedUpdates).toBeGreaterThan(50);
    await server.restart();
    await expectAllAcknowledgedWritesSurvived(await reconnect(server), run);
  });
});

describe('shutdown and restart', () => {
  it('SIGTERM exits 0 promptly, even with a watch open', async () => {
    const { server, api } = await start();
    const w = await api.watch(`${CM}?watch=1`);
    expect(w.status).toBe(200);
    const t0 = Date.now();
    const code = await server.stopProcess('SIGTERM');
    expect(code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5_000);
    await w.ended;
  });

  it('a restart reuses the CA, the certificates and the admin kubeconfig, and keeps the data', async () => {
    const { server, api } = await start();
    const before = await readFile(server.kubeconfig, 'utf8');
    const credsBefore = await loadKubeconfig(server.kubeconfig);
    const created = await api.post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept' }, data: { a: 'b' } });
    expect(created.status).toBe(201);

    expect(await server.stopProcess('SIGTERM')).toBe(0);
    await server.restart();

    const credsAfter = await loadKubeconfig(server.kubeconfig);
    expect(credsAfter.caPem).toBe(credsBefore.caPem);
    expect(credsAfter.certPem).toBe(credsBefore.certPem);
    expect(credsAfter.server).toBe(credsBefore.server);
    expect(await readFile(server.kubeconfig, 'utf8')).toBe(before);

    // a client built from the old kubeconfig still trusts the server and is still trusted
    const old = createApiClient(credsBefore);
    clients.push(old);
    const back = await old.get(`${CM}/kept`);
    expect(back.status).toBe(200);
    expect(metaOf(back.body).uid).toBe(metaOf(created.body).uid);
    expect(await server.kubectlOk(['get', 'configmap', 'kept', '-o', 'jsonpath={.data.a}'])).toBe('b');
  });
});
