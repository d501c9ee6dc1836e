/**
 * Flag parsers: each turns a string into a typed value or throws one sentence naming the flag and
 * what was wrong (commander prints it and exits non-zero).
 */
import { InvalidArgumentError } from 'commander';
import { isIP } from 'node:net';
import { parseCidr } from '../control-plane/apiserver/plugins/ip-range.js';

export function portFlag(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1 || n > 65535) throw new InvalidArgumentError(`${name} must be a port number between 1 and 65535, got ${JSON.stringify(v)}.`);
    return n;
  };
}

export function ipFlag(name: string): (v: string) => string {
  return (v) => {
    if (isIP(v) === 0) throw new InvalidArgumentError(`${name} must be an IP address such as 127.0.0.1 or 0.0.0.0, got ${JSON.stringify(v)}.`);
    return v;
  };
}

export function cidrFlag(name: string): (v: string) => string {
  return (v) => {
    try {
      parseCidr(v);
    } catch (err) {
      throw new InvalidArgumentError(`${name}: ${(err as Error).message}.`);
    }
    return v;
  };
}

export function portRangeFlag(name: string): (v: string) => { min: number; max: number } {
  return (v) => {
    const m = /^(\d+)-(\d+)$/.exec(v);
    const min = Number(m?.[1]);
    const max = Number(m?.[2]);
    if (!m || min < 1 || max > 65535 || min > max) throw new InvalidArgumentError(`${name} must be a range like 30000-32767, got ${JSON.stringify(v)}.`);
    return { min, max };
  };
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style durations, as upstream flags take them: `500ms`, `1s`, `5m`, `1h30m`. Returns milliseconds. */
export function parseDuration(text: string): number | undefined {
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
  let total = 0;
  let i = 0;
  if (text === '') return undefined;
  while (i < text.length) {
    re.lastIndex = i;
    const m = re.exec(text);
    if (!m?.[1] || !m[2]) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[m[2]] ?? 0);
    i = re.lastIndex;
  }
  return total;
}

export function durationFlag(name: string): (v: string) => number {
  return (v) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) throw new InvalidArgumentError(`${name} must be a positive duration such as 500ms, 10s or 5m, got ${JSON.stringify(v)}.`);
    return ms;
  };
}

export function positiveIntFlag(name: string): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}.`);
    return n;
  };
}

/**
 * The end of a long-running client command: on SIGTERM/SIGINT abort `abort`, wait for `done` (leases
 * released), run `close`, exit 0. Resolves when `done` does.
 */
export async function runUntilSignal(
  abort: AbortController,
  done: Promise<unknown>,
  log: { info(obj: object, msg: string): void },
  close: () => void,
): Promise<void> {
  const stop = (signal: string): void => {
    if (abort.signal.aborted) return;
    log.info({ signal }, 'shutting down');
    abort.abort();
    void done.finally(() => {
      close();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await done;
}
