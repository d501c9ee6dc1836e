/**
 * Partial syncs over netlink against nft -f, in throwaway network namespaces (`knode-kpn-<random>`,
 * deleted in afterAll even after a failure). Both namespaces get the same full sync with nft -f;
 * then the same series of partial transactions goes through nft -f in one and through our netlink
 * batch in the other, and after every step `nft list ruleset ip` (the main table and the service
 * tables) must read the same.
 * The netlink code runs in a child started inside its namespace (`ip netns exec`): a netlink socket
 * acts in the namespace of its process, and this test process stays in the root namespace, which
 * it never changes. Needs root.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import type { ProxyState } from '../model.js';
import { OPTS, service, slice, state } from '../testing/fixtures.js';
import { RICH_STEPS, richState } from '../testing/rich-state.js';
import { withChangedEndpoint, withExtraService } from '../testing/scale-states.js';
import type { NftCommand, ProxyRuleset } from './ir.js';
import { TABLE_NAME, serviceTableName } from './ir.js';

const SVC0 = serviceTableName(0);
import { netlinkSupports } from './netlink/encode.js';
import { renderTransaction } from './render.js';
import { buildRuleset } from './ruleset.js';
import { NftCli } from './runner.js';

const isRoot = process.getuid?.() === 0;
const namespaces: string[] = [];
const children: ChildProcessWithoutNullStreams[] = [];
const CHILD = fileURLToPath(new URL('./netlink/apply-lines.ts', import.meta.url));

async function netns(): Promise<string> {
  const name = `knode-kpn-${randomBytes(4).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  namespaces.push(name);
  return name;
}

async function listing(ns: string): Promise<string> {
  const r = await mustRun(realExec, ['ip', 'netns', 'exec', ns, 'nft', 'list', 'ruleset', 'ip']);
  return r.stdout;
}

interface Answer {
  readonly ok: boolean;
  readonly code?: string;
  readonly message?: string;
}

/** The netlink applier, running inside `ns`: one batch per line, one answer per line. */
function netlinkChild(ns: string): (commands: readonly NftCommand[]) => Promise<Answer> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', CHILD], { stdio: ['pipe', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => void (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return async (commands) => {
    child.stdin.write(`${JSON.stringify(commands)}\n`);
    const next = await lines.next();
    if (next.done === true) throw new Error(`the netlink child exited: ${stderr}`);
    return JSON.parse(next.value) as Answer;
  };
}

const extra = (s: ProxyState, name: string, spec: Parameters<typeof service>[1], ips: readonly string[]): ProxyState => {
  const add = state([service(name, spec)], [slice(name, [{ name: 'p', port: 8080 }], ips.map((ip) => ({ ip, node: ip.startsWith('10.244.2.') ? 'node-b' : 'node-a' })))]);
  return { services: new Map([...s.services, ...add.services]), endpoints: new Map([...s.endpoints, ...add.endpoints]) };
};

/** Each state follows the previous one; `changed` is every key of both (the builder skips equal ones). */
function steps(): [string, ProxyState][] {
  const base = richState();
  const added = withExtraService(base, 1);
  const changed = withChangedEndpoint(added.state, added.key, 1);
  const np = extra(base, 'np', { type: 'NodePort', clusterIP: '10.96.1.10', ports: [{ name: 'p', port: 81, nodePort: 30081 }] }, ['10.244.1.80', '10.244.2.80']);
  const npLocal = extra(base, 'np', { type: 'NodePort', clusterIP: '10.96.1.10', externalTrafficPolicy: 'Local', ports: [{ name: 'p', port: 81, nodePort: 30081 }] }, ['10.244.1.80', '10.244.2.80']);
  const sticky = extra(base, 'sticky2', { clusterIP: '10.96.1.20', sessionAffinity: 'ClientIP', ports: [{ name: 'p', port: 82, protocol: 'UDP' }] }, ['10.244.1.90', '10.244.2.90']);
  return [
    ['add a Service', added.state],
    ['change an endpoint', changed],
    ['remove the Service', base],
    ['add a NodePort Service', np],
    ['externalTrafficPolicy Local', npLocal],
    ['remove the NodePort Service', base],
    ['add an affinity Service', sticky],
    ['remove the affinity Service', base],
    ...RICH_STEPS.map(([name, s]): [string, ProxyState] => [`rich: ${name}`, s]),
  ];
}

describe.skipIf(!isRoot)('nftables partial syncs over netlink equal nft -f (throwaway namespaces)', () => {
  let nftNs: string;
  let nlNs: string;
  let applyNetlink: (commands: readonly NftCommand[]) => Promise<Answer>;

  beforeAll(async () => {
    nftNs = await netns();
    nlNs = await netns();
    applyNetlink = netlinkChild(nlNs);
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    const failed: string[] = [];
    for (const n of namespaces) {
      const r = await realExec.run(['ip', 'netns', 'del', n]);
      if (r.code !== 0) failed.push(`${n}: ${r.stderr.trim()}`);
    }
    expect(failed).toEqual([]);
  });

  it('leaves the same table as nft -f after every partial sync, and a refused batch applies nothing', async () => {
    const full = buildRuleset(richState(), OPTS);
    for (const ns of [nftNs, nlNs]) await new NftCli({ netnsPath: `/run/netns/${ns}` }).apply(renderTransaction(full));
    expect(await listing(nlNs)).toBe(await listing(nftNs));

    const nft = new NftCli({ netnsPath: `/run/netns/${nftNs}` });
    let prev: ProxyRuleset = full.ruleset;
    let before = richState();
    let widest = 0;
    for (const [name, next] of steps()) {
      const keys = new Set([...before.services.keys(), ...next.services.keys()]);
      const tx = buildRuleset(next, { ...OPTS, previous: prev }, keys);
      widest = Math.max(widest, new Set(tx.commands.map((c) => c.table)).size);
      expect(tx.full, name).toBe(false);
      expect(netlinkSupports(tx.commands), name).toBe(true);
      await nft.apply(renderTransaction(tx));
      const answer = await applyNetlink(tx.commands);
      expect(answer, name).toEqual({ ...answer, ok: true });
      const [want, got] = [await listing(nftNs), await listing(nlNs)];
      expect(got, name).toBe(want);
      prev = tx.ruleset;
      before = next;
    }

    expect(widest, 'some batch spans several tables').toBeGreaterThan(2);

    // One bad command at the end: the kernel refuses the whole batch and keeps the table as it was.
    const kept = await listing(nlNs);
    const refused = await applyNetlink([
      { table: SVC0, op: 'add-table' },
      { table: SVC0, op: 'add-chain', name: 'zz-new' },
      { table: SVC0, op: 'add-rule', chain: 'zz-new', rule: { match: [{ kind: 'l4proto', proto: 'tcp' }], action: { kind: 'dnat', ip: '10.244.1.5', port: 8080 } } },
      { table: SVC0, op: 'add-elements', map: 'service-ips', elements: [{ table: SVC0, map: 'service-ips', key: { ip: '10.96.9.9', proto: 'tcp', port: 80 }, verdict: { kind: 'goto', chain: 'zz-new' } }] },
      { table: TABLE_NAME, op: 'delete-chain', name: 'no-such-chain' },
    ]);
    expect(refused.ok).toBe(false);
    expect(refused.code).toBe('ERR_PROXY_NFT_APPLY');
    expect(refused.message).toContain('ENOENT');
    expect(refused.message).toContain('command 5 of 5: delete chain ip knode-proxy no-such-chain');
    expect(await listing(nlNs)).toBe(kept);
    expect(kept).not.toContain('zz-new');
  });
});
