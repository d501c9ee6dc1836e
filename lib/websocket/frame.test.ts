import { describe, expect, it, vi } from 'vitest';
import { WebSocketProtocolError } from './errors.js';
import { closePayload, encodeFrame, FrameDecoder, MessageAssembler, Opcode, parseClose } from './frame.js';
import type { Frame } from './frame.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const hello = Buffer.from('Hello');
const key = hex('37fa213d');

describe('encodeFrame (RFC 6455 section 5.7 examples)', () => {
  const cases: { name: string; frame: Frame; mask?: Buffer; wire: Buffer }[] = [
    { name: 'unmasked text "Hello"', frame: { fin: true, opcode: Opcode.Text, payload: hello }, wire: hex('810548656c6c6f') },
    { name: 'masked text "Hello"', frame: { fin: true, opcode: Opcode.Text, payload: hello }, mask: key, wire: hex('818537fa213d7f9f4d5158') },
    { name: 'first fragment "Hel"', frame: { fin: false, opcode: Opcode.Text, payload: Buffer.from('Hel') }, wire: hex('010348656c') },
    { name: 'last fragment "lo"', frame: { fin: true, opcode: Opcode.Continuation, payload: Buffer.from('lo') }, wire: hex('80026c6f') },
    { name: 'unmasked ping "Hello"', frame: { fin: true, opcode: Opcode.Ping, payload: hello }, wire: hex('890548656c6c6f') },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(encodeFrame(c.frame, c.mask ? { mask: c.mask } : {})).toEqual(c.wire);
    });
  }

  it('uses a 16-bit length for 256 bytes and a 64-bit one for 64 KiB', () => {
    expect(encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.alloc(256) }).subarray(0, 4)).toEqual(hex('827e0100'));
    expect(encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.alloc(65536) }).subarray(0, 10)).toEqual(hex('827f0000000000010000'));
    expect(encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.alloc(125) })[1]).toBe(125);
    expect(encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.alloc(126) }).subarray(1, 4)).toEqual(hex('7e007e'));
  });

  it('masks with a random key when asked to', () => {
    const wire = encodeFrame({ fin: true, opcode: Opcode.Binary, payload: hello }, { mask: true });
    expect(wire[1]).toBe(0x85);
    expect(new FrameDecoder({ role: 'server' }).push(wire)[0]?.payload).toEqual(hello);
  });

  it('refuses oversized or fragmented control frames', () => {
    expect(() => encodeFrame({ fin: true, opcode: Opcode.Ping, payload: Buffer.alloc(126) })).toThrow(WebSocketProtocolError);
    expect(() => encodeFrame({ fin: false, opcode: Opcode.Close, payload: Buffer.alloc(0) })).toThrow(WebSocketProtocolError);
  });
});

describe('FrameDecoder', () => {
  it('round-trips every length class, masked and not', () => {
    for (const len of [0, 1, 125, 126, 65535, 65536, 200_000]) {
      const payload = Buffer.alloc(len, 7);
      const client = new FrameDecoder({ role: 'client' }).push(encodeFrame({ fin: true, opcode: Opcode.Binary, payload }));
      const server = new FrameDecoder({ role: 'server' }).push(encodeFrame({ fin: true, opcode: Opcode.Binary, payload }, { mask: key }));
      for (const got of [client, server]) {
        expect(got.map((f) => [f.fin, f.opcode])).toEqual([[true, Opcode.Binary]]);
        expect(got[0]?.payload.equals(payload)).toBe(true);
      }
    }
  });

  it('reassembles frames split at every byte and several frames in one chunk', () => {
    const wire = Buffer.concat([hex('818537fa213d7f9f4d5158'), encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.alloc(300, 1) }, { mask: key })]);
    const d = new FrameDecoder({ role: 'server' });
    const got: Frame[] = [];
    for (const b of wire) got.push(...d.push(Buffer.from([b])));
    expect(got.map((f) => [f.opcode, f.payload.length])).toEqual([[Opcode.Text, 5], [Opcode.Binary, 300]]);
    expect(got[0]?.payload.toString()).toBe('Hello');
    expect(d.pending).toBe(0);
    expect(new FrameDecoder({ role: 'server' }).push(wire)).toHaveLength(2);
  });

  const bad: { name: string; role: 'server' | 'client'; wire: Buffer; code: number; max?: number }[] = [
    { name: 'unmasked frame from a client', role: 'server', wire: hex('810548656c6c6f'), code: 1002 },
    { name: 'masked frame from a server', role: 'client', wire: hex('818537fa213d7f9f4d5158'), code: 1002 },
    { name: 'reserved bit set', role: 'client', wire: hex('c10548656c6c6f'), code: 1002 },
    { name: 'unknown opcode 3', role: 'client', wire: hex('830548656c6c6f'), code: 1002 },
    { name: 'fragmented ping', role: 'client', wire: hex('090548656c6c6f'), code: 1002 },
    { name: 'ping longer than 125 bytes', role: 'client', wire: hex('897e0100'), code: 1002 },
    { name: 'payload over the limit', role: 'client', wire: hex('827e0100'), code: 1009, max: 100 },
    { name: '64-bit length with the top bit set', role: 'client', wire: hex('827f8000000000000000'), code: 1009 },
  ];
  for (const c of bad) {
    it(`rejects ${c.name} with close code ${c.code}`, () => {
      const d = new FrameDecoder({ role: c.role, ...(c.max !== undefined ? { maxPayload: c.max } : {}) });
      try {
        d.push(c.wire);
        expect.unreachable('accepted');
      } catch (err) {
        expect(err).toBeInstanceOf(WebSocketProtocolError);
        expect((err as WebSocketProtocolError).closeCode).toBe(c.code);
      }
    });
  }
});

