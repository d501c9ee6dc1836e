import { describe, expect, it } from 'vitest';
import { DEFAULT_EVICTION_HARD } from './config.js';
import type { PressureStats } from './host-info.js';
import { evaluatePressure, NO_PRESSURE, withTransitionPeriod } from './pressure.js';

const Mi = 1024 * 1024;
const healthy: PressureStats = {
  memoryAvailableBytes: 2048 * Mi,
  nodefsAvailableBytes: 50,
  nodefsCapacityBytes: 100,
  pidMax: 32768,
  pidsInUse: 1000,
};

describe('evaluatePressure (upstream hard thresholds)', () => {
  it.each<[string, PressureStats, { memory: boolean; disk: boolean; pid: boolean }]>([
    ['healthy host', healthy, NO_PRESSURE],
    ['memory.available below 100Mi', { ...healthy, memoryAvailableBytes: 99 * Mi }, { memory: true, disk: false, pid: false }],
    ['memory.available exactly 100Mi is fine', { ...healthy, memoryAvailableBytes: 100 * Mi }, NO_PRESSURE],
    ['nodefs below 10% available', { ...healthy, nodefsAvailableBytes: 9 }, { memory: false, disk: true, pid: false }],
    ['nodefs at 10% is fine', { ...healthy, nodefsAvailableBytes: 10 }, NO_PRESSURE],
    ['pids nearly exhausted', { ...healthy, pidsInUse: 32000 }, { memory: false, disk: false, pid: true }],
    ['nothing readable never signals', {}, NO_PRESSURE],
    ['zero-size filesystem is ignored', { nodefsAvailableBytes: 0, nodefsCapacityBytes: 0 }, NO_PRESSURE],
  ])('%s', (_name, stats, want) => {
    expect(evaluatePressure(stats, DEFAULT_EVICTION_HARD)).toEqual(want);
  });
});

describe('withTransitionPeriod', () => {
  const period = 300_000;
  it('reports pressure while observed and remembers when', () => {
    const r = withTransitionPeriod({}, { ...NO_PRESSURE, memory: true }, 1000, period);
    expect(r.flags).toEqual({ ...NO_PRESSURE, memory: true });
    expect(r.memory).toEqual({ memory: 1000 });
  });
  it('keeps reporting pressure within the period after the threshold was last crossed', () => {
    const r = withTransitionPeriod({ memory: 1000 }, NO_PRESSURE, 1000 + period - 1, period);
    expect(r.flags.memory).toBe(true);
  });
  it('clears pressure once the period has passed', () => {
    const r = withTransitionPeriod({ memory: 1000 }, NO_PRESSURE, 1000 + period, period);
    expect(r.flags.memory).toBe(false);
    expect(r.memory).toEqual({});
  });
  it('with a zero period follows the observation exactly', () => {
    expect(withTransitionPeriod({}, { ...NO_PRESSURE, disk: true }, 5, 0).flags.disk).toBe(true);
    expect(withTransitionPeriod({ disk: 5 }, NO_PRESSURE, 5, 0).flags.disk).toBe(false);
  });
});
