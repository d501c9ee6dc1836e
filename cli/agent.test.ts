import { describe, expect, it } from 'vitest';
import { agentCommand, bpfDirFlag, nodeNameFlag, serverFlag, tokenFlag } from './agent.js';

describe('knode agent flags', () => {
  it.each([
    ['--node-name', nodeNameFlag, 'w1', 'W_1', /--node-name must be a lowercase DNS name/],
    ['--token', tokenFlag, 'abcdef.0123456789abcdef', 'abcdef', /--token must look like abcdef\.0123456789abcdef/],
    ['--server', serverFlag, 'https://10.0.0.10:6443', 'http://10.0.0.10:6443', /--server must use https/],
    ['--bpf-dir', bpfDirFlag, '/sys/fs/bpf/knode', '/var/lib/knode/bpf', /--bpf-dir must be a directory under \/sys\/fs\/bpf\/ \(the bpffs mount\), got "\/var\/lib\/knode\/bpf"/],
  ])('%s accepts a good value and refuses a bad one with one sentence', (_flag, parse, good, bad, message) => {
    expect(parse(good)).toBe(good);
    expect(() => parse(bad)).toThrow(message);
  });

  it('--bpf-dir refuses a way out of bpffs and drops a trailing slash', () => {
    expect(() => bpfDirFlag('/sys/fs/bpf/../../etc')).toThrow(/--bpf-dir must be a directory under/);
    expect(bpfDirFlag('/sys/fs/bpf/knode/')).toBe('/sys/fs/bpf/knode');
  });

  it('refuses to join without a way to verify the apiserver', async () => {
    const cmd = agentCommand().exitOverride();
    const argv = ['--server', 'https://10.0.0.10:6443', '--token', 'abcdef.0123456789abcdef', '--node-name', 'w1', '--node-ip', '10.0.0.11', '--containerd', '/run/c.sock', '--data-dir', '/tmp/x'];
    await expect(cmd.parseAsync(argv, { from: 'user' })).rejects.toThrow(/needs --ca-file/);
  });

  it('refuses to start without credentials', async () => {
    const cmd = agentCommand().exitOverride();
    const argv = ['--node-name', 'w1', '--node-ip', '10.0.0.11', '--containerd', '/run/c.sock', '--data-dir', '/tmp/x'];
    await expect(cmd.parseAsync(argv, { from: 'user' })).rejects.toThrow(/needs --server and --token to join, or --kubeconfig/);
  });
});
