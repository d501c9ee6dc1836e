/**
 * The only code of iptables mode that touches the OS. `IptablesRunner` restores a sync's input with
 * `iptables-restore --noflush` (so nobody else's chains are flushed), lists the proxy's own chains
 * (KNODE-..., for a full sync after a restart), puts the jump rules from the built-in chains in place
 * (`-C` check, `-I` at the top only when missing) and, on `--cleanup`, removes those jumps and every
 * KNODE- chain and nothing else. The network namespace is an explicit option: the real runner enters
 * it with `nsenter --net=PATH` (Node cannot setns).
 *
 * iptables-restore commits each table of its input on its own (a nat part can land while the filter
 * part after it is refused), so after any failed apply the caller's next sync must be a full one.
 *
 * `FakeIptablesRunner` keeps iptables' semantics for what the proxy emits: a table's input applies
 * whole or not at all; declaring a chain creates or flushes it; a rule may only jump to an existing
 * chain; `-X` refuses a missing, non-empty or still referenced chain; `-D` needs an identical rule.
 * Built-in chains and other people's chains live beside ours so tests can check what cleanup leaves.
 *
 * Cost: one exec per call (~3-5 ms) plus iptables-restore's parse and commit (see README.md).
 */
import type { Exec } from '../../lib/exec.js';
import { realExec } from '../../lib/exec.js';
import type { Table } from './ir.js';
import { CHAIN_PREFIX, JUMPS, TABLES } from './ir.js';
import { IptablesCommandError, IptablesRestoreError } from './errors.js';
import { renderRuleSpec, ruleArgv } from './render.js';

export interface OwnChains {
  readonly filter: readonly string[];
  readonly nat: readonly string[];
}

export interface IptablesRunner {
  /** Restores one table's input (`*table ... COMMIT`) with --noflush; '' does nothing. */
  restore(table: Table, text: string): Promise<void>;
  /**
   * Restores a sync: its nat batches in order, then its filter input (a single nat input and the
   * filter one go in one iptables-restore). Stops at the first refused input.
   */
  apply(sync: SyncInput): Promise<void>;
  /** The KNODE- chains each table holds now. */
  listChains(): Promise<OwnChains>;
  /** Inserts the jump rules of `JUMPS` that are missing (creating their target chains if needed). */
  ensureJumps(): Promise<void>;
  /** Removes every rule jumping to a KNODE- chain, then flushes and deletes every KNODE- chain. */
  cleanup(): Promise<void>;
}

/** What `apply` needs of an IptablesSync. */
export interface SyncInput {
  readonly filter: string;
  readonly natBatches: readonly string[];
}

export interface IptablesCliOptions {
  readonly exec?: Exec;
  /** Run in this network namespace (a path such as /run/netns/NAME); default: the caller's. */
  readonly netnsPath?: string;
  readonly timeoutMs?: number;
}

const BUILTIN = new Set(['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING']);

/** KNODE- chains declared in iptables-save output. */
export function ownChainsIn(save: string): string[] {
  return [...save.matchAll(/^:(KNODE-\S+)/gm)].map((m) => m[1] ?? '');
}

/**
 * Restore input removing what the proxy owns in one table, given that table's iptables-save output:
 * rules in other chains that jump to a KNODE- chain (`-D`), then every KNODE- chain flushed and deleted.
 */
export function cleanupInput(table: Table, save: string): string {
  const chains = ownChainsIn(save);
  const jumps = save.split('\n').filter((l) => {
    const m = /^-A (\S+) .*-j (\S+)/.exec(l);
    return m !== null && !(m[1] ?? '').startsWith(CHAIN_PREFIX) && (m[2] ?? '').startsWith(CHAIN_PREFIX);
  });
  if (chains.length === 0 && jumps.length === 0) return '';
  return [`*${table}`, ...jumps.map((l) => l.replace(/^-A /, '-D ')), ...chains.map((c) => `:${c} - [0:0]`), ...chains.map((c) => `-X ${c}`), 'COMMIT', ''].join('\n');
}

/** The real runner: iptables 1.8.9 (nf_tables backend) through lib/exec, optionally inside a netns. */
export class IptablesCli implements IptablesRunner {
  private readonly exec: Exec;
  private readonly prefix: readonly string[];
  private readonly timeoutMs: number;

