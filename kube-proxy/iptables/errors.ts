/**
 * iptables mode's errors, each with a stable code (kube-proxy/errors.ts holds the common base).
 */
import { KubeProxyError } from '../errors.js';
import type { Table } from './ir.js';

/** `iptables-restore` refused a table's input; nothing of that table was applied (one commit per table). */
export class IptablesRestoreError extends KubeProxyError {
  readonly table: Table | 'all';
  /** iptables-restore's own message (it names the offending line). */
  readonly stderr: string;
  constructor(table: Table | 'all', message: string, stderr: string, options?: { cause?: unknown }) {
    super('ERR_PROXY_IPTABLES_RESTORE', message, options);
    this.table = table;
    this.stderr = stderr;
  }
}

/** An `iptables` or `iptables-save` call failed (a jump could not be checked or inserted, a listing failed). */
export class IptablesCommandError extends KubeProxyError {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  constructor(argv: readonly string[], exitCode: number, stderr: string) {
    super('ERR_PROXY_IPTABLES', `${argv.join(' ')} failed (exit ${exitCode}): ${stderr.trim().split('\n').slice(0, 2).join(' | ')}`);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
