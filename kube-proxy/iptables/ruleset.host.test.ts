/**
 * The generated restore input against real iptables 1.8.9 (nf_tables backend), inside throwaway
 * network namespaces (`knode-ipt-<random>`, deleted in afterAll even after a failure). No traffic is
 * sent: behaviour is the tracer's job (tracer.test.ts); this checks that the kernel accepts full and
 * partial syncs, that iptables-save then shows exactly the chains the builder meant (our text is in
 * iptables-save's own form), that the jumps go in once, and that cleanup leaves no KNODE- chain and
 * no jump while other people's rules stay. Needs root.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../../lib/exec.js';
import type { ProxyState } from '../model.js';
import { OPTS, service, state } from '../testing/fixtures.js';
import { RICH_STEPS, eps, richState } from '../testing/rich-state.js';
import { IptablesRestoreError } from './errors.js';
import { JUMPS } from './ir.js';
import { normalizeIptables, renderRule } from './render.js';
import type { IptablesSync } from './ruleset.js';
import { buildIptablesRuleset } from './ruleset.js';
import { IptablesCli } from './runner.js';

const isRoot = process.getuid?.() === 0;
const namespaces: string[] = [];

async function netns(): Promise<{ name: string; path: string; ipt: IptablesCli }> {
  const name = `knode-ipt-${randomBytes(4).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  namespaces.push(name);
  const path = `/run/netns/${name}`;
  return { name, path, ipt: new IptablesCli({ netnsPath: path }) };
}

async function save(path: string): Promise<string> {
  return (await mustRun(realExec, ['nsenter', `--net=${path}`, 'iptables-save'])).stdout;
}

async function iptables(path: string, ...args: string[]): Promise<void> {
  await mustRun(realExec, ['nsenter', `--net=${path}`, 'iptables', '-w', ...args]);
}

/** Partial syncs edit the dispatch chains in place, so their rule order is not the full sync's. */
const SORTED = ['KNODE-SERVICES', 'KNODE-NODEPORTS', 'KNODE-EXTERNAL-SERVICES'];

/** Our chains as the kernel holds them, and as a full sync of `s` says they should be. */
async function compare(path: string, s: ProxyState, sortRulesOf: readonly string[] = []): Promise<[string, string]> {
  const full = buildIptablesRuleset(s, OPTS);
  const dump = await save(path);
  expect(dump.match(/^-A KNODE-SERVICES .*$/gm)?.at(-1), 'the node-port jump stays last').toContain('-j KNODE-NODEPORTS');
  return [normalizeIptables(dump, { prefix: 'KNODE-', comments: true, sortRulesOf }), normalizeIptables(full.filter + full.nat, { comments: true, sortRulesOf })];
}

