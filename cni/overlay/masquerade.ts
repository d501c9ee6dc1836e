/**
 * Pod traffic that leaves the cluster CIDR is masqueraded (source = the node's address on the way
 * out); pod-to-pod traffic never is, so pods see each other's real IPs. One nftables table of our own,
 * `ip knode-overlay`, replaced as a whole in one `nft -f -` transaction (add, delete, define: atomic,
 * and idempotent on restart), never touching any other table:
 *
 *   table ip knode-overlay {
 *     chain postrouting {
 *       type nat hook postrouting priority srcnat; policy accept;
 *       ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return      pod -> pod (any node): real IPs
 *       ip saddr 10.244.0.0/16 ip daddr 224.0.0.0/4 return        multicast stays local
 *       ip saddr 10.244.0.0/16 masquerade                          pod -> anything else
 *     }
 *   }
 *
 * Service traffic is DNATed before postrouting, so a pod reaching a Service whose endpoint is a pod
 * matches the first rule and keeps its IP too.
 */
import type { Exec } from '../../lib/exec.js';
import { formatArgv } from '../../lib/exec.js';
import { OverlayApplyError } from './errors.js';
import { canonicalCIDR } from './plan.js';

export const MASQUERADE_TABLE = 'knode-overlay';

/** The `nft -f` text that (re)defines the table for `clusterCIDR` (must be an IPv4 CIDR). */
export function masqueradeRuleset(clusterCIDR: string): string {
  const cidr = canonicalCIDR(clusterCIDR);
  if (cidr === undefined) throw new OverlayApplyError(`the cluster CIDR ${JSON.stringify(clusterCIDR)} is not an IPv4 CIDR`);
  return [
    `table ip ${MASQUERADE_TABLE}`,
    `delete table ip ${MASQUERADE_TABLE}`,
    `table ip ${MASQUERADE_TABLE} {`,
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    ip saddr ${cidr} ip daddr ${cidr} return`,
    `    ip saddr ${cidr} ip daddr 224.0.0.0/4 return`,
    `    ip saddr ${cidr} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Loads the table in one transaction, in `netns` when given. */
export async function applyMasquerade(exec: Exec, clusterCIDR: string, netns?: string): Promise<void> {
  const argv = [...(netns !== undefined ? ['nsenter', `--net=${netns}`] : []), 'nft', '-f', '-'];
  const r = await exec.run(argv, { stdin: masqueradeRuleset(clusterCIDR) });
  if (r.code !== 0) throw new OverlayApplyError(`${formatArgv(argv)} exited with code ${r.code} loading table ip ${MASQUERADE_TABLE}: ${r.stderr.trim()}`);
}
