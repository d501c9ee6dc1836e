/**
 * Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and ranks functions by self time, so the
 * report can name the server's hot spots without opening DevTools. Self time of a sample is the gap to
 * the next sample (V8's timeDeltas), summed per function (same name, script and line); idle time is
 * left out of the ranking and percentages are of busy time.
 */
import { readFile } from 'node:fs/promises';

export interface HotFunction {
  readonly functionName: string;
  /** `file:line` with the repository-relative path where possible. */
  readonly location: string;
  readonly selfMs: number;
  /** Share of the non-idle profile time. */
  readonly selfPercent: number;
}

export interface ProfileSummary {
  readonly totalMs: number;
  readonly idleMs: number;
  readonly hot: readonly HotFunction[];
}

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function isProfile(v: unknown): v is CpuProfile {
  if (typeof v !== 'object' || v === null) return false;
  const p = v as Record<string, unknown>;
  return Array.isArray(p['nodes']) && Array.isArray(p['samples']) && Array.isArray(p['timeDeltas']);
}

function shortUrl(url: string): string {
  if (url === '') return '';
  const noScheme = url.replace(/^file:\/\//, '');
  const nm = noScheme.lastIndexOf('/node_modules/');
  if (nm >= 0) return noScheme.slice(nm + 1);
  const dist = noScheme.lastIndexOf('/dist/');
  if (dist >= 0) return noScheme.slice(dist + 1);
  return noScheme;
}

/** Ranks functions of `profile` by self time; returns the top `limit`. */
export function summarizeProfile(profile: CpuProfile, limit = 15): ProfileSummary {
  const byId = new Map<number, CallFrame>();
  for (const n of profile.nodes) byId.set(n.id, n.callFrame);
  const selfUs = new Map<string, { frame: CallFrame; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  const n = profile.samples.length;
  for (let i = 0; i < n; i++) {
    // timeDeltas[i] is the gap before sample i, so the time spent in sample i is the next delta.
    const us = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    const frame = byId.get(profile.samples[i] ?? -1);
    if (frame === undefined) continue;
    totalUs += us;
    if (frame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${frame.functionName}\u0000${frame.url}\u0000${frame.lineNumber}`;
    const cur = selfUs.get(key);
    if (cur !== undefined) cur.us += us;
    else selfUs.set(key, { frame, us });
  }
  const busyUs = totalUs - idleUs;
  const hot = [...selfUs.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, limit)
    .map(({ frame, us }) => ({
      functionName: frame.functionName === '' ? '(anonymous)' : frame.functionName,
      location: frame.url === '' ? '' : `${shortUrl(frame.url)}:${frame.lineNumber + 1}`,
      selfMs: us / 1000,
      selfPercent: busyUs > 0 ? (100 * us) / busyUs : 0,
    }));
  return { totalMs: totalUs / 1000, idleMs: idleUs / 1000, hot };
}

export async function readCpuProfile(path: string): Promise<CpuProfile> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
  if (!isProfile(parsed)) throw new Error(`${path} is not a V8 CPU profile (no nodes/samples/timeDeltas)`);
  return parsed;
}
