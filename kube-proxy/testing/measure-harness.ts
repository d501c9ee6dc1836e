/**
 * What the two measure-sync scripts (nftables/, iptables/) share: their flags, progress on stderr,
 * throwaway network namespaces (always deleted, also on Ctrl-C), a command timed from here (wall) and
 * by /usr/bin/time (its own user+sys CPU, which a busy machine does not inflate), the report rows, and
 * the main loop that prints the load average around the figures.
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { fmtMs, summarize } from '../../bench/lib/stats.js';
import { mustRun, realExec } from '../../lib/exec.js';

export interface MeasureArgs {
  readonly services: readonly number[];
  readonly endpoints: number;
  readonly runs: number;
}

export function parseMeasureArgs(argv: readonly string[]): MeasureArgs {
  const get = (flag: string): string | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const services = (get('--services') ?? '1000,10000').split(',').map(Number);
  const endpoints = Number(get('--endpoints') ?? '2');
  const runs = Number(get('--runs') ?? '3');
  if (services.some((n) => !Number.isInteger(n) || n < 1 || n > 30000)) throw new Error('--services takes counts from 1 to 30000, comma-separated');
  if (!Number.isInteger(endpoints) || endpoints < 1 || endpoints > 100) throw new Error('--endpoints takes 1..100');
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs takes 1..20');
  return { services, endpoints, runs };
}

export const log = (msg: string): void => {
  process.stderr.write(`${msg}\n`);
};

const namespaces = new Set<string>();

export async function createNetns(prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await mustRun(realExec, ['ip', 'netns', 'add', name]);
  namespaces.add(name);
  return name;
}

export async function deleteNetns(name: string): Promise<void> {
  await realExec.run(['ip', 'netns', 'del', name]);
  namespaces.delete(name);
}

export interface Applied {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** `argv` inside namespace `ns` with `stdin`, timed from here (wall) and by /usr/bin/time (CPU). */
export async function timedIn(ns: string, argv: readonly string[], stdin: string, timeoutMs: number): Promise<Applied> {
  const t0 = performance.now();
  const r = await realExec.run(['/usr/bin/time', '-f', 'KPT-TIME %U %S', 'nsenter', `--net=/run/netns/${ns}`, ...argv], { stdin, timeoutMs });
  const wallMs = performance.now() - t0;
  if (r.code !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr.slice(0, 500)}`);
  const m = /KPT-TIME ([\d.]+) ([\d.]+)/.exec(r.stderr);
  return { wallMs, cpuMs: m !== null ? (Number(m[1]) + Number(m[2])) * 1000 : Number.NaN };
}

/** One report line: label, p50 and max in ms, sample count. */
export function row(label: string, samples: readonly number[], width = 34): string {
  const s = summarize(samples);
  return `  ${label.padEnd(width)} p50 ${fmtMs(s.p50).padStart(7)} ms   max ${fmtMs(s.max).padStart(7)} ms   (n=${s.count})`;
}

const load = (): string => loadavg().map((l) => l.toFixed(1)).join(' ');

/** Root check, signal clean-up, `measure` per Service count, the report on stdout; exit 1 on error. */
export function runMeasure(title: string, measure: (n: number, args: MeasureArgs) => Promise<string[]>): void {
  const main = async (): Promise<void> => {
    if (process.getuid?.() !== 0) throw new Error('needs root (network namespaces, nft / iptables)');
    const args = parseMeasureArgs(process.argv.slice(2));
    const onSignal = (): void => {
      for (const ns of namespaces) realExec.run(['ip', 'netns', 'del', ns]).catch(() => undefined);
      setTimeout(() => process.exit(130), 500);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const report: string[] = [`${title}, load average at start ${load()}`];
    try {
      for (const n of args.services) report.push(...(await measure(n, args)));
    } finally {
      for (const ns of [...namespaces]) await deleteNetns(ns);
    }
    report.push(`load average at end ${load()}`);
    process.stdout.write(`${report.join('\n')}\n`);
  };
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
