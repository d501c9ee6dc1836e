/**
 * nft text for the IR: `renderTransaction` gives the `nft -f -` script (one command per line, every
 * object named in full, so a partial transaction needs no table block around it), `renderRuleset`
 * a canonical listing of a whole table for golden tests and for reading. Syntax is nft 1.0.6's: in an
 * `ip` table `dnat ip to A:P` after an l4proto match; `reject with icmp type port-unreachable`.
 */
import type { Action, Chain, ElementKey, Hook, MapElement, Match, NftCommand, NftTransaction, ProxyRuleset, Rule, ServicePortRules, Verdict, VerdictMapDecl } from './ir.js';
import { TABLE_FAMILY, TABLE_NAME, elementKeyId, serviceTableName } from './ir.js';

/** Elements per `add element` line: nft parses one huge line fine, but error messages quote it whole. */
const ELEMENTS_PER_LINE = 1000;

const hex = (n: number): string => `0x${n.toString(16)}`;

function renderMatch(m: Match): string {
  switch (m.kind) {
    case 'addr':
      return `ip ${m.field} ${m.ip}`;
    case 'cidr':
      return `ip ${m.field} ${m.negate ? '!= ' : ''}${m.cidr}`;
    case 'saddr-in-set':
      return `ip saddr @${m.set}`;
    case 'l4proto':
      return `meta l4proto ${m.proto}`;
    case 'fib-local':
      return `fib ${m.field} type local`;
    case 'ct-new':
      return 'ct state new';
    case 'mark-clear':
      return `meta mark & ${hex(m.bit)} == 0`;
    case 'numgen':
      return `numgen random mod ${m.mod} 0`;
    default:
      return assertNever(m);
  }
}

export function renderVerdict(v: Verdict): string {
  switch (v.kind) {
    case 'jump':
    case 'goto':
      return `${v.kind} ${v.chain}`;
    case 'return':
    case 'accept':
    case 'drop':
      return v.kind;
    default:
      return assertNever(v);
  }
}

const KEY_EXPR = { 'daddr.proto.dport': 'ip daddr . meta l4proto . th dport', 'proto.dport': 'meta l4proto . th dport' } as const;
const KEY_TYPE = { 'daddr.proto.dport': 'ipv4_addr . inet_proto . inet_service', 'proto.dport': 'inet_proto . inet_service' } as const;

function renderAction(a: Action): string {
  switch (a.kind) {
    case 'verdict':
      return renderVerdict(a.verdict);
    case 'vmap':
      return `${KEY_EXPR[a.key]} vmap @${a.map}`;
    case 'mark-or':
      return `meta mark set meta mark | ${hex(a.bit)}`;
    case 'mark-xor':
      return `meta mark set meta mark ^ ${hex(a.bit)}`;
    case 'masquerade':
      return 'masquerade fully-random';
    case 'dnat':
      return `dnat ip to ${a.ip}:${a.port}`;
    case 'reject':
      return a.with === 'tcp-reset' ? 'reject with tcp reset' : 'reject with icmp type port-unreachable';
    case 'update-saddr':
      return `update @${a.set} { ip saddr }`;
    default:
      return assertNever(a);
  }
}

export function renderRule(r: Rule): string {
  return [...r.match.map(renderMatch), renderAction(r.action)].join(' ');
}

function renderHook(h: Hook): string {
  return `type ${h.type} hook ${h.hook} priority ${h.priority} ; policy accept ;`;
}

function renderMapType(m: VerdictMapDecl): string {
  return `type ${KEY_TYPE[m.key]} : verdict ;`;
}

function renderElement(e: MapElement): string {
  return `${elementKeyId(e.key)} : ${renderVerdict(e.verdict)}`;
}

function chunks<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

