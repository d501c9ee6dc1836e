/**
 * Node IPAM as users and the CNI plugin depend on it: every Node gets a distinct spec.podCIDR (and
 * podCIDRs) cut from the cluster CIDR within seconds, a Node created with a pod CIDR keeps it and nobody
 * else gets it, a deleted Node's CIDR goes to a later Node, and a restart of the server changes nothing
 * and hands out no CIDR twice (assignments live in the store). A full cluster CIDR leaves a Node without
 * one until another Node goes away.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { CLUSTER_CIDR } from './helpers/ip-plan.js';
import { at, getJson, listAt } from './helpers/objects.js';
import { waitFor } from './helpers/wait.js';

async function createNode(server: TestServer, name: string, podCIDR?: string): Promise<void> {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name }, ...(podCIDR !== undefined ? { spec: { podCIDR } } : {}) };
  await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(node) });
}

/** Every Node's pod CIDRs by name. */
async function podCIDRs(server: TestServer): Promise<Map<string, { podCIDR: unknown; podCIDRs: readonly unknown[] }>> {
  const list = await getJson(server, ['get', 'nodes']);
  return new Map(listAt(list, 'items').map((n) => [String(at(n, 'metadata.name')), { podCIDR: at(n, 'spec.podCIDR'), podCIDRs: listAt(n, 'spec.podCIDRs') }]));
}

/** Waits until every named Node has a pod CIDR; returns them by name. */
async function assigned(server: TestServer, names: readonly string[]): Promise<Map<string, string>> {
  return waitFor(`pod CIDRs on ${names.join(', ')}`, async () => {
    const all = await podCIDRs(server);
    const out = new Map<string, string>();
    for (const n of names) {
      const c = all.get(n)?.podCIDR;
      if (typeof c !== 'string') return undefined;
      out.set(n, c);
    }
    return out;
  }, { timeoutMs: 10_000 });
}

/** A /24 inside the cluster CIDR (10.244.0.0/16: the first two octets match). */
function inClusterCIDR(cidr: string): boolean {
  const clusterPrefix = CLUSTER_CIDR.split('.').slice(0, 2).join('.') + '.';
  return cidr.startsWith(clusterPrefix) && cidr.endsWith('/24');
}

describe('node IPAM with the default cluster CIDR', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  const GIVEN = '10.244.1.0/24';
  let first: Map<string, string>;

  it('gives each new Node a distinct /24 from 10.244.0.0/16 and leaves a given podCIDR alone', async () => {
    await createNode(server, 'given', GIVEN);
    for (const n of ['n1', 'n2', 'n3']) await createNode(server, n);
    first = await assigned(server, ['given', 'n1', 'n2', 'n3']);
    expect(first.get('given')).toBe(GIVEN);
    const fresh = ['n1', 'n2', 'n3'].map((n) => first.get(n) as string);
    for (const c of fresh) expect(inClusterCIDR(c), c).toBe(true);
    expect(new Set([...fresh, GIVEN]).size).toBe(4);
    // the lowest free subnets, skipping the one `given` holds
    expect([...fresh].sort()).toEqual(['10.244.0.0/24', '10.244.2.0/24', '10.244.3.0/24']);
    const all = await podCIDRs(server);
    for (const [name, c] of first) expect(all.get(name)?.podCIDRs, name).toEqual([c]);
  });

  it('reuses a deleted Node\'s CIDR for a later Node', async () => {
    const freed = first.get('n2') as string;
    await server.kubectlOk(['delete', 'node', 'n2', '--wait=true']);
    await createNode(server, 'n4');
    const got = await assigned(server, ['n4']);
    expect(got.get('n4')).toBe(freed);
  });

  it('keeps every assignment across a restart and hands out no CIDR twice afterwards', async () => {
    const before = await assigned(server, ['given', 'n1', 'n3', 'n4']);
    await server.stopProcess('SIGTERM');
    await server.restart();
    await createNode(server, 'n5');
    await createNode(server, 'given-late', '10.244.9.0/24');
    await createNode(server, 'n6');
    const after = await assigned(server, ['given', 'n1', 'n3', 'n4', 'n5', 'given-late', 'n6']);
    for (const [name, c] of before) expect(after.get(name), name).toBe(c);
    expect(new Set(after.values()).size).toBe(after.size);
    expect(after.get('given-late')).toBe('10.244.9.0/24');
    for (const n of ['n5', 'n6']) expect(inClusterCIDR(after.get(n) as string)).toBe(true);
  });
});

describe('node IPAM with a cluster CIDR of two node subnets', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(['--cluster-cidr', '10.244.0.0/23', '--node-cidr-mask-size', '24']);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('leaves a Node without a CIDR while the range is full, and gives it the first one freed', async () => {
    await createNode(server, 'a');
    await createNode(server, 'b');
    const ab = await assigned(server, ['a', 'b']);
    expect(new Set(ab.values())).toEqual(new Set(['10.244.0.0/24', '10.244.1.0/24']));
    await createNode(server, 'c');
    // c can never get a CIDR while a and b hold both; the telling part is which one it gets below
    expect((await podCIDRs(server)).get('c')?.podCIDR).toBeUndefined();
    await server.kubectlOk(['delete', 'node', 'a', '--wait=true']);
    const c = await assigned(server, ['c']);
    expect(c.get('c')).toBe(ab.get('a'));
  });

  it('refuses a mask size that does not fit the cluster CIDR', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'knode-test-'));
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((res) => {
        execFile(process.execPath, [CLI, 'server', '--data-dir', dataDir, '--port', '1', '--node-cidr-mask-size', '12'], { timeout: 30_000 }, (err, _out, stderr) => {
          res({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stderr: String(stderr) });
        });
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/node CIDR mask size must be an integer between 16 .* and 32, got 12/);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
