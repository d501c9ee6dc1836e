import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import type { DeviceControl, NodeSource } from './agent.js';
import type { FastPathNetwork, FastPathPeer } from '../fastpath/fastpath.js';
import { OverlayAgent } from './agent.js';
import type { DeviceSpec, ObservedLink } from './device.js';
import { deviceMAC } from './device.js';
import { FakeOverlayExecutor } from './executor.js';
import type { Op, OverlayState } from './plan.js';
import { PUBLIC_IP_ANNOTATION, VTEP_MAC_ANNOTATION } from './plan.js';

type Handlers = Parameters<NodeSource['addEventHandler']>[0];

/** An informer stand-in: a map of Nodes and the handlers, fired synchronously like the real cache. */
class FakeNodes implements NodeSource {
  readonly nodes = new Map<string, Node>();
  private readonly handlers: Handlers[] = [];
  list(): Node[] {
    return [...this.nodes.values()];
  }
  getByName(name: string): Node | undefined {
    return this.nodes.get(name);
  }
  addEventHandler(h: Handlers): () => void {
    this.handlers.push(h);
    return () => this.handlers.splice(this.handlers.indexOf(h), 1);
  }
  waitForSync(): Promise<void> {
    return Promise.resolve();
  }
  upsert(n: Node): void {
    const old = this.nodes.get(n.metadata.name ?? '');
    this.nodes.set(n.metadata.name ?? '', n);
    for (const h of this.handlers) {
      if (old === undefined) h.onAdd?.(n);
      else h.onUpdate?.(old, n);
    }
  }
  remove(name: string): void {
    const old = this.nodes.get(name);
    if (old === undefined) return;
    this.nodes.delete(name);
    for (const h of this.handlers) h.onDelete?.(old);
  }
  handlerCount(): number {
    return this.handlers.length;
  }
}

const UNDERLAY: ObservedLink = { name: 'eth0', ifindex: 2, mtu: 1500, up: true, addresses: ['172.31.250.11/24'] };

class FakeControl implements DeviceControl {
  readonly ensured: DeviceSpec[] = [];
  forwardingOn = true;
  links(): Promise<ObservedLink[]> {
    return Promise.resolve([UNDERLAY]);
  }
  ensure(want: DeviceSpec): Promise<string[]> {
    this.ensured.push(want);
    return Promise.resolve(['changed']);
  }
  forwarding(): Promise<boolean> {
    return Promise.resolve(this.forwardingOn);
  }
}

/** An executor whose next `failures` applies fail, then behaves like the fake kernel. */
class FlakyExecutor extends FakeOverlayExecutor {
  failures = 0;
  attempts = 0;
  override apply(ops: readonly Op[]): Promise<void> {
    this.attempts++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('RTNETLINK answers: No buffer space available'));
    }
    return super.apply(ops);
  }
}

function node(name: string, i: number, opts: { mac?: string; ip?: string; cidr?: string | null; annotate?: boolean } = {}): Node {
  const annotate = opts.annotate ?? true;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      ...(annotate
        ? { annotations: { [VTEP_MAC_ANNOTATION]: opts.mac ?? deviceMAC(name), [PUBLIC_IP_ANNOTATION]: opts.ip ?? `172.31.250.${10 + i}` } }
        : {}),
    },
    spec: opts.cidr === null ? {} : { podCIDR: opts.cidr ?? `10.244.${i}.0/24` },
  } as Node;
}

