import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../../lib/clock.js';
import { silentLogger } from '../../lib/log.js';
import { AdmissionChain } from '../apiserver/admission.js';
import { parseCidr } from '../apiserver/plugins/ip-range.js';
import { Registry } from '../apiserver/registry.js';
import type { ResourceEntry } from '../apiserver/resource-table.js';
import { servedResources } from '../apiserver/resources.js';
import { MemoryStore } from '../storage/memory-store.js';
import type { NodeCIDRAction, NodeCIDRView, TakenCIDR } from './node-ipam.js';
import { NodeIpamConfigError, NodeIpamController, POD_CIDR_KEY_PREFIX, nodeCIDRLayout, parseTakenCIDRs, planNodeCIDRs } from './node-ipam.js';

const node = (name: string, cidrs: string[] = [], deleting = false): NodeCIDRView => ({ name, uid: `uid-${name}`, cidrs, deleting });
const key = (owner: string, revision = 1): TakenCIDR => ({ owner, uid: `uid-${owner}`, revision });

describe('planNodeCIDRs', () => {
  const range = parseCidr('10.244.0.0/16');
  const cases: Array<[string, NodeCIDRView[], Array<[string, TakenCIDR]>, NodeCIDRAction[]]> = [
    ['a new node gets the lowest subnet', [node('a')], [], [{ kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.0.0/24' }]],
    [
      'new nodes get distinct subnets in name order',
      [node('b'), node('a')],
      [],
      [
        { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.0.0/24' },
        { kind: 'allocate', node: 'b', uid: 'uid-b', cidr: '10.244.1.0/24' },
      ],
    ],
    ['taken keys are skipped', [node('a'), node('x', ['10.244.0.0/24'])], [['10.244.0.0/24', key('x')]], [{ kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.1.0/24' }]],
    [
      'a node created with a CIDR is recorded, and that CIDR is skipped',
      [node('a'), node('x', ['10.244.0.0/24'])],
      [],
      [
        { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.1.0/24' },
        { kind: 'record', node: 'x', uid: 'uid-x', cidr: '10.244.0.0/24' },
      ],
    ],
    ['a wider CIDR a node came with covers several subnets', [node('a'), node('x', ['10.244.0.0/23'])], [], [
      { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.2.0/24' },
      { kind: 'record', node: 'x', uid: 'uid-x', cidr: '10.244.0.0/23' },
    ]],
    ['a node with a recorded CIDR needs nothing', [node('x', ['10.244.3.0/24'])], [['10.244.3.0/24', key('x')]], []],
    ['the key of a deleted node is released', [], [['10.244.3.0/24', key('gone', 7)]], [{ kind: 'release', cidr: '10.244.3.0/24', revision: 7, owner: 'gone' }]],
    [
      'a released subnet is reused at once',
      [node('new')],
      [['10.244.0.0/24', key('gone', 7)]],
      [
        { kind: 'release', cidr: '10.244.0.0/24', revision: 7, owner: 'gone' },
        { kind: 'allocate', node: 'new', uid: 'uid-new', cidr: '10.244.0.0/24' },
      ],
    ],
    ['a node owning a key but no CIDR adopts it (crash between key and node write)', [node('a')], [['10.244.5.0/24', key('a')]], [{ kind: 'adopt', node: 'a', uid: 'uid-a', cidr: '10.244.5.0/24' }]],
    [
      'a node holding another CIDR loses its extra key',
      [node('a', ['10.244.1.0/24'])],
      [['10.244.1.0/24', key('a', 2)], ['10.244.5.0/24', key('a', 3)]],
      [{ kind: 'release', cidr: '10.244.5.0/24', revision: 3, owner: 'a' }],
    ],
    ['a recreated node (new uid) does not adopt the old one\'s key', [{ name: 'a', uid: 'uid-a2', cidrs: [], deleting: false }], [['10.244.0.0/24', key('a', 4)]], [
      { kind: 'release', cidr: '10.244.0.0/24', revision: 4, owner: 'a' },
      { kind: 'allocate', node: 'a', uid: 'uid-a2', cidr: '10.244.0.0/24' },
    ]],
    ['a node being deleted gets nothing and keeps its key', [node('a', [], true), node('b', ['10.244.0.0/24'], true)], [['10.244.0.0/24', key('b')]], []],
    ['a CIDR held by another live node is a conflict, nothing changes', [node('x', ['10.244.0.0/24']), node('y', ['10.244.0.0/24'])], [['10.244.0.0/24', key('x')]], [
      { kind: 'conflict', node: 'y', cidr: '10.244.0.0/24', holder: 'x' },
    ]],
    ['a CIDR held by a gone node moves to the node that came with it', [node('y', ['10.244.0.0/24'])], [['10.244.0.0/24', key('gone', 9)]], [
      { kind: 'release', cidr: '10.244.0.0/24', revision: 9, owner: 'gone' },
      { kind: 'record', node: 'y', uid: 'uid-y', cidr: '10.244.0.0/24' },
    ]],
    ['a key whose CIDR another node came with is not adopted', [node('a'), node('y', ['10.244.0.0/24'])], [['10.244.0.0/24', key('a', 5)]], [
      { kind: 'release', cidr: '10.244.0.0/24', revision: 5, owner: 'a' },
      { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.1.0/24' },
      { kind: 'record', node: 'y', uid: 'uid-y', cidr: '10.244.0.0/24' },
    ]],
    ['an IPv6 CIDR a node came with is recorded and blocks nothing', [node('a'), node('v6', ['fd00::/64'])], [], [
      { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.0.0/24' },
      { kind: 'record', node: 'v6', uid: 'uid-v6', cidr: 'fd00::/64' },
    ]],
  ];
  it.each(cases)('%s', (_n, nodes, taken, expected) => {
    expect(planNodeCIDRs(nodes, new Map(taken), range, 24)).toEqual(expected);
  });

  it('a full range leaves the node without a CIDR', () => {
    const small = parseCidr('10.244.0.0/23');
    const plan = planNodeCIDRs([node('a'), node('b'), node('c')], new Map(), small, 24);
    expect(plan).toEqual([
      { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.0.0/24' },
      { kind: 'allocate', node: 'b', uid: 'uid-b', cidr: '10.244.1.0/24' },
      { kind: 'full', node: 'c' },
    ]);
  });

  it('honours the mask size', () => {
    expect(planNodeCIDRs([node('a'), node('b')], new Map(), range, 26)).toEqual([
      { kind: 'allocate', node: 'a', uid: 'uid-a', cidr: '10.244.0.0/26' },
      { kind: 'allocate', node: 'b', uid: 'uid-b', cidr: '10.244.0.64/26' },
    ]);
  });
});

describe('nodeCIDRLayout', () => {
  it.each([
    ['10.244.0.0/16', 24, 256],
    ['10.0.0.0/8', 24, 65536],
    ['10.244.0.0/24', 24, 1],
  ])('%s with /%i holds %i subnets', (cidr, mask, count) => {
    expect(nodeCIDRLayout(cidr, mask).count).toBe(count);
  });
  it.each([
    ['mask shorter than the cluster CIDR', '10.244.0.0/16', 15, /between 16/],
    ['mask above 32', '10.244.0.0/16', 33, /between 16 .* and 32/],
    ['more than 2^16 subnets', '10.0.0.0/8', 25, /at most 24/],
    ['malformed cluster CIDR', '10.244.0.1/16', 24, /host bits/],
  ])('rejects %s', (_n, cidr, mask, message) => {
    expect(() => nodeCIDRLayout(cidr, mask)).toThrow(NodeIpamConfigError);
    expect(() => nodeCIDRLayout(cidr, mask)).toThrow(message);
  });
});

describe('parseTakenCIDRs', () => {
  it('reads owner and revision; an unreadable value has no owner', () => {
    const taken = parseTakenCIDRs([
      { key: `${POD_CIDR_KEY_PREFIX}10.244.1.0/24`, value: '{"owner":"a","uid":"u1"}', modRevision: 3 },
      { key: `${POD_CIDR_KEY_PREFIX}10.244.2.0/24`, value: 'garbage', modRevision: 4 },
    ]);
    expect([...taken]).toEqual([
      ['10.244.1.0/24', { owner: 'a', uid: 'u1', revision: 3 }],
      ['10.244.2.0/24', { owner: '', uid: '', revision: 4 }],
    ]);
  });
});

describe('NodeIpamController with a store', () => {
  const index = servedResources();
  const nodes = index.find('', 'v1', 'nodes') as ResourceEntry;
  let store: MemoryStore;
  let registry: Registry;
  let abort: AbortController;
  let running: Array<Promise<void>>;
  // drives the controllers' retry back-off; `until` advances it
  let clock: FakeClock;

  const start = (s: MemoryStore, maskSize = 24): void => {
    const r = new Registry(s, new AdmissionChain([]), new FakeClock());
    running.push(new NodeIpamController(r, index, clock, silentLogger(), { clusterCIDR: '10.244.0.0/16', nodeCIDRMaskSize: maskSize }).run(abort.signal));
  };

  beforeEach(() => {
    store = new MemoryStore();
    registry = new Registry(store, new AdmissionChain([]), new FakeClock());
    abort = new AbortController();
    running = [];
    clock = new FakeClock();
  });

  afterEach(async () => {
    abort.abort();
    await Promise.all(running);
    await store.close();
  });

  const podCIDR = async (name: string): Promise<string | undefined> => ((await registry.get(nodes, undefined, name)) as Node).spec?.podCIDR;
  const until = async <T>(probe: () => Promise<T | undefined>): Promise<T> => {
    for (let i = 0; i < 400; i++) {
      const v = await probe();
      if (v !== undefined) return v;
      await clock.advance(100);
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('condition not reached');
  };
  const takenKeys = async (): Promise<string[]> => (await store.list(POD_CIDR_KEY_PREFIX)).items.map((kv) => kv.key.slice(POD_CIDR_KEY_PREFIX.length));

  it('assigns distinct CIDRs, records given ones, and frees them on deletion', async () => {
    start(store);
    await registry.create(nodes, undefined, { metadata: { name: 'given' }, spec: { podCIDR: '10.244.0.0/24' } } as KubeObject);
    for (const n of ['n1', 'n2', 'n3']) await registry.create(nodes, undefined, { metadata: { name: n } });
    const cidrs = await Promise.all(['n1', 'n2', 'n3'].map((n) => until(() => podCIDR(n))));
    expect(new Set([...cidrs, '10.244.0.0/24']).size).toBe(4);
    const n1 = (await registry.get(nodes, undefined, 'n1')) as Node;
    expect(n1.spec?.podCIDRs).toEqual([n1.spec?.podCIDR]);
    await until(async () => ((await takenKeys()).length === 4 ? true : undefined));
    expect((await takenKeys()).sort()).toEqual([...cidrs, '10.244.0.0/24'].sort());

    await registry.delete(nodes, undefined, 'n2');
    await until(async () => (!(await takenKeys()).includes(cidrs[1] as string) ? true : undefined));
    await registry.create(nodes, undefined, { metadata: { name: 'n4' } });
    expect(await until(() => podCIDR('n4'))).toBe(cidrs[1]);
  });

  it('two controllers on one store never hand out the same CIDR', async () => {
    start(store);
    start(store);
    const names = Array.from({ length: 20 }, (_, i) => `node-${i}`);
    await Promise.all(names.map((n) => registry.create(nodes, undefined, { metadata: { name: n } })));
    const cidrs = await Promise.all(names.map((n) => until(() => podCIDR(n))));
    expect(new Set(cidrs).size).toBe(names.length);
    await until(async () => ((await takenKeys()).length === names.length ? true : undefined));
    expect((await takenKeys()).sort()).toEqual([...cidrs].sort());
  });

  it('after a restart, a node owning a key but no CIDR gets that CIDR, and no other node does', async () => {
    await store.create(`${POD_CIDR_KEY_PREFIX}10.244.0.0/24`, JSON.stringify({ owner: 'old', uid: 'gone-uid' }));
    const a = await registry.create(nodes, undefined, { metadata: { name: 'a' } });
    await store.create(`${POD_CIDR_KEY_PREFIX}10.244.7.0/24`, JSON.stringify({ owner: 'a', uid: a.metadata.uid }));
    await registry.create(nodes, undefined, { metadata: { name: 'b' } });
    start(store);
    expect(await until(() => podCIDR('a'))).toBe('10.244.7.0/24');
    // b takes the lowest free subnet once the stale key is gone
    expect(await until(() => podCIDR('b'))).toBe('10.244.0.0/24');
    expect((await takenKeys()).sort()).toEqual(['10.244.0.0/24', '10.244.7.0/24']);
  });
});
