/**
 * The encoder against the bytes nft 1.0.6 itself sends. GOLDEN holds nft's messages for one partial
 * transaction, captured once with `strace -e trace=sendmsg -e write=3 nft -f` inside a throwaway
 * namespace (sequence numbers zeroed). Ours differ only where noted: NLM_F_ACK on every message, and
 * no NFTA_SET_ELEM_LIST_SET_ID on element messages (nft numbers the sets of its cache; the kernel
 * looks a set up by name first).
 */
import { describe, expect, it } from 'vitest';
import type { NftCommand } from '../ir.js';
import { TABLE_NAME } from '../ir.js';
import { buildRuleset } from '../ruleset.js';
import { OPTS } from '../../testing/fixtures.js';
import { RICH_STEPS, richState } from '../../testing/rich-state.js';
import { NLM_F_ACK } from './constants.js';
import { ELEMENTS_PER_MESSAGE, MAX_BATCH_BYTES, MAX_BATCH_MESSAGES, encodeBatch, encodeBatchIndexed, netlinkSupports } from './encode.js';
import { parseAnswers } from './socket.js';

const GOLDEN: readonly (readonly [string, NftCommand, string])[] = [
  [
    "add table",
    {"table": "knode-proxy", "op": "add-table"},
    '2c000000000a0100000000000000000002000000100001006b6e6f64652d70726f7879000800020000000000',
  ],
  [
    "add chain",
    {"table": "knode-proxy", "op": "add-chain", "name": "web"},
    '2c000000030a0104000000000000000002000000100001006b6e6f64652d70726f7879000800030077656200',
  ],
  [
    "flush chain (DELRULE)",
    {"table": "knode-proxy", "op": "flush-chain", "name": "web"},
    '2c000000080a0100000000000000000002000000100001006b6e6f64652d70726f7879000800020077656200',
  ],
  [
    "add set (affinity, with NFTA_SET_ID)",
    {"table": "knode-proxy", "op": "add-set", "set": {"name": "aff", "timeoutSeconds": 10800}},
    '64000000090a0104000000000000000002000000100001006b6e6f64652d70726f787900080002006166660008000300000000300800040000000007' +
      '080005000000000408000a00000000010c000b000000000000a4cb800a000d000004020000000000',
  ],
  [
    "rule: ip saddr @set goto (lookup with SET_ID)",
    {"table": "knode-proxy", "op": "add-rule", "chain": "web", "rule": {"match": [{"kind": "saddr-in-set", "set": "aff"}], "action": {"kind": "verdict", "verdict": {"kind": "goto", "chain": "target"}}}},
    'cc000000060a010c000000000000000002000000100001006b6e6f64652d70726f7879000800020077656200a0000480340001800c0001007061796c' +
      '6f6164002400028008000100000000010800020000000001080003000000000c08000400000000042c0001800b0001006c6f6f6b757000001c000280' +
      '0800020000000001080001006166660008000400000000013c0001800e000100696d6d6564696174650000002800028008000100000000001c000280' +
      '1800028008000100fffffffc0b0002007461726765740000',
  ],
  [
    "rule: ip daddr A ip saddr != CIDR jump",
    {"table": "knode-proxy", "op": "add-rule", "chain": "web", "rule": {"match": [{"kind": "addr", "field": "daddr", "ip": "10.96.0.10"}, {"kind": "cidr", "field": "saddr", "cidr": "10.244.0.0/16", "negate": true}], "action": {"kind": "verdict", "verdict": {"kind": "jump", "chain": "target"}}}},
    '2c010000060a010c000000000000000002000000100001006b6e6f64652d70726f787900080002007765620000010480340001800c0001007061796c' +
      '6f6164002400028008000100000000010800020000000001080003000000001008000400000000042c00018008000100636d70002000028008000100' +
      '0000000108000200000000000c000380080001000a60000a340001800c0001007061796c6f6164002400028008000100000000010800020000000001' +
      '080003000000000c08000400000000022c00018008000100636d700020000280080001000000000108000200000000010c000380060001000af40000' +
      '3c0001800e000100696d6d6564696174650000002800028008000100000000001c0002801800028008000100fffffffd0b0002007461726765740000',
  ],
  [
    "rule: numgen random mod 2 0 update @set { ip saddr }",
    {"table": "knode-proxy", "op": "add-rule", "chain": "web", "rule": {"match": [{"kind": "numgen", "mod": 2}], "action": {"kind": "update-saddr", "set": "aff"}}},
    'f8000000060a010c000000000000000002000000100001006b6e6f64652d70726f7879000800020077656200cc000480340001800b0001006e756d67' +
      '656e00002400028008000100000000010800020000000002080003000000000108000400000000002c00018008000100636d70002000028008000100' +
      '0000000108000200000000000c0003800800010000000000340001800c0001007061796c6f6164002400028008000100000000010800020000000001' +
      '080003000000000c0800040000000004340001800b00010064796e736574000024000280080004000000000108000300000000010800010061666600' +
      '0800020000000001',
  ],
  [
    "rule: meta l4proto tcp dnat ip to A:P",
    {"table": "knode-proxy", "op": "add-rule", "chain": "web", "rule": {"match": [{"kind": "l4proto", "proto": "tcp"}], "action": {"kind": "dnat", "ip": "10.244.1.5", "port": 8080}}},
    '10010000060a010c000000000000000002000000100001006b6e6f64652d70726f7879000800020077656200e400048024000180090001006d657461' +
      '0000000014000280080002000000001008000100000000012c00018008000100636d700020000280080001000000000108000200000000000c000380' +
      '05000100060000002c0001800e000100696d6d6564696174650000001800028008000100000000010c000280080001000af401052c0001800e000100' +
      '696d6d6564696174650000001800028008000100000000020c000280060001001f90000038000180080001006e6174002c0002800800010000000001' +
      '0800020000000002080003000000000108000500000000020800070000000002',
  ],
  [
    "delete element (concatenated key)",
    {"table": "knode-proxy", "op": "delete-elements", "map": "service-ips", "keys": [{"ip": "10.96.0.99", "proto": "tcp", "port": 80}]},
    '500000000e0a0100000000000000000002000000100001006b6e6f64652d70726f78790010000200736572766963652d697073001c00038018000180' +
      '14000180100001000a6000630600000000500000',
  ],
  [
    "add element (concatenated key : goto)",
    {"table": "knode-proxy", "op": "add-elements", "map": "service-ips", "elements": [{"table": "knode-proxy", "map": "service-ips", "key": {"ip": "10.96.0.10", "proto": "tcp", "port": 80}, "verdict": {"kind": "goto", "chain": "web"}}]},
    '700000000c0a0104000000000000000002000000100001006b6e6f64652d70726f78790010000200736572766963652d697073000800040000000003' +
      '340003803000018014000180100001000a60000a0600000000500000180002801400028008000100fffffffc0800020077656200',
  ],
  [
    "delete set",
    {"table": "knode-proxy", "op": "delete-set", "name": "old-set"},
    '300000000b0a0100000000000000000002000000100001006b6e6f64652d70726f7879000c0002006f6c642d73657400',
  ],
  [
    "delete chain",
    {"table": "knode-proxy", "op": "delete-chain", "name": "old"},
    '2c000000050a0100000000000000000002000000100001006b6e6f64652d70726f787900080003006f6c6400',
  ],
];

