/**
 * Who used the CPUs during a phase: the server, the bench itself, and everything else on the machine.
 * The bench shares a small machine with its server (and often with other people's test runs); a phase
 * whose latency doubled while "others" took a core was starved, not slow. Figures are percent of one
 * core over the phase's wall time (200% = two cores), read from /proc/stat, /proc/<pid>/stat and
 * process.cpuUsage(). Linux only; elsewhere every figure is NaN and the report prints '-'.
 */
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';

/** USER_HZ: the unit of /proc times. 100 on every mainstream Linux architecture. */
const TICKS_PER_SECOND = 100;

export interface CpuSnapshot {
  readonly at: number;
  /** Busy seconds of all CPUs together (everything but idle and iowait). */
  readonly machineBusy: number;
  readonly server: number;
  readonly bench: number;
}

export interface CpuShare {
  readonly wallSeconds: number;
  readonly serverPercent: number;
  readonly benchPercent: number;
  readonly othersPercent: number;
}

/** Busy seconds from the first (aggregate) line of /proc/stat. */
export function parseMachineBusy(procStat: string): number {
  const line = procStat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return Number.NaN;
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal (guest time is already inside user/nice)
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / TICKS_PER_SECOND;
}

/** utime + stime seconds from /proc/<pid>/stat (the command name may contain spaces and parens). */
export function parseProcessCpu(pidStat: string): number {
  const rest = pidStat.slice(pidStat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ", field 3 (state) is rest[0], so utime (14) and stime (15) are rest[11], rest[12].
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return (utime + stime) / TICKS_PER_SECOND;
}

async function readOr(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

export async function cpuSnapshot(serverPid: number): Promise<CpuSnapshot> {
  const [stat, pidStat] = await Promise.all([readOr('/proc/stat'), readOr(`/proc/${serverPid}/stat`)]);
  const u = process.cpuUsage();
  return {
    at: performance.now(),
    machineBusy: stat === '' ? Number.NaN : parseMachineBusy(stat),
    server: pidStat === '' ? Number.NaN : parseProcessCpu(pidStat),
    bench: (u.user + u.system) / 1e6,
  };
}

export function cpuShare(before: CpuSnapshot, after: CpuSnapshot): CpuShare {
  const wall = (after.at - before.at) / 1000;
  const pct = (seconds: number): number => (wall > 0 ? (100 * seconds) / wall : Number.NaN);
  const server = after.server - before.server;
  const bench = after.bench - before.bench;
  const machine = after.machineBusy - before.machineBusy;
  return {
    wallSeconds: wall,
    serverPercent: pct(server),
    benchPercent: pct(bench),
    // Tick granularity can make this slightly negative on a quiet machine.
    othersPercent: Math.max(0, pct(machine - server - bench)),
  };
}

/** Records the CPU share of each named phase it runs, in order. */
export class CpuMeter {
  private readonly rows: Array<{ readonly phase: string; readonly share: CpuShare }> = [];

  constructor(private readonly serverPid: number) {}

  async measure<T>(phase: string, fn: () => Promise<T>): Promise<T> {
    const before = await cpuSnapshot(this.serverPid);
    const result = await fn();
    this.rows.push({ phase, share: cpuShare(before, await cpuSnapshot(this.serverPid)) });
    return result;
  }

  results(): ReadonlyArray<{ readonly phase: string; readonly share: CpuShare }> {
    return [...this.rows];
  }
}