describe.skipIf(!isRoot)('iptables rulesets in real iptables-restore, in throwaway namespaces', () => {
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

  it('a full sync loads, and iptables-save shows exactly the chains and rules the builder wrote', async () => {
    const tx = buildIptablesRuleset(richState(), OPTS);
    await ns.ipt.apply(tx);
    const [got, want] = await compare(ns.path, richState());
    expect(got).toBe(want);
    expect(got).toMatch(/^:KNODE-SVC-[A-Z2-7]{16}$/m);
    expect(got).toContain('-m recent --rcheck --seconds 10800 --reap --name KNODE-SEP-');
    expect(got).toContain('-j REJECT --reject-with icmp-port-unreachable');
    const listed = await ns.ipt.listChains();
    expect([...listed.nat].sort()).toEqual([...tx.nat.matchAll(/^:(\S+)/gm)].map((m) => m[1]).sort());
    expect([...listed.filter].sort()).toEqual(['KNODE-EXTERNAL-SERVICES', 'KNODE-SERVICES']);
  });

  it('ensureJumps puts each jump in once, even when called again', async () => {
    await ns.ipt.ensureJumps();
    await ns.ipt.ensureJumps();
    const dump = await save(ns.path);
    for (const j of JUMPS) expect(dump.split('\n').filter((l) => l === renderRule(j.from, j.rule)), `${j.table} ${j.from}`).toHaveLength(1);
    expect(dump).toMatch(/^-A FORWARD .*-j KNODE-SERVICES\n-A FORWARD .*-j KNODE-EXTERNAL-SERVICES$/m);
  });

  it('the same full sync again is accepted and keeps ClientIP affinity entries (the recent lists)', async () => {
    const tx = buildIptablesRuleset(richState(), OPTS);
    const list = /--set --name (KNODE-SEP-\S+)/.exec(tx.nat)?.[1] ?? '';
    await mustRun(realExec, ['nsenter', `--net=${ns.path}`, 'tee', `/proc/net/xt_recent/${list}`], { stdin: '+10.244.9.9\n' });
    await ns.ipt.apply(buildIptablesRuleset(richState(), OPTS, undefined, tx.ruleset));
    const r = await mustRun(realExec, ['nsenter', `--net=${ns.path}`, 'cat', `/proc/net/xt_recent/${list}`]);
    expect(r.stdout).toContain('src=10.244.9.9');
  });

  it('partial syncs through every kind of change leave the chains a full sync builds', async () => {
    let prev: IptablesSync = buildIptablesRuleset(richState(), OPTS);
    await ns.ipt.apply(prev);
    for (const [name, s] of RICH_STEPS) {
      const changed = name === 'Service deleted' ? new Set(prev.ruleset.services.keys()) : new Set(['default/web/tcp/http']);
      const tx = buildIptablesRuleset(s, OPTS, changed, prev.ruleset);
      expect(tx.full, name).toBe(false);
      await ns.ipt.apply(tx);
      const [got, want] = await compare(ns.path, s, SORTED);
      expect(got, name).toBe(want);
      prev = tx;
    }
  });

  it('in small batches, a full sync and a partial one deleting everything are accepted input by input', async () => {
    const other = await netns();
    const small = { ...OPTS, batchChains: 5 };
    const full = buildIptablesRuleset(richState(), small);
    expect(full.natBatches.length).toBeGreaterThan(4);
    await other.ipt.apply(full);
    const [got, want] = await compare(other.path, richState());
    expect(got).toBe(want);
    const gone = buildIptablesRuleset(state([], []), small, new Set(full.ruleset.services.keys()), full.ruleset);
    expect(gone.natBatches.length).toBeGreaterThan(2);
    await other.ipt.apply(gone);
    const [got2, want2] = await compare(other.path, state([], []), SORTED);
    expect(got2).toBe(want2);
  });

  it('after a restart, a full sync with the listed chains deletes what is stale', async () => {
    const other = await netns();
    await other.ipt.apply(buildIptablesRuleset(richState(), OPTS));
    const small = state([service('only', { clusterIP: '10.96.1.1', ports: [{ name: 'x', port: 1 }] })], [eps('only', [{ name: 'x', port: 1 }], '10.244.1.99')]);
    await other.ipt.apply(buildIptablesRuleset(small, { ...OPTS, existingChains: await other.ipt.listChains() }));
    const [got, want] = await compare(other.path, small);
    expect(got).toBe(want);
  });

  it('a refused table changes nothing', async () => {
    const before = await save(ns.path);
    const err = await ns.ipt.restore('nat', '*nat\n:KNODE-FRESH - [0:0]\n-A KNODE-FRESH -j KNODE-NO-SUCH-CHAIN\nCOMMIT\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IptablesRestoreError);
    expect((err as IptablesRestoreError).stderr).toContain('KNODE-NO-SUCH-CHAIN');
    expect((await save(ns.path)).replace(/^#.*\n/gm, '')).toBe(before.replace(/^#.*\n/gm, ''));
  });

  it('cleanup removes every KNODE- chain and jump, leaves other chains and jumps, and is idempotent', async () => {
    await iptables(ns.path, '-t', 'nat', '-N', 'KUBE-SERVICES');
    await iptables(ns.path, '-t', 'nat', '-A', 'KUBE-SERVICES', '-d', '10.96.0.1/32', '-j', 'RETURN');
    await iptables(ns.path, '-t', 'nat', '-A', 'PREROUTING', '-j', 'KUBE-SERVICES');
    await iptables(ns.path, '-t', 'filter', '-A', 'INPUT', '-s', '192.0.2.99/32', '-j', 'DROP');
    await ns.ipt.apply(buildIptablesRuleset(richState(), OPTS));
    await ns.ipt.ensureJumps();
    expect(await save(ns.path)).toContain('KNODE-');
    await ns.ipt.cleanup();
    await ns.ipt.cleanup();
    const after = await save(ns.path);
    expect(after).not.toContain('KNODE-');
    expect(await ns.ipt.listChains()).toEqual({ filter: [], nat: [] });
    expect(after).toContain(':KUBE-SERVICES - [0:0]');
    expect(after).toContain('-A KUBE-SERVICES -d 10.96.0.1/32 -j RETURN');
    expect(after).toContain('-A PREROUTING -j KUBE-SERVICES');
    expect(after).toContain('-A INPUT -s 192.0.2.99/32 -j DROP');
  });
});
