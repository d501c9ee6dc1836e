/**
 * The only code of the nftables proxy that touches the OS: `NftRunner` applies an `nft -f` script
 * atomically, lists what the proxy's tables hold (the main `knode-proxy` and the service tables
 * `knode-proxy-svc-N`: chain and set names, for a full sync after a restart) and removes those
 * tables, and nothing else, on `--cleanup`. The network namespace is an
 * explicit argument: the real runner enters it with `nsenter --net=PATH` (Node cannot setns).
 *
 * `FakeNftRunner` keeps nft's semantics for the commands the proxy emits: a transaction applies whole
 * or not at all; flushing or deleting a missing object fails; a chain or set still referenced (by a
 * rule or a map element) cannot be deleted; a rule or element cannot refer to a missing chain or set;
 * re-adding a map key with another verdict fails (EEXIST); `flush table` empties chains but not maps
 * or sets. Other tables live beside ours so tests can check cleanup leaves them alone.
 *
 * Cost: one exec per call (~3-5 ms) plus nft's own parse and commit time (see README.md).
 */
import type { Exec } from '../../lib/exec.js';
import { realExec } from '../../lib/exec.js';
import { NftApplyError, NftListError } from '../errors.js';
import type { ExistingTable } from './ir.js';
import { TABLE_FAMILY, TABLE_NAME, isProxyTable } from './ir.js';

export interface NftRunner {
  /** Applies one `nft -f` script; throws NftApplyError (and applies nothing) when nft refuses it. */
  apply(script: string): Promise<void>;
  /** The proxy's tables present now (the main one and service tables) with their chains and sets. */
  list(): Promise<readonly ExistingTable[]>;
  /** Removes the proxy's tables if present; touches nothing else. */
  cleanup(): Promise<void>;
}

/** Deletes the main table (created first, so the script cannot fail on its absence) and `others`. */
export function cleanupScript(others: readonly string[]): string {
  const lines = [`add table ${TABLE_FAMILY} ${TABLE_NAME}`, `delete table ${TABLE_FAMILY} ${TABLE_NAME}`];
  for (const t of others) if (t !== TABLE_NAME) lines.push(`delete table ${TABLE_FAMILY} ${t}`);
  return `${lines.join('\n')}\n`;
}

export interface NftCliOptions {
  readonly exec?: Exec;
  /** Run nft in this network namespace (a path such as /run/netns/NAME); default: the caller's. */
  readonly netnsPath?: string;
  readonly timeoutMs?: number;
}

/** The real runner: `nft` through lib/exec, optionally inside a network namespace. */
export class NftCli implements NftRunner {
  private readonly exec: Exec;
  private readonly prefix: readonly string[];
  private readonly timeoutMs: number;
  /** The namespace nft runs in, or undefined for this process's own. */
  readonly netnsPath: string | undefined;

  constructor(opts: NftCliOptions = {}) {
    this.exec = opts.exec ?? realExec;
    this.netnsPath = opts.netnsPath;
    this.prefix = opts.netnsPath !== undefined ? ['nsenter', `--net=${opts.netnsPath}`, 'nft'] : ['nft'];
    this.timeoutMs = opts.timeoutMs ?? 120_000;
  }

  async apply(script: string): Promise<void> {
    const argv = [...this.prefix, '-f', '-'];
    const r = await this.exec.run(argv, { stdin: script, timeoutMs: this.timeoutMs });
    if (r.code !== 0) {
      const detail = r.stderr.trim().split('\n').slice(0, 3).join(' | ');
      throw new NftApplyError(`nft refused the transaction (exit ${r.code}): ${detail}`, r.stderr);
    }
  }

  async list(): Promise<readonly ExistingTable[]> {
    const tables = (await this.listJson(['list', 'tables', TABLE_FAMILY]))
      .map((o) => (o['table'] as { name?: unknown } | undefined)?.name)
      .filter((n): n is string => typeof n === 'string' && isProxyTable(n))
      .sort();
    if (tables.length === 0) return [];
    const names = (objs: Record<string, unknown>[], kind: string, table: string): string[] =>
      objs
        .map((o) => o[kind] as { table?: unknown; name?: unknown } | undefined)
        .filter((x) => x?.table === table && typeof x.name === 'string')
        .map((x) => String(x?.name));
    const chains = await this.listJson(['list', 'chains', TABLE_FAMILY]);
    const sets = await this.listJson(['list', 'sets', TABLE_FAMILY]);
    return tables.map((name) => ({ name, chains: names(chains, 'chain', name), sets: names(sets, 'set', name) }));
  }

  async cleanup(): Promise<void> {
    const tables = (await this.list()).map((t) => t.name);
    await this.apply(cleanupScript(tables));
  }