  constructor(opts: IptablesCliOptions = {}) {
    this.exec = opts.exec ?? realExec;
    this.prefix = opts.netnsPath !== undefined ? ['nsenter', `--net=${opts.netnsPath}`] : [];
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  async restore(table: Table, text: string): Promise<void> {
    if (text === '') return;
    await this.restoreArgs(table, ['-T', table], text);
  }

  async apply(sync: SyncInput): Promise<void> {
    if (sync.natBatches.length <= 1) {
      const text = (sync.natBatches[0] ?? '') + sync.filter;
      if (text !== '') await this.restoreArgs('all', [], text);
      return;
    }
    for (const batch of sync.natBatches) await this.restore('nat', batch);
    await this.restore('filter', sync.filter);
  }

  async listChains(): Promise<OwnChains> {
    const [filter, nat] = await Promise.all(TABLES.map(async (t) => ownChainsIn(await this.save(t))));
    return { filter: filter ?? [], nat: nat ?? [] };
  }

  async ensureJumps(): Promise<void> {
    // Each missing jump goes to the top of its chain, so walk them backwards to end up in JUMPS order.
    for (const j of [...JUMPS].reverse()) {
      const spec = ruleArgv(j.rule);
      const check = await this.iptables(j.table, ['-C', j.from, ...spec]);
      if (check.code === 0) continue;
      // 1: no such rule; 2: also when the target chain does not exist yet (then create it, empty)
      if (check.code !== 1 && check.code !== 2) throw new IptablesCommandError(check.argv, check.code, check.stderr);
      if (check.code === 2 && j.rule.target.kind === 'jump') await this.iptables(j.table, ['-N', j.rule.target.chain]);
      const ins = await this.iptables(j.table, ['-I', j.from, '1', ...spec]);
      if (ins.code !== 0) throw new IptablesCommandError(ins.argv, ins.code, ins.stderr);
    }
  }

  async cleanup(): Promise<void> {
    for (const table of TABLES) {
      const text = cleanupInput(table, await this.save(table));
      if (text !== '') await this.restoreArgs(table, ['-T', table], text);
    }
  }

  private async restoreArgs(table: Table | 'all', args: readonly string[], text: string): Promise<void> {
    const argv = [...this.prefix, 'iptables-restore', '--noflush', '-w', ...args];
    const r = await this.exec.run(argv, { stdin: text, timeoutMs: this.timeoutMs });
    if (r.code !== 0) {
      const detail = r.stderr.trim().split('\n').slice(0, 3).join(' | ');
      throw new IptablesRestoreError(table, `iptables-restore refused the ${table === 'all' ? 'sync' : `${table} table's input`} (exit ${r.code}): ${detail}`, r.stderr);
    }
  }

  private async save(table: Table): Promise<string> {
    const argv = [...this.prefix, 'iptables-save', '-t', table];
    const r = await this.exec.run(argv, { timeoutMs: this.timeoutMs });
    if (r.code !== 0) throw new IptablesCommandError(argv, r.code, r.stderr);
    return r.stdout;
  }

  private async iptables(table: Table, args: readonly string[]): Promise<{ argv: string[]; code: number; stderr: string }> {
    const argv = [...this.prefix, 'iptables', '-w', '-t', table, ...args];
    const r = await this.exec.run(argv, { timeoutMs: this.timeoutMs });
    return { argv, code: r.code, stderr: r.stderr };
  }
}

// ---------------------------------------------------------------------------------------------
// The fake

type FakeTable = Map<string, string[]>;

const TARGETS = new Set(['RETURN', 'ACCEPT', 'DROP', 'MARK', 'MASQUERADE', 'DNAT', 'SNAT', 'REJECT']);

function emptyTables(): Map<Table, FakeTable> {
  return new Map<Table, FakeTable>([
    ['filter', new Map([['INPUT', []], ['FORWARD', []], ['OUTPUT', []]])],
    ['nat', new Map([['PREROUTING', []], ['INPUT', []], ['OUTPUT', []], ['POSTROUTING', []]])],
  ]);
}

const cloneTable = (t: FakeTable): FakeTable => new Map([...t].map(([n, r]) => [n, [...r]]));
const targetOf = (spec: string): string | undefined => /(?:^| )-j (\S+)/.exec(spec)?.[1];

export class FakeIptablesRunner implements IptablesRunner {
  /** Every input handed to restore/apply, accepted or not. */
  readonly inputs: string[] = [];
  /** When set, the next restore fails with this message and applies nothing. */
  failNext: string | undefined;
  private tables = emptyTables();

  restore(table: Table, text: string): Promise<void> {
    return this.run(text, table);
  }

  async apply(sync: SyncInput): Promise<void> {
    for (const batch of sync.natBatches) await this.run(batch, 'nat');
    await this.run(sync.filter, 'filter');
  }

  listChains(): Promise<OwnChains> {
    const own = (t: Table): string[] => [...(this.tables.get(t)?.keys() ?? [])].filter((c) => c.startsWith(CHAIN_PREFIX));
    return Promise.resolve({ filter: own('filter'), nat: own('nat') });
  }

  ensureJumps(): Promise<void> {
    for (const j of [...JUMPS].reverse()) {
      const t = this.table(j.table);
      const spec = renderRuleSpec(j.rule);
      if (t.get(j.from)?.includes(spec) === true) continue;
      if (j.rule.target.kind === 'jump' && !t.has(j.rule.target.chain)) t.set(j.rule.target.chain, []);
      t.get(j.from)?.unshift(spec);
    }
    return Promise.resolve();
  }

  async cleanup(): Promise<void> {
    for (const table of TABLES) {
      const text = cleanupInput(table, this.save(table));
      if (text !== '') await this.restore(table, text);
    }
  }

  /** A table in iptables-save's form (chains sorted, built-in ones first). */
  save(table: Table): string {
    const t = this.table(table);
    const names = [...t.keys()].sort((a, b) => Number(BUILTIN.has(b)) - Number(BUILTIN.has(a)) || (a < b ? -1 : a > b ? 1 : 0));
    const lines = [`*${table}`, ...names.map((n) => `:${n} ${BUILTIN.has(n) ? 'ACCEPT' : '-'} [0:0]`)];
    for (const n of names) for (const r of t.get(n) ?? []) lines.push(`-A ${n} ${r}`);
    return `${[...lines, 'COMMIT'].join('\n')}\n`;
  }

  /** For tests: someone else's chain with rules (a rule may jump to one of ours). */
  seed(table: Table, chain: string, rules: readonly string[] = []): void {
    const t = this.table(table);
    t.set(chain, [...(t.get(chain) ?? []), ...rules]);
  }

  private table(t: Table): FakeTable {
    const table = this.tables.get(t);
    if (table === undefined) throw new Error(`no table ${t}`);
    return table;
  }

  private run(text: string, only: Table | undefined): Promise<void> {
    if (text === '') return Promise.resolve();
    this.inputs.push(text);
    if (this.failNext !== undefined) {
      const msg = this.failNext;
      this.failNext = undefined;
      return Promise.reject(new IptablesRestoreError(only ?? 'all', `iptables-restore refused the input (exit 1): ${msg}`, msg));
    }
    let current: { name: Table; t: FakeTable } | undefined;
    for (const [i, raw] of text.split('\n').entries()) {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      try {
        if (line.startsWith('*')) {
          const name = line.slice(1);
          if (name !== 'filter' && name !== 'nat') throw new Error(`unknown table ${name}`);
          current = { name, t: cloneTable(this.table(name)) };
        } else if (current === undefined) {
          throw new Error('no table');
        } else if (line === 'COMMIT') {
          if (only === undefined || only === current.name) this.tables.set(current.name, current.t);
          current = undefined;
        } else {
          this.line(current.t, line);
        }
      } catch (err) {
        const msg = `iptables-restore: line ${i + 1} failed: ${(err as Error).message}`;
        return Promise.reject(new IptablesRestoreError(only ?? current?.name ?? 'all', msg, msg));
      }
    }
    return Promise.resolve();
  }

  private line(t: FakeTable, line: string): void {
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (BUILTIN.has(name)) return;
      t.set(name, []);
      return;
    }
    const m = /^(-A|-I|-D|-X|-N|-F) (\S+)(?: (.*))?$/.exec(line);
    if (m === null) throw new Error(`cannot parse ${line}`);
    const [, verb, chain = '', spec = ''] = m;
    const rules = t.get(chain);
    if (verb === '-N') {
      if (rules !== undefined) throw new Error('Chain already exists');
      t.set(chain, []);
      return;
    }
    if (rules === undefined) throw new Error(`Chain '${chain}' does not exist`);
    const checkTarget = (s: string): void => {
      const target = targetOf(s);
      if (target === undefined || TARGETS.has(target) || t.has(target)) return;
      throw new Error(`Chain '${target}' does not exist`);
    };
    switch (verb) {
      case '-A':
        checkTarget(spec);
        rules.push(spec);
        return;
      case '-I': {
        const pos = /^(\d+) (.*)$/.exec(spec);
        const body = pos !== null ? (pos[2] ?? '') : spec;
        checkTarget(body);
        rules.splice(pos !== null ? Number(pos[1]) - 1 : 0, 0, body);
        return;
      }
      case '-D': {
        const i = rules.indexOf(spec);
        if (i < 0) throw new Error('Bad rule (does a matching rule exist in that chain?)');
        rules.splice(i, 1);
        return;
      }
      case '-F':
        rules.length = 0;
        return;
      case '-X': {
        if (BUILTIN.has(chain)) throw new Error(`cannot delete built-in chain ${chain}`);
        const referenced = [...t.values()].some((rs) => rs.some((r) => targetOf(r) === chain));
        if (rules.length > 0 || referenced) throw new Error(`CHAIN_DEL failed (Device or resource busy): chain ${chain}`);
        t.delete(chain);
        return;
      }
      default:
        throw new Error(`cannot parse ${line}`);
    }
  }
}
