/**
 * The CRI container log format and the rendering of its entries for `kubectl logs`. Pure.
 *
 * A log file line is `<RFC3339Nano timestamp> <stdout|stderr> <tags> <message>\n`, tags separated by
 * `:` with the first one `P` (partial: the runtime split a long line) or `F` (full: the message ends
 * a line). A logical line is any run of P entries closed by one F entry.
 *
 * Rendering, as upstream's kubelet: stdout and stderr interleave in file order; partial entries are
 * joined into one line; with `timestamps` each logical line starts with its first entry's timestamp
 * in RFC3339Nano with all nine fraction digits; `since` drops logical lines whose first entry is
 * older; `limitBytes` cuts the output (timestamps included) at that many bytes.
 */
import { LogFormatError } from './errors.js';

export type LogStream = 'stdout' | 'stderr';

export interface CriLogEntry {
  /** ms since the epoch (the fraction beyond ms is kept in `timestamp`). */
  readonly time: number;
  /** The timestamp as the kubelet prints it: nine fraction digits, the zone as written. */
  readonly timestamp: string;
  readonly stream: LogStream;
  readonly partial: boolean;
  readonly message: Buffer;
}

const TIMESTAMP = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** Parses an RFC 3339 timestamp with up to nanosecond precision. */
export function parseLogTimestamp(text: string): { time: number; fixed: string } | undefined {
  const m = TIMESTAMP.exec(text);
  if (!m) return undefined;
  const [, dateTime = '', frac = '', zone = 'Z'] = m;
  const base = Date.parse(`${dateTime}${zone}`);
  if (Number.isNaN(base)) return undefined;
  const nanos = frac.padEnd(9, '0');
  return { time: base + Math.floor(Number(nanos) / 1e6), fixed: `${dateTime}.${nanos}${zone}` };
}

/** Parses one line (without its `\n`); throws LogFormatError naming what is wrong. */
export function parseCriLogLine(line: Buffer): CriLogEntry {
  const s1 = line.indexOf(0x20);
  if (s1 < 0) throw new LogFormatError('timestamp is not found');
  const ts = parseLogTimestamp(line.subarray(0, s1).toString('latin1'));
  if (!ts) throw new LogFormatError(`unexpected timestamp format: ${JSON.stringify(line.subarray(0, s1).toString('utf8'))}`);
  const s2 = line.indexOf(0x20, s1 + 1);
  if (s2 < 0) throw new LogFormatError('stream type is not found');
  const stream = line.subarray(s1 + 1, s2).toString('latin1');
  if (stream !== 'stdout' && stream !== 'stderr') throw new LogFormatError(`unexpected stream type ${JSON.stringify(stream)}`);
  const s3 = line.indexOf(0x20, s2 + 1);
  // a line ending right after the tag carries an empty message
  const tagEnd = s3 < 0 ? line.length : s3;
  const tags = line.subarray(s2 + 1, tagEnd).toString('latin1');
  if (tags === '') throw new LogFormatError('log tag is not found');
  return {
    time: ts.time,
    timestamp: ts.fixed,
    stream,
    partial: tags.split(':')[0] === 'P',
    message: s3 < 0 ? Buffer.alloc(0) : line.subarray(s3 + 1),
  };
}

/** True when the line is a partial (P) entry; unparseable lines count as full ones. */
export function isPartialLine(line: Buffer): boolean {
  try {
    return parseCriLogLine(line).partial;
  } catch {
    return false;
  }
}

export interface RenderOptions {
  readonly timestamps: boolean;
  /** ms since the epoch; older logical lines are dropped. */
  readonly since?: number;
  readonly limitBytes?: number;
}

/**
 * Renders entries one at a time, carrying the state that spans entries (inside a joined line, in a
 * dropped line, bytes left). `done` turns true once limitBytes is reached.
 */
export class LogRenderer {
  private atLineStart = true;
  private skipping = false;
  private remaining: number;

  constructor(private readonly opts: RenderOptions) {
    this.remaining = opts.limitBytes ?? Number.POSITIVE_INFINITY;
  }

  get done(): boolean {
    return this.remaining <= 0;
  }

  /** The bytes this entry adds to the output (possibly none). */
  render(entry: CriLogEntry): Buffer {
    if (this.done) return Buffer.alloc(0);
    const starts = this.atLineStart;
    if (starts) this.skipping = this.opts.since !== undefined && entry.time < this.opts.since;
    this.atLineStart = !entry.partial;
    if (this.skipping) return Buffer.alloc(0);
    const parts: Buffer[] = [];
    if (starts && this.opts.timestamps) parts.push(Buffer.from(`${entry.timestamp} `, 'latin1'));
    parts.push(entry.message);
    if (!entry.partial) parts.push(Buffer.from('\n'));
    let out = Buffer.concat(parts);
    if (out.length > this.remaining) out = out.subarray(0, this.remaining);
    this.remaining -= out.length;
    return out;
  }
}

/** Renders a whole set of lines at once (tests, small files). Unparseable lines are skipped as upstream does. */
export function renderLogLines(lines: readonly Buffer[], opts: RenderOptions): Buffer {
  const r = new LogRenderer(opts);
  const out: Buffer[] = [];
  for (const line of lines) {
    if (r.done) break;
    let entry: CriLogEntry;
    try {
      entry = parseCriLogLine(line);
    } catch {
      continue;
    }
    out.push(r.render(entry));
  }
  return Buffer.concat(out);
}
