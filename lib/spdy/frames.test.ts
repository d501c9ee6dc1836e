import { inflateSync, constants } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { ControlType, encodeData, encodeHeaderPairs, encodePing, encodeSynStream, HeaderWriter, SpdyFrameDecoder } from './frames.js';

describe('SPDY/3 frames', () => {
  it('header blocks form one zlib stream a standard inflater reads back across frames', () => {
    const w = new HeaderWriter();
    const first = w.block({ streamType: 'error' });
    const second = w.block({ streamtype: 'stdin' });
    expect(first.subarray(0, 2)).toEqual(Buffer.from([0x78, 0x01]));
    expect(second[0]).toBe(0x00);
    const plain = inflateSync(Buffer.concat([first, second]), { finishFlush: constants.Z_SYNC_FLUSH });
    expect(plain).toEqual(Buffer.concat([encodeHeaderPairs({ streamtype: 'error' }), encodeHeaderPairs({ streamtype: 'stdin' })]));
  });

  it('encodes the name/value block with 32-bit lengths and lowercase names', () => {
    expect(encodeHeaderPairs({ streamType: 'stdout' }).toString('hex')).toBe('00000001' + '0000000a' + Buffer.from('streamtype').toString('hex') + '00000006' + Buffer.from('stdout').toString('hex'));
  });

  it('SYN_STREAM, DATA with FIN and PING decode back', () => {
    const syn = encodeSynStream(3, Buffer.from('hb'));
    expect(syn.subarray(0, 8).toString('hex')).toBe('80030001' + '0000000c');
    const d = new SpdyFrameDecoder();
    const wire = Buffer.concat([syn, encodeData(3, Buffer.from('abc'), true), encodePing(2)]);
    const frames = [...wire].flatMap((byte) => d.push(Buffer.from([byte])));
    expect(frames).toEqual([
      { kind: 'control', type: ControlType.SynStream, flags: 0, payload: Buffer.concat([Buffer.from('00000003000000000000', 'hex'), Buffer.from('hb')]) },
      { kind: 'data', streamId: 3, fin: true, data: Buffer.from('abc') },
      { kind: 'control', type: ControlType.Ping, flags: 0, payload: Buffer.from('00000002', 'hex') },
    ]);
  });

  it('refuses another SPDY version', () => {
    expect(() => new SpdyFrameDecoder().push(Buffer.from('8002000600000004' + '00000001', 'hex'))).toThrow(/version 2/);
  });
});

describe('SpdyFrameDecoder on a frame trickling in', () => {
  it('joins the chunks once, when the frame is complete', () => {
    const data = Buffer.alloc(64 * 1024, 5);
    const wire = Buffer.concat([encodeData(3, data), encodePing(7)]);
    const d = new SpdyFrameDecoder();
    const spy = vi.spyOn(Buffer, 'concat');
    const out = [];
    for (let i = 0; i < wire.length; i += 100) out.push(...d.push(wire.subarray(i, i + 100)));
    const joins = spy.mock.calls.length;
    spy.mockRestore();
    expect(out).toHaveLength(2);
    expect(out[0]?.kind === 'data' && out[0].data.equals(data)).toBe(true);
    expect(out[1]).toMatchObject({ kind: 'control', type: ControlType.Ping });
    expect(joins).toBeLessThanOrEqual(4);
  });
});
