/**
 * Step-by-step progress on stderr, one line per step:
 *   [3/9] starting containerd on w1 ... ok (0.4s)
 *   [8/9] starting knode agent on w1 ... skipped (`knode agent` is not a command of this build yet)
 * The title is written when the step starts, so a hanging step shows which one hangs.
 */
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';

export interface StepReport {
  ok(detail?: string): void;
  skipped(reason: string): void;
  failed(err: unknown): void;
}

export interface Progress {
  step(index: number, total: number, title: string): StepReport;
  info(line: string): void;
}

export class StreamProgress implements Progress {
  constructor(
    private readonly write: (text: string) => void,
    private readonly clock: Clock = realClock,
  ) {}

  step(index: number, total: number, title: string): StepReport {
    const start = this.clock.now().getTime();
    this.write(`[${index}/${total}] ${title} ... `);
    const took = (): string => `${((this.clock.now().getTime() - start) / 1000).toFixed(1)}s`;
    return {
      ok: (detail) => this.write(`ok (${took()}${detail ? `, ${detail}` : ''})\n`),
      skipped: (reason) => this.write(`skipped (${reason})\n`),
      failed: (err) => this.write(`FAILED (${took()}): ${err instanceof Error ? err.message : String(err)}\n`),
    };
  }

  info(line: string): void {
    this.write(`${line}\n`);
  }
}

/** Collects lines; for tests. */
export class RecordingProgress implements Progress {
  readonly lines: string[] = [];
  step(index: number, total: number, title: string): StepReport {
    const head = `[${index}/${total}] ${title}`;
    return {
      ok: () => this.lines.push(`${head} ok`),
      skipped: (reason) => this.lines.push(`${head} skipped: ${reason}`),
      failed: (err) => this.lines.push(`${head} failed: ${err instanceof Error ? err.message : String(err)}`),
    };
  }
  info(line: string): void {
    this.lines.push(line);
  }
}