describe('MessageAssembler', () => {
  const f = (fin: boolean, opcode: Frame['opcode'], text: string): Frame => ({ fin, opcode, payload: Buffer.from(text) });

  it('joins fragments and passes a ping received between them', () => {
    const a = new MessageAssembler();
    expect(a.push(f(false, Opcode.Binary, 'ab'))).toBeUndefined();
    expect(a.push(f(true, Opcode.Ping, 'p'))).toEqual({ type: 'ping', data: Buffer.from('p') });
    expect(a.push(f(false, Opcode.Continuation, 'cd'))).toBeUndefined();
    expect(a.push(f(true, Opcode.Continuation, 'e'))).toEqual({ type: 'message', binary: true, data: Buffer.from('abcde') });
    expect(a.push(f(true, Opcode.Text, 'x'))).toEqual({ type: 'message', binary: false, data: Buffer.from('x') });
  });

  it('rejects a continuation without a start, a new message inside one, and bad UTF-8 text', () => {
    expect(() => new MessageAssembler().push(f(true, Opcode.Continuation, 'x'))).toThrow(/continuation/);
    const a = new MessageAssembler();
    a.push(f(false, Opcode.Text, 'x'));
    expect(() => a.push(f(true, Opcode.Binary, 'y'))).toThrow(/inside a fragmented/);
    expect(() => new MessageAssembler().push({ fin: true, opcode: Opcode.Text, payload: hex('c3') })).toThrow(/UTF-8/);
  });

  it('caps the size of a fragmented message', () => {
    const a = new MessageAssembler(4);
    a.push(f(false, Opcode.Binary, 'abc'));
    expect(() => a.push(f(true, Opcode.Continuation, 'de'))).toThrow(WebSocketProtocolError);
  });
});

describe('close payloads', () => {
  it('round-trips code and reason; empty means no code', () => {
    expect(parseClose(closePayload(1000, 'bye'))).toEqual({ type: 'close', code: 1000, reason: 'bye' });
    expect(parseClose(closePayload())).toEqual({ type: 'close', code: undefined, reason: '' });
  });
  it('rejects a 1-byte payload and reserved codes', () => {
    expect(() => parseClose(hex('03'))).toThrow(WebSocketProtocolError);
    expect(() => parseClose(closePayload(1005))).toThrow(/invalid close code/);
    expect(() => parseClose(closePayload(999))).toThrow(/invalid close code/);
  });
});

describe('FrameDecoder on a frame trickling in', () => {
  it('joins the chunks once, when the frame is complete', () => {
    const payload = Buffer.alloc(64 * 1024, 7);
    const wire = encodeFrame({ fin: true, opcode: Opcode.Binary, payload }, { mask: true });
    const d = new FrameDecoder({ role: 'server' });
    const spy = vi.spyOn(Buffer, 'concat');
    const out = [];
    for (let i = 0; i < wire.length; i += 100) out.push(...d.push(wire.subarray(i, i + 100)));
    const joins = spy.mock.calls.length;
    spy.mockRestore();
    expect(out).toHaveLength(1);
    expect(out[0]?.payload.equals(payload)).toBe(true);
    expect(d.pending).toBe(0);
    expect(joins).toBeLessThanOrEqual(3);
  });
  it('counts held bytes and keeps the rest after a frame', () => {
    const d = new FrameDecoder({ role: 'client' });
    const a = encodeFrame({ fin: true, opcode: Opcode.Text, payload: Buffer.from('hello') });
    const b = encodeFrame({ fin: true, opcode: Opcode.Text, payload: Buffer.from('world!') });
    const wire = Buffer.concat([a, b]);
    const got: string[] = [];
    for (let i = 0; i < wire.length; i++) {
      got.push(...d.push(wire.subarray(i, i + 1)).map((f) => f.payload.toString()));
      if (i === a.length + 2) expect(d.pending).toBe(3);
    }
    expect(got).toEqual(['hello', 'world!']);
    expect(d.pending).toBe(0);
  });
});
