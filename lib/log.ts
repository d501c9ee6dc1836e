/**
 * Structured logs (JSON lines on stderr, via pino). Components take a `Logger` and add their own
 * fields with `child({ component: 'apiserver' })`; the level comes from KNODE_LOG_LEVEL (default info).
 */
import { pino } from 'pino';
import type { Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

export function createLogger(fields: Record<string, unknown> = {}, level = process.env['KNODE_LOG_LEVEL'] ?? 'info'): Logger {
  return pino({ level, base: { pid: process.pid, ...fields } }, pino.destination({ fd: 2, sync: false }));
}

/** A logger that discards everything, for unit tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
