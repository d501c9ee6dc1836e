/**
 * The generated transactions against real nft 1.0.6, inside throwaway network namespaces
 * (`knode-kpt-<random>`, deleted in afterAll even after a failure). No traffic is sent: behaviour is
 * the tracer's job (tracer.test.ts); this checks that the kernel accepts every kind of transaction
 * and ends up with the table the builder meant, and that partial syncs leave exactly what a fresh
 * full sync would. Needs root.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import type { ProxyState } from '../model.js';
import { OPTS, service, state } from '../testing/fixtures.js';
import { eps, richState } from '../testing/rich-state.js';
import { NftApplyError } from '../errors.js';
import type { NftTransaction, ProxyRuleset } from './ir.js';
import { TABLE_NAME, isProxyTable, serviceTableName } from './ir.js';
import { renderTransaction } from './render.js';
import { buildRuleset } from './ruleset.js';
import { NftCli } from './runner.js';

const isRoot = process.getuid?.() === 0;
const namespaces: string[] = [];

async function netns(): Promise<{ name: string; nft: NftCli; path: string }> {
  const name = `knode-kpt-${randomBytes(4).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  namespaces.push(name);
  const path = `/run/netns/${name}`;
  return { name, path, nft: new NftCli({ netnsPath: path }) };
}

async function nftJson(path: string, ...args: string[]): Promise<Record<string, unknown>[]> {
  const r = await mustRun(realExec, ['nsenter', `--net=${path}`, 'nft', '-j', ...args]);
  return (JSON.parse(r.stdout) as { nftables: Record<string, unknown>[] }).nftables;
}

interface Observed {
  readonly chains: Map<string, string>;
  readonly maps: Map<string, string[]>;
  readonly sets: string[];
}

/**
 * The proxy's tables as the kernel holds them, independent of creation order and handles: every
 * chain, map and set named `table/name`.
 */
async function observe(path: string): Promise<Observed> {
  const objs = await nftJson(path, 'list', 'ruleset', 'ip');
  const chains = new Map<string, string>();
  const rules = new Map<string, string[]>();
  const maps = new Map<string, string[]>();
  const sets: string[] = [];
  for (const o of objs) {
    const c = o['chain'] as { table: string; name: string; hook?: string; prio?: number } | undefined;
    if (c !== undefined && isProxyTable(c.table)) chains.set(`${c.table}/${c.name}`, c.hook !== undefined ? `${c.hook}@${c.prio}` : '');
    const r = o['rule'] as { table: string; chain: string; expr: unknown } | undefined;
    if (r !== undefined && isProxyTable(r.table)) rules.set(`${r.table}/${r.chain}`, [...(rules.get(`${r.table}/${r.chain}`) ?? []), JSON.stringify(r.expr)]);
    const m = o['map'] as { table: string; name: string; elem?: unknown[] } | undefined;
    if (m !== undefined && isProxyTable(m.table)) maps.set(`${m.table}/${m.name}`, (m.elem ?? []).map((e) => JSON.stringify(e)).sort());
    const s = o['set'] as { table: string; name: string } | undefined;
    if (s !== undefined && isProxyTable(s.table)) sets.push(`${s.table}/${s.name}`);
  }
  for (const [name, hook] of chains) chains.set(name, `${hook}\n${(rules.get(name) ?? []).join('\n')}`);
  return { chains, maps, sets: sets.sort() };
}

/** Every chain and affinity set the builder meant, named `table/name`. */
function expectedNames(rs: ProxyRuleset): { chains: string[]; sets: string[] } {
  const svc = [...rs.services.values()];
  const tables = Array.from({ length: rs.serviceTables }, (_, i) => serviceTableName(i));
  return {
    chains: [
      ...rs.baseChains.map((c) => `${TABLE_NAME}/${c.name}`),
      ...tables.flatMap((t) => rs.serviceTableChains.map((c) => `${t}/${c.name}`)),
      ...svc.flatMap((s) => s.chains.map((c) => `${s.table}/${c.name}`)),
    ].sort(),
    sets: svc.flatMap((s) => s.sets.map((x) => `${s.table}/${x.name}`)).sort(),
  };
}

