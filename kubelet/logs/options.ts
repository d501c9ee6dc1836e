/**
 * PodLogOptions as the kubelet's /containerLogs endpoint receives them in the query string
 * (follow, previous, timestamps, tailLines or the legacy `tail`, sinceSeconds, sinceTime, limitBytes),
 * decoded and validated as upstream's ValidatePodLogOptions does, then turned into read options
 * (since resolved against `now`, the later of sinceSeconds and sinceTime winning). Pure.
 */
import { LogOptionsError } from './errors.js';

export interface PodLogOptions {
  readonly follow: boolean;
  readonly previous: boolean;
  readonly timestamps: boolean;
  readonly tailLines?: number;
  readonly sinceSeconds?: number;
  /** RFC 3339 */
  readonly sinceTime?: string;
  readonly limitBytes?: number;
}

export interface LogReadOptions {
  readonly follow: boolean;
  readonly timestamps: boolean;
  /** Lines from the end; absent means the whole file. */
  readonly tailLines?: number;
  /** ms since the epoch */
  readonly since?: number;
  readonly limitBytes?: number;
}

/** Go's strconv.ParseBool, which the parameter codec uses. */
function parseBool(name: string, v: string | null): boolean {
  if (v === null) return false;
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False', ''].includes(v)) return false;
  throw new LogOptionsError(400, `unable to decode query parameter ${name}=${JSON.stringify(v)}: not a boolean`);
}

function parseInt64(name: string, v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw new LogOptionsError(400, `unable to decode query parameter ${name}=${JSON.stringify(v)}: not an integer`);
  return Number(v);
}

/** Decodes and validates the query; throws LogOptionsError (400 undecodable, 422 invalid). */
export function parsePodLogQuery(query: URLSearchParams): PodLogOptions {
  let tail = query.get('tailLines');
  // upstream still honours the old `tail` parameter, where `all` means no limit
  const legacy = query.get('tail');
  if (legacy !== null && legacy !== '') tail = legacy === 'all' ? null : legacy;
  const sinceTime = query.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '' && Number.isNaN(Date.parse(sinceTime))) {
    throw new LogOptionsError(400, `unable to decode query parameter sinceTime=${JSON.stringify(sinceTime)}: not an RFC 3339 time`);
  }
  const opts: PodLogOptions = {
    follow: parseBool('follow', query.get('follow')),
    previous: parseBool('previous', query.get('previous')),
    timestamps: parseBool('timestamps', query.get('timestamps')),
    ...optional('tailLines', parseInt64('tailLines', tail)),
    ...optional('sinceSeconds', parseInt64('sinceSeconds', query.get('sinceSeconds'))),
    ...(sinceTime !== null && sinceTime !== '' ? { sinceTime } : {}),
    ...optional('limitBytes', parseInt64('limitBytes', query.get('limitBytes'))),
  };
  const problems = validatePodLogOptions(opts);
  if (problems.length > 0) throw new LogOptionsError(422, problems.join(', '));
  return opts;
}

function optional<K extends string>(key: K, v: number | undefined): { [P in K]?: number } {
  return (v === undefined ? {} : { [key]: v }) as { [P in K]?: number };
}

/** Upstream's ValidatePodLogOptions, as `field: Invalid value: x: why` sentences. */
export function validatePodLogOptions(o: PodLogOptions): string[] {
  const out: string[] = [];
  if (o.tailLines !== undefined && o.tailLines < 0) out.push(`tailLines: Invalid value: ${o.tailLines}: must be greater than or equal to 0`);
  if (o.limitBytes !== undefined && o.limitBytes < 1) out.push(`limitBytes: Invalid value: ${o.limitBytes}: must be greater than 0`);
  if (o.sinceSeconds !== undefined && o.sinceTime !== undefined) out.push('at most one of `sinceTime` or `sinceSeconds` may be specified');
  else if (o.sinceSeconds !== undefined && o.sinceSeconds < 1) out.push(`sinceSeconds: Invalid value: ${o.sinceSeconds}: must be greater than 0`);
  return out;
}

/** Read options at `now`: sinceSeconds becomes an absolute time; a later sinceTime wins. */
export function toReadOptions(o: PodLogOptions, now: Date): LogReadOptions {
  let since: number | undefined;
  if (o.sinceSeconds !== undefined) since = now.getTime() - o.sinceSeconds * 1000;
  if (o.sinceTime !== undefined) {
    const t = Date.parse(o.sinceTime);
    if (since === undefined || t > since) since = t;
  }
  return {
    follow: o.follow,
    timestamps: o.timestamps,
    ...(o.tailLines !== undefined ? { tailLines: o.tailLines } : {}),
    ...(since !== undefined ? { since } : {}),
    ...(o.limitBytes !== undefined ? { limitBytes: o.limitBytes } : {}),
  };
}