  private async listJson(args: readonly string[]): Promise<Record<string, unknown>[]> {
    const argv = [...this.prefix, '-j', ...args];
    const r = await this.exec.run(argv, { timeoutMs: this.timeoutMs });
    if (r.code !== 0) throw new NftListError(`nft ${args.join(' ')} failed (exit ${r.code}): ${r.stderr.trim()}`);
    try {
      const doc = JSON.parse(r.stdout) as { nftables?: unknown };
      return Array.isArray(doc.nftables) ? doc.nftables.filter((x): x is Record<string, unknown> => typeof x === 'object' && x !== null) : [];
    } catch (err) {
      throw new NftListError(`nft ${args.join(' ')} printed invalid JSON`, { cause: err });
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fake

interface FakeTable {
  chains: Map<string, { hook: string; rules: string[] }>;
  maps: Map<string, Map<string, string>>;
  sets: Set<string>;
}

const COMMAND = /^(add|flush|delete) (table|chain|rule|map|set|element) (\S+) (\S+)(?: (\S+))?(?: (.*))?$/;

function cloneTables(t: Map<string, FakeTable>): Map<string, FakeTable> {
  const out = new Map<string, FakeTable>();
  for (const [k, v] of t) {
    out.set(k, {
      chains: new Map([...v.chains].map(([n, c]) => [n, { hook: c.hook, rules: [...c.rules] }])),
      maps: new Map([...v.maps].map(([n, m]) => [n, new Map(m)])),
      sets: new Set(v.sets),
    });
  }
  return out;
}

function chainRefs(text: string): string[] {
  return [...text.matchAll(/(?:jump|goto) ([^\s,}]+)/g)].map((m) => m[1] ?? '');
}

function setRefs(text: string): string[] {
  return [...text.matchAll(/@([^\s,}]+)/g)].map((m) => m[1] ?? '');
}

/** Splits `{ a : b, c : d }` into its items. */
function braceItems(text: string): string[] {
  const inner = text.trim().replace(/^\{/, '').replace(/\}$/, '').trim();
  return inner === '' ? [] : inner.split(',').map((s) => s.trim());
}

export class FakeNftRunner implements NftRunner {
  /** Every script handed to apply, accepted or not. */
  readonly scripts: string[] = [];
  /** When set, the next apply fails with this nft message and applies nothing. */
  failNext: string | undefined;
  private tables = new Map<string, FakeTable>();

  apply(script: string): Promise<void> {
    this.scripts.push(script);
    if (this.failNext !== undefined) {
      const msg = this.failNext;
      this.failNext = undefined;
      return Promise.reject(new NftApplyError(`nft refused the transaction (exit 1): ${msg}`, msg));
    }
    const next = cloneTables(this.tables);
    const lines = script.split('\n').filter((l) => l.trim() !== '');
    for (const [i, line] of lines.entries()) {
      try {
        this.exec(next, line);
      } catch (err) {
        const msg = `Error: ${(err as Error).message}\n${line}\n(line ${i + 1})`;
        return Promise.reject(new NftApplyError(`nft refused the transaction (exit 1): ${(err as Error).message}`, msg));
      }
    }
    this.tables = next;
    return Promise.resolve();
  }

  list(): Promise<readonly ExistingTable[]> {
    const out: ExistingTable[] = [];
    for (const [id, t] of [...this.tables].sort(([a], [b]) => a.localeCompare(b))) {
      const [family = '', name = ''] = id.split(' ');
      if (family === TABLE_FAMILY && isProxyTable(name)) out.push({ name, chains: [...t.chains.keys()], sets: [...t.sets] });
    }
    return Promise.resolve(out);
  }

  async cleanup(): Promise<void> {
    const tables = (await this.list()).map((t) => t.name);
    await this.apply(cleanupScript(tables));
  }

  /** The proxy's tables present, in name order. */
  tableNames(): string[] {
    return [...this.tables.keys()].filter((id) => id.startsWith(`${TABLE_FAMILY} `) && isProxyTable(id.slice(TABLE_FAMILY.length + 1))).map((id) => id.slice(TABLE_FAMILY.length + 1)).sort();
  }

  /**
   * A canonical dump (sorted chains with their rules, map elements, sets): of one table when named,
   * else of every proxy table in name order, each under a `table NAME` line; undefined when absent.
   */
  dump(family?: string, name?: string): string | undefined {
    if (family !== undefined && name !== undefined) return this.dumpTable(family, name);
    const names = this.tableNames();
    if (names.length === 0) return undefined;
    return names.map((n) => `table ${n}\n${this.dumpTable(TABLE_FAMILY, n) ?? ''}`).join('');
  }

