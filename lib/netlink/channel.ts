/**
 * Request/acknowledge over a raw netlink socket (the `netlink` package's RawNetlinkSocket only: its
 * index also loads generated rtnetlink/nl80211/wireguard structures, ~8 MiB of RSS in a long-lived
 * agent, where the raw socket costs ~1 MiB). `request` sends messages in one datagram, each with its own
 * sequence number and NLM_F_ACK, and resolves with the data replies of each once every one is
 * acknowledged; the first NLMSG_ERROR rejects with a NetlinkError naming the errno and which message it
 * answered. The socket acts in the network namespace of this process.
 *
 * Requests are serialised (one in flight per channel): replies are matched by sequence number, and the
 * callers (CNI ADDs, proxy syncs) are short. A request unanswered after `timeoutMs` (default 5 s) rejects
 * with ETIMEDOUT, so one lost acknowledgement cannot stall every later caller; a late answer to it is
 * ignored (its sequence numbers are never reused).
 */
import { KnodeError } from '../errors.js';
import type { ParsedMessage } from './message.js';
import { errnoName, errorOf, message, NLM_F_ACK, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, parseMessages } from './message.js';

const ETIMEDOUT = 110;

export class NetlinkError extends KnodeError {
  constructor(
    message: string,
    readonly errno: number,
    /** Index of the refused message in its request. */
    readonly index: number,
  ) {
    super('ERR_NETLINK', message);
  }
  get errnoName(): string {
    return errnoName(this.errno);
  }
}

export interface OutMessage {
  readonly type: number;
  /** Added to NLM_F_REQUEST (and NLM_F_ACK unless `noAck`). */
  readonly flags: number;
  readonly body: Buffer;
  /** Sent without NLM_F_ACK and not waited for (nf_tables batch begin/end markers). */
  readonly noAck?: boolean;
}

export interface RawSocket {
  on(event: 'message', fn: (msg: Buffer) => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  send(msg: Uint8Array | Uint8Array[], options?: object, cb?: (err?: Error) => void): void;
  close(): void;
  unref(): void;
}

interface Pending {
  readonly first: number;
  readonly count: number;
  /** Acknowledgements to wait for. */
  readonly expected: number;
  readonly replies: ParsedMessage[][];
  acked: number;
  resolve(v: ParsedMessage[][]): void;
  reject(e: Error): void;
}

export class NetlinkChannel {
  private seq = Math.floor(Math.random() * 0x7fffffff);
  private pending: Pending | undefined;
  private tail: Promise<unknown> = Promise.resolve();

  private constructor(private readonly socket: RawSocket) {
    socket.on('message', (buf) => this.onDatagram(buf));
    socket.on('error', (err) => this.pending?.reject(err));
  }

  /** A channel over a socket the caller made (tests use a fake). */
  static over(socket: RawSocket): NetlinkChannel {
    return new NetlinkChannel(socket);
  }

  /** Opens a socket of `protocol` (0 rtnetlink, 12 netfilter). */
  static async open(protocol: number): Promise<NetlinkChannel> {
    const raw = (await import('netlink/dist/raw.js')) as unknown as { RawNetlinkSocket: new (p: number, o?: object) => RawSocket };
    const socket = new raw.RawNetlinkSocket(protocol, { recvBufferSize: 1 << 20, sendBufferSize: 1 << 20 });
    socket.unref();
    return new NetlinkChannel(socket);
  }

  /** Sends `msgs` (one datagram) and waits for every acknowledgement. */
  request(msgs: readonly OutMessage[], timeoutMs = 5_000): Promise<ParsedMessage[][]> {
    const run = this.tail.then(() => this.send(msgs, timeoutMs));
    this.tail = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.socket.close();
  }

  private send(msgs: readonly OutMessage[], timeoutMs: number): Promise<ParsedMessage[][]> {
    if (msgs.length === 0) return Promise.resolve([]);
    const first = (this.seq = (this.seq + 1) & 0x7fffffff);
    this.seq = (this.seq + msgs.length) & 0x7fffffff;
    const wire = msgs.map((m, i) => message(m.type, NLM_F_REQUEST | (m.noAck === true ? 0 : NLM_F_ACK) | m.flags, first + i, m.body));
    const expected = msgs.filter((m) => m.noAck !== true).length;
    if (expected === 0) {
      return new Promise((resolve, reject) => this.socket.send(wire, {}, (err) => (err !== undefined && err !== null ? reject(err) : resolve(msgs.map(() => [])))));
    }
    return new Promise<ParsedMessage[][]>((resolve, reject) => {
      const timer = setTimeout(() => this.pending?.reject(new NetlinkError(`netlink request unanswered after ${timeoutMs} ms`, ETIMEDOUT, -1)), timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.pending = undefined;
      };
      this.pending = {
        first,
        count: msgs.length,
        expected,
        replies: msgs.map(() => []),
        acked: 0,
        resolve: (v) => (done(), resolve(v)),
        reject: (e) => (done(), reject(e)),
      };
      this.socket.send(wire, {}, (err) => {
        if (err !== undefined && err !== null) this.pending?.reject(err);
      });
    });
  }

  private onDatagram(buf: Buffer): void {
    const p = this.pending;
    if (p === undefined) return;
    for (const m of parseMessages(buf)) {
      const i = m.seq - p.first;
      if (i < 0 || i >= p.count) continue;
      if (m.type === NLMSG_ERROR) {
        const errno = errorOf(m);
        if (errno !== 0) {
          p.reject(new NetlinkError(`netlink request ${i + 1} of ${p.count} refused: ${errnoName(errno)}`, errno, i));
          return;
        }
        p.acked++;
        if (p.acked === p.expected) {
          p.resolve(p.replies);
          return;
        }
      } else if (m.type !== NLMSG_DONE) {
        p.replies[i]?.push(m);
      }
    }
  }
}