function split(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let o = 0; o + 16 <= buf.length; ) {
    const len = buf.readUInt32LE(o);
    out.push(Buffer.from(buf.subarray(o, o + len)));
    o += (len + 3) & ~3;
  }
  return out;
}

/** nft's message without NFTA_SET_ELEM_LIST_SET_ID (type 4 on NEWSETELEM), seq zeroed. */
function nftMessage(hex: string): string {
  const m = Buffer.from(hex, 'hex');
  if (m.readUInt16LE(4) !== 0x0a0c) return hex;
  const parts = [m.subarray(0, 20)];
  for (let o = 20; o < m.length; ) {
    const len = (m.readUInt16LE(o) + 3) & ~3;
    if (m.readUInt16LE(o + 2) !== 4) parts.push(m.subarray(o, o + len));
    o += len;
  }
  const out = Buffer.concat(parts);
  out.writeUInt32LE(out.length, 0);
  return out.toString('hex');
}

/** Our message with seq zeroed and NLM_F_ACK cleared. */
function ours(m: Buffer): string {
  const c = Buffer.from(m);
  expect(c.readUInt16LE(6) & NLM_F_ACK).toBe(NLM_F_ACK);
  c.writeUInt16LE(c.readUInt16LE(6) & ~NLM_F_ACK, 6);
  c.writeUInt32LE(0, 8);
  return c.toString('hex');
}

