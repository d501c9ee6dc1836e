import { describe, expect, it } from 'vitest';
import { parsePrefix4 } from './ipv4.js';
import { batchText, ipBatchArgv, planNetworkSetup, planNetworkTeardown } from './network-plan.js';
import { referenceBridgeCni } from './cni-config.js';
import type { LabCni } from './cni-config.js';
import { planLab } from './plan.js';

const plan = (workers: number, cni?: LabCni) =>
  planLab(
    { name: 'lab', workers, stateDir: '/s', knodeCommand: ['knode'], agentAvailable: false, bootstrapToken: 'abcdef.0123456789abcdef' },
    [{ prefix: parsePrefix4('192.0.2.0/24')!, source: 'eth0' }],
    cni,
  );

describe('planNetworkSetup', () => {
  it('creates namespaces and veths from the root namespace, then configures each namespace (golden, 1 worker)', () => {
    expect(planNetworkSetup(plan(1))).toEqual([
      {
        netns: null,
        lines: [
          'netns add knode-lab-sw',
          'netns add knode-lab-cp',
          'netns add knode-lab-w1',
          'link add name cp netns knode-lab-sw type veth peer name eth0 netns knode-lab-cp',
          'link add name w1 netns knode-lab-sw type veth peer name eth0 netns knode-lab-w1',
          'link add name knode-lab type veth peer name root netns knode-lab-sw',
          'link set knode-lab addrgenmode none',
          'addr add 172.31.250.1/24 dev knode-lab',
          'link set knode-lab up',
          'netns exec knode-lab-sw sysctl -qw net.ipv4.ip_forward=1',
          'netns exec knode-lab-cp sysctl -qw net.ipv4.ip_forward=1',
          'netns exec knode-lab-w1 sysctl -qw net.ipv4.ip_forward=1',
        ],
      },
      {
        netns: 'knode-lab-sw',
        lines: [
          'link set lo up',
          'link add name br0 type bridge',
          'link set br0 addrgenmode none',
          'link set br0 up',
          'link set cp master br0',
          'link set cp up',
          'link set w1 master br0',
          'link set w1 up',
          'link set root master br0',
          'link set root up',
        ],
      },
      // the overlay (run by each agent) connects the workers: no routes in the lab namespaces
      { netns: 'knode-lab-cp', lines: ['link set lo up', 'addr add 172.31.250.10/24 dev eth0', 'link set eth0 up'] },
      // workers route the Service range onto the underlay (kube-proxy's rules act before that route)
      { netns: 'knode-lab-w1', lines: ['link set lo up', 'addr add 172.31.250.11/24 dev eth0', 'link set eth0 up', 'route add 10.96.0.0/12 dev eth0'] },
    ]);
  });

  it('touches the root namespace only through its own veth: one address, no route, no sysctl', () => {
    const root = planNetworkSetup(plan(3))[0]!;
    const rootOnly = root.lines.filter((l) => !l.startsWith('netns ') && !/ netns knode-lab-/.test(l));
    expect(rootOnly).toEqual(['link set knode-lab addrgenmode none', 'addr add 172.31.250.1/24 dev knode-lab', 'link set knode-lab up']);
    expect(root.lines.some((l) => l.startsWith('route'))).toBe(false);
  });

  it('with the reference bridge CNI, routes each worker to the other workers\' pod ranges, never to a default route', () => {
    const batches = planNetworkSetup(plan(3, referenceBridgeCni));
    const w2 = batches.find((b) => b.netns === 'knode-lab-w2')!;
    expect(w2.lines.filter((l) => l.startsWith('route'))).toEqual([
      'route add 10.244.1.0/24 via 172.31.250.11 dev eth0',
      'route add 10.244.3.0/24 via 172.31.250.13 dev eth0',
      'route add 10.96.0.0/12 dev eth0',
    ]);
    expect(batches.flatMap((b) => b.lines).some((l) => /default|0\.0\.0\.0\/0/.test(l))).toBe(false);
  });
});

describe('planNetworkTeardown and batch argv', () => {
  it('deletes the root veth and every namespace in one forced batch', () => {
    const t = planNetworkTeardown('knode-lab', ['knode-lab-sw', 'knode-lab-cp']);
    expect(ipBatchArgv(t, true)).toEqual(['ip', '-force', '-batch', '-']);
    expect(batchText(t)).toBe('link del knode-lab\nnetns del knode-lab-sw\nnetns del knode-lab-cp\n');
  });
  it('runs a namespace batch with -n', () => {
    expect(ipBatchArgv({ netns: 'knode-lab-w1' })).toEqual(['ip', '-n', 'knode-lab-w1', '-batch', '-']);
  });
});