  private dumpTable(family: string, name: string): string | undefined {
    const t = this.tables.get(`${family} ${name}`);
    if (t === undefined) return undefined;
    const out: string[] = [];
    for (const [n, m] of [...t.maps].sort(([a], [b]) => a.localeCompare(b))) {
      out.push(`map ${n}`, ...[...m].map(([k, v]) => `  ${k} : ${v}`).sort());
    }
    for (const s of [...t.sets].sort()) out.push(`set ${s}`);
    for (const [n, c] of [...t.chains].sort(([a], [b]) => a.localeCompare(b))) out.push(`chain ${n}${c.hook}`, ...c.rules.map((r) => `  ${r}`));
    return `${out.join('\n')}\n`;
  }

  /** For tests: a table someone else owns. */
  seedTable(family: string, name: string, chains: readonly string[]): void {
    this.tables.set(`${family} ${name}`, { chains: new Map(chains.map((c) => [c, { hook: '', rules: [] }])), maps: new Map(), sets: new Set() });
  }

  private exec(tables: Map<string, FakeTable>, line: string): void {
    const m = COMMAND.exec(line.trim());
    if (m === null) throw new Error('syntax error');
    const [, verb, kind, family = '', table = '', name = '', rest = ''] = m;
    const id = `${family} ${table}`;
    if (kind === 'table') {
      if (verb === 'add') {
        if (!tables.has(id)) tables.set(id, { chains: new Map(), maps: new Map(), sets: new Set() });
      } else if (!tables.has(id)) throw new Error('No such file or directory');
      else if (verb === 'delete') tables.delete(id);
      else for (const c of tables.get(id)?.chains.values() ?? []) c.rules = [];
      return;
    }
    const t = tables.get(id);
    if (t === undefined) throw new Error('No such file or directory');
    const isReferenced = (what: string, refs: (text: string) => string[]): boolean =>
      [...t.chains.values()].some((c) => c.rules.some((r) => refs(r).includes(what))) ||
      [...t.maps.values()].some((mp) => [...mp.values()].some((v) => refs(v).includes(what)));
    switch (`${verb} ${kind}`) {
      case 'add chain':
        if (!t.chains.has(name)) t.chains.set(name, { hook: rest !== '' ? ` ${rest}` : '', rules: [] });
        return;
      case 'flush chain': {
        const c = t.chains.get(name);
        if (c === undefined) throw new Error('No such file or directory');
        c.rules = [];
        return;
      }
      case 'delete chain': {
        const c = t.chains.get(name);
        if (c === undefined) throw new Error('No such file or directory');
        if (c.rules.length > 0 || isReferenced(name, chainRefs)) throw new Error('Device or resource busy');
        t.chains.delete(name);
        return;
      }
      case 'add rule': {
        const c = t.chains.get(name);
        if (c === undefined) throw new Error('No such file or directory');
        for (const ref of chainRefs(rest)) if (!t.chains.has(ref)) throw new Error(`Could not process rule: No such file or directory (chain ${ref})`);
        for (const ref of setRefs(rest)) if (!t.sets.has(ref) && !t.maps.has(ref)) throw new Error(`Could not process rule: No such file or directory (set ${ref})`);
        c.rules.push(rest);
        return;
      }
      case 'add map':
        if (!t.maps.has(name)) t.maps.set(name, new Map());
        return;
      case 'flush map': {
        const mp = t.maps.get(name);
        if (mp === undefined) throw new Error('No such file or directory');
        mp.clear();
        return;
      }
      case 'add set':
        t.sets.add(name);
        return;
      case 'delete set':
        if (!t.sets.has(name)) throw new Error('No such file or directory');
        if (isReferenced(name, setRefs)) throw new Error('Device or resource busy');
        t.sets.delete(name);
        return;
      case 'add element': {
        const mp = t.maps.get(name);
        if (mp === undefined) throw new Error('No such file or directory');
        for (const item of braceItems(rest)) {
          const [k = '', v = ''] = item.split(' : ');
          for (const ref of chainRefs(v)) if (!t.chains.has(ref)) throw new Error(`Could not process rule: No such file or directory (chain ${ref})`);
          const old = mp.get(k);
          if (old !== undefined && old !== v) throw new Error('Could not process rule: File exists');
          mp.set(k, v);
        }
        return;
      }
      case 'delete element': {
        const mp = t.maps.get(name);
        if (mp === undefined) throw new Error('No such file or directory');
        for (const k of braceItems(rest)) {
          if (!mp.delete(k)) throw new Error('Could not process rule: No such file or directory');
        }
        return;
      }
      default:
        throw new Error('syntax error');
    }
  }
}