describe('encodeBatch', () => {
  it.each(GOLDEN.map(([name], i) => [name, i] as const))('%s: the bytes nft sends', (_name, i) => {
    // Encode the whole transaction: set IDs depend on the sets added before.
    const msgs = split(encodeBatch(GOLDEN.map(([, c]) => c), 0)).slice(1, -1);
    expect(msgs).toHaveLength(GOLDEN.length);
    const [, , hex] = GOLDEN[i] ?? ['', { table: TABLE_NAME, op: 'add-table' }, ''];
    expect(ours(msgs[i] ?? Buffer.alloc(0))).toBe(nftMessage(hex));
  });

  it('frames the batch: BEGIN and END for the nftables subsystem, consecutive sequence numbers, ACK on all', () => {
    const b = encodeBatchIndexed([{ table: TABLE_NAME, op: 'add-table' }, { table: TABLE_NAME, op: 'delete-chain', name: 'x' }], 100);
    const msgs = split(b.buffer);
    expect(msgs.map((m) => m.readUInt16LE(4))).toEqual([0x10, 0x0a00, 0x0a05, 0x11]);
    expect(msgs.map((m) => m.readUInt32LE(8))).toEqual([100, 101, 102, 103]);
    expect(msgs.every((m) => (m.readUInt16LE(6) & NLM_F_ACK) !== 0)).toBe(true);
    expect([msgs[0]?.readUInt16BE(18), msgs[3]?.readUInt16BE(18)]).toEqual([10, 10]);
    expect(msgs.slice(1, 3).map((m) => m[16])).toEqual([2, 2]);
    expect(b.messages).toEqual([
      { seq: 101, command: 0 },
      { seq: 102, command: 1 },
    ]);
    expect([b.beginSeq, b.endSeq]).toEqual([100, 103]);
  });

  it('names each message\'s own table, and refers to a set added earlier by its id only in that table', () => {
    const rule = (table: string): NftCommand => ({ table, op: 'add-rule', chain: 'c', rule: { match: [{ kind: 'saddr-in-set', set: 'aff' }], action: { kind: 'verdict', verdict: { kind: 'accept' } } } });
    const svc = 'knode-proxy-svc-3';
    const b = encodeBatchIndexed([{ table: svc, op: 'add-set', set: { name: 'aff', timeoutSeconds: 60 } }, rule(svc), rule(TABLE_NAME)], 0);
    const [, addSet, inSvc, inMain] = split(b.buffer);
    const tableName = (m: Buffer | undefined): string => {
      // first attribute after the 16-byte header and 4-byte nfgenmsg: NFTA_*_TABLE, a NUL-terminated string
      const len = m?.readUInt16LE(20) ?? 0;
      return m?.subarray(24, 20 + len - 1).toString() ?? '';
    };
    expect([addSet, inSvc, inMain].map(tableName)).toEqual([svc, svc, TABLE_NAME]);
    // the same rule after an add-set in ITS table carries NFTA_LOOKUP_SET_ID (one 8-byte attribute
    // more); the main table's rule above, whose table added no set, does not
    const [, , sameTable] = split(encodeBatchIndexed([{ table: TABLE_NAME, op: 'add-set', set: { name: 'aff', timeoutSeconds: 60 } }, rule(TABLE_NAME)], 0).buffer);
    expect((sameTable?.length ?? 0) - (inMain?.length ?? 0)).toBe(8);
  });

  it('splits long element lists into several messages of the same command', () => {
    const n = ELEMENTS_PER_MESSAGE * 2 + 1;
    const elements = Array.from({ length: n }, (_, i) => ({ table: TABLE_NAME, map: 'service-nodeports', key: { proto: 'tcp' as const, port: 30000 + i }, verdict: { kind: 'drop' as const } }));
    const b = encodeBatchIndexed([{ table: TABLE_NAME, op: 'add-elements', map: 'service-nodeports', elements }], 0);
    expect(b.messages.map((m) => m.command)).toEqual([0, 0, 0]);
  });
});

