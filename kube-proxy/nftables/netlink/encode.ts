/**
 * The nf_tables netlink batch for a PARTIAL sync, written directly instead of through `nft -f`.
 *
 * Why: nft 1.0.6 dumps every chain of the table into its cache before it sends any `add rule` or
 * `add element` (~7 µs of CPU per chain, ~0.2-0.4 s with 10,000 Services), but the kernel resolves
 * chain and set names itself, so a batch we encode needs no cache and costs what the change costs.
 *
 * What: `encodeBatch(commands, seq)` gives NFNL_MSG_BATCH_BEGIN, one message per command (element
 * lists split into chunks), NFNL_MSG_BATCH_END; every message asks for an ACK so an error names its
 * command. The bytes are those nft sends for the same text (same attributes, same order; checked
 * against `strace` of nft in encode.test.ts's goldens), except the ACK flag and sequence numbers.
 * Only what a partial sync emits is covered: regular chains (no hooks), rules built from ir.ts's
 * matches and actions except `vmap` (base chains only), affinity sets, verdict-map elements.
 * `netlinkSupports` says whether a command list is covered; anything else goes through `nft -f`.
 *
 * Expressions, as `nft --debug=netlink` shows them for each IR item:
 *   addr          payload load 4b @ network + 12|16 => r1; cmp eq r1 ADDR
 *   cidr /8,16,24 payload load N/8 bytes; cmp [n]eq prefix bytes
 *   cidr other    payload load 4b; bitwise r1 = (r1 & MASK) ^ 0; cmp [n]eq masked
 *   saddr-in-set  payload saddr => r1; lookup r1 set S
 *   l4proto       meta load l4proto => r1; cmp eq r1 P (1 byte)
 *   fib-local     fib saddr|daddr type => r1; cmp eq r1 RTN_LOCAL
 *   ct-new        ct load state => r1; bitwise & 8; cmp neq 0
 *   mark-clear    meta load mark => r1; bitwise & BIT; cmp eq 0
 *   numgen        numgen r1 = random mod N; cmp eq r1 0
 *   dnat          immediate r1 IP; immediate r2 PORT; nat dnat ip addr_min r1 proto_min r2 flags 0x2
 *   update-saddr  payload saddr => r1; dynset update reg_key 1 set S
 * Host-order values (mark, ct state, fib result, numgen) are little-endian bytes, as nft writes them.
 */
import type { Action, ElementKey, L4Proto, Match, NftCommand, Rule, Verdict } from '../ir.js';
import { attr, be32, be64, ipv4Bytes, message, nest, parseCidr, str, u32LE } from './attrs.js';
import * as K from './constants.js';

/** Elements per NEWSETELEM/DELSETELEM message: the element list is one attribute (u16 length). */
export const ELEMENTS_PER_MESSAGE = 200;
/**
 * Messages per batch for the netlink path: every message is ACKed, and the kernel queues all ACKs at
 * once after the batch; past a few hundred they would overflow the socket's receive buffer (the
 * kernel caps it at 2 x net.core.rmem_max), so a larger change goes through nft -f, whose cache
 * cost is then small next to the change itself.
 */
export const MAX_BATCH_MESSAGES = 400;

export interface EncodedBatch {
  readonly buffer: Buffer;
  /** Sequence number of each command message, with the index of the command it came from. */
  readonly messages: readonly { readonly seq: number; readonly command: number }[];
  readonly beginSeq: number;
  readonly endSeq: number;
}

/** Sets added earlier in the batch, by table and name (a rule refers to a new set by its id); the command's table. */
type Ctx = { readonly setIds: Map<string, number>; table: string };
const setKey = (table: string, set: string): string => `${table}\u0000${set}`;

const msgType = (m: number): number => (K.NFNL_SUBSYS_NFTABLES << 8) | m;
const value = (type: number, bytes: Buffer): Buffer => nest(type, [attr(K.DATA.VALUE, bytes)]);
const expr = (name: string, attrs: readonly Buffer[]): Buffer => nest(K.LIST_ELEM, [str(K.EXPR.NAME, name), nest(K.EXPR.DATA, attrs)]);

