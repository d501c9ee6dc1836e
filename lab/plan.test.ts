import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { referenceBridgeCni } from './cni-config.js';
import { LabInputError, LabUnderlayError } from './errors.js';
import { parsePrefix4 } from './ipv4.js';
import { AGENT_SKIP_REASON, agentArgv, defaultStateDir, downCommand, isLabNetns, parseEtcdMembers, planLab, stepTitle } from './plan.js';
import type { LabOptions } from './plan.js';
import { stepId } from './state.js';
import type { UsedPrefix } from './underlay.js';

const MACHINE: UsedPrefix[] = [{ prefix: parsePrefix4('192.0.2.0/24')!, source: 'route 192.0.2.0/24 dev eth0' }];
const KNODE = ['/usr/bin/node', '/opt/knode/bin/knode.js'];
const base: LabOptions = {
  name: 'lab',
  workers: 2,
  stateDir: '/var/lib/knode-lab/lab',
  knodeCommand: KNODE,
  agentAvailable: false,
  bootstrapToken: 'abcdef.0123456789abcdef',
};
const plan = (over: Partial<LabOptions> = {}, used: UsedPrefix[] = MACHINE) => planLab({ ...base, ...over }, used);

describe('planLab naming and addresses', () => {
  it('names a control-plane host and N workers, each in its own namespace', () => {
    const p = plan();
    expect(p.hosts.map((h) => [h.name, h.role, h.netns, h.address, h.podCidr ?? '-'])).toEqual([
      ['cp', 'control-plane', 'knode-lab-cp', '172.31.250.10', '-'],
      ['w1', 'worker', 'knode-lab-w1', '172.31.250.11', '10.244.1.0/24'],
      ['w2', 'worker', 'knode-lab-w2', '172.31.250.12', '10.244.2.0/24'],
    ]);
    expect(p.switchNetns).toBe('knode-lab-sw');
    expect(p.root).toEqual({ link: 'knode-lab', peer: 'root', address: '172.31.250.1' });
  });

  it('puts the apiserver on the cp address and its kubeconfig under <state>/cp', () => {
    const p = plan();
    expect(p.api).toEqual({
      url: 'https://172.31.250.10:6443',
      port: 6443,
      kubeconfig: '/var/lib/knode-lab/lab/cp/admin.kubeconfig',
      dataDir: '/var/lib/knode-lab/lab/cp',
    });
    expect(p.processes[0]?.argv).toEqual([...KNODE, 'server', '--data-dir', '/var/lib/knode-lab/lab/cp', '--bind-address', '172.31.250.10', '--port', '6443']);
  });

  it('uses the lab name in every name, so two labs never share one', () => {
    const p = plan({ name: 'e2e7', stateDir: '/tmp/x' });
    expect(p.hosts.every((h) => h.netns.startsWith('knode-e2e7-'))).toBe(true);
    expect(p.root.link).toBe('knode-e2e7');
  });

  it('moves to the next free /24 when the first is in use (another lab)', () => {
    const p = plan({}, [...MACHINE, { prefix: parsePrefix4('172.31.250.0/24')!, source: 'route 172.31.250.0/24 dev knode-lab' }]);
    expect(p.underlay).toBe('172.31.251.0/24');
    expect(p.hosts[1]?.address).toBe('172.31.251.11');
  });

  it('gives each worker a private containerd dir, socket, CNI conf and bin dir under its host dir, with node on its PATH', () => {
    expect(plan({ workers: 1 }).workers).toEqual([
      {
        host: 'w1',
        dir: '/var/lib/knode-lab/lab/w1/containerd',
        socket: '/var/lib/knode-lab/lab/w1/containerd/containerd.sock',
        cniConfDir: '/var/lib/knode-lab/lab/w1/containerd/cni/net.d',
        cniBinDir: '/var/lib/knode-lab/lab/w1/cni/bin',
        runtimePath: [dirname(process.execPath)],
      },
    ]);
  });

  it('scales to the maximum of 20 workers without leaving the /24', () => {
    const p = plan({ workers: 20 });
    expect(p.hosts.at(-1)).toMatchObject({ name: 'w20', address: '172.31.250.30', podCidr: '10.244.20.0/24' });
  });
});

