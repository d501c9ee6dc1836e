import { describe, expect, it } from 'vitest';
import { FakeExec } from '../lib/exec.js';
import { CniNetworkSetupError } from './errors.js';
import { ipNetnsName, NetExecutor, Rollback, resolveTools } from './executor.js';

const tools = { ip: '/sbin/ip', nft: '/sbin/nft', nsenter: '/bin/nsenter' };

describe('NetExecutor', () => {
  it('runs a whole script in one exec, in the pod namespace through nsenter', async () => {
    const exec = new FakeExec();
    await new NetExecutor(exec, tools).ipBatch(['link set dev eth0 up', 'addr add 10.0.0.2/24 dev eth0'], { netns: '/run/netns/p', what: 'x' });
    expect(exec.calls).toEqual([
      { argv: ['/bin/nsenter', '--net=/run/netns/p', '--', '/sbin/ip', '-batch', '-'], stdin: 'link set dev eth0 up\naddr add 10.0.0.2/24 dev eth0\n' },
    ]);
  });
  it('runs ip -n NAME instead when ip finds the namespace by that name (one exec fewer)', async () => {
    const exec = new FakeExec();
    const net = new NetExecutor(exec, { ...tools, ipNetnsDirs: ['/var/run/netns', '/run/netns'] });
    await net.ipBatch(['link set dev eth0 up'], { netns: '/run/netns/cni-1234', what: 'x' });
    await net.ipJson(['route show default'], { netns: '/var/run/netns/p', what: 'x' });
    await net.ipBatch(['link set dev eth0 up'], { netns: '/proc/4242/ns/net', what: 'x' });
    expect(exec.calls.map((c) => c.argv.join(' '))).toEqual([
      '/sbin/ip -n cni-1234 -batch -',
      '/sbin/ip -n p -j -d -batch -',
      '/bin/nsenter --net=/proc/4242/ns/net -- /sbin/ip -batch -',
    ]);
  });
  it('starts nothing for an empty script', async () => {
    const exec = new FakeExec();
    await new NetExecutor(exec, tools).ipBatch([], { what: 'x' });
    expect(exec.calls).toEqual([]);
  });
  it('turns a failure into code 101 with ip\'s message, and the script in the details', async () => {
    const exec = new FakeExec(() => ({ code: 1, stderr: 'RTNETLINK answers: File exists\nCommand failed -:1\n' }));
    const err = await new NetExecutor(exec, tools).ipBatch(['link add name knode0 type bridge'], { what: 'setting up knode0' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CniNetworkSetupError);
    expect((err as CniNetworkSetupError).cniCode).toBe(101);
    expect((err as Error).message).toBe('setting up knode0 failed: RTNETLINK answers: File exists | Command failed -:1');
    expect((err as CniNetworkSetupError).details).toContain('link add name knode0 type bridge');
  });
});

describe('Rollback', () => {
  it('undoes newest first and keeps going past a failing step', async () => {
    const done: string[] = [];
    const rb = new Rollback();
    rb.push('ip', () => done.push('ip'));
    rb.push('record', () => {
      throw new Error('disk gone');
    });
    rb.push('veth', async () => done.push('veth'));
    expect(await rb.run()).toEqual(['record: disk gone']);
    expect(done).toEqual(['veth', 'ip']);
    expect(await rb.run()).toEqual([]);
  });
});

describe('ipNetnsName', () => {
  const dirs = ['/var/run/netns', '/run/netns'];
  it.each<[string, string | undefined]>([
    ['/run/netns/cni-5f2a', 'cni-5f2a'],
    ['/var/run/netns/knode-t-ab12p0', 'knode-t-ab12p0'],
    ['/run/netns/sub/x', undefined],
    ['/run/netns/', undefined],
    ['/run/netns/..', undefined],
    ['/run/netns/-n', undefined],
    ['/tmp/netns/x', undefined],
    ['/proc/1/ns/net', undefined],
  ])('%s -> %s', (path, name) => {
    expect(ipNetnsName(path, dirs)).toBe(name);
  });
  it('never applies without known directories', () => {
    expect(ipNetnsName('/run/netns/x', [])).toBeUndefined();
  });
});

describe('resolveTools', () => {
  it('falls back to the bare name when a tool is nowhere', () => {
    expect(resolveTools('/nonexistent-dir').ip).toMatch(/(^|\/)ip$/);
  });
});
