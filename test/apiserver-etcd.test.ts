/**
 * `knode server --etcd-servers`: the control plane on a real three-member etcd cluster (Debian's etcd),
 * driven by the real kubectl. Checks that nothing goes to the embedded store, that controllers and
 * watches work through etcd, that a restarted server finds everything again, and that the loss of
 * the etcd member it is connected to does not stop it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdClient } from '../control-plane/storage/etcd/client.js';
import { startEtcd } from './helpers/etcd.js';
import type { EtcdCluster } from './helpers/etcd.js';
import { CLI, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { spawnKubectl } from './helpers/kubectl-stream.js';
import { waitFor } from './helpers/wait.js';

let etcd: EtcdCluster;
let server: TestServer;

beforeAll(async () => {
  etcd = await startEtcd({ members: 3 });
  server = await startServer(['--etcd-servers', etcd.endpoints.join(',')]);
}, 90_000);

afterAll(async () => {
  await server?.stop();
  await etcd?.stop();
});

async function etcdKeys(prefix: string): Promise<string[]> {
  const client = await EtcdClient.create({ endpoints: etcd.endpoints.filter((_, i) => etcd.members[i]!.running()) });
  try {
    const end = Buffer.from(prefix);
    end[end.length - 1]! += 1;
    const res = await client.range({ key: Buffer.from(prefix), range_end: end });
    return res.kvs.map((kv) => kv.key.toString());
  } finally {
    client.close();
  }
}

describe('knode server on etcd', () => {
  it('keeps its objects in etcd, not in an embedded store', async () => {
    await server.kubectlOk(['create', 'namespace', 'on-etcd']);
    await server.kubectlOk(['-n', 'on-etcd', 'create', 'configmap', 'one', '--from-literal=a=b']);
    // beside the kube-root-ca.crt the control plane publishes in every namespace
    expect((await etcdKeys('/registry/configmaps/on-etcd/')).filter((k) => !k.endsWith('/kube-root-ca.crt'))).toEqual(['/registry/configmaps/on-etcd/one']);
    expect(existsSync(join(server.dataDir, 'state.db'))).toBe(false);
    const rv = JSON.parse(await server.kubectlOk(['-n', 'on-etcd', 'get', 'configmap', 'one', '-o', 'json'])) as { metadata: { resourceVersion: string } };
    expect(Number(rv.metadata.resourceVersion)).toBeGreaterThan(0);
  });

  it('runs controllers and watches through etcd: a Deployment gets its pods, kubectl get -w sees them', async () => {
    const watch = spawnKubectl(server.kubeconfig, ['-n', 'on-etcd', 'get', 'pods', '-w', '-o', 'name']);
    try {
      await server.kubectlOk(['-n', 'on-etcd', 'create', 'deployment', 'web', '--image=registry.k8s.io/pause:3.10', '--replicas=2']);
      await waitFor('two pods of the Deployment', async () => {
        const out = await server.kubectlOk(['-n', 'on-etcd', 'get', 'pods', '-l', 'app=web', '-o', 'name']);
        return out.trim().split('\n').filter((l) => l !== '').length === 2 ? true : undefined;
      }, { timeoutMs: 30_000 });
      await watch.waitForOutput(/pod\/web-[\s\S]*pod\/web-/, 15_000);
    } finally {
      await watch.stop();
    }
    expect((await etcdKeys('/registry/pods/on-etcd/')).length).toBe(2);
  });

  it('a restarted server finds everything again', async () => {
    await server.stopProcess();
    await server.restart();
    expect(await server.kubectlOk(['-n', 'on-etcd', 'get', 'configmap', 'one', '-o', 'jsonpath={.data.a}'])).toBe('b');
    expect(await server.kubectlOk(['-n', 'on-etcd', 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).toBe('2');
  }, 60_000);

  it('goes on when the etcd member it is connected to dies', async () => {
    await etcd.members[0]!.kill();
    // A request in flight at the kill may fail once; the next ones are served by another member.
    await waitFor('a configmap created after the kill', async () => ((await server.kubectl(['-n', 'on-etcd', 'create', 'configmap', 'two', '--from-literal=c=d'])).code === 0 || (await server.kubectl(['-n', 'on-etcd', 'get', 'configmap', 'two'])).code === 0 ? true : undefined), { timeoutMs: 30_000 });
    await server.kubectlOk(['-n', 'on-etcd', 'create', 'configmap', 'three']);
    const names = await server.kubectlOk(['-n', 'on-etcd', 'get', 'configmaps', '-o', 'name']);
    expect(names.split('\n').filter((l) => l !== '')).toEqual(expect.arrayContaining(['configmap/one', 'configmap/two', 'configmap/three']));
    await etcd.members[0]!.restart();
  }, 60_000);

  it('refuses a malformed --etcd-servers, naming the flag', async () => {
    const r = await new Promise<{ code: number; stderr: string }>((res) => {
      execFile(process.execPath, [CLI, 'server', '--data-dir', '/nonexistent-knode', '--etcd-servers', 'etcd-1:2379'], { timeout: 30_000 }, (err, _out, stderr) => {
        res({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr: String(stderr) });
      });
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--etcd-servers must be comma-separated URLs');
    expect(existsSync('/nonexistent-knode')).toBe(false);
  });
});
