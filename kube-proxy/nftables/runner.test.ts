import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import { NftApplyError, NftListError } from '../errors.js';
import { cleanupScript, FakeNftRunner, NftCli } from './runner.js';

const json = (...objs: object[]): string => JSON.stringify({ nftables: [{ metainfo: { version: '1.0.6' } }, ...objs] });

describe('NftCli', () => {
  it('applies a script through `nft -f -` on stdin, inside the namespace when one is given', async () => {
    const exec = new FakeExec();
    await new NftCli({ exec }).apply('add table ip knode-proxy\n');
    await new NftCli({ exec, netnsPath: '/run/netns/n1' }).apply('flush table ip knode-proxy\n');
    expect(exec.calls).toEqual([
      { argv: ['nft', '-f', '-'], stdin: 'add table ip knode-proxy\n' },
      { argv: ['nsenter', '--net=/run/netns/n1', 'nft', '-f', '-'], stdin: 'flush table ip knode-proxy\n' },
    ]);
  });

  it('a refused transaction is an NftApplyError that keeps nft’s message', async () => {
    const stderr = 'Error: Could not process rule: No such file or directory\nadd rule ip knode-proxy nope accept\n              ^^^^\n';
    const exec = new FakeExec(() => ({ code: 1, stderr }));
    const err = await new NftCli({ exec }).apply('add rule ip knode-proxy nope accept\n').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NftApplyError);
    expect(err).toMatchObject({ code: 'ERR_PROXY_NFT_APPLY', stderr });
    expect((err as Error).message).toContain('No such file or directory');
  });

  const listing = (): FakeExec =>
    new FakeExec(({ argv }) => {
      const what = argv.slice(-2).join(' ');
      const tables = ['other', 'knode-proxy', 'knode-proxy-svc-1', 'knode-proxy-svc-0', 'knode-proxy-svc-x', 'knode-proxy-old'];
      if (what === 'tables ip') return { stdout: json(...tables.map((name) => ({ table: { family: 'ip', name } }))) };
      if (what === 'chains ip') {
        return { stdout: json({ chain: { table: 'knode-proxy', name: 'masquerading' } }, { chain: { table: 'knode-proxy-svc-1', name: 'services' } }, { chain: { table: 'other', name: 'x' } }) };
      }
      if (what === 'sets ip') return { stdout: json({ set: { table: 'knode-proxy-svc-0', name: 'affinity-a' } }, { set: { table: 'other', name: 'y' } }) };
      if (argv.includes('-f')) return {};
      return { code: 1 };
    });

  it('lists the chains and sets of its own tables only (main and knode-proxy-svc-N)', async () => {
    const exec = listing();
    expect(await new NftCli({ exec }).list()).toEqual([
      { name: 'knode-proxy', chains: ['masquerading'], sets: [] },
      { name: 'knode-proxy-svc-0', chains: [], sets: ['affinity-a'] },
      { name: 'knode-proxy-svc-1', chains: ['services'], sets: [] },
    ]);
    expect(exec.commands()).toEqual(['nft -j list tables ip', 'nft -j list chains ip', 'nft -j list sets ip']);
  });

  it('lists nothing further when it has no table; bad JSON is an NftListError', async () => {
    const none = new FakeExec(() => ({ stdout: json() }));
    expect(await new NftCli({ exec: none }).list()).toEqual([]);
    expect(none.calls).toHaveLength(1);
    const bad = new FakeExec(() => ({ stdout: 'not json' }));
    await expect(new NftCli({ exec: bad }).list()).rejects.toBeInstanceOf(NftListError);
  });

  it('cleanup deletes its tables in one transaction (the main one added first, so it cannot be missing)', async () => {
    const exec = listing();
    await new NftCli({ exec }).cleanup();
    const script = 'add table ip knode-proxy\ndelete table ip knode-proxy\ndelete table ip knode-proxy-svc-0\ndelete table ip knode-proxy-svc-1\n';
    expect(exec.calls.at(-1)).toEqual({ argv: ['nft', '-f', '-'], stdin: script });
    expect(cleanupScript([])).toBe('add table ip knode-proxy\ndelete table ip knode-proxy\n');
    const empty = new FakeExec(({ argv }) => (argv.includes('-f') ? {} : { stdout: json() }));
    await new NftCli({ exec: empty }).cleanup();
    expect(empty.calls.at(-1)).toEqual({ argv: ['nft', '-f', '-'], stdin: cleanupScript([]) });
  });
});

