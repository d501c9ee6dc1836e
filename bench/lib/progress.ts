/**
 * Progress on stderr (stdout is kept for the figures): one line when a phase starts, a count at most
 * once a second while it runs (rewritten in place on a terminal, appended otherwise), one line when it
 * ends. Ticks are counted, not printed, so the cost per op is an increment and a clock read.
 */
import { performance } from 'node:perf_hooks';

export class Progress {
  private name = '';
  private total = 0;
  private count = 0;
  private started = 0;
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = out.isTTY === true;
  }

  /** A free-form step ("starting etcd", "opening 100 watches"). */
  note(message: string): void {
    this.out.write(`[bench] ${message}\n`);
  }

  start(name: string, total: number): void {
    this.name = name;
    this.total = total;
    this.count = 0;
    this.started = performance.now();
    this.lastPrint = this.started;
    this.out.write(`[bench] ${name}: ${total} ops\n`);
  }

  tick(n = 1): void {
    this.count += n;
    const now = performance.now();
    if (now - this.lastPrint >= 1000) {
      this.lastPrint = now;
      const rate = this.count / ((now - this.started) / 1000);
      const line = `[bench]   ${this.name}: ${this.count}/${this.total} (${rate.toFixed(0)}/s)`;
      this.out.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
    }
  }

  done(): void {
    const secs = (performance.now() - this.started) / 1000;
    if (this.tty) this.out.write('\r\x1b[K');
    this.out.write(`[bench]   ${this.name}: ${this.count}/${this.total} in ${secs.toFixed(1)} s\n`);
  }
}