function renderCommand(c: NftCommand, out: string[]): void {
  const T = `${TABLE_FAMILY} ${c.table}`;
  switch (c.op) {
    case 'add-table':
      out.push(`add table ${T}`);
      return;
    case 'flush-table':
      out.push(`flush table ${T}`);
      return;
    case 'delete-table':
      out.push(`delete table ${T}`);
      return;
    case 'add-chain':
      out.push(c.hook !== undefined ? `add chain ${T} ${c.name} { ${renderHook(c.hook)} }` : `add chain ${T} ${c.name}`);
      return;
    case 'flush-chain':
      out.push(`flush chain ${T} ${c.name}`);
      return;
    case 'delete-chain':
      out.push(`delete chain ${T} ${c.name}`);
      return;
    case 'add-rule':
      out.push(`add rule ${T} ${c.chain} ${renderRule(c.rule)}`);
      return;
    case 'add-map':
      out.push(`add map ${T} ${c.map.name} { ${renderMapType(c.map)} }`);
      return;
    case 'flush-map':
      out.push(`flush map ${T} ${c.name}`);
      return;
    case 'add-set':
      out.push(`add set ${T} ${c.set.name} { type ipv4_addr ; flags dynamic,timeout ; timeout ${c.set.timeoutSeconds}s ; }`);
      return;
    case 'delete-set':
      out.push(`delete set ${T} ${c.name}`);
      return;
    case 'add-elements':
      for (const part of chunks(c.elements, ELEMENTS_PER_LINE)) out.push(`add element ${T} ${c.map} { ${part.map(renderElement).join(', ')} }`);
      return;
    case 'delete-elements':
      for (const part of chunks(c.keys, ELEMENTS_PER_LINE)) out.push(`delete element ${T} ${c.map} { ${part.map((k: ElementKey) => elementKeyId(k)).join(', ')} }`);
      return;
    default:
      assertNever(c);
  }
}

/** The `nft -f -` script of a transaction; nft applies it all or nothing. */
export function renderTransaction(tx: Pick<NftTransaction, 'commands'>): string {
  const out: string[] = [];
  for (const c of tx.commands) renderCommand(c, out);
  return `${out.join('\n')}\n`;
}

function renderChainBlock(c: Chain, out: string[]): void {
  out.push(`\tchain ${c.name} {`);
  if (c.hook !== undefined) out.push(`\t\t${renderHook(c.hook)}`);
  for (const r of c.rules) out.push(`\t\t${renderRule(r)}`);
  out.push('\t}');
}

export interface ListingOptions {
  /**
   * Leave out the fixed part (maps' types, base and helper chains) and tables without a service
   * port's object: goldens then show only services.
   */
  readonly servicesOnly?: boolean;
}

const byKey = <T extends { readonly key: string }>(a: T, b: T): number => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

function renderTable(name: string, maps: readonly VerdictMapDecl[], fixed: readonly Chain[], services: readonly ServicePortRules[], elements: readonly MapElement[], opts: ListingOptions, out: string[]): void {
  const body: string[] = [];
  for (const m of maps) {
    const els = elements.filter((e) => e.map === m.name).map(renderElement).sort();
    if (opts.servicesOnly === true && els.length === 0) continue;
    body.push(`\tmap ${m.name} {`);
    if (opts.servicesOnly !== true) body.push(`\t\t${renderMapType(m)}`);
    if (els.length > 0) body.push(`\t\telements = { ${els.join(',\n\t\t\t')} }`);
    body.push('\t}');
  }
  for (const s of services) for (const set of s.sets) body.push(`\tset ${set.name} { timeout ${set.timeoutSeconds}s }`);
  if (opts.servicesOnly !== true) for (const c of fixed) renderChainBlock(c, body);
  for (const s of services) for (const c of s.chains) renderChainBlock(c, body);
  if (opts.servicesOnly === true && body.length === 0) return;
  out.push(`table ${TABLE_FAMILY} ${name} {`, ...body, '}');
}

/**
 * A canonical listing of every table: the main one, then each service table in number order; in a
 * table, maps with their elements sorted, affinity sets, base chains in a fixed order, then each
 * service port's chains in key order. Equal rulesets give equal text.
 */
export function renderRuleset(rs: ProxyRuleset, opts: ListingOptions = {}): string {
  const services = [...rs.services.values()].sort(byKey);
  const elements = services.flatMap((s) => s.elements);
  const out: string[] = [];
  renderTable(TABLE_NAME, rs.maps, rs.baseChains, [], elements.filter((e) => e.table === TABLE_NAME), opts, out);
  for (let i = 0; i < rs.serviceTables; i++) {
    const name = serviceTableName(i);
    const own = services.filter((s) => s.table === name);
    renderTable(name, rs.serviceTableMaps, rs.serviceTableChains, own, elements.filter((e) => e.table === name), opts, out);
  }
  return `${out.join('\n')}\n`;
}

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