function setup(opts: { resyncMs?: number; executor?: FlakyExecutor; nodes?: FakeNodes; publishFails?: boolean; fastPath?: { configure(n: FastPathNetwork): Promise<void>; setPeers(peers: readonly FastPathPeer[]): Promise<void> } } = {}) {
  const clock = new FakeClock();
  const nodes = opts.nodes ?? new FakeNodes();
  const executor = opts.executor ?? new FlakyExecutor();
  const control = new FakeControl();
  const published: Array<Record<string, string>> = [];
  const written: Array<{ file: string; text: string }> = [];
  const agent = new OverlayAgent({
    nodeName: 'w1',
    nodeIP: '172.31.250.11',
    device: 'knode.1',
    vni: 1,
    port: 8472,
    clusterCIDR: '10.244.0.0/16',
    nodes,
    publish: (a) => {
      if (opts.publishFails === true) return Promise.reject(new Error('must not publish: the annotations are right'));
      published.push({ ...a });
      // the apiserver's answer comes back through the watch
      const self = nodes.getByName('w1');
      if (self !== undefined) nodes.upsert({ ...self, metadata: { ...self.metadata, annotations: { ...self.metadata.annotations, ...a } } });
      return Promise.resolve();
    },
    executor,
    control,
    masquerade: () => Promise.resolve(),
    nodeStateFile: '/run/knode/cni/knode/node.json',
    writeState: (file, text) => {
      written.push({ file, text });
      return Promise.resolve();
    },
    clock,
    log: silentLogger(),
    ...(opts.resyncMs !== undefined ? { resyncMs: opts.resyncMs } : {}),
    ...(opts.fastPath !== undefined ? { fastPath: opts.fastPath } : {}),
  });
  return { clock, nodes, executor, control, published, written, agent };
}

/** Starts the agent's loop; `stop` aborts it and waits for it to end. */
async function running(t: ReturnType<typeof setup>): Promise<{ stop: () => Promise<void> }> {
  await t.agent.start();
  const ctl = new AbortController();
  const run = t.agent.run(ctl.signal);
  await settle();
  return {
    stop: async () => {
      ctl.abort();
      await run;
    },
  };
}

/** Lets the agent's loop run until it waits again (its I/O here is all resolved promises). */
const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

const entries = async (ex: FakeOverlayExecutor): Promise<OverlayState> => ex.observe();