describe('planLab steps', () => {
  it('orders network, images, server, token, then containerd, images and agents per worker', () => {
    const p = plan({ agentAvailable: true });
    expect(p.steps.map(stepId)).toEqual([
      'network',
      'images',
      'server:cp',
      'bootstrap-token',
      'containerd:w1',
      'containerd:w2',
      'import-images:w1',
      'import-images:w2',
      'agent:w1',
      'agent:w2',
      'wait-nodes',
    ]);
    expect(p.steps.some((s) => 'skip' in s)).toBe(false);
  });

  it('plans the agent steps as skipped while `knode agent` does not exist', () => {
    const skipped = plan().steps.filter((s) => 'skip' in s && s.skip !== undefined);
    expect(skipped.map(stepId)).toEqual(['agent:w1', 'agent:w2', 'wait-nodes']);
    expect(skipped.every((s) => 'skip' in s && s.skip === AGENT_SKIP_REASON)).toBe(true);
  });

  it('titles steps as the progress lines show them', () => {
    const p = plan();
    expect(p.steps.map((s) => stepTitle(s, p)).slice(0, 5)).toEqual([
      'creating namespaces and underlay 172.31.250.0/24',
      'building lab images',
      'starting knode server on cp',
      'creating the bootstrap token',
      'starting containerd on w1',
    ]);
  });

  it('starts each agent with the server URL, join token, node identity and its containerd', () => {
    const agent = plan().processes.find((x) => x.kind === 'agent' && x.host === 'w2');
    expect(agent?.argv).toEqual(
      agentArgv(KNODE, {
        server: 'https://172.31.250.10:6443',
        token: 'abcdef.0123456789abcdef',
        nodeName: 'w2',
        nodeIp: '172.31.250.12',
        containerdSocket: '/var/lib/knode-lab/lab/w2/containerd/containerd.sock',
        dataDir: '/var/lib/knode-lab/lab/w2/agent',
        podCidr: '10.244.2.0/24',
        cgroupRoot: '/knode-lab/w2',
        caFile: '/var/lib/knode-lab/lab/cp/pki/ca.crt',
        cniConfDir: '/var/lib/knode-lab/lab/w2/containerd/cni/net.d',
        cniBinDir: '/var/lib/knode-lab/lab/w2/cni/bin',
        cniSocket: '/var/lib/knode-lab/lab/w2/cni/knode-cni.sock',
        bpfDir: '/sys/fs/bpf/knode-lab/lab/w2',
      }),
    );
    expect(agent?.argv.slice(-8)).toEqual([
      '--cni-conf-dir',
      '/var/lib/knode-lab/lab/w2/containerd/cni/net.d',
      '--cni-bin-dir',
      '/var/lib/knode-lab/lab/w2/cni/bin',
      '--cni-socket',
      '/var/lib/knode-lab/lab/w2/cni/knode-cni.sock',
      '--bpf-dir',
      '/sys/fs/bpf/knode-lab/lab/w2',
    ]);
    expect(agent?.logFile).toBe('/var/lib/knode-lab/lab/w2/agent.log');
  });

  it('gives each agent its own fast path directory in bpffs, under the lab\'s (which lab down removes)', () => {
    const dirs = plan({ workers: 2 })
      .processes.filter((x) => x.kind === 'agent')
      .map((x) => x.argv[x.argv.indexOf('--bpf-dir') + 1]);
    expect(dirs).toEqual(['/sys/fs/bpf/knode-lab/lab/w1', '/sys/fs/bpf/knode-lab/lab/w2']);
  });

  it('gives each agent its own CNI socket under its host dir (the nodes share one file system)', () => {
    const sockets = plan({ workers: 3 })
      .processes.filter((x) => x.kind === 'agent')
      .map((x) => x.argv[x.argv.indexOf('--cni-socket') + 1]);
    expect(sockets).toEqual(['w1', 'w2', 'w3'].map((w) => `/var/lib/knode-lab/lab/${w}/cni/knode-cni.sock`));
  });

  it('passes the proxy mode to every agent when one is asked for, and none otherwise', () => {
    const modes = (p: ReturnType<typeof plan>): Array<string | undefined> =>
      p.processes.filter((x) => x.kind === 'agent').map((x) => (x.argv.includes('--proxy-mode') ? x.argv[x.argv.indexOf('--proxy-mode') + 1] : undefined));
    expect(modes(plan({ proxyMode: 'iptables' }))).toEqual(['iptables', 'iptables']);
    expect(modes(plan())).toEqual([undefined, undefined]);
  });

  it('passes no CNI dirs nor socket when the lab uses the reference plugins', () => {
    const agent = planLab({ ...base, workers: 1 }, MACHINE, referenceBridgeCni).processes.find((x) => x.kind === 'agent');
    expect(agent?.argv).toContain('--no-overlay');
    expect(agent?.argv.filter((a) => a.startsWith('--cni-'))).toEqual([]);
  });
});

