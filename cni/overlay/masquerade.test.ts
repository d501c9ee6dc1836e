import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import { OverlayApplyError } from './errors.js';
import { MASQUERADE_TABLE, applyMasquerade, masqueradeRuleset } from './masquerade.js';

// IP plan: cluster CIDR 10.244.0.0/16.
const GOLDEN = `table ip knode-overlay
delete table ip knode-overlay
table ip knode-overlay {
  chain postrouting {
    type nat hook postrouting priority srcnat; policy accept;
    ip saddr 10.244.0.0/16 ip daddr 10.244.0.0/16 return
    ip saddr 10.244.0.0/16 ip daddr 224.0.0.0/4 return
    ip saddr 10.244.0.0/16 masquerade
  }
}
`;

describe('masqueradeRuleset', () => {
  it('replaces the whole knode-overlay table: pod-to-pod and multicast kept, the rest masqueraded', () => {
    expect(MASQUERADE_TABLE).toBe('knode-overlay');
    expect(masqueradeRuleset('10.244.0.0/16')).toBe(GOLDEN);
  });
  it.each(['10.244.3.7/16', '10.244.255.255/16'])('canonicalises %s to 10.244.0.0/16', (cidr) => expect(masqueradeRuleset(cidr)).toBe(GOLDEN));
  it('keeps a narrower cluster CIDR as given', () => expect(masqueradeRuleset('10.96.128.0/17')).toContain('ip saddr 10.96.128.0/17 masquerade'));
  it.each(['10.244.0.0', '10.244.0.0/33', 'fd00:10:244::/56', 'junk', ''])('rejects %j, naming it', (cidr) => {
    expect(() => masqueradeRuleset(cidr)).toThrow(OverlayApplyError);
    expect(() => masqueradeRuleset(cidr)).toThrow(`the cluster CIDR ${JSON.stringify(cidr)} is not an IPv4 CIDR`);
  });
});

describe('applyMasquerade', () => {
  it('loads the ruleset in one `nft -f -`', async () => {
    const exec = new FakeExec();
    await applyMasquerade(exec, '10.244.0.0/16');
    expect(exec.calls).toEqual([{ argv: ['nft', '-f', '-'], stdin: GOLDEN }]);
  });
  it('loads it inside the namespace it was given', async () => {
    const exec = new FakeExec();
    await applyMasquerade(exec, '10.244.0.0/16', '/run/netns/knode-ovt-unit');
    expect(exec.calls).toEqual([{ argv: ['nsenter', '--net=/run/netns/knode-ovt-unit', 'nft', '-f', '-'], stdin: GOLDEN }]);
  });
  it('fails with nft\'s stderr', async () => {
    const exec = new FakeExec(() => ({ code: 1, stderr: '/dev/stdin:5:11-14: Error: Could not process rule: No such file or directory\n' }));
    const apply = applyMasquerade(exec, '10.244.0.0/16');
    await expect(apply).rejects.toBeInstanceOf(OverlayApplyError);
    await expect(apply).rejects.toThrow(/nft -f - exited with code 1 loading table ip knode-overlay: .*Could not process rule/);
  });
  it('runs nothing for a bad cluster CIDR', async () => {
    const exec = new FakeExec();
    await expect(applyMasquerade(exec, 'fd00::/64')).rejects.toThrow(OverlayApplyError);
    expect(exec.calls).toEqual([]);
  });
});