describe('FakeNftRunner keeps nft’s semantics', () => {
  const base = 'add table ip knode-proxy\nadd chain ip knode-proxy a\nadd chain ip knode-proxy b\nadd map ip knode-proxy m { type inet_proto . inet_service : verdict ; }\n';

  it('applies all or nothing', async () => {
    const nft = new FakeNftRunner();
    await nft.apply(base);
    const before = nft.dump();
    await expect(nft.apply('add rule ip knode-proxy a goto b\nadd rule ip knode-proxy missing accept\n')).rejects.toBeInstanceOf(NftApplyError);
    expect(nft.dump()).toBe(before);
  });

  it.each([
    ['deleting a missing chain', 'delete chain ip knode-proxy zzz'],
    ['flushing a missing chain', 'flush chain ip knode-proxy zzz'],
    ['a rule jumping to a missing chain', 'add rule ip knode-proxy a jump zzz'],
    ['a rule using a missing set', 'add rule ip knode-proxy a ip saddr @zzz goto b'],
    ['deleting a chain that still has rules', 'add rule ip knode-proxy b accept\ndelete chain ip knode-proxy b'],
    ['deleting a chain a rule refers to', 'add rule ip knode-proxy a goto b\ndelete chain ip knode-proxy b'],
    ['deleting a chain a map element refers to', 'add element ip knode-proxy m { tcp . 80 : goto b }\ndelete chain ip knode-proxy b'],
    ['re-adding a map key with another verdict', 'add element ip knode-proxy m { tcp . 80 : goto a }\nadd element ip knode-proxy m { tcp . 80 : goto b }'],
    ['deleting a missing element', 'delete element ip knode-proxy m { tcp . 80 }'],
    ['deleting a set a rule uses', 'add set ip knode-proxy s { type ipv4_addr ; }\nadd rule ip knode-proxy a update @s { ip saddr }\ndelete set ip knode-proxy s'],
    ['flushing a missing table', 'flush table ip nope'],
  ])('refuses %s', async (_name, script) => {
    const nft = new FakeNftRunner();
    await nft.apply(base);
    await expect(nft.apply(script)).rejects.toBeInstanceOf(NftApplyError);
  });

  it('flush table empties chains but leaves map elements and sets', async () => {
    const nft = new FakeNftRunner();
    await nft.apply(`${base}add rule ip knode-proxy a goto b\nadd element ip knode-proxy m { tcp . 80 : goto b }\nadd set ip knode-proxy s { type ipv4_addr ; }\n`);
    await nft.apply('flush table ip knode-proxy\n');
    expect(nft.dump()).toBe('table knode-proxy\nmap m\n  tcp . 80 : goto b\nset s\nchain a\nchain b\n');
  });

  it('cleanup removes our tables only, and succeeds when they are already gone', async () => {
    const nft = new FakeNftRunner();
    nft.seedTable('ip', 'someone-else', ['their-chain']);
    nft.seedTable('ip', 'knode-proxy-svc-legacy', ['x']);
    await nft.apply(`${base}add table ip knode-proxy-svc-3\nadd chain ip knode-proxy-svc-3 c\n`);
    expect(nft.tableNames()).toEqual(['knode-proxy', 'knode-proxy-svc-3']);
    await nft.cleanup();
    await nft.cleanup();
    expect(nft.tableNames()).toEqual([]);
    expect(nft.dump('ip', 'someone-else')).toBe('chain their-chain\n');
    expect(nft.dump('ip', 'knode-proxy-svc-legacy')).toBe('chain x\n');
    expect(await nft.list()).toEqual([]);
  });

  it('failNext makes the next apply fail without applying', async () => {
    const nft = new FakeNftRunner();
    nft.failNext = 'Error: Could not process rule: Cannot allocate memory';
    await expect(nft.apply(base)).rejects.toMatchObject({ code: 'ERR_PROXY_NFT_APPLY' });
    expect(nft.dump()).toBeUndefined();
    await nft.apply(base);
    expect(await nft.list()).toEqual([{ name: 'knode-proxy', chains: ['a', 'b'], sets: [] }]);
  });
});
