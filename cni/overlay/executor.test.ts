import { describe, expect, it } from 'vitest';
import { OverlayEntryExistsError, OverlayEntryNotFoundError } from './errors.js';
import { FakeOverlayExecutor } from './executor.js';
import type { Op, OverlayState, PeerNode } from './plan.js';
import { diff, planPeers } from './plan.js';

// IP plan: pod CIDRs 10.244.N.0/24, underlay 192.168.77.N.
const DEV = 'knode.1';
const peer = (n: number, over: Partial<PeerNode> = {}): PeerNode => ({
  name: `node-${n}`,
  podCIDR: `10.244.${n}.0/24`,
  underlayIP: `192.168.77.${n}`,
  vtepMAC: `02:00:00:00:00:0${n}`,
  ...over,
});
const route2 = { dst: '10.244.2.0/24', via: '10.244.2.0', dev: DEV, onlink: true };

/** One agent sync: plan, observe, diff, apply. Returns how many ops it applied. */
async function sync(ex: FakeOverlayExecutor, desired: OverlayState): Promise<number> {
  const ops = diff(desired, await ex.observe());
  await ex.apply(ops);
  return ops.length;
}

describe('FakeOverlayExecutor', () => {
  it.each<[string, OverlayState, Op, typeof OverlayEntryExistsError | typeof OverlayEntryNotFoundError]>([
    ['rejects adding a route that exists (EEXIST)', { routes: [route2], neighbours: [], fdb: [] }, { kind: 'route', action: 'add', entry: { ...route2, via: '10.244.2.1' } }, OverlayEntryExistsError],
    ['rejects deleting a missing neighbour (ENOENT)', { routes: [], neighbours: [], fdb: [] }, { kind: 'neighbour', action: 'delete', entry: { ip: '10.244.2.0', mac: '02:00:00:00:00:02', dev: DEV, permanent: true } }, OverlayEntryNotFoundError],
    ['rejects deleting a missing FDB entry (ENOENT)', { routes: [], neighbours: [], fdb: [] }, { kind: 'fdb', action: 'delete', entry: { mac: '02:00:00:00:00:02', dst: '192.168.77.2', dev: DEV } }, OverlayEntryNotFoundError],
  ])('%s', async (_name, initial, op, errorClass) => {
    const ex = new FakeOverlayExecutor(initial);
    await expect(ex.apply([op])).rejects.toBeInstanceOf(errorClass);
    expect(await ex.observe()).toEqual(initial);
  });

  it('replace creates a missing entry and overwrites an existing one', async () => {
    const ex = new FakeOverlayExecutor();
    await ex.apply([{ kind: 'route', action: 'replace', entry: route2 }]);
    await ex.apply([{ kind: 'route', action: 'replace', entry: { ...route2, onlink: false } }]);
    expect((await ex.observe()).routes).toEqual([{ ...route2, onlink: false }]);
  });

  it('stops at the first failing op and keeps the ones before it, like a netlink socket', async () => {
    const ex = new FakeOverlayExecutor();
    const ok: Op = { kind: 'route', action: 'add', entry: route2 };
    await expect(ex.apply([ok, ok, { kind: 'route', action: 'delete', entry: route2 }])).rejects.toMatchObject({ code: 'ERR_OVERLAY_EXISTS' });
    expect((await ex.observe()).routes).toEqual([route2]);
  });
});

describe('convergence through the fake', () => {
  it.each<[string, OverlayState, PeerNode[]]>([
    ['from an empty device', { routes: [], neighbours: [], fdb: [] }, [peer(1), peer(2), peer(3)]],
    ['after a restart with stale and drifted entries', {
      routes: [route2, { dst: '10.244.9.0/24', via: '10.244.9.0', dev: DEV, onlink: true }],
      neighbours: [{ ip: '10.244.2.0', mac: '02:00:00:00:00:99', dev: DEV, permanent: false }],
      fdb: [{ mac: '02:00:00:00:00:09', dst: '192.168.77.9', dev: DEV }, { mac: '02:00:00:00:00:03', dst: '192.168.77.33', dev: DEV }],
    }, [peer(1), peer(2), peer(3)]],
    ['to nothing when every peer left', planPeers('node-1', [peer(2), peer(3)], DEV), [peer(1)]],
  ])('reaches the plan %s and then stays put', async (_name, initial, nodes) => {
    const ex = new FakeOverlayExecutor(initial);
    const desired = planPeers('node-1', nodes, DEV);
    expect(await sync(ex, desired)).toBeGreaterThan(0);
    expect(await sync(ex, desired)).toBe(0);
    expect(diff(desired, await ex.observe())).toEqual([]);
    const now = await ex.observe();
    expect(new Set(now.routes.map((r) => r.dst))).toEqual(new Set(desired.routes.map((r) => r.dst)));
    expect(new Set(now.fdb.map((f) => `${f.mac} ${f.dst}`))).toEqual(new Set(desired.fdb.map((f) => `${f.mac} ${f.dst}`)));
  });

  it('leaves a correct peer untouched while another peer changes (no disturbance to running pods)', async () => {
    const ex = new FakeOverlayExecutor();
    await sync(ex, planPeers('node-1', [peer(2), peer(3)], DEV));
    ex.log.length = 0;
    await sync(ex, planPeers('node-1', [peer(2), peer(3, { underlayIP: '192.168.77.33' })], DEV));
    expect(ex.log).toEqual(['replace fdb 02:00:00:00:00:03 dst 192.168.77.33 dev knode.1']);
  });
});