const payload = (offset: number, len: number): Buffer =>
  expr('payload', [be32(K.PAYLOAD.DREG, K.REG_1), be32(K.PAYLOAD.BASE, K.PAYLOAD_NETWORK_HEADER), be32(K.PAYLOAD.OFFSET, offset), be32(K.PAYLOAD.LEN, len)]);
const cmp = (op: number, bytes: Buffer): Buffer => expr('cmp', [be32(K.CMP.SREG, K.REG_1), be32(K.CMP.OP, op), value(K.CMP.DATA, bytes)]);
/**
 * nft states the operation (NFT_BITWISE_BOOL) only for an explicit `&`/`|`/`^` (mark rules), not for
 * a prefix or a flag test (`ct state new`); the kernel defaults to the same operation.
 */
const bitwise = (mask: Buffer, xor: Buffer, withOp = false): Buffer =>
  expr('bitwise', [
    be32(K.BITWISE.SREG, K.REG_1),
    be32(K.BITWISE.DREG, K.REG_1),
    ...(withOp ? [be32(K.BITWISE.OP, K.BITWISE_BOOL)] : []),
    be32(K.BITWISE.LEN, mask.length),
    value(K.BITWISE.MASK, mask),
    value(K.BITWISE.XOR, xor),
  ]);
const metaLoad = (key: number): Buffer => expr('meta', [be32(K.META.KEY, key), be32(K.META.DREG, K.REG_1)]);
const addrOffset = (field: 'saddr' | 'daddr'): number => (field === 'saddr' ? 12 : 16);

function ip4(ip: string): Buffer {
  const b = ipv4Bytes(ip);
  if (b === undefined) throw new Error(`not an IPv4 address: ${ip}`);
  return b;
}

function setRef(ctx: Ctx, nameAttr: number, idAttr: number, set: string): Buffer[] {
  const id = ctx.setIds.get(setKey(ctx.table, set));
  return id !== undefined ? [str(nameAttr, set), be32(idAttr, id)] : [str(nameAttr, set)];
}

function encodeMatch(m: Match, ctx: Ctx): Buffer[] {
  switch (m.kind) {
    case 'addr':
      return [payload(addrOffset(m.field), 4), cmp(K.CMP_EQ, ip4(m.ip))];
    case 'cidr': {
      const c = parseCidr(m.cidr);
      if (c === undefined || c.prefix === 0) throw new Error(`unsupported CIDR ${m.cidr}`);
      const op = m.negate ? K.CMP_NEQ : K.CMP_EQ;
      if (c.prefix % 8 === 0) return [payload(addrOffset(m.field), c.prefix / 8), cmp(op, c.bytes.subarray(0, c.prefix / 8))];
      const mask = Buffer.alloc(4);
      mask.writeUInt32BE((0xffffffff << (32 - c.prefix)) >>> 0);
      const masked = Buffer.from(c.bytes.map((b, i) => b & (mask[i] ?? 0)));
      return [payload(addrOffset(m.field), 4), bitwise(mask, Buffer.alloc(4)), cmp(op, masked)];
    }
    case 'saddr-in-set':
      return [payload(12, 4), expr('lookup', [be32(K.LOOKUP.SREG, K.REG_1), ...setRef(ctx, K.LOOKUP.SET, K.LOOKUP.SET_ID, m.set)])];
    case 'l4proto':
      return [metaLoad(K.META_L4PROTO), cmp(K.CMP_EQ, Buffer.from([K.L4_PROTO_NUMBER[m.proto]]))];
    case 'fib-local':
      return [
        expr('fib', [be32(K.FIB.FLAGS, m.field === 'saddr' ? K.FIB_F_SADDR : K.FIB_F_DADDR), be32(K.FIB.RESULT, K.FIB_RESULT_ADDRTYPE), be32(K.FIB.DREG, K.REG_1)]),
        cmp(K.CMP_EQ, u32LE(K.RTN_LOCAL)),
      ];
    case 'ct-new':
      return [expr('ct', [be32(K.CT.KEY, K.CT_STATE), be32(K.CT.DREG, K.REG_1)]), bitwise(u32LE(K.CT_STATE_NEW), u32LE(0)), cmp(K.CMP_NEQ, u32LE(0))];
    case 'mark-clear':
      return [metaLoad(K.META_MARK), bitwise(u32LE(m.bit), u32LE(0), true), cmp(K.CMP_EQ, u32LE(0))];
    case 'numgen':
      return [expr('numgen', [be32(K.NG.DREG, K.REG_1), be32(K.NG.MODULUS, m.mod), be32(K.NG.TYPE, K.NG_RANDOM), be32(K.NG.OFFSET, 0)]), cmp(K.CMP_EQ, u32LE(0))];
    default:
      return assertNever(m);
  }
}