describe('planLab refuses bad input before anything is created', () => {
  it.each([
    ['an upper-case name', { name: 'Lab' }, /lab name must be/],
    ['a name with a hyphen (it would blur lab prefixes)', { name: 'my-lab' }, /lab name must be/],
    ['a name too long for an interface name', { name: 'abcdefghij' }, /lab name must be/],
    ['zero workers', { workers: 0 }, /from 1 to 20/],
    ['too many workers', { workers: 21 }, /from 1 to 20/],
    ['a relative state dir', { stateDir: 'state' }, /absolute path/],
    ['a state dir too long for a unix socket path', { stateDir: `/${'d'.repeat(90)}` }, /exceeds 107 bytes/],
    ['an empty knode command', { knodeCommand: [] }, /empty/],
    ['a negative number of etcd members', { etcdMembers: -1 }, /--etcd must be a whole number of etcd members from 0 \(the embedded store\) to 5, got -1/],
    ['more than 5 etcd members', { etcdMembers: 6 }, /--etcd .* to 5, got 6/],
    ['a fraction of an etcd member', { etcdMembers: 1.5 }, /--etcd .* got 1\.5/],
  ])('%s', (_n, over: Partial<LabOptions>, msg) => {
    expect(() => plan(over)).toThrow(LabInputError);
    expect(() => plan(over)).toThrow(msg);
  });

  it('refuses a forced underlay overlapping the machine network', () => {
    expect(() => plan({ underlay: '192.0.2.0/24' })).toThrow(LabUnderlayError);
  });
});

