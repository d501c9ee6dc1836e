/**
 * Sends one nf_tables batch on a NETLINK_NETFILTER socket (the `netlink` package's raw socket) and
 * waits for the kernel's answer to each of its messages. The kernel applies a batch as one
 * transaction: any refused message aborts all of it (nfnetlink_rcv_batch keeps going only to report
 * every error), so on an error nothing was applied and the caller can retry with a full sync.
 *
 * A netlink socket acts in the network namespace of the PROCESS that opens it: use this only from a
 * process running inside the node's namespace (the agent in the lab, a child started with `ip netns
 * exec`), never from the machine's root namespace on someone else's behalf.
 */
import { errnoName } from '../../../lib/netlink/message.js';
import { NftApplyError } from '../../errors.js';
import type { NftCommand } from '../ir.js';
import { renderTransaction } from '../render.js';
import { NETLINK_NETFILTER, NLMSG_ERROR } from './constants.js';
import { encodeBatchIndexed } from './encode.js';

/** Applies partial-sync commands through netlink (all or nothing). */
export interface NftBatchApplier {
  applyCommands(commands: readonly NftCommand[]): Promise<void>;
}

export { errnoName };

interface RawSocket {
  on(event: 'message', fn: (msg: Buffer) => void): unknown;
  on(event: 'error', fn: (err: Error & { code?: string }) => void): unknown;
  send(msg: Uint8Array, options: object, cb: (err?: (Error & { code?: string }) | null) => void): void;
  close(): void;
}

/**
 * The `netlink` package's raw socket only, loaded on first use: its index also loads generated
 * rtnetlink/nl80211/wireguard structures (~8 MiB of RSS in the agent) that nf_tables does not need.
 */
let rawModule: Promise<{ RawNetlinkSocket: new (protocol: number, opts: object) => RawSocket }> | undefined;
const loadRaw = (): NonNullable<typeof rawModule> => (rawModule ??= import('netlink/dist/raw.js') as unknown as NonNullable<typeof rawModule>);

export interface NftNetlinkOptions {
  /** Give up waiting for the kernel's answers after this long (default 10 s). */
  readonly timeoutMs?: number;
}

interface Answer {
  readonly seq: number;
  readonly errno: number;
}

/** NLMSG_ERROR messages (ACKs have errno 0) in one datagram. */
export function parseAnswers(buf: Buffer): Answer[] {
  const out: Answer[] = [];
  let o = 0;
  while (o + 16 <= buf.length) {
    const len = buf.readUInt32LE(o);
    if (len < 16 || o + len > buf.length) break;
    if (buf.readUInt16LE(o + 4) === NLMSG_ERROR && len >= 36) out.push({ seq: buf.readUInt32LE(o + 16 + 4 + 8), errno: Math.abs(buf.readInt32LE(o + 16)) });
    o += (len + 3) & ~3;
  }
  return out;
}

let nextSeq = (Date.now() & 0x3fffffff) >>> 0;

export class NftNetlink implements NftBatchApplier {
  private readonly timeoutMs: number;

  constructor(opts: NftNetlinkOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  async applyCommands(commands: readonly NftCommand[]): Promise<void> {
    const seq = nextSeq;
    const batch = encodeBatchIndexed(commands, seq);
    nextSeq = (batch.endSeq + 1) & 0x3fffffff;
    const pending = new Map(batch.messages.map((m) => [m.seq, m.command]));
    const errors: { command: number; errno: number }[] = [];
    let batchErrno = 0;
    const { RawNetlinkSocket } = await loadRaw();
    const sock = new RawNetlinkSocket(NETLINK_NETFILTER, { recvBufferSize: 1 << 20, sendBufferSize: Math.max(1 << 20, batch.buffer.length * 2) });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new NftApplyError(`no answer from the kernel to ${pending.size} of ${batch.messages.length} nf_tables messages after ${this.timeoutMs} ms`, '')), this.timeoutMs);
        const finish = (err?: Error): void => {
          clearTimeout(timer);
          if (err !== undefined) reject(err);
          else resolve();
        };
        sock.on('error', (err) => finish(new NftApplyError(`nf_tables netlink socket failed: ${err.code ?? ''} (${err.message}); the batch's outcome is unknown`, '', { cause: err })));
        sock.on('message', (msg) => {
          for (const a of parseAnswers(msg)) {
            const command = pending.get(a.seq);
            if (command !== undefined) {
              pending.delete(a.seq);
              if (a.errno !== 0) errors.push({ command, errno: a.errno });
            } else if (a.errno !== 0 && (a.seq === batch.beginSeq || a.seq === batch.endSeq)) {
              batchErrno = a.errno;
            }
          }
          if (pending.size === 0 || batchErrno !== 0) finish();
        });
        sock.send(batch.buffer, {}, (err) => {
          if (err !== undefined && err !== null) finish(new NftApplyError(`sending the nf_tables batch failed: ${err.code ?? ''} (${err.message}); nothing was applied`, '', { cause: err }));
        });
      });
    } finally {
      sock.close();
    }
    if (batchErrno !== 0) throw new NftApplyError(`the kernel refused the nf_tables batch: ${errnoName(batchErrno)}; nothing was applied`, errnoName(batchErrno));
    const first = errors.sort((a, b) => a.command - b.command)[0];
    if (first !== undefined) {
      const cmd = commands[first.command];
      const text = cmd !== undefined ? (renderTransaction({ commands: [cmd] }).split('\n')[0] ?? '') : '';
      const more = errors.length > 1 ? ` (and ${errors.length - 1} more refused)` : '';
      const detail = `${errnoName(first.errno)} (${osErrorText(first.errno)}) on command ${first.command + 1} of ${commands.length}: ${text}`;
      throw new NftApplyError(`the kernel refused the nf_tables batch, nothing was applied: ${detail}${more}`, detail);
    }
  }
}

function osErrorText(errno: number): string {
  const known: Record<string, string> = { ENOENT: 'no such chain, set or element', EEXIST: 'already exists', EBUSY: 'still in use', EINVAL: 'invalid argument', EPERM: 'not permitted', ENOSPC: 'no space' };
  return known[errnoName(errno)] ?? 'refused';
}