function verdictData(v: Verdict): Buffer {
  const code = be32(K.VERDICT.CODE, K.VERDICT_CODE[v.kind]);
  return nest(K.DATA.VERDICT, v.kind === 'jump' || v.kind === 'goto' ? [code, str(K.VERDICT.CHAIN, v.chain)] : [code]);
}

function immediate(reg: number, data: Buffer): Buffer {
  return expr('immediate', [be32(K.IMMEDIATE.DREG, reg), nest(K.IMMEDIATE.DATA, [data])]);
}

function markSet(mask: number, xor: number): Buffer[] {
  return [metaLoad(K.META_MARK), bitwise(u32LE(mask), u32LE(xor), true), expr('meta', [be32(K.META.KEY, K.META_MARK), be32(K.META.SREG, K.REG_1)])];
}

function encodeAction(a: Action, ctx: Ctx): Buffer[] {
  switch (a.kind) {
    case 'verdict':
      return [immediate(K.REG_VERDICT, verdictData(a.verdict))];
    case 'vmap':
      throw new Error('vmap rules are not encoded (base chains only: full syncs use nft -f)');
    case 'mark-or':
      return markSet(~a.bit >>> 0, a.bit);
    case 'mark-xor':
      return markSet(0xffffffff, a.bit);
    case 'masquerade':
      return [expr('masq', [be32(K.MASQ.FLAGS, K.NAT_RANGE_PROTO_RANDOM_FULLY)])];
    case 'dnat': {
      const port = Buffer.alloc(2);
      port.writeUInt16BE(a.port);
      return [
        immediate(K.REG_1, attr(K.DATA.VALUE, ip4(a.ip))),
        immediate(K.REG_2, attr(K.DATA.VALUE, port)),
        expr('nat', [
          be32(K.NAT.TYPE, K.NAT_DNAT),
          be32(K.NAT.FAMILY, K.NFPROTO_IPV4),
          be32(K.NAT.REG_ADDR_MIN, K.REG_1),
          be32(K.NAT.REG_PROTO_MIN, K.REG_2),
          be32(K.NAT.FLAGS, K.NAT_RANGE_PROTO_SPECIFIED),
        ]),
      ];
    }
    case 'reject':
      return [
        expr(
          'reject',
          a.with === 'tcp-reset'
            ? [be32(K.REJECT.TYPE, K.REJECT_TCP_RST), attr(K.REJECT.ICMP_CODE, Buffer.from([0]))]
            : [be32(K.REJECT.TYPE, K.REJECT_ICMP_UNREACH), attr(K.REJECT.ICMP_CODE, Buffer.from([K.ICMP_PORT_UNREACH]))],
        ),
      ];
    case 'update-saddr':
      return [payload(12, 4), expr('dynset', [be32(K.DYNSET.SREG_KEY, K.REG_1), be32(K.DYNSET.OP, K.DYNSET_OP_UPDATE), ...setRef(ctx, K.DYNSET.SET_NAME, K.DYNSET.SET_ID, a.set)])];
    default:
      return assertNever(a);
  }
}

function encodeRule(rule: Rule, ctx: Ctx): Buffer {
  const exprs = [...rule.match.flatMap((m) => encodeMatch(m, ctx)), ...encodeAction(rule.action, ctx)];
  return nest(K.RULE.EXPRESSIONS, exprs);
}

/** A concatenated map key: each field padded to 4 bytes (nft's register-sized concatenation). */
function keyBytes(k: ElementKey): Buffer {
  const proto = Buffer.from([K.L4_PROTO_NUMBER[k.proto], 0, 0, 0]);
  const port = Buffer.alloc(4);
  port.writeUInt16BE(k.port);
  return Buffer.concat(k.ip !== undefined ? [ip4(k.ip), proto, port] : [proto, port]);
}