describe('planLab with an etcd cluster (--etcd 3)', () => {
  const p = plan({ etcdMembers: 3, agentAvailable: true });
  const cpDir = '/var/lib/knode-lab/lab/cp';
  const initialCluster = 'etcd0=http://172.31.250.10:2380,etcd1=http://172.31.250.10:12380,etcd2=http://172.31.250.10:22380';

  it('runs members etcd0..etcd2 on cp, ports 10000 apart on the cp address, data and logs under cp', () => {
    expect(p.etcd?.members).toEqual([0, 1, 2].map((i) => ({
      name: `etcd${i}`,
      host: 'cp',
      clientUrl: `http://172.31.250.10:${2379 + 10000 * i}`,
      peerUrl: `http://172.31.250.10:${2380 + 10000 * i}`,
      dataDir: `${cpDir}/etcd/etcd${i}`,
      logFile: `${cpDir}/etcd-etcd${i}.log`,
    })));
    expect(p.etcd?.endpoints).toEqual(['http://172.31.250.10:2379', 'http://172.31.250.10:12379', 'http://172.31.250.10:22379']);
  });

  it('starts every member with the whole initial cluster and the lab\'s cluster token', () => {
    const etcd = p.processes.filter((x) => x.kind === 'etcd');
    expect(etcd.map((x) => [x.host, x.member, x.logFile])).toEqual([0, 1, 2].map((i) => ['cp', `etcd${i}`, `${cpDir}/etcd-etcd${i}.log`]));
    expect(etcd[1]?.argv).toEqual([
      'etcd',
      '--name', 'etcd1',
      '--data-dir', `${cpDir}/etcd/etcd1`,
      '--listen-client-urls', 'http://172.31.250.10:12379',
      '--advertise-client-urls', 'http://172.31.250.10:12379',
      '--listen-peer-urls', 'http://172.31.250.10:12380',
      '--initial-advertise-peer-urls', 'http://172.31.250.10:12380',
      '--initial-cluster', initialCluster,
      '--initial-cluster-state', 'new',
      '--initial-cluster-token', 'knode-lab',
    ]);
    expect(etcd.every((x) => x.argv[x.argv.indexOf('--initial-cluster') + 1] === initialCluster)).toBe(true);
  });

  it('points the server at every member', () => {
    const server = p.processes.find((x) => x.kind === 'server');
    expect(server?.argv).toEqual([
      ...KNODE, 'server', '--data-dir', cpDir, '--bind-address', '172.31.250.10', '--port', '6443',
      '--etcd-servers', 'http://172.31.250.10:2379,http://172.31.250.10:12379,http://172.31.250.10:22379',
    ]);
  });

  it('starts etcd on cp right before the server', () => {
    expect(p.steps.map(stepId)).toEqual([
      'network', 'images', 'etcd:cp', 'server:cp', 'bootstrap-token',
      'containerd:w1', 'containerd:w2', 'import-images:w1', 'import-images:w2', 'agent:w1', 'agent:w2', 'wait-nodes',
    ]);
    expect(stepTitle({ kind: 'etcd', host: 'cp' }, p)).toBe('starting etcd on cp');
  });

  it('uses the lab name in the cluster token, so two labs\' members never join each other', () => {
    const other = plan({ name: 'e2e7', stateDir: '/tmp/x', etcdMembers: 1 }).processes.find((x) => x.kind === 'etcd');
    expect(other?.argv.slice(-2)).toEqual(['--initial-cluster-token', 'knode-e2e7']);
    expect(other?.argv[other.argv.indexOf('--initial-cluster') + 1]).toBe('etcd0=http://172.31.250.10:2380');
  });

  it('plans exactly as before with --etcd 0 (the embedded store)', () => {
    const zero = plan({ etcdMembers: 0 });
    expect(zero).toEqual(plan());
    expect(zero.etcd).toBeUndefined();
    expect(zero.processes.some((x) => x.kind === 'etcd' || x.argv.includes('--etcd-servers'))).toBe(false);
    expect(zero.steps.some((s) => s.kind === 'etcd')).toBe(false);
  });
});

describe('parseEtcdMembers (--etcd)', () => {
  it.each([['0', 0], ['1', 1], ['3', 3], ['5', 5]])('takes %s', (text, n) => {
    expect(parseEtcdMembers(text)).toBe(n);
  });
  it.each(['6', '-1', '1.5', '', 'three', '3x', ' 3'])('refuses %j, naming the flag', (text) => {
    expect(() => parseEtcdMembers(text)).toThrow(LabInputError);
    expect(() => parseEtcdMembers(text)).toThrow(/^--etcd must be a whole number of etcd members from 0 \(the embedded store\) to 5, got /);
  });
});

describe('downCommand', () => {
  it('names the lab and state dir only when they are not the defaults', () => {
    expect(downCommand('lab', defaultStateDir('lab'))).toBe('knode lab down');
    expect(downCommand('t1', defaultStateDir('t1'))).toBe('knode lab down --name t1');
    expect(downCommand('t1', '/tmp/s')).toBe('knode lab down --name t1 --state-dir /tmp/s');
  });
});

describe('isLabNetns', () => {
  it.each([
    ['knode-t-sw', true],
    ['knode-t-cp', true],
    ['knode-t-w1', true],
    ['knode-t-w20', true],
    ['knode-t-471ecc', false],
    ['knode-t-w0', false],
    ['knode-t2-cp', false],
    ['knode-t-cp-x', false],
  ])('%s belongs to lab t: %s', (ns, want) => {
    expect(isLabNetns('t', ns)).toBe(want);
  });
  it('holds for every namespace a plan creates', () => {
    const p = plan({ name: 't', workers: 20 });
    expect([p.switchNetns, ...p.hosts.map((h) => h.netns)].every((n) => isLabNetns('t', n))).toBe(true);
  });
});
