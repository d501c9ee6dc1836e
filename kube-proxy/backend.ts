/**
 * The seam between the proxy loop (proxier.ts) and a rule language. A backend turns the proxy state
 * into rules and applies them: `nftables/backend.ts` (one `nft -f` transaction) and
 * `iptables/backend.ts` (`iptables-restore --noflush`). The loop decides when to sync and whether
 * the sync is full; the backend remembers what it last applied, so a partial sync can rewrite only
 * the changed Services, and lists the kernel first when it does not know what is there (at start and
 * after a failed apply), so a full sync also deletes what an earlier run left behind.
 */
import type { ProxyState } from './model.js';

/** What the rules depend on besides the state. */
export interface BackendOptions {
  /** This node's addresses (node ports answer on every local one). */
  readonly nodeIPs: readonly string[];
  /** The cluster's pod CIDR: traffic to a cluster IP from outside it is masqueraded. */
  readonly clusterCIDR?: string;
  /** `--masquerade-all`. */
  readonly masqueradeAll?: boolean;
}

export interface BackendSync {
  readonly full: boolean;
  /** Service-port keys whose rules were rewritten. */
  readonly touched: number;
  /** Size of what was applied (nft commands, or restore input lines). */
  readonly size: number;
}

export interface RuleBackend {
  readonly mode: 'nftables' | 'iptables';
  /**
   * Applies the rules for `state`: only the `changed` service-port keys when given and a previous
   * sync is known, everything otherwise. Throws when the kernel refused; then `forget()` is implied.
   */
  sync(state: ProxyState, opts: BackendOptions, changed: ReadonlySet<string> | undefined): Promise<BackendSync>;
  /** Whether a sync has been applied since the start or the last failure. */
  readonly ready: boolean;
  /** Drops what the backend believes is applied; its next sync lists the kernel and is full. */
  forget(): void;
  /** Removes everything this mode created and nothing else. */
  cleanup(): Promise<void>;
}
