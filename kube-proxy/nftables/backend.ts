/**
 * nftables mode behind the proxier's `RuleBackend`: buildRuleset -> renderTransaction -> `nft -f`.
 * Keeps the table last applied as the base of the next partial sync; after a start or a failure it
 * lists the kernel's table instead, so the full sync deletes chains and sets it does not know.
 */
import type { BackendOptions, BackendSync, RuleBackend } from '../backend.js';
import type { ProxyState } from '../model.js';
import type { ProxyRuleset } from './ir.js';
import { renderTransaction } from './render.js';
import type { RulesetOptions } from './ruleset.js';
import { buildRuleset } from './ruleset.js';
import type { NftRunner } from './runner.js';

export class NftBackend implements RuleBackend {
  readonly mode = 'nftables';
  private applied: ProxyRuleset | undefined;

  constructor(readonly runner: NftRunner) {}

  get ready(): boolean {
    return this.applied !== undefined;
  }

  /** The table as last applied (tests trace through it). */
  get ruleset(): ProxyRuleset | undefined {
    return this.applied;
  }

  forget(): void {
    this.applied = undefined;
  }

  async sync(state: ProxyState, base: BackendOptions, changed: ReadonlySet<string> | undefined): Promise<BackendSync> {
    let opts: RulesetOptions;
    if (this.applied === undefined) {
      const listing = await this.runner.list();
      opts = { ...base, existing: { chains: listing.chains, sets: listing.sets } };
    } else {
      opts = { ...base, previous: this.applied };
    }
    const tx = buildRuleset(state, opts, this.applied === undefined ? undefined : changed);
    try {
      await this.runner.apply(renderTransaction(tx));
    } catch (err) {
      this.applied = undefined;
      throw err;
    }
    this.applied = tx.ruleset;
    return { full: tx.full, touched: tx.touched.length, size: tx.commands.length };
  }

  cleanup(): Promise<void> {
    this.applied = undefined;
    return this.runner.cleanup();
  }
}
