import { describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { OverlayState, PeerNode } from './plan.js';
import { PUBLIC_IP_ANNOTATION, VTEP_MAC_ANNOTATION, describeOp, diff, nodePeer, overlayMTU, planPeers, vtepAddress } from './plan.js';

// IP plan for these tests: pod CIDRs 10.244.N.0/24, underlay 192.168.77.N (never routed anywhere).
const DEV = 'knode.1';
const peer = (n: number, over: Partial<PeerNode> = {}): PeerNode => ({
  name: `node-${n}`,
  podCIDR: `10.244.${n}.0/24`,
  underlayIP: `192.168.77.${n}`,
  vtepMAC: `02:00:00:00:00:0${n}`,
  ...over,
});

const node = (annotations: Record<string, string>, spec: Node['spec'] = { podCIDR: '10.244.2.0/24' }): Node => ({
  metadata: { name: 'node-2', annotations },
  spec,
});
const good = { [VTEP_MAC_ANNOTATION]: '02:AA:BB:CC:DD:EE', [PUBLIC_IP_ANNOTATION]: '192.168.77.2' };

describe('nodePeer', () => {
  it('reads the pod CIDR and the annotations, normalising the MAC', () => {
    expect(nodePeer(node(good))).toEqual({ name: 'node-2', podCIDR: '10.244.2.0/24', underlayIP: '192.168.77.2', vtepMAC: '02:aa:bb:cc:dd:ee' });
  });
  it('prefers the first IPv4 entry of spec.podCIDRs', () => {
    expect(nodePeer(node(good, { podCIDRs: ['fd00::/64', '10.244.9.0/24'] }))?.podCIDR).toBe('10.244.9.0/24');
  });
  it.each<[string, Node]>([
    ['no pod CIDR', node(good, {})],
    ['only an IPv6 pod CIDR', node(good, { podCIDRs: ['fd00::/64'] })],
    ['no VTEP MAC', node({ [PUBLIC_IP_ANNOTATION]: '192.168.77.2' })],
    ['a malformed VTEP MAC', node({ ...good, [VTEP_MAC_ANNOTATION]: '02:aa:bb' })],
    ['a multicast VTEP MAC', node({ ...good, [VTEP_MAC_ANNOTATION]: '01:00:5e:00:00:01' })],
    ['no public IP', node({ [VTEP_MAC_ANNOTATION]: '02:aa:bb:cc:dd:ee' })],
    ['an IPv6 public IP', node({ ...good, [PUBLIC_IP_ANNOTATION]: 'fd00::2' })],
  ])('is undefined for a node with %s', (_name, n) => expect(nodePeer(n)).toBeUndefined());
});

describe('planPeers', () => {
  it('programs one route, one neighbour and one FDB entry per remote peer, skipping itself', () => {
    expect(planPeers('node-1', [peer(1), peer(3), peer(2)], DEV)).toEqual({
      routes: [
        { dst: '10.244.2.0/24', via: '10.244.2.0', dev: DEV, onlink: true },
        { dst: '10.244.3.0/24', via: '10.244.3.0', dev: DEV, onlink: true },
      ],
      neighbours: [
        { ip: '10.244.2.0', mac: '02:00:00:00:00:02', dev: DEV, permanent: true },
        { ip: '10.244.3.0', mac: '02:00:00:00:00:03', dev: DEV, permanent: true },
      ],
      fdb: [
        { mac: '02:00:00:00:00:02', dst: '192.168.77.2', dev: DEV },
        { mac: '02:00:00:00:00:03', dst: '192.168.77.3', dev: DEV },
      ],
    } satisfies OverlayState);
  });
  it.each<[string, PeerNode[]]>([
    ['only itself', [peer(1)]],
    ['a peer without a pod CIDR', [peer(1), peer(2, { podCIDR: '' })]],
    ['a peer without a MAC', [peer(1), peer(2, { vtepMAC: '' })]],
    ['a peer without an underlay IP', [peer(1), peer(2, { underlayIP: '' })]],
    ['a peer claiming its own pod CIDR', [peer(1), peer(2, { podCIDR: '10.244.1.0/24' })]],
    ['a peer claiming its own VTEP MAC', [peer(1), peer(2, { vtepMAC: '02:00:00:00:00:01' })]],
  ])('plans nothing for %s', (_name, nodes) => expect(planPeers('node-1', nodes, DEV)).toEqual({ routes: [], neighbours: [], fdb: [] }));
  it('lets the first peer by name win a contested pod CIDR, on every node alike', () => {
    const plan = planPeers('node-1', [peer(3, { podCIDR: '10.244.2.0/24' }), peer(2)], DEV);
    expect(plan.fdb.map((f) => f.dst)).toEqual(['192.168.77.2']);
  });
  it('canonicalises a pod CIDR written with host bits', () => {
    expect(planPeers('node-1', [peer(2, { podCIDR: '10.244.2.9/24' })], DEV).routes[0]).toEqual({ dst: '10.244.2.0/24', via: '10.244.2.0', dev: DEV, onlink: true });
  });
});

describe('vtepAddress and overlayMTU', () => {
  it.each([
    ['10.244.1.0/24', '10.244.1.0'],
    ['10.244.1.130/25', '10.244.1.128'],
    ['10.245.0.0/16', '10.245.0.0'],
    ['fd00::/64', undefined],
    ['junk', undefined],
  ])('the VTEP address of %s is %s', (cidr, want) => expect(vtepAddress(cidr)).toBe(want));
  it('leaves 50 bytes for VXLAN encapsulation', () => expect(overlayMTU(1500)).toBe(1450));
});

describe('diff', () => {
  const ops = (desired: OverlayState, observed: OverlayState): string[] => diff(desired, observed).map(describeOp);
  const two = planPeers('node-1', [peer(2), peer(3)], DEV);
  const empty: OverlayState = { routes: [], neighbours: [], fdb: [] };

  it.each<[string, OverlayState, OverlayState, string[]]>([
    ['adds the FDB entry and neighbour before the route for a new peer', planPeers('node-1', [peer(2)], DEV), empty, [
      'add fdb 02:00:00:00:00:02 dst 192.168.77.2 dev knode.1',
      'add neighbour 10.244.2.0 lladdr 02:00:00:00:00:02 dev knode.1 permanent',
      'add route 10.244.2.0/24 via 10.244.2.0 dev knode.1 onlink',
    ]],
    ['does nothing when the kernel already agrees', two, two, []],
    ['adds the new FDB entry, replaces the neighbour and drops the old FDB entry when a peer changes its MAC',
      planPeers('node-1', [peer(2, { vtepMAC: '02:00:00:00:00:22' })], DEV), planPeers('node-1', [peer(2)], DEV), [
        'add fdb 02:00:00:00:00:22 dst 192.168.77.2 dev knode.1',
        'replace neighbour 10.244.2.0 lladdr 02:00:00:00:00:22 dev knode.1 permanent',
        'delete fdb 02:00:00:00:00:02 dst 192.168.77.2 dev knode.1',
      ]],
    ['replaces only the FDB entry when a peer changes its underlay IP',
      planPeers('node-1', [peer(2, { underlayIP: '192.168.77.22' })], DEV), planPeers('node-1', [peer(2)], DEV), [
        'replace fdb 02:00:00:00:00:02 dst 192.168.77.22 dev knode.1',
      ]],
    ['deletes the route before the neighbour and FDB entry of a removed node', planPeers('node-1', [peer(2)], DEV), two, [
      'delete route 10.244.3.0/24 via 10.244.3.0 dev knode.1 onlink',
      'delete neighbour 10.244.3.0 lladdr 02:00:00:00:00:03 dev knode.1 permanent',
      'delete fdb 02:00:00:00:00:03 dst 192.168.77.3 dev knode.1',
    ]],
    ['makes a learned (non-permanent) neighbour permanent', two, { ...two, neighbours: two.neighbours.map((n, i) => (i === 0 ? { ...n, permanent: false } : n)) }, [
      'replace neighbour 10.244.2.0 lladdr 02:00:00:00:00:02 dev knode.1 permanent',
    ]],
    ['replaces a route that lost onlink', two, { ...two, routes: two.routes.map((r, i) => (i === 1 ? { ...r, onlink: false } : r)) }, [
      'replace route 10.244.3.0/24 via 10.244.3.0 dev knode.1 onlink',
    ]],
  ])('%s', (_name, desired, observed, want) => expect(ops(desired, observed)).toEqual(want));

  it('on a peer moving to a new pod CIDR, removes the old route first and the old neighbour last', () => {
    expect(ops(planPeers('node-1', [peer(2, { podCIDR: '10.244.20.0/24' })], DEV), planPeers('node-1', [peer(2)], DEV))).toEqual([
      'delete route 10.244.2.0/24 via 10.244.2.0 dev knode.1 onlink',
      'add neighbour 10.244.20.0 lladdr 02:00:00:00:00:02 dev knode.1 permanent',
      'add route 10.244.20.0/24 via 10.244.20.0 dev knode.1 onlink',
      'delete neighbour 10.244.2.0 lladdr 02:00:00:00:00:02 dev knode.1 permanent',
    ]);
  });
});
