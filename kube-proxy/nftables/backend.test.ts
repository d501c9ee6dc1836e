import { describe, expect, it } from 'vitest';
import { OPTS } from '../testing/fixtures.js';
import { RICH_STEPS, richState } from '../testing/rich-state.js';
import { NftApplyError } from '../errors.js';
import { NftBackend } from './backend.js';
import { FakeNftBatchApplier } from './netlink/fake.js';
import { FakeNftRunner, NftCli } from './runner.js';

const allKeys = (...states: ReturnType<typeof richState>[]): Set<string> => new Set(states.flatMap((s) => [...s.services.keys()]));

function setup(): { runner: FakeNftRunner; netlink: FakeNftBatchApplier; backend: NftBackend } {
  const runner = new FakeNftRunner();
  const netlink = new FakeNftBatchApplier(runner);
  return { runner, netlink, backend: new NftBackend(runner, { netlink }) };
}

describe('NftBackend with a netlink applier', () => {
  it('applies full syncs with nft -f and partial syncs over netlink, ending with the same table', async () => {
    const { runner, netlink, backend } = setup();
    const ref = new FakeNftRunner();
    const plain = new NftBackend(ref);
    expect(await backend.sync(richState(), OPTS, undefined)).toMatchObject({ full: true });
    await plain.sync(richState(), OPTS, undefined);
    expect(backend.lastApplyPath).toBe('nft');
    expect(runner.scripts).toHaveLength(1);
    let before = richState();
    for (const [name, s] of RICH_STEPS) {
      const r = await backend.sync(s, OPTS, allKeys(before, s));
      await plain.sync(s, OPTS, allKeys(before, s));
      expect(r.full, name).toBe(false);
      expect(backend.lastApplyPath, name).toBe('netlink');
      expect(runner.dump(), name).toBe(ref.dump());
      before = s;
    }
    expect(netlink.batches).toHaveLength(RICH_STEPS.length);
  });

  it('forgets the applied table when the kernel refuses a netlink batch, so the next sync is full', async () => {
    const { runner, backend } = setup();
    await backend.sync(richState(), OPTS, undefined);
    runner.failNext = 'ENOENT';
    const [, next] = RICH_STEPS[0] ?? ['', richState()];
    await expect(backend.sync(next, OPTS, allKeys(next))).rejects.toBeInstanceOf(NftApplyError);
    expect(backend.lastApplyPath).toBe('netlink');
    expect(backend.ready).toBe(false);
    expect(await backend.sync(next, OPTS, allKeys(next))).toMatchObject({ full: true });
    expect(backend.lastApplyPath).toBe('nft');
  });

  it('refuses netlink when nft runs in another namespace (a netlink socket acts in this process)', () => {
    const netlink = new FakeNftBatchApplier(new FakeNftRunner());
    expect(() => new NftBackend(new NftCli({ netnsPath: '/run/netns/x' }), { netlink })).toThrow(/this process's network namespace/);
    expect(() => new NftBackend(new NftCli(), { netlink })).not.toThrow();
  });
});