describe('netlinkSupports', () => {
  const prev = buildRuleset(richState(), OPTS);
  it('covers every partial transaction of the rich steps, never a full sync', () => {
    expect(netlinkSupports(prev.commands)).toBe(false);
    let rs = prev.ruleset;
    let before = richState();
    for (const [name, s] of RICH_STEPS) {
      const tx = buildRuleset(s, { ...OPTS, previous: rs }, new Set([...before.services.keys(), ...s.services.keys()]));
      expect(tx.full, name).toBe(false);
      expect(netlinkSupports(tx.commands), name).toBe(true);
      rs = tx.ruleset;
      before = s;
    }
  });

  it.each<[string, NftCommand]>([
    ['a base chain', { table: TABLE_NAME, op: 'add-chain', name: 'nat-output', hook: { type: 'nat', hook: 'output', priority: -100 } }],
    ['a vmap rule', { table: TABLE_NAME, op: 'add-rule', chain: 'services', rule: { match: [], action: { kind: 'vmap', key: 'proto.dport', map: 'service-nodeports' } } }],
    ['a /0 CIDR', { table: TABLE_NAME, op: 'add-rule', chain: 'c', rule: { match: [{ kind: 'cidr', field: 'saddr', cidr: '0.0.0.0/0', negate: false }], action: { kind: 'verdict', verdict: { kind: 'accept' } } } }],
    ['an IPv6 endpoint', { table: TABLE_NAME, op: 'add-rule', chain: 'c', rule: { match: [], action: { kind: 'dnat', ip: 'fd00::1', port: 80 } } }],
    ['flush table', { table: TABLE_NAME, op: 'flush-table' }],
    ['add map', { table: TABLE_NAME, op: 'add-map', map: { name: 'm', key: 'proto.dport' } }],
  ])('sends %s to nft -f', (_name, c) => {
    expect(netlinkSupports([{ table: TABLE_NAME, op: 'add-table' }, c])).toBe(false);
  });

  it('sends a batch of more than MAX_BATCH_MESSAGES messages to nft -f', () => {
    const many = Array.from({ length: MAX_BATCH_MESSAGES }, (_, i): NftCommand => ({ table: TABLE_NAME, op: 'add-chain', name: `c${i}` }));
    expect(netlinkSupports(many.slice(0, MAX_BATCH_MESSAGES - 2))).toBe(true);
    expect(netlinkSupports(many)).toBe(false);
  });

  it('sends a batch over MAX_BATCH_BYTES to nft -f even when its message count is fine', () => {
    const elements = (n: number): NftCommand => ({
      table: TABLE_NAME,
      op: 'add-elements',
      map: 'service-ips',
      elements: Array.from({ length: n }, (_, i) => ({ table: TABLE_NAME, map: 'service-ips', key: { ip: `10.97.${i >> 8}.${i & 255}`, proto: 'tcp', port: 80 }, verdict: { kind: 'goto', chain: `service-${'x'.repeat(40)}-${i}` } })),
    });
    const small = [{ table: TABLE_NAME, op: 'add-table' } as const, elements(200)];
    const big = [{ table: TABLE_NAME, op: 'add-table' } as const, elements(ELEMENTS_PER_MESSAGE * 20)];
    expect(encodeBatchIndexed(big, 0).messages.length).toBeLessThan(MAX_BATCH_MESSAGES);
    expect(encodeBatchIndexed(big, 0).buffer.length).toBeGreaterThan(MAX_BATCH_BYTES);
    expect(netlinkSupports(small)).toBe(true);
    expect(netlinkSupports(big)).toBe(false);
  });
});

describe('parseAnswers', () => {
  it('reads ACKs and errors with the sequence number they answer', () => {
    const ack = (seq: number, err: number): Buffer => {
      const b = Buffer.alloc(36);
      b.writeUInt32LE(36, 0);
      b.writeUInt16LE(2, 4);
      b.writeInt32LE(err, 16);
      b.writeUInt32LE(20, 20);
      b.writeUInt32LE(seq, 28);
      return b;
    };
    expect(parseAnswers(Buffer.concat([ack(7, 0), ack(8, -2)]))).toEqual([
      { seq: 7, errno: 0 },
      { seq: 8, errno: 2 },
    ]);
  });
});