describe('OverlayAgent', () => {
  it('sets the device up at start from the underlay holding the node IP, without an address until the Node has a pod CIDR', async () => {
    const t = setup();
    await t.agent.start();
    expect(t.control.ensured).toEqual([
      { name: 'knode.1', vni: 1, port: 8472, localIP: '172.31.250.11', underlay: 'eth0', mtu: 1450, mac: deviceMAC('w1') },
    ]);
    expect(t.agent.status()).toMatchObject({ underlay: 'eth0', mtu: 1450, mac: deviceMAC('w1'), peers: 0 });
  });

  it('publishes its VTEP, gives the device its address, writes the CNI node state and programs each peer', async () => {
    const t = setup();
    t.nodes.upsert(node('w1', 1, { annotate: false }));
    t.nodes.upsert(node('w2', 2));
    t.nodes.upsert(node('w3', 3));
    const r = await running(t);
    expect(t.published).toEqual([{ [VTEP_MAC_ANNOTATION]: deviceMAC('w1'), [PUBLIC_IP_ANNOTATION]: '172.31.250.11' }]);
    expect(t.control.ensured.at(-1)?.address).toBe('10.244.1.0/32');
    expect(t.written).toEqual([{ file: '/run/knode/cni/knode/node.json', text: '{"podCIDR":"10.244.1.0/24","mtu":1450}\n' }]);
    expect(await entries(t.executor)).toEqual({
      routes: [
        { dst: '10.244.2.0/24', via: '10.244.2.0', dev: 'knode.1', onlink: true },
        { dst: '10.244.3.0/24', via: '10.244.3.0', dev: 'knode.1', onlink: true },
      ],
      neighbours: [
        { ip: '10.244.2.0', mac: deviceMAC('w2'), dev: 'knode.1', permanent: true },
        { ip: '10.244.3.0', mac: deviceMAC('w3'), dev: 'knode.1', permanent: true },
      ],
      fdb: [
        { mac: deviceMAC('w2'), dst: '172.31.250.12', dev: 'knode.1' },
        { mac: deviceMAC('w3'), dst: '172.31.250.13', dev: 'knode.1' },
      ],
    });
    expect(t.agent.status().peers).toBe(2);
    await r.stop();
    expect(t.nodes.handlerCount()).toBe(0);
  });

  it('configures the pod fast path once the Node has a pod CIDR, and a fast path failure never fails the sync', async () => {
    const seen: FastPathNetwork[] = [];
    let fail = true;
    const fastPath = {
      configure: (n: FastPathNetwork): Promise<void> => {
        seen.push(n);
        return fail ? Promise.reject(new Error('knode-fastpath: no link knode.1')) : Promise.resolve();
      },
      setPeers: (): Promise<void> => Promise.resolve(),
    };
    const t = setup({ fastPath });
    t.nodes.upsert(node('w1', 1, { cidr: null }));
    t.nodes.upsert(node('w2', 2));
    const r = await running(t);
    expect(seen).toEqual([]); // no pod CIDR yet
    expect(t.agent.status().peers).toBe(1);
    t.nodes.upsert(node('w1', 1));
    await settle();
    const want = { clusterCIDR: '10.244.0.0/16', podCIDR: '10.244.1.0/24', nodeIP: '172.31.250.11', device: 'knode.1', vni: 1, port: 8472, underlay: 'eth0' };
    expect(seen).toEqual([want]);
    expect(t.agent.status().lastSyncError).toBeUndefined();
    expect(t.written.at(-1)?.text).toBe('{"podCIDR":"10.244.1.0/24","mtu":1450}\n');
    // tried again at the next sync, which succeeds
    fail = false;
    t.nodes.upsert(node('w3', 3));
    await settle();
    expect(seen).toEqual([want, want]);
    expect(t.agent.status().peers).toBe(2);
    await r.stop();
  });

  it('mirrors the FDB it programs into the fast path\'s peer map, after the device, and retries a failure at the next sync', async () => {
    const calls: string[] = [];
    let fail = true;
    const t = setup({
      fastPath: {
        configure: (): Promise<void> => Promise.resolve(),
        setPeers: (peers: readonly FastPathPeer[]): Promise<void> => {
          calls.push(`peers ${peers.map((p) => `${p.mac}=${p.ip}`).join(' ')} (fdb entries so far: ${t.executor.log.filter((l) => l.includes(' fdb ')).length})`);
          return fail ? Promise.reject(new Error('knode-fastpath: opening /d/maps/knode_peers: No such file or directory')) : Promise.resolve();
        },
      },
    });
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2));
    const r = await running(t);
    expect(calls).toEqual([`peers ${deviceMAC('w2')}=172.31.250.12 (fdb entries so far: 1)`]);
    expect(t.agent.status().lastSyncError).toBeUndefined(); // the failure did not fail the sync
    fail = false;
    t.nodes.upsert(node('w3', 3));
    await settle();
    expect(calls.at(-1)).toBe(`peers ${deviceMAC('w2')}=172.31.250.12 ${deviceMAC('w3')}=172.31.250.13 (fdb entries so far: 2)`);
    t.nodes.remove('w2');
    await settle();
    expect(calls.at(-1)).toBe(`peers ${deviceMAC('w3')}=172.31.250.13 (fdb entries so far: 3)`);
    await r.stop();
  });

  it('follows Node changes: a new node, a changed underlay IP (replaced in place), a deleted node', async () => {
    const t = setup();
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2));
    const r = await running(t);
    t.executor.log.length = 0;

    t.nodes.upsert(node('w3', 3));
    await settle();
    expect(t.executor.log).toEqual([
      `add fdb ${deviceMAC('w3')} dst 172.31.250.13 dev knode.1`,
      `add neighbour 10.244.3.0 lladdr ${deviceMAC('w3')} dev knode.1 permanent`,
      'add route 10.244.3.0/24 via 10.244.3.0 dev knode.1 onlink',
    ]);
    t.executor.log.length = 0;

    t.nodes.upsert(node('w2', 2, { ip: '172.31.250.99' }));
    await settle();
    expect(t.executor.log).toEqual([`replace fdb ${deviceMAC('w2')} dst 172.31.250.99 dev knode.1`]);
    t.executor.log.length = 0;

    t.nodes.remove('w3');
    await settle();
    expect(t.executor.log).toEqual([
      'delete route 10.244.3.0/24 via 10.244.3.0 dev knode.1 onlink',
      `delete neighbour 10.244.3.0 lladdr ${deviceMAC('w3')} dev knode.1 permanent`,
      `delete fdb ${deviceMAC('w3')} dst 172.31.250.13 dev knode.1`,
    ]);
    expect(t.agent.status().peers).toBe(1);
    await r.stop();
  });

  it('ignores Node updates that cannot change the overlay (status heartbeats)', async () => {
    const t = setup();
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2));
    const r = await running(t);
    const attempts = t.executor.attempts;
    const observe = t.executor.observe.bind(t.executor);
    let observed = 0;
    t.executor.observe = () => {
      observed++;
      return observe();
    };
    t.nodes.upsert({ ...node('w2', 2), status: { conditions: [{ type: 'Ready', status: 'True' }] } } as Node);
    await settle();
    expect(observed).toBe(0);
    expect(t.executor.attempts).toBe(attempts);
    await r.stop();
  });

  it('skips peers without annotations or pod CIDR until they have them', async () => {
    const t = setup();
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2, { annotate: false }));
    t.nodes.upsert(node('w3', 3, { cidr: null }));
    const r = await running(t);
    expect((await entries(t.executor)).routes).toEqual([]);
    t.nodes.upsert(node('w2', 2));
    await settle();
    expect((await entries(t.executor)).routes.map((r) => r.dst)).toEqual(['10.244.2.0/24']);
    await r.stop();
  });

  it('retries a failed sync with back-off (0.5 s, then 1 s) and converges', async () => {
    const t = setup();
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2));
    t.executor.failures = 2;
    const r = await running(t);
    expect(t.executor.attempts).toBe(1);
    expect(t.agent.status().lastSyncError).toMatch(/No buffer space/);
    await t.clock.advance(499);
    await settle();
    expect(t.executor.attempts).toBe(1);
    await t.clock.advance(1);
    await settle();
    expect(t.executor.attempts).toBe(2);
    await t.clock.advance(1000);
    await settle();
    expect(t.executor.attempts).toBe(3);
    expect((await entries(t.executor)).routes).toHaveLength(1);
    expect(t.agent.status().lastSyncError).toBeUndefined();
    await r.stop();
  });

  it('repairs entries removed behind its back at the periodic resync, and re-checks the device', async () => {
    const t = setup({ resyncMs: 30_000 });
    t.nodes.upsert(node('w1', 1));
    t.nodes.upsert(node('w2', 2));
    const r = await running(t);
    const route = (await entries(t.executor)).routes[0];
    expect(route).toBeDefined();
    await t.executor.apply([{ kind: 'route', action: 'delete', entry: route! }]);
    const ensuredBefore = t.control.ensured.length;
    await t.clock.advance(30_000);
    await settle();
    expect((await entries(t.executor)).routes).toEqual([route]);
    expect(t.control.ensured.length).toBe(ensuredBefore + 1);
    await r.stop();
  });

  it('leaves entries that are already right alone after a restart (no op at all)', async () => {
    const first = setup();
    first.nodes.upsert(node('w1', 1));
    first.nodes.upsert(node('w2', 2));
    await (await running(first)).stop();
    // a new agent over the same kernel state and the same Nodes
    const executor = new FlakyExecutor(await entries(first.executor));
    const second = setup({ executor, nodes: first.nodes, publishFails: true });
    const r = await running(second);
    expect(executor.attempts).toBe(0);
    expect(second.agent.status()).toMatchObject({ peers: 1 });
    expect(second.agent.status().lastSyncError).toBeUndefined();
    await r.stop();
  });
});
