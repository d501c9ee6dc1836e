import { describe, expect, it } from 'vitest';
import { cpuShare, parseMachineBusy, parseProcessCpu } from './cpu-accounting.js';

describe('parseMachineBusy', () => {
  it('sums user, nice, system, irq, softirq and steal of the aggregate line, leaving idle and iowait out', () => {
    const stat = 'cpu  1000 50 200 9000 300 10 20 5 0 0\ncpu0 500 25 100 4500 150 5 10 2 0 0\nintr 1\n';
    expect(parseMachineBusy(stat)).toBeCloseTo((1000 + 50 + 200 + 10 + 20 + 5) / 100);
  });

  it('is NaN without an aggregate line', () => {
    expect(parseMachineBusy('intr 1\n')).toBeNaN();
  });
});

describe('parseProcessCpu', () => {
  it('adds utime and stime even when the command name holds spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 12345 1000 200';
    expect(parseProcessCpu(stat)).toBeCloseTo(3);
  });
});

describe('cpuShare', () => {
  it('reports each party in percent of one core over the wall time, the rest as others', () => {
    const share = cpuShare({ at: 0, machineBusy: 10, server: 1, bench: 2 }, { at: 2000, machineBusy: 13, server: 2.5, bench: 3 });
    expect(share).toEqual({ wallSeconds: 2, serverPercent: 75, benchPercent: 50, othersPercent: 25 });
  });

  it('never reports a negative share for others (tick rounding on a quiet machine)', () => {
    const share = cpuShare({ at: 0, machineBusy: 0, server: 0, bench: 0 }, { at: 1000, machineBusy: 0.99, server: 0.5, bench: 0.5 });
    expect(share.othersPercent).toBe(0);
  });
});
