/**
 * iptables mode behind the proxier's `RuleBackend`: buildIptablesRuleset -> `iptables-restore
 * --noflush` (its batches in order, see ruleset.ts). A full sync first puts the jumps from the
 * built-in chains in place (upstream checks them every sync; a full sync every 30 s is enough to
 * repair someone's `iptables -F`), and after a start or a failure lists the KNODE- chains the kernel
 * holds, so chains of an earlier run that are no longer wanted are deleted. iptables-restore commits
 * table by table, so a failed apply may leave a table half-changed: the next sync is then full.
 */
import type { BackendOptions, BackendSync, RuleBackend } from '../backend.js';
import type { ProxyState } from '../model.js';
import type { IptablesRuleset } from './ir.js';
import type { IptablesOptions } from './ruleset.js';
import { buildIptablesRuleset } from './ruleset.js';
import type { IptablesRunner } from './runner.js';

const lines = (s: string): number => (s === '' ? 0 : s.split('\n').length - 1);

export class IptablesBackend implements RuleBackend {
  readonly mode = 'iptables';
  private applied: IptablesRuleset | undefined;

  constructor(readonly runner: IptablesRunner) {}

  get ready(): boolean {
    return this.applied !== undefined;
  }

  /** The chains as last restored (tests trace through them). */
  get ruleset(): IptablesRuleset | undefined {
    return this.applied;
  }

  forget(): void {
    this.applied = undefined;
  }

  async sync(state: ProxyState, base: BackendOptions, changed: ReadonlySet<string> | undefined): Promise<BackendSync> {
    const previous = this.applied;
    const partial = previous !== undefined && changed !== undefined;
    try {
      let opts: IptablesOptions = base;
      if (previous === undefined) opts = { ...base, existingChains: await this.runner.listChains() };
      if (!partial) await this.runner.ensureJumps();
      const sync = buildIptablesRuleset(state, opts, partial ? changed : undefined, previous);
      await this.runner.apply(sync);
      this.applied = sync.ruleset;
      return { full: sync.full, touched: sync.touched.length, size: lines(sync.filter) + sync.natBatches.reduce((n, b) => n + lines(b), 0) };
    } catch (err) {
      this.applied = undefined;
      throw err;
    }
  }

  cleanup(): Promise<void> {
    this.applied = undefined;
    return this.runner.cleanup();
  }
}
