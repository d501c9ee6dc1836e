/**
 * The apiserver as a port-forward client of a kubelet: one TCP connection to a port inside a pod,
 * as a Node Duplex, for pods/proxy and services/proxy (pod-proxy.ts). The apiserver need not reach
 * pod IPs (the lab's control plane cannot, and neither can a control plane outside the overlay):
 * the bytes go apiserver --TLS--> kubelet :10250 /portForward/{ns}/{pod} (plain SPDY/3.1 upgrade,
 * `portforward.k8s.io`, which the kubelet splices to the runtime's streaming server) --> containerd,
 * which dials the port in the pod's network namespace.
 *
 * On the SPDY connection, as client-go's port-forwarder does per connection: an `error` stream and a
 * `data` stream, both carrying `port` and `requestid` headers. Data frames on the data stream are the
 * TCP bytes; FIN on it is the pod side's end; text on the error stream is the runtime's dial failure
 * (e.g. connection refused). Ending the Duplex sends FIN on the data stream; destroying it sends
 * GOAWAY and closes the connection. One SPDY connection per Duplex: a proxied request costs one CRI
 * PortForward call and one TLS connection, which keeps the lifetime simple (no pooling).
 */
import { Duplex } from 'node:stream';
import { ControlType, encodeData, encodeGoAway, encodePing, encodeSynStream, HeaderWriter, SpdyFrameDecoder } from '../../lib/spdy/frames.js';
import { unavailable } from './errors.js';
import type { KubeletClientTls } from './node-proxy.js';
import { upgradeKubelet } from './node-stream.js';

const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const ERROR_STREAM = 1;
const DATA_STREAM = 3;
/** The largest DATA payload we write (the frame allows 16 MiB; small frames keep latency even). */
const MAX_DATA = 64 * 1024;

/**
 * Opens the SPDY upgrade to the kubelet's /portForward and the stream pair for `port`. Rejects with
 * an ApiError: 503 when the kubelet cannot be reached, the kubelet's own status and words when it
 * refuses (no such pod, pod not running).
 */
export async function dialPodPort(url: URL, tls: KubeletClientTls, port: number, timeoutMs: number): Promise<Duplex> {
  const headers = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL };
  const up = await upgradeKubelet(url, { method: 'POST', headers, tls, timeoutMs });
  if (up === undefined) throw unavailable('the connection to the kubelet closed during the upgrade');
  const chosen = up.res.headers['x-stream-protocol-version'];
  if (chosen !== PORT_FORWARD_PROTOCOL) {
    up.socket.destroy();
    throw unavailable(`the kubelet chose stream protocol ${JSON.stringify(chosen ?? '')}, not ${PORT_FORWARD_PROTOCOL}`);
  }
  return new PodPortStream(up.socket, up.head, port);
}

/** Thrown (as the Duplex's error) when the runtime could not connect to the port in the pod. */
export class PodPortError extends Error {
  readonly code = 'ERR_APISERVER_POD_PORT';
}

/** One forwarded TCP connection over a SPDY connection to the kubelet. */
export class PodPortStream extends Duplex {
  private readonly decoder = new SpdyFrameDecoder();
  private errorText = '';
  private dataFin = false;
  private errorFin = false;
  private remoteEnded = false;

  constructor(
    private readonly socket: Duplex,
    head: Buffer,
    port: number,
  ) {
    super({ allowHalfOpen: true });
    const headers = new HeaderWriter();
    for (const [id, type] of [[ERROR_STREAM, 'error'], [DATA_STREAM, 'data']] as const) {
      socket.write(encodeSynStream(id, headers.block({ streamtype: type, port: String(port), requestid: '0' })));
    }
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => {
      if (this.remoteEnded) return;
      if (this.errorText === '' && this.dataFin) this.endRemote();
      else this.destroy(new PodPortError(this.errorText !== '' ? this.errorText.trim() : 'the connection to the kubelet closed before the pod side ended'));
    });
    if (head.length > 0) queueMicrotask(() => this.onData(head));
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    let ok = true;
    for (let off = 0; off < chunk.length; off += MAX_DATA) ok = this.socket.write(encodeData(DATA_STREAM, chunk.subarray(off, off + MAX_DATA)));
    if (ok) done();
    else this.socket.once('drain', () => done());
  }

  override _final(done: (err?: Error | null) => void): void {
    this.socket.write(encodeData(DATA_STREAM, Buffer.alloc(0), true), () => done());
  }

  override _destroy(err: Error | null, done: (err: Error | null) => void): void {
    if (!this.socket.destroyed) {
      this.socket.write(encodeGoAway(0));
      this.socket.end();
      setTimeout(() => this.socket.destroy(), 5_000).unref();
    }
    done(err);
  }

  /**
   * The runtime closes the data stream before it writes a dial failure on the error stream, and
   * closes the error stream (empty on success) when the forward is over: the pod side has ended
   * only once both streams have, and with no error text.
   */
  private settle(): void {
    if (this.remoteEnded || this.destroyed) return;
    if (this.errorFin && this.errorText !== '') this.destroy(new PodPortError(this.errorText.trim()));
    else if (this.errorFin && this.dataFin) this.endRemote();
  }

  private endRemote(): void {
    this.remoteEnded = true;
    this.push(null);
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.destroy(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    for (const f of frames) {
      if (f.kind === 'data') {
        if (f.streamId === ERROR_STREAM) {
          this.errorText += f.data.toString('utf8');
          this.errorFin ||= f.fin;
        } else if (f.streamId === DATA_STREAM) {
          if (f.data.length > 0 && !this.push(f.data)) this.socket.pause();
          this.dataFin ||= f.fin;
        }
        this.settle();
        continue;
      }
      if (f.type === ControlType.Ping) this.socket.write(encodePing(f.payload.readUInt32BE(0)));
      if (f.type === ControlType.RstStream && f.payload.readUInt32BE(0) === DATA_STREAM && !this.remoteEnded) {
        this.destroy(new PodPortError(this.errorText !== '' ? this.errorText.trim() : 'the runtime reset the data stream'));
      }
      // SYN_REPLY, SETTINGS, WINDOW_UPDATE, HEADERS, GOAWAY: nothing to do
    }
  }
}
