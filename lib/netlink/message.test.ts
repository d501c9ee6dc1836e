import { describe, expect, it } from 'vitest';
import { attr, be32Attr, errnoName, errorOf, message, nested, NLA_F_NESTED, NLMSG_ERROR, parseAttrs, parseMessages, strAttr, u32Attr, u8Attr } from './message.js';

describe('netlink attributes', () => {
  it.each([
    ['a u8 (5 bytes, padded to 8)', u8Attr(4, 1), '0500040001000000'],
    ['a u32 in host order', u32Attr(4, 1500), '08000400dc050000'],
    ['a big-endian u32', be32Attr(1, 0x0a000001), '080001000a000001'],
    ['a NUL-terminated string', strAttr(3, 'eth0'), '0900030065746830' + '00000000'],
    ['an empty payload', attr(7, Buffer.alloc(0)), '04000700'],
  ])('%s', (_what, buf, hex) => {
    expect(buf.toString('hex')).toBe(hex);
  });

  it('nests with the nested flag and parses back by type', () => {
    const n = nested(18, strAttr(1, 'veth'), u32Attr(2, 7));
    expect(n.readUInt16LE(2)).toBe(18 | NLA_F_NESTED);
    const outer = parseAttrs(n);
    const inner = parseAttrs(outer.get(18) ?? Buffer.alloc(0));
    expect(inner.get(1)?.toString()).toBe('veth\0');
    expect(inner.get(2)?.readUInt32LE(0)).toBe(7);
  });

  it('stops at a truncated attribute instead of reading past the buffer', () => {
    const good = u32Attr(1, 9);
    const bad = Buffer.from('ff00020000', 'hex');
    expect([...parseAttrs(Buffer.concat([good, bad])).keys()]).toEqual([1]);
  });
});

describe('netlink messages', () => {
  it('writes the 16-byte header and parses several messages of one datagram', () => {
    const a = message(16, 0x405, 7, u32Attr(4, 1));
    const b = message(3, 0, 8, Buffer.alloc(0));
    expect(a.readUInt32LE(0)).toBe(24);
    const parsed = parseMessages(Buffer.concat([a, b]));
    expect(parsed.map((m) => [m.type, m.flags, m.seq, m.body.length])).toEqual([
      [16, 0x405, 7, 8],
      [3, 0, 8, 0],
    ]);
  });

  it('reads the errno of an NLMSG_ERROR (0 is an acknowledgement) and names it', () => {
    const err = Buffer.alloc(20);
    err.writeInt32LE(-17, 0);
    const [m] = parseMessages(message(NLMSG_ERROR, 0, 1, err));
    expect(m && errorOf(m)).toBe(17);
    expect(errnoName(17)).toBe('EEXIST');
    expect(errnoName(99999)).toBe('errno 99999');
    const [ack] = parseMessages(message(NLMSG_ERROR, 0, 1, Buffer.alloc(20)));
    expect(ack && errorOf(ack)).toBe(0);
  });

  it('ignores a message whose length runs past the datagram', () => {
    const m = message(16, 0, 1, Buffer.alloc(8));
    m.writeUInt32LE(100, 0);
    expect(parseMessages(m)).toEqual([]);
  });
});