function chunks<T>(items: readonly T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += n) out.push(items.slice(i, i + n));
  return out;
}

/** The command's message(s) without header: [type, flags, attrs][]. */
function commandMessages(c: NftCommand, ctx: Ctx): [number, number, Buffer[]][] {
  ctx.table = c.table;
  const tableAttr = (type: number): Buffer => str(type, c.table);
  switch (c.op) {
    case 'add-table':
      return [[K.MSG.NEWTABLE, 0, [tableAttr(K.TABLE.NAME), be32(K.TABLE.FLAGS, 0)]]];
    case 'add-chain':
      if (c.hook !== undefined) throw new Error('base chains are not encoded (full syncs use nft -f)');
      return [[K.MSG.NEWCHAIN, K.NLM_F_CREATE, [tableAttr(K.CHAIN.TABLE), str(K.CHAIN.NAME, c.name)]]];
    case 'flush-chain':
      return [[K.MSG.DELRULE, 0, [tableAttr(K.RULE.TABLE), str(K.RULE.CHAIN, c.name)]]];
    case 'delete-chain':
      return [[K.MSG.DELCHAIN, 0, [tableAttr(K.CHAIN.TABLE), str(K.CHAIN.NAME, c.name)]]];
    case 'add-rule':
      return [[K.MSG.NEWRULE, K.NLM_F_CREATE | K.NLM_F_APPEND, [tableAttr(K.RULE.TABLE), str(K.RULE.CHAIN, c.chain), encodeRule(c.rule, ctx)]]];
    case 'add-set': {
      const id = ctx.setIds.size + 1;
      ctx.setIds.set(setKey(c.table, c.set.name), id);
      const udata = Buffer.concat([Buffer.from([K.UDATA_SET_KEYBYTEORDER, 4]), u32LE(K.BYTEORDER_BIG_ENDIAN)]);
      return [
        [
          K.MSG.NEWSET,
          K.NLM_F_CREATE,
          [
            tableAttr(K.SET.TABLE),
            str(K.SET.NAME, c.set.name),
            be32(K.SET.FLAGS, K.SET_F_TIMEOUT | K.SET_F_EVAL),
            be32(K.SET.KEY_TYPE, K.NFT_TYPE_IPV4_ADDR),
            be32(K.SET.KEY_LEN, 4),
            be32(K.SET.ID, id),
            be64(K.SET.TIMEOUT, BigInt(c.set.timeoutSeconds) * 1000n),
            attr(K.SET.USERDATA, udata),
          ],
        ],
      ];
    }
    case 'delete-set':
      return [[K.MSG.DELSET, 0, [tableAttr(K.SET.TABLE), str(K.SET.NAME, c.name)]]];
    case 'add-elements':
      return chunks(c.elements, ELEMENTS_PER_MESSAGE).map((part): [number, number, Buffer[]] => [
        K.MSG.NEWSETELEM,
        K.NLM_F_CREATE,
        [
          tableAttr(K.SET_ELEM_LIST.TABLE),
          str(K.SET_ELEM_LIST.SET, c.map),
          nest(
            K.SET_ELEM_LIST.ELEMENTS,
            part.map((e, i) => nest(i + 1, [value(K.SET_ELEM.KEY, keyBytes(e.key)), nest(K.SET_ELEM.DATA, [verdictData(e.verdict)])])),
          ),
        ],
      ]);
    case 'delete-elements':
      return chunks(c.keys, ELEMENTS_PER_MESSAGE).map((part): [number, number, Buffer[]] => [
        K.MSG.DELSETELEM,
        0,
        [tableAttr(K.SET_ELEM_LIST.TABLE), str(K.SET_ELEM_LIST.SET, c.map), nest(K.SET_ELEM_LIST.ELEMENTS, part.map((k, i) => nest(i + 1, [value(K.SET_ELEM.KEY, keyBytes(k))])))],
      ]);
    case 'flush-table':
    case 'delete-table':
    case 'add-map':
    case 'flush-map':
      throw new Error(`${c.op} is not encoded (full syncs use nft -f)`);
    default:
      return assertNever(c);
  }
}

