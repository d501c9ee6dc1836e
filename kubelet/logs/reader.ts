/**
 * Streams a CRI log file to a sink with kubectl's options: tailLines (logical lines, found by reading
 * the file backwards), since, timestamps, limitBytes, and follow (tail -f: wait for writes with
 * fs.watch plus a 1 s poll, as upstream's logForceCheckPeriod, until the container stops running or
 * the caller aborts). Log rotation is not followed: a rotated file is read to its end.
 *
 * Cost: O(bytes returned) reads in 64 KiB chunks; tail reads only the end of the file it needs.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import { LogRenderer, isPartialLine, parseCriLogLine } from './cri-format.js';
import type { CriLogEntry } from './cri-format.js';
import type { LogReadOptions } from './options.js';

const CHUNK = 64 * 1024;
const NEWLINE = 0x0a;

/** Upstream's logForceCheckPeriod. */
export const LOG_POLL_INTERVAL_MS = 1000;

export interface LogSink {
  /** Resolves once the bytes may be followed by more (backpressure). */
  write(chunk: Buffer): Promise<void> | void;
}

export interface FollowControl {
  /** Whether the container still runs; following ends after it stopped and the file is drained. */
  isRunning(): Promise<boolean>;
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly pollIntervalMs?: number;
}

/** Raw lines from the end of the file backwards, with their start offsets. */
async function* linesBackward(fh: FileHandle, size: number): AsyncGenerator<{ start: number; line: Buffer }> {
  if (size === 0) return;
  const last = Buffer.alloc(1);
  await fh.read(last, 0, 1, size - 1);
  // the region [pos, end) holds bytes not yet split; `end` is where the current line stops
  let carry = Buffer.alloc(0);
  let pos = last[0] === NEWLINE ? size - 1 : size;
  for (;;) {
    const start = Math.max(0, pos - CHUNK);
    const buf = Buffer.alloc(pos - start);
    if (buf.length > 0) await fh.read(buf, 0, buf.length, start);
    let data = Buffer.concat([buf, carry]);
    // `data` runs from `start` to the end of the line being assembled
    for (;;) {
      const nl = data.lastIndexOf(NEWLINE);
      if (nl < 0) break;
      yield { start: start + nl + 1, line: data.subarray(nl + 1) };
      data = data.subarray(0, nl);
    }
    if (start === 0) {
      yield { start: 0, line: data };
      return;
    }
    carry = data;
    pos = start;
  }
}

/**
 * The offset where the last `lines` logical lines begin. A logical line starts at the first raw line
 * or after a full (F) one, so trailing partial entries count as one (still growing) line.
 */
export async function findTailStart(fh: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let count = 0;
  let laterStart: number | undefined;
  for await (const { start, line } of linesBackward(fh, size)) {
    if (laterStart !== undefined && !isPartialLine(line)) {
      count++;
      if (count === lines) return laterStart;
    }
    laterStart = start;
  }
  return 0;
}

/** Resolves on the next change of the file or after the poll interval, whichever comes first. */
class ChangeWaiter {
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;

  constructor(path: string) {
    try {
      this.watcher = watch(path, () => this.wake?.());
      this.watcher.on('error', () => this.close());
    } catch {
      // no inotify (or the file is gone): polling alone still works
      this.watcher = undefined;
    }
  }

  async wait(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
    const timer = new AbortController();
    const onAbort = (): void => timer.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const changed = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
    try {
      await Promise.race([changed, clock.sleep(ms, timer.signal).catch(() => undefined)]);
    } finally {
      this.wake = undefined;
      timer.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/** Writes the log at `path` to `sink`; with `follow` it keeps going until the container stops or `signal` aborts. */
export async function readContainerLog(path: string, opts: LogReadOptions, sink: LogSink, follow?: FollowControl): Promise<void> {
  const fh = await open(path, 'r');
  const following = opts.follow && follow !== undefined;
  const waiter = following ? new ChangeWaiter(path) : undefined;
  try {
    const { size } = await fh.stat();
    let pos = opts.tailLines !== undefined ? await findTailStart(fh, size, opts.tailLines) : 0;
    const renderer = new LogRenderer(opts);
    let pending = Buffer.alloc(0);
    const emit = async (line: Buffer): Promise<void> => {
      let entry: CriLogEntry;
      try {
        entry = parseCriLogLine(line);
      } catch {
        return; // upstream skips lines it cannot parse
      }
      const out = renderer.render(entry);
      if (out.length > 0) await sink.write(out);
    };
    let running = true;
    const buf = Buffer.alloc(CHUNK);
    for (;;) {
      if (renderer.done || follow?.signal?.aborted) return;
      const { bytesRead } = await fh.read(buf, 0, CHUNK, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        let data = Buffer.concat([pending, buf.subarray(0, bytesRead)]);
        let nl: number;
        while ((nl = data.indexOf(NEWLINE)) >= 0 && !renderer.done) {
          await emit(data.subarray(0, nl));
          data = data.subarray(nl + 1);
        }
        pending = Buffer.from(data);
        continue;
      }
      // end of file
      if (!following || !running) {
        // the file is complete: a last line without its newline is still shown
        if (pending.length > 0) await emit(pending);
        return;
      }
      running = await follow.isRunning().catch(() => false);
      if (!running) continue; // drain what the container wrote before it stopped
      await waiter?.wait(follow.clock ?? realClock, follow.pollIntervalMs ?? LOG_POLL_INTERVAL_MS, follow.signal);
    }
  } finally {
    waiter?.close();
    await fh.close();
  }
}
