/**
 * nftables mode behind the proxier's `RuleBackend`: buildRuleset -> renderTransaction -> `nft -f`.
 * Keeps the tables last applied as the base of the next partial sync; after a start or a failure it
 * lists the proxy's tables in the kernel instead, so the full sync deletes chains, sets and service
 * tables it does not know.
 *
 * Partial syncs go straight to the kernel as one nf_tables netlink batch when a `netlink` applier is
 * given and it can encode every command (netlink/encode.ts): nft 1.0.6 would first dump every chain
 * of the ruleset (~0.2-0.4 s at 10,000 Services). Full syncs and anything else keep `nft -f`. A netlink
 * socket acts in the namespace of this process, so the applier is refused when the runner enters
 * another namespace (`NftCli` with `netnsPath`).
 */
import type { BackendOptions, BackendSync, RuleBackend } from '../backend.js';
import type { ProxyState } from '../model.js';
import type { ProxyRuleset } from './ir.js';
import { renderTransaction } from './render.js';
import type { RulesetOptions } from './ruleset.js';
import { buildRuleset } from './ruleset.js';
import { netlinkSupports } from './netlink/encode.js';
import type { NftBatchApplier } from './netlink/socket.js';
import type { NftRunner } from './runner.js';
import { NftCli } from './runner.js';

export interface NftBackendOptions {
  /** Applies partial syncs over netlink in this process's own network namespace. */
  readonly netlink?: NftBatchApplier;
}

export type NftApplyPath = 'nft' | 'netlink';

export class NftBackend implements RuleBackend {
  readonly mode = 'nftables';
  private applied: ProxyRuleset | undefined;
  private readonly netlink: NftBatchApplier | undefined;
  /** How the last sync was applied (tests and the bench check it). */
  lastApplyPath: NftApplyPath | undefined;

  constructor(
    readonly runner: NftRunner,
    opts: NftBackendOptions = {},
  ) {
    if (opts.netlink !== undefined && runner instanceof NftCli && runner.netnsPath !== undefined) {
      throw new Error(`nftables over netlink acts in this process's network namespace, but the runner targets ${runner.netnsPath}: run the proxy inside that namespace or leave netlink off`);
    }
    this.netlink = opts.netlink;
  }

  get ready(): boolean {
    return this.applied !== undefined;
  }

  /** The tables as last applied (tests trace through them). */
  get ruleset(): ProxyRuleset | undefined {
    return this.applied;
  }

  forget(): void {
    this.applied = undefined;
  }

  async sync(state: ProxyState, base: BackendOptions, changed: ReadonlySet<string> | undefined): Promise<BackendSync> {
    let opts: RulesetOptions;
    if (this.applied === undefined) {
      opts = { ...base, existing: await this.runner.list() };
    } else {
      opts = { ...base, previous: this.applied };
    }
    const tx = buildRuleset(state, opts, this.applied === undefined ? undefined : changed);
    try {
      if (!tx.full && this.netlink !== undefined && netlinkSupports(tx.commands)) {
        this.lastApplyPath = 'netlink';
        await this.netlink.applyCommands(tx.commands);
      } else {
        this.lastApplyPath = 'nft';
        await this.runner.apply(renderTransaction(tx));
      }
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
