import { describe, expect, it } from 'vitest';
import { agentCommand } from './agent.js';
import { healthzPortFlag, proxyCommand } from './proxy.js';

describe('knode proxy flags', () => {
  it('--healthz-port takes a port or 0 (off)', () => {
    expect(healthzPortFlag('10256')).toBe(10256);
    expect(healthzPortFlag('0')).toBe(0);
    expect(() => healthzPortFlag('70000')).toThrow(/--healthz-port/);
  });

  it('refuses to run without a kubeconfig, a node name and a node IP', async () => {
    const cmd = proxyCommand().exitOverride();
    await expect(cmd.parseAsync(['--node-name', 'w1'], { from: 'user' })).rejects.toThrow(/needs --kubeconfig, --node-name and --node-ip/);
  });

  it('refuses an unknown mode, naming the choices', async () => {
    const bad = proxyCommand().exitOverride().configureOutput({ writeErr: () => undefined });
    await expect(bad.parseAsync(['--proxy-mode', 'ipvs'], { from: 'user' })).rejects.toThrow(/Allowed choices are nftables, iptables, none/);
    const agent = agentCommand().exitOverride().configureOutput({ writeErr: () => undefined });
    const argv = ['--kubeconfig', '/nope', '--node-name', 'w1', '--node-ip', '10.0.0.11', '--containerd', '/run/c.sock', '--data-dir', '/tmp/x', '--proxy-mode', 'ipvs'];
    await expect(agent.parseAsync(argv, { from: 'user' })).rejects.toThrow(/Allowed choices are nftables, iptables, none/);
  });
});