/** The batch with the sequence number of each command's message(s); `seq` is the BATCH_BEGIN's. */
export function encodeBatchIndexed(commands: readonly NftCommand[], seq: number): EncodedBatch {
  const ctx: Ctx = { setIds: new Map(), table: '' };
  const parts: Buffer[] = [message(K.NFNL_MSG_BATCH_BEGIN, K.NLM_F_REQUEST | K.NLM_F_ACK, seq, 0, K.NFNL_SUBSYS_NFTABLES, [])];
  const messages: { seq: number; command: number }[] = [];
  let next = seq + 1;
  commands.forEach((c, i) => {
    for (const [type, flags, attrs] of commandMessages(c, ctx)) {
      messages.push({ seq: next, command: i });
      parts.push(message(msgType(type), K.NLM_F_REQUEST | K.NLM_F_ACK | flags, next, K.NFPROTO_IPV4, 0, attrs));
      next++;
    }
  });
  parts.push(message(K.NFNL_MSG_BATCH_END, K.NLM_F_REQUEST | K.NLM_F_ACK, next, 0, K.NFNL_SUBSYS_NFTABLES, []));
  return { buffer: Buffer.concat(parts), messages, beginSeq: seq, endSeq: next };
}

/** NFNL_MSG_BATCH_BEGIN, the commands' messages, NFNL_MSG_BATCH_END, sequence numbers from `seq`. */
export function encodeBatch(commands: readonly NftCommand[], seq: number): Buffer {
  return encodeBatchIndexed(commands, seq).buffer;
}

function matchSupported(m: Match): boolean {
  switch (m.kind) {
    case 'addr':
      return ipv4Bytes(m.ip) !== undefined;
    case 'cidr': {
      const c = parseCidr(m.cidr);
      return c !== undefined && c.prefix > 0;
    }
    default:
      return true;
  }
}

function actionSupported(a: Action): boolean {
  if (a.kind === 'vmap') return false;
  if (a.kind === 'dnat') return ipv4Bytes(a.ip) !== undefined && Number.isInteger(a.port) && a.port > 0 && a.port < 65536;
  return true;
}

const keySupported = (k: ElementKey): boolean =>
  (k.ip === undefined || ipv4Bytes(k.ip) !== undefined) && Number.isInteger(k.port) && k.port >= 0 && k.port < 65536 && (k.proto as L4Proto) in K.L4_PROTO_NUMBER;

function messageCount(c: NftCommand): number {
  if (c.op === 'add-elements') return Math.ceil(c.elements.length / ELEMENTS_PER_MESSAGE);
  if (c.op === 'delete-elements') return Math.ceil(c.keys.length / ELEMENTS_PER_MESSAGE);
  return 1;
}

/** Whether every command is one this encoder writes (else the caller applies them with nft -f). */
export function netlinkSupports(commands: readonly NftCommand[]): boolean {
  let messages = 2;
  for (const c of commands) {
    messages += messageCount(c);
    if (messages > MAX_BATCH_MESSAGES) return false;
    switch (c.op) {
      case 'add-table':
      case 'flush-chain':
      case 'delete-chain':
      case 'delete-set':
        continue;
      case 'add-chain':
        if (c.hook !== undefined) return false;
        continue;
      case 'add-rule':
        if (!c.rule.match.every(matchSupported) || !actionSupported(c.rule.action)) return false;
        continue;
      case 'add-set':
        if (!Number.isInteger(c.set.timeoutSeconds) || c.set.timeoutSeconds <= 0) return false;
        continue;
      case 'add-elements':
        if (!c.elements.every((e) => keySupported(e.key))) return false;
        continue;
      case 'delete-elements':
        if (!c.keys.every(keySupported)) return false;
        continue;
      default:
        return false;
    }
  }
  // the whole batch is one datagram: past the socket's send buffer (SO_SNDBUF is capped at twice
  // net.core.wmem_max, ~416 KiB on Debian) it would fail with EMSGSIZE, so big ones go to nft -f
  return encodeBatchIndexed(commands, 0).buffer.length <= MAX_BATCH_BYTES;
}

/** The largest batch sent over netlink (well under the smallest send buffer the socket gets). */
export const MAX_BATCH_BYTES = 192 * 1024;

function assertNever(x: never): never {
  throw new Error(`unexpected ${JSON.stringify(x)}`);
}