/** Pods in 10.244.2.0/24 run on the other node. */
describe.skipIf(!isRoot)('nftables rulesets in real nft, in throwaway namespaces', () => {
  let ns: Awaited<ReturnType<typeof netns>>;

  beforeAll(async () => {
    ns = await netns();
  });

  afterAll(async () => {
    const failed: string[] = [];
    for (const name of namespaces) {
      const r = await realExec.run(['ip', 'netns', 'del', name]);
      if (r.code !== 0) failed.push(`${name}: ${r.stderr.trim()}`);
    }
    const left = (await realExec.run(['ip', 'netns', 'list'])).stdout;
    expect(failed).toEqual([]);
    for (const name of namespaces) expect(left).not.toContain(name);
  });

  it('a full sync loads: the main table and 8 service tables, their verdict maps, every chain and affinity set the builder made', async () => {
    const tx = buildRuleset(richState(), OPTS);
    await ns.nft.apply(renderTransaction(tx));
    const seen = await observe(ns.path);
    const want = expectedNames(tx.ruleset);
    expect([...seen.chains.keys()].sort()).toEqual(want.chains);
    expect(seen.sets).toEqual(want.sets);
    const tables = Array.from({ length: 8 }, (_, i) => serviceTableName(i));
    expect([...seen.maps.keys()].sort()).toEqual(
      [`${TABLE_NAME}/no-endpoint-nodeports`, `${TABLE_NAME}/no-endpoint-services`, ...tables.flatMap((t) => [`${t}/service-ips`, `${t}/service-nodeports`])].sort(),
    );
    const elements = [...tx.ruleset.services.values()].flatMap((s) => s.elements);
    expect(elements.length).toBeGreaterThan(0);
    for (const [map, els] of seen.maps) expect(els, map).toHaveLength(elements.filter((e) => `${e.table}/${e.map}` === map).length);
    for (const t of tables) expect(seen.chains.get(`${t}/nat-prerouting`)).toMatch(/^prerouting@-100\n.*"jump".*"target":"services"/s);
    expect(seen.chains.get(`${TABLE_NAME}/filter-input`)).toMatch(/^input@-110\n/);
    const listed = await ns.nft.list();
    expect(listed.map((t) => t.name)).toEqual([TABLE_NAME, ...tables].sort());
    expect(listed.flatMap((t) => t.chains.map((c) => `${t.name}/${c}`)).sort()).toEqual(want.chains);
    expect(listed.flatMap((t) => t.sets.map((x) => `${t.name}/${x}`)).sort()).toEqual(want.sets);
  });

  it('the same full sync again is accepted (idempotent) and keeps the affinity sets’ entries', async () => {
    const tx = buildRuleset(richState(), OPTS);
    const sticky = [...tx.ruleset.services.values()].find((s) => s.sets.length > 0);
    const [table, set] = [sticky?.table ?? '', sticky?.sets[0]?.name ?? ''];
    await mustRun(realExec, ['nsenter', `--net=${ns.path}`, 'nft', 'add', 'element', 'ip', table, set, '{ 10.244.9.9 }']);
    await ns.nft.apply(renderTransaction(buildRuleset(richState(), { ...OPTS, previous: tx.ruleset })));
    const r = await nftJson(ns.path, 'list', 'set', 'ip', table, set);
    expect(JSON.stringify(r)).toContain('10.244.9.9');
  });

  it('partial syncs through many kinds of change end with the table a fresh full sync builds', async () => {
    const steps: [string, ProxyState][] = [
      ['endpoint replaced', richState({}, ['10.244.1.5', '10.244.2.8'])],
      ['affinity on', richState({ sessionAffinity: 'ClientIP' }, ['10.244.1.5', '10.244.2.8'])],
      ['affinity timeout changed', richState({ sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 30 } } }, ['10.244.1.5', '10.244.2.8'])],
      ['externalTrafficPolicy Local', richState({ externalTrafficPolicy: 'Local' }, ['10.244.1.5', '10.244.2.8'])],
      ['no endpoints (elements move to the no-endpoint maps)', richState({}, [])],
      ['only a remote endpoint under Local (reject becomes drop)', richState({ externalTrafficPolicy: 'Local' }, ['10.244.2.9'])],
      ['endpoints back', richState({}, ['10.244.1.5'])],
      ['Service deleted', state([], [])],
    ];
    let prev: NftTransaction = buildRuleset(richState(), OPTS);
    await ns.nft.apply(renderTransaction(prev));
    const keys = new Set(['default/web/tcp/http']);
    for (const [name, s] of steps) {
      const tx = buildRuleset(s, { ...OPTS, previous: prev.ruleset }, name === 'Service deleted' ? new Set(prev.ruleset.services.keys()) : keys);
      expect(tx.full, name).toBe(false);
      await ns.nft.apply(renderTransaction(tx));
      const fresh = await netns();
      await fresh.nft.apply(renderTransaction(buildRuleset(s, OPTS)));
      const [got, want] = [await observe(ns.path), await observe(fresh.path)];
      expect(got.sets, name).toEqual(want.sets);
      expect(Object.fromEntries(got.maps), name).toEqual(Object.fromEntries(want.maps));
      expect(new Map([...got.chains].sort()), name).toEqual(new Map([...want.chains].sort()));
      await fresh.nft.cleanup();
      prev = tx;
    }
  });

  it('after a restart, a full sync with the listed chains deletes what is stale', async () => {
    const other = await netns();
    await other.nft.apply(renderTransaction(buildRuleset(richState(), OPTS)));
    const small = state([service('only', { clusterIP: '10.96.1.1', ports: [{ name: 'x', port: 1 }] })], [eps('only', [{ name: 'x', port: 1 }], '10.244.1.99')]);
    const existing = await other.nft.list();
    const tx = buildRuleset(small, { ...OPTS, existing });
    await other.nft.apply(renderTransaction(tx));
    const seen = await observe(other.path);
    expect([...seen.chains.keys()].sort()).toEqual(expectedNames(tx.ruleset).chains);
    expect(seen.sets).toEqual([]);
  });

  it('a full sync replaces an older layout (everything in one table) and service tables past the count', async () => {
    const other = await netns();
    // the layout before service tables: one knode-proxy table with the nat hooks and service chains
    const legacy = renderTransaction(buildRuleset(richState(), { ...OPTS, serviceTables: 1 })).replaceAll(' ip knode-proxy-svc-0 ', ' ip knode-proxy ').replaceAll(' ip knode-proxy-svc-0\n', ' ip knode-proxy\n');
    await other.nft.apply(legacy);
    await other.nft.apply('add table ip knode-proxy-svc-11\nadd chain ip knode-proxy-svc-11 left-over\n');
    const tx = buildRuleset(richState(), { ...OPTS, existing: await other.nft.list() });
    await other.nft.apply(renderTransaction(tx));
    const fresh = await netns();
    await fresh.nft.apply(renderTransaction(buildRuleset(richState(), OPTS)));
    const [got, want] = [await observe(other.path), await observe(fresh.path)];
    expect(new Map([...got.chains].sort())).toEqual(new Map([...want.chains].sort()));
    expect(Object.fromEntries(got.maps)).toEqual(Object.fromEntries(want.maps));
    expect(got.sets).toEqual(want.sets);
  });

  it('a refused transaction changes nothing', async () => {
    const before = await observe(ns.path);
    const script = 'add chain ip knode-proxy-svc-1 fresh-chain\nadd rule ip knode-proxy fresh-chain goto no-such-chain\n';
    const err = await ns.nft.apply(`add chain ip knode-proxy fresh-chain\n${script}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftApplyError);
    expect((err as NftApplyError).stderr).toContain('no-such-chain');
    expect(await observe(ns.path)).toEqual(before);
  });

  it('cleanup removes the proxy tables only, and is idempotent', async () => {
    await mustRun(realExec, ['nsenter', `--net=${ns.path}`, 'nft', 'add table ip someone-else; add chain ip someone-else theirs; add table ip knode-proxy-svc-mine']);
    expect((await ns.nft.list()).length).toBe(9);
    await ns.nft.cleanup();
    await ns.nft.cleanup();
    expect(await ns.nft.list()).toEqual([]);
    const tables = await nftJson(ns.path, 'list', 'tables');
    expect(tables.filter((o) => 'table' in o).map((o) => (o['table'] as { name: string }).name).sort()).toEqual(['knode-proxy-svc-mine', 'someone-else']);
  });
});
