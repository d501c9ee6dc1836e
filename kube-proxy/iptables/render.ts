/**
 * iptables text for the IR. Rules are written exactly as `iptables-save` (1.8.9, nf_tables backend)
 * prints them back: header matches (-s, -d, -p) first, then the `-m` matches in order, `--or-mark`
 * as `--set-xmark B/B`, probabilities as the kernel rounds them. So a dump of our chains can be
 * compared with what we restored, line for line (ruleset.host.test.ts does).
 *
 * `normalizeIptables` makes restore input or iptables-save output canonical for golden tests and
 * comparisons: comments and counters dropped, tables and chains sorted, each chain's rules kept in
 * order under it.
 */
import type { Chain, Match, Rule, Table, Target } from './ir.js';

const hex = (n: number): string => `0x${n.toString(16)}`;

/** What iptables-save prints for `--probability 1/mod` (the kernel keeps it as a 31-bit fraction). */
export function probabilityText(mod: number): string {
  return (Math.round(2 ** 31 / mod) / 2 ** 31).toFixed(11);
}

/** iptables-save quotes a comment only when it needs to. */
function quote(text: string): string {
  return /^[\w./:@+,=-]+$/.test(text) ? text : `"${text.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

const withLength = (cidr: string): string => (cidr.includes('/') ? cidr : `${cidr}/32`);

/** A match as argv words; `quoteText` formats the comment (quoted for restore text, raw for argv). */
function matchWords(m: Match, quoteText: (s: string) => string): string[] {
  switch (m.kind) {
    case 'src':
      return [...(m.negate ? ['!'] : []), '-s', withLength(m.cidr)];
    case 'dst':
      return [...(m.negate ? ['!'] : []), '-d', withLength(m.cidr)];
    case 'proto':
      return ['-p', m.proto];
    case 'comment':
      return ['-m', 'comment', '--comment', quoteText(m.text)];
    case 'dport':
      return ['-m', m.proto, '--dport', String(m.port)];
    case 'addrtype-local':
      return ['-m', 'addrtype', `--${m.field}-type`, 'LOCAL'];
    case 'ctstate-new':
      return ['-m', 'conntrack', '--ctstate', 'NEW'];
    case 'mark-clear':
      return ['-m', 'mark', '!', '--mark', `${hex(m.bit)}/${hex(m.bit)}`];
    case 'statistic':
      return ['-m', 'statistic', '--mode', 'random', '--probability', probabilityText(m.mod)];
    case 'recent-check':
      return ['-m', 'recent', '--rcheck', '--seconds', String(m.seconds), '--reap', '--name', m.name, '--mask', '255.255.255.255', '--rsource'];
    case 'recent-set':
      return ['-m', 'recent', '--set', '--name', m.name, '--mask', '255.255.255.255', '--rsource'];
    default:
      return assertNever(m);
  }
}

function renderTarget(t: Target): string {
  switch (t.kind) {
    case 'jump':
      return `-j ${t.chain}`;
    case 'return':
      return '-j RETURN';
    case 'accept':
      return '-j ACCEPT';
    case 'drop':
      return '-j DROP';
    case 'mark-or':
      return `-j MARK --set-xmark ${hex(t.bit)}/${hex(t.bit)}`;
    case 'mark-xor':
      return `-j MARK --set-xmark ${hex(t.bit)}/0x0`;
    case 'masquerade':
      return '-j MASQUERADE --random-fully';
    case 'dnat':
      return `-j DNAT --to-destination ${t.ip}:${t.port}`;
    case 'reject':
      return `-j REJECT --reject-with ${t.with}`;
    default:
      return assertNever(t);
  }
}

const HEADER_ORDER: Readonly<Record<string, number>> = { src: 0, dst: 1, proto: 2 };

/** Header matches first, as iptables-save prints them; the rest in the rule's order. */
function ordered(r: Rule): Match[] {
  const header = r.match.filter((m) => m.kind in HEADER_ORDER).sort((a, b) => (HEADER_ORDER[a.kind] ?? 0) - (HEADER_ORDER[b.kind] ?? 0));
  return [...header, ...r.match.filter((m) => !(m.kind in HEADER_ORDER))];
}

/**
 * The rule's arguments after `-A CHAIN`, as restore input and iptables-save have them. This is the
 * hot path of a full sync (~60,000 rules at 10,000 Services), so it concatenates strings directly:
 * building word arrays per match doubled the build time, most of it in the garbage collector.
 */
export function renderRuleSpec(r: Rule): string {
  let src = '';
  let dst = '';
  let proto = '';
  let rest = '';
  for (const m of r.match) {
    if (m.kind === 'src') src = `${m.negate ? '! ' : ''}-s ${withLength(m.cidr)} `;
    else if (m.kind === 'dst') dst = `${m.negate ? '! ' : ''}-d ${withLength(m.cidr)} `;
    else if (m.kind === 'proto') proto = `-p ${m.proto} `;
    else rest += `${renderMatch(m)} `;
  }
  return src + dst + proto + rest + renderTarget(r.target);
}

function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'comment':
      return `-m comment --comment ${quote(m.text)}`;
    case 'dport':
      return `-m ${m.proto} --dport ${m.port}`;
    case 'statistic':
      return `-m statistic --mode random --probability ${probabilityText(m.mod)}`;
    default:
      return matchWords(m, quote).join(' ');
  }
}

/** The same as argv words, for `iptables -C/-I/-D CHAIN ...` (a comment is one word, unquoted). */
export function ruleArgv(r: Rule): string[] {
  return [...ordered(r).flatMap((m) => matchWords(m, (s) => s)), ...renderTarget(r.target).split(' ')];
}

export function renderRule(chain: string, r: Rule): string {
  return `-A ${chain} ${renderRuleSpec(r)}`;
}

/** One table's part of an `iptables-restore --noflush` input. */
export interface TableEdit {
  /** Chains declared (`:NAME - [0:0]`): created, or flushed when they exist. */
  readonly declare: readonly string[];
  /** Rules appended after the declarations, in order. */
  readonly rules: readonly string[];
  /** Chains deleted (`-X`) at the end; each must be declared above (so it is empty). */
  readonly remove: readonly string[];
}

export function renderTableEdit(table: Table, e: TableEdit): string {
  if (e.declare.length === 0 && e.rules.length === 0 && e.remove.length === 0) return '';
  let out = `*${table}\n`;
  for (const c of e.declare) out += `:${c} - [0:0]\n`;
  if (e.rules.length > 0) out += `${e.rules.join('\n')}\n`;
  for (const c of e.remove) out += `-X ${c}\n`;
  return `${out}COMMIT\n`;
}

/** Appends every rule of `chains` to `out` as `-A` lines. */
export function renderChainRules(chains: readonly Chain[], out: string[]): void {
  for (const c of chains) for (const r of c.rules) out.push(renderRule(c.name, r));
}

export interface NormalizeOptions {
  /** Keep only chains whose name starts with this (and their rules); built-in chains are dropped. */
  readonly prefix?: string;
  /** Keep comments (default: dropped, since they are only for people). */
  readonly comments?: boolean;
  /** Chains whose rules are compared as a set (sorted): a partial sync edits dispatch chains in place. */
  readonly sortRulesOf?: readonly string[];
}

/**
 * Canonical text of restore input or iptables-save output: per table (sorted), each chain (sorted)
 * as `:NAME` followed by its rules in order, then `-X` lines (sorted). Counters and `#` lines are
 * dropped; a chain declared twice or rules split across the input are merged in input order.
 */
export function normalizeIptables(text: string, opts: NormalizeOptions = {}): string {
  const tables = new Map<string, { chains: Map<string, string[]>; removed: Set<string> }>();
  let current: { chains: Map<string, string[]>; removed: Set<string> } | undefined;
  const keep = (chain: string): boolean => opts.prefix === undefined || chain.startsWith(opts.prefix);
  const ensure = (chain: string): string[] => {
    const t = current;
    if (t === undefined) throw new Error(`normalizeIptables: chain ${chain} outside a table`);
    const rules = t.chains.get(chain) ?? [];
    t.chains.set(chain, rules);
    return rules;
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line === 'COMMIT') continue;
    if (line.startsWith('*')) {
      const name = line.slice(1);
      current = tables.get(name) ?? { chains: new Map(), removed: new Set() };
      tables.set(name, current);
      continue;
    }
    if (line.startsWith(':')) {
      const name = line.slice(1).split(' ')[0] ?? '';
      if (keep(name)) ensure(name);
      continue;
    }
    const [verb = '', chain = '', ...rest] = line.split(' ');
    if (!keep(chain)) continue;
    if (verb === '-X') current?.removed.add(chain);
    else if (verb === '-A') ensure(chain).push(opts.comments === true ? rest.join(' ') : stripComment(rest.join(' ')));
    else throw new Error(`normalizeIptables: cannot normalize ${line}`);
  }
  const out: string[] = [];
  for (const [name, t] of [...tables].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    out.push(`*${name}`);
    for (const [chain, rules] of [...t.chains].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (t.removed.has(chain) && rules.length === 0) continue;
      const listed = opts.sortRulesOf?.includes(chain) === true ? [...rules].sort() : rules;
      out.push(`:${chain}`, ...listed.map((r) => `  ${r}`));
    }
    for (const chain of [...t.removed].sort()) out.push(`-X ${chain}`);
  }
  return `${out.join('\n')}\n`;
}

function stripComment(spec: string): string {
  return spec.replace(/ ?-m comment --comment (?:"(?:[^"\\]|\\.)*"|\S+)/g, '').trim();
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
