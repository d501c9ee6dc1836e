import { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ControlType, encodeData, encodePing, SpdyFrameDecoder } from '../../lib/spdy/frames.js';
import type { SpdyFrame } from '../../lib/spdy/frames.js';
import { PodPortError, PodPortStream } from './port-forward-client.js';

/** The kubelet's end of the upgraded connection: records what we write, lets the test send frames. */
class FakeKubelet extends Duplex {
  readonly written: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _e: BufferEncoding, done: () => void): void {
    this.written.push(chunk);
    done();
  }
  frames(): SpdyFrame[] {
    return new SpdyFrameDecoder().push(Buffer.concat(this.written));
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function collect(s: PodPortStream): Promise<{ data: string; error?: Error }> {
  return new Promise((resolve) => {
    let data = '';
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('end', () => resolve({ data }));
    s.on('error', (error: Error) => resolve({ data, error }));
  });
}

describe('PodPortStream', () => {
  it('opens the error and data streams for the port, as client-go does', () => {
    const k = new FakeKubelet();
    new PodPortStream(k, Buffer.alloc(0), 8083).resume();
    const syn = k.frames().filter((f) => f.kind === 'control' && f.type === ControlType.SynStream);
    expect(syn.map((f) => (f.kind === 'control' ? f.payload.readUInt32BE(0) : 0))).toEqual([1, 3]);
    const text = Buffer.concat(k.written).toString('latin1');
    for (const s of ['streamtype', 'error', 'data', 'port', '8083', 'requestid']) expect(text).toContain(s);
  });

  it('carries bytes both ways and ends once both streams have ended without error text', async () => {
    const k = new FakeKubelet();
    const s = new PodPortStream(k, Buffer.alloc(0), 80);
    const done = collect(s);
    s.write('GET / HTTP/1.1\r\n\r\n');
    s.end();
    k.push(encodeData(3, Buffer.from('HTTP/1.1 200 OK\r\n')));
    k.push(encodeData(3, Buffer.from('\r\n'), true));
    await settle();
    k.push(encodeData(1, Buffer.alloc(0), true));
    expect(await done).toEqual({ data: 'HTTP/1.1 200 OK\r\n\r\n' });
    const ours = k.frames().filter((f) => f.kind === 'data');
    expect(ours.map((f) => (f.kind === 'data' ? [f.streamId, f.data.toString(), f.fin] : []))).toEqual([
      [3, 'GET / HTTP/1.1\r\n\r\n', false],
      [3, '', true],
    ]);
  });

  it('a dial failure written after the data stream closed is the error, not an early end', async () => {
    const k = new FakeKubelet();
    const s = new PodPortStream(k, Buffer.alloc(0), 9999);
    const done = collect(s);
    k.push(encodeData(3, Buffer.alloc(0), true));
    await settle();
    k.push(encodeData(1, Buffer.from('error forwarding port 9999: connect: connection refused')));
    k.push(encodeData(1, Buffer.alloc(0), true));
    const r = await done;
    expect(r.error).toBeInstanceOf(PodPortError);
    expect(r.error?.message).toBe('error forwarding port 9999: connect: connection refused');
  });

  it('answers pings; a connection that closes before the pod side ended is an error', async () => {
    const k = new FakeKubelet();
    const s = new PodPortStream(k, Buffer.alloc(0), 80);
    const done = collect(s);
    k.push(encodePing(7));
    await settle();
    expect(k.frames().some((f) => f.kind === 'control' && f.type === ControlType.Ping && f.payload.readUInt32BE(0) === 7)).toBe(true);
    k.destroy();
    expect((await done).error?.message).toBe('the connection to the kubelet closed before the pod side ended');
  });
});
