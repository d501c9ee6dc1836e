import { describe, expect, it } from 'vitest';
import type { RawSocket } from './channel.js';
import { NetlinkChannel, NetlinkError } from './channel.js';
import { message, NLMSG_ERROR, parseMessages } from './message.js';

/** A socket that hands each sent datagram to `answer`, whose datagrams come back as messages. */
class FakeSocket implements RawSocket {
  private onMessage: ((m: Buffer) => void) | undefined;
  constructor(private readonly answer: (sent: Buffer) => Buffer[]) {}
  on(event: string, fn: (x: never) => void): unknown {
    if (event === 'message') this.onMessage = fn as (m: Buffer) => void;
    return this;
  }
  send(msg: Uint8Array | Uint8Array[], _o?: object, cb?: (err?: Error) => void): void {
    const sent = Buffer.concat((Array.isArray(msg) ? msg : [msg]).map((b) => Buffer.from(b)));
    cb?.();
    for (const d of this.answer(sent)) setImmediate(() => this.onMessage?.(d));
  }
  close(): void {}
  unref(): void {}
}

const ack = (seq: number, errno = 0): Buffer => {
  const body = Buffer.alloc(20);
  body.writeInt32LE(-errno, 0);
  return message(NLMSG_ERROR, 0, seq, body);
};

describe('NetlinkChannel', () => {
  it('resolves once every message is acknowledged, with the data replies of each', async () => {
    const ch = NetlinkChannel.over(new FakeSocket((sent) => parseMessages(sent).map((m) => Buffer.concat([message(16, 0, m.seq, Buffer.from([1, 2, 3, 4])), ack(m.seq)]))));
    const replies = await ch.request([
      { type: 18, flags: 0, body: Buffer.alloc(16) },
      { type: 18, flags: 0, body: Buffer.alloc(16) },
    ]);
    expect(replies.map((r) => r.map((m) => m.type))).toEqual([[16], [16]]);
  });

  it('rejects with the errno of the first refused message, naming which one', async () => {
    const ch = NetlinkChannel.over(new FakeSocket((sent) => parseMessages(sent).map((m, i) => ack(m.seq, i === 1 ? 17 : 0))));
    const err = await ch.request([{ type: 16, flags: 0, body: Buffer.alloc(16) }, { type: 16, flags: 0, body: Buffer.alloc(16) }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    expect((err as NetlinkError).errnoName).toBe('EEXIST');
    expect((err as NetlinkError).index).toBe(1);
  });

  it('times out an unanswered request, and a late answer to it does not resolve the next one', async () => {
    let first: Buffer | undefined;
    const ch = NetlinkChannel.over(
      new FakeSocket((sent) => {
        if (first === undefined) {
          first = sent;
          return [];
        }
        // the late ack of the first request arrives before the second's own ack
        return [...parseMessages(first).map((m) => ack(m.seq, 1)), ...parseMessages(sent).map((m) => ack(m.seq))];
      }),
    );
    const err = await ch.request([{ type: 16, flags: 0, body: Buffer.alloc(16) }], 20).catch((e: unknown) => e);
    expect((err as NetlinkError).errnoName).toBe('ETIMEDOUT');
    await expect(ch.request([{ type: 16, flags: 0, body: Buffer.alloc(16) }])).resolves.toEqual([[]]);
  });
});
