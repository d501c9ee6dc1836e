/**
 * Node pressure from host figures, as upstream's eviction manager decides it (pure):
 * a signal is under pressure when its available amount is below the hard threshold, and the condition
 * it drives stays True for the pressure transition period after the last time the threshold was
 * crossed, so a node hovering around a threshold does not flap (evictionPressureTransitionPeriod).
 * A figure that could not be read never signals pressure.
 */
import type { EvictionThresholds } from './config.js';
import type { PressureStats } from './host-info.js';

export type PressureKind = 'memory' | 'disk' | 'pid';

export type PressureFlags = Readonly<Record<PressureKind, boolean>>;

/** When each signal last crossed its threshold (ms since the epoch). */
export type PressureMemory = Readonly<Partial<Record<PressureKind, number>>>;

export const NO_PRESSURE: PressureFlags = { memory: false, disk: false, pid: false };

/** Which thresholds the figures cross right now. */
export function evaluatePressure(stats: PressureStats, t: EvictionThresholds): PressureFlags {
  const memory = stats.memoryAvailableBytes !== undefined && stats.memoryAvailableBytes < t.memoryAvailableBytes;
  const disk =
    stats.nodefsAvailableBytes !== undefined &&
    stats.nodefsCapacityBytes !== undefined &&
    stats.nodefsCapacityBytes > 0 &&
    (stats.nodefsAvailableBytes / stats.nodefsCapacityBytes) * 100 < t.nodefsAvailablePercent;
  const pid =
    stats.pidMax !== undefined &&
    stats.pidsInUse !== undefined &&
    stats.pidMax > 0 &&
    ((stats.pidMax - stats.pidsInUse) / stats.pidMax) * 100 < t.pidAvailablePercent;
  return { memory, disk, pid };
}

/**
 * Applies the transition period: a kind reports pressure while it crosses now, or crossed less than
 * `periodMs` ago. Returns the flags to report and the updated memory of last crossings.
 */
export function withTransitionPeriod(
  last: PressureMemory,
  observed: PressureFlags,
  nowMs: number,
  periodMs: number,
): { readonly flags: PressureFlags; readonly memory: PressureMemory } {
  const memory: Partial<Record<PressureKind, number>> = { ...last };
  const flags: Record<PressureKind, boolean> = { memory: false, disk: false, pid: false };
  for (const kind of ['memory', 'disk', 'pid'] as const) {
    if (observed[kind]) memory[kind] = nowMs;
    const seen = memory[kind];
    flags[kind] = observed[kind] || (seen !== undefined && nowMs - seen < periodMs);
    if (!flags[kind]) delete memory[kind];
  }
  return { flags, memory };
}
