import { describe, expect, it } from 'vitest';
import { ProtobufError } from './errors.js';
import { goDuration } from './decode.js';
import { pb } from './test-encoder.js';
import { WireReader } from './wire.js';

const reader = (...bytes: number[]): WireReader => new WireReader(Uint8Array.from(bytes));

function failure(fn: () => unknown): ProtobufError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtobufError) return err;
    throw err;
  }
  throw new Error('expected a ProtobufError');
}

describe('varints', () => {
  it.each([
    ['one byte', [0x05], 5n],
    ['two bytes (300)', [0xac, 0x02], 300n],
    ['28-bit boundary', [0xff, 0xff, 0xff, 0x7f], 0x0fffffffn],
    ['five bytes (2^32)', [0x80, 0x80, 0x80, 0x80, 0x10], 4294967296n],
    ['ten bytes (2^64-1)', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 18446744073709551615n],
  ])('%s', (_, bytes, want) => {
    expect(reader(...bytes).varint()).toBe(want);
  });

  it('reads int32 -1, which Go sign-extends to ten bytes', () => {
    expect(new WireReader(pb.varint(-1n)).int32()).toBe(-1);
    expect(pb.varint(-1n)).toHaveLength(10);
  });

  it('reads int64 beyond 32 bits exactly', () => {
    expect(new WireReader(pb.varint(253402300799n)).int64()).toBe(253402300799);
    expect(new WireReader(pb.varint(-62135596800n)).int64()).toBe(-62135596800);
  });

  it('refuses an int64 a JSON number cannot hold exactly', () => {
    const err = failure(() => new WireReader(pb.varint(2n ** 60n)).int64('spec.x'));
    expect(err.code).toBe('ERR_PROTOBUF_BAD_VALUE');
    expect(err.path).toBe('spec.x');
  });

  it('names the offset of a truncated varint', () => {
    const r = reader(0x08, 0x96);
    r.tag();
    const err = failure(() => r.varint('spec.replicas'));
    expect(err.code).toBe('ERR_PROTOBUF_TRUNCATED');
    expect(err.message).toBe('at byte 1 (spec.replicas): truncated varint');
  });

  it('refuses a varint longer than ten bytes', () => {
    expect(failure(() => reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).varint()).code).toBe('ERR_PROTOBUF_MALFORMED');
  });
});

describe('tags and length-delimited fields', () => {
  it('splits a tag into field number and wire type', () => {
    expect(reader(0x12).tag()).toEqual({ field: 2, wireType: 2, offset: 0 });
    expect(reader(0xa2, 0x06).tag()).toEqual({ field: 100, wireType: 2, offset: 0 });
  });

  it('refuses field number 0', () => {
    expect(failure(() => reader(0x02).tag()).code).toBe('ERR_PROTOBUF_MALFORMED');
  });

  it('reads strings as UTF-8 and refuses invalid UTF-8', () => {
    expect(new WireReader(pb.str(1, 'héllo'), 1).string()).toBe('héllo');
    expect(failure(() => reader(0x02, 0xc3, 0x28).string()).code).toBe('ERR_PROTOBUF_BAD_VALUE');
  });

  it('refuses a length running past the end of the enclosing message', () => {
    const err = failure(() => reader(0x05, 0x61, 0x62).sub('metadata'));
    expect(err.code).toBe('ERR_PROTOBUF_TRUNCATED');
    expect(err.message).toContain('length 5 runs past the end of the message (2 bytes left)');
  });

  it('keeps offsets absolute inside sub-messages', () => {
    const buf = pb.msg(pb.str(1, 'xx'), pb.sub(2, pb.int(1, 1), Uint8Array.of(0x10)));
    const r = new WireReader(buf);
    r.skip(r.tag());
    r.tag();
    const sub = r.sub('spec');
    sub.tag();
    expect(sub.int64()).toBe(1);
    sub.tag();
    expect(failure(() => sub.varint('spec.b')).message).toBe(`at byte ${buf.length} (spec.b): truncated varint`);
  });
});

describe('skipping unknown fields', () => {
  it.each([
    ['varint', pb.int(7, 300)],
    ['fixed64', Uint8Array.of(0x09, 1, 2, 3, 4, 5, 6, 7, 8)],
    ['length-delimited', pb.str(7, 'ignored')],
    ['fixed32', Uint8Array.of(0x0d, 1, 2, 3, 4)],
    ['group', Uint8Array.of(0x0b, 0x08, 0x01, 0x0c)],
  ])('skips a %s field', (_, bytes) => {
    const r = new WireReader(pb.msg(bytes, pb.str(1, 'kept')));
    r.skip(r.tag());
    expect(r.tag().field).toBe(1);
    expect(r.string()).toBe('kept');
  });

  it('refuses a truncated fixed64', () => {
    const r = reader(0x09, 1, 2);
    expect(failure(() => r.skip(r.tag())).code).toBe('ERR_PROTOBUF_TRUNCATED');
  });

  it('refuses wire types 6 and 7', () => {
    const r = reader(0x0e);
    expect(failure(() => r.skip(r.tag())).code).toBe('ERR_PROTOBUF_MALFORMED');
  });
});

describe("Go's Duration form", () => {
  it.each([
    [0n, '0s'],
    [500n, '500ns'],
    [1_500n, '1.5µs'],
    [150_000_000n, '150ms'],
    [1_000_000_000n, '1s'],
    [90_000_000_000n, '1m30s'],
    [3_723_500_000_000n, '1h2m3.5s'],
    [3_600_000_000_000n, '1h0m0s'],
    [-2_000_000_000n, '-2s'],
  ])('%s ns -> %s', (ns, want) => {
    expect(goDuration(ns)).toBe(want);
  });
});
