import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { WebSocketConnection } from './connection.js';
import { closePayload, encodeFrame, FrameDecoder, Opcode } from './frame.js';
import type { Frame } from './frame.js';

/** An in-memory socket: what we write is recorded; writes complete only when `release` is called. */
function fakeSocket(highWaterMark = 16 * 1024): { socket: Duplex; written: Buffer[]; release: () => void } {
  const written: Buffer[] = [];
  const callbacks: (() => void)[] = [];
  const socket = new Duplex({
    writableHighWaterMark: highWaterMark,
    read() {},
    write(chunk: Buffer, _enc, cb) {
      written.push(chunk);
      callbacks.push(() => cb());
    },
  });
  return { socket, written, release: () => { for (const cb of callbacks.splice(0)) cb(); } };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const fromClient = (opcode: Frame['opcode'], payload: Buffer): Buffer => encodeFrame({ fin: true, opcode, payload }, { mask: true });
const frames = (written: Buffer[]): Frame[] => new FrameDecoder({ role: 'client' }).push(Buffer.concat(written));

describe('WebSocketConnection', () => {
  it('reports close at once when handed a socket that is already gone', async () => {
    const { socket } = fakeSocket();
    socket.destroy();
    await tick();
    const ws = new WebSocketConnection(socket, { role: 'server' });
    expect(ws.isOpen).toBe(false);
    const code = await new Promise<number>((r) => ws.onClose((c) => r(c)));
    expect(code).toBe(1006);
  });

  it('keeps messages that came with the 101 until the first listener', async () => {
    const { socket } = fakeSocket();
    const head = Buffer.concat([encodeFrame({ fin: true, opcode: Opcode.Binary, payload: Buffer.from([1, 0x61]) }), encodeFrame({ fin: true, opcode: Opcode.Close, payload: closePayload(1000) })]);
    const ws = new WebSocketConnection(socket, { role: 'client', head });
    await tick(); // the head is parsed before anyone listens (as when a caller awaits the dial)
    const got: Buffer[] = [];
    ws.onMessage((d) => got.push(d));
    expect(got).toEqual([Buffer.from([1, 0x61])]);
    socket.push(encodeFrame({ fin: true, opcode: Opcode.Text, payload: Buffer.from('late') }));
    await tick();
    expect(got).toHaveLength(1); // nothing after the close frame
  });

  it('answers only the latest ping while its writes are backed up, once the socket drains', async () => {
    const { socket, written, release } = fakeSocket(1);
    new WebSocketConnection(socket, { role: 'server' });
    for (const p of ['a', 'b', 'c']) socket.push(fromClient(Opcode.Ping, Buffer.from(p)));
    await tick();
    expect(frames(written).map((f) => f.payload.toString())).toEqual(['a']);
    release();
    await tick();
    const pongs = frames(written);
    expect(pongs.map((f) => [f.opcode, f.payload.toString()])).toEqual([
      [Opcode.Pong, 'a'],
      [Opcode.Pong, 'c'],
    ]);
  });

  it('drops the socket when a peer sends Close but keeps TCP open', async () => {
    const { socket, release } = fakeSocket();
    const ws = new WebSocketConnection(socket, { role: 'server', closeTimeoutMs: 20 });
    const closed = new Promise<number>((r) => ws.onClose((c) => r(c)));
    socket.push(fromClient(Opcode.Close, closePayload(1000)));
    await tick();
    release();
    expect(await closed).toBe(1000);
    expect(socket.destroyed).toBe(true);
  });
});
