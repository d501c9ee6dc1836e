/**
 * The pod network across nodes on a real lab (`knode lab up --nodes 2`: knode-cni invoked by each
 * worker's containerd, the VXLAN overlay run by each `knode agent`), checked the way upstream's
 * pod-networking conformance tests do it (targets.md): a client pod's `/dial` endpoint asks server
 * pods on the same and on the other node for their hostname over HTTP and UDP, and every answer must
 * be the server pod's name; the same from hostNetwork pods on each node; the server sees the client
 * pod's own IP (no NAT between pods); tcpdump on the lab's switch sees VXLAN (UDP 8472, VNI 1)
 * between the workers. Then the overlay's control loop: a Node added, changed and deleted is
 * programmed on both workers (route, neighbour, FDB entry) and cleaned up; an agent restart keeps the
 * VXLAN device and an established TCP connection between pods. The pod fast path (cni/fastpath/, on by
 * default): cross-node pod traffic goes through its programs both ways (their counters move), while
 * connections netfilter NATs on a node (a Service's replies) are left to the normal path and still
 * work, as does a hostPort; a deleted pod leaves its node's map.
 *
 * Requests go from the test into a lab host's namespace (`ip netns exec ... curl`), never through a
 * route in the machine's own namespace. `lab down` runs in afterAll whatever happened.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../cni/ipam/file-store.js';
import { parsePeers, parsePods, parseStats } from '../cni/fastpath/fastpath.js';
import { labBpfDir } from '../lab/plan.js';
import { labName, run, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('ov'));
const IMAGE = 'knode.local/testserver:1.0';
const HTTP_PORT = 8083;
const UDP_PORT = 8081;

interface PodView {
  metadata: { name: string };
  status?: { phase?: string; podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }>; containerStatuses?: Array<{ restartCount: number; containerID?: string }> };
}

async function getPod(name: string): Promise<PodView | undefined> {
  const r = await lab.kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodView) : undefined;
}

const isReady = (p: PodView | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

async function readyPod(name: string): Promise<PodView & { status: { podIP: string } }> {
  let last: PodView | undefined;
  return waitFor(
    () => `pod ${name} Ready (last: ${JSON.stringify(last?.status ?? null)})`,
    async () => {
      last = await getPod(name);
      return isReady(last) && last?.status?.podIP !== undefined ? (last as PodView & { status: { podIP: string } }) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

function pod(name: string, node: string, extra: Record<string, unknown> = {}, container: Record<string, unknown> = {}): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      nodeName: node,
      terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: IMAGE, readinessProbe: { tcpSocket: { port: HTTP_PORT }, periodSeconds: 1 }, ...container }],
      ...extra,
    },
  };
}

interface DialAnswer {
  responses: string[];
  errors: string[];
}

/** Asks the testserver at `via` (reached from inside `host`) to dial `target` and answer what it heard. */
async function dial(host: string, via: string, request: 'hostname' | 'clientip', protocol: 'http' | 'udp', target: string, tries = 3): Promise<DialAnswer> {
  const port = protocol === 'http' ? HTTP_PORT : UDP_PORT;
  const url = `http://${via}:${HTTP_PORT}/dial?request=${request}&protocol=${protocol}&host=${target}&port=${port}&tries=${tries}`;
  const r = await lab.inHost(host, ['curl', '-sS', '--max-time', '10', url]);
  if (r.code !== 0) throw new Error(`curl ${url} in ${host} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as DialAnswer;
}

interface NodeView {
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: { podCIDR?: string };
  status?: { addresses?: Array<{ type: string; address: string }> };
}

async function getNode(name: string): Promise<NodeView> {
  return JSON.parse(await lab.kubectlOk(['get', 'node', name, '-o', 'json'])) as NodeView;
}

interface KernelEntries {
  routes: Array<{ dst: string; gateway?: string; flags?: string[] }>;
  neighbours: Array<{ dst: string; lladdr?: string; state?: string[] }>;
  fdb: Array<{ mac: string; dst?: string }>;
}

async function jsonIn(host: string, argv: string[]): Promise<unknown[]> {
  const r = await lab.inHost(host, argv);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} in ${host}: ${r.stderr}`);
  return r.stdout.trim() === '' ? [] : (JSON.parse(r.stdout) as unknown[]);
}

async function overlayEntries(host: string): Promise<KernelEntries> {
  const [routes, neighbours, fdb] = await Promise.all([
    jsonIn(host, ['ip', '-4', '-j', 'route', 'show', 'dev', 'knode.1']),
    jsonIn(host, ['ip', '-4', '-j', 'neigh', 'show', 'dev', 'knode.1']),
    jsonIn(host, ['bridge', '-j', 'fdb', 'show', 'dev', 'knode.1']),
  ]);
  return {
    routes: (routes as KernelEntries['routes']).filter((r) => r.dst.includes('/')),
    neighbours: neighbours as KernelEntries['neighbours'],
    fdb: (fdb as KernelEntries['fdb']).filter((f) => f.dst !== undefined),
  };
}

/** What a peer must look like on `host`: route via its VTEP address onlink, permanent neighbour, FDB to its underlay IP. */
function hasPeer(e: KernelEntries, podCIDR: string, mac: string, underlayIP: string): boolean {
  const vtep = podCIDR.split('/')[0] ?? '';
  return (
    e.routes.some((r) => r.dst === podCIDR && r.gateway === vtep && (r.flags ?? []).includes('onlink')) &&
    e.neighbours.some((n) => n.dst === vtep && n.lladdr === mac && (n.state ?? []).includes('PERMANENT')) &&
    e.fdb.some((f) => f.mac === mac && f.dst === underlayIP)
  );
}

const nodeIP = (n: NodeView): string => n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '';

let pods: Record<string, string> = {};
let nodeIPs: Record<string, string> = {};

beforeAll(async () => {
  await lab.up(2);
  await lab.apply(pod('srv-w1', 'w1'));
  await lab.apply(pod('srv-w2', 'w2'));
  await lab.apply(pod('client-w1', 'w1'));
  await lab.apply(pod('hostnet-w1', 'w1', { hostNetwork: true }));
  await lab.apply(pod('hostnet-w2', 'w2', { hostNetwork: true }));
  for (const name of ['srv-w1', 'srv-w2', 'client-w1', 'hostnet-w1', 'hostnet-w2']) pods[name] = (await readyPod(name)).status.podIP;
  nodeIPs = { w1: nodeIP(await getNode('w1')), w2: nodeIP(await getNode('w2')) };
}, 240_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('overlay: the VXLAN device and its peers', () => {
  it('publishes each node VTEP on its Node and programs one route, one neighbour and one FDB entry for the other node', async () => {
    const w1 = await getNode('w1');
    const w2 = await getNode('w2');
    for (const n of [w1, w2]) {
      expect(n.metadata.annotations?.['knode.io/vtep-mac']).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
      expect(n.metadata.annotations?.['knode.io/public-ip']).toBe(nodeIP(n));
    }
    const onW1 = await overlayEntries('w1');
    expect(onW1.routes).toHaveLength(1);
    expect(onW1.neighbours).toHaveLength(1);
    expect(onW1.fdb).toHaveLength(1);
    expect(hasPeer(onW1, w2.spec?.podCIDR ?? '', w2.metadata.annotations?.['knode.io/vtep-mac'] ?? '', nodeIP(w2))).toBe(true);
    expect(hasPeer(await overlayEntries('w2'), w1.spec?.podCIDR ?? '', w1.metadata.annotations?.['knode.io/vtep-mac'] ?? '', nodeIP(w1))).toBe(true);
    // the device: VNI 1, port 8472, local = node IP, no learning, MTU underlay - 50
    const [link] = (await jsonIn('w1', ['ip', '-j', '-d', 'link', 'show', 'knode.1'])) as Array<{ mtu: number; linkinfo: { info_data: { id: number; port: number; local: string; learning: boolean } } }>;
    expect(link?.linkinfo.info_data).toMatchObject({ id: 1, port: 8472, local: nodeIPs['w1'], learning: false });
    expect(link?.mtu).toBe(1450);
  });

  it('writes the CNI node state from the Node podCIDR, and pods get addresses from it', async () => {
    const state = JSON.parse(await readFile(join(lab.stateDir, 'w2', 'cni', 'node.json'), 'utf8')) as { podCIDR: string; mtu: number };
    expect(state).toEqual({ podCIDR: (await getNode('w2')).spec?.podCIDR, mtu: 1450 });
    expect(pods['srv-w2']).toMatch(/^10\.244\.2\.\d+$/);
    expect(pods['srv-w1']).toMatch(/^10\.244\.1\.\d+$/);
  });
});

describe('overlay: pod networking like upstream conformance', () => {
  it.each([
    ['http', 'srv-w1'],
    ['http', 'srv-w2'],
    ['udp', 'srv-w1'],
    ['udp', 'srv-w2'],
  ] as const)('a client pod reaches %s on %s (same and other node) and hears its name', async (protocol, server) => {
    const answer = await dial('w1', pods['client-w1'] ?? '', 'hostname', protocol, pods[server] ?? '');
    expect(answer).toEqual({ responses: [server, server, server], errors: [] });
  });

  it.each([
    ['hostnet-w1', 'w1'],
    ['hostnet-w2', 'w2'],
  ] as const)('the hostNetwork pod %s reaches the pods on both nodes over HTTP and UDP', async (hostPod, host) => {
    expect(pods[hostPod]).toBe(nodeIPs[host]);
    for (const server of ['srv-w1', 'srv-w2']) {
      for (const protocol of ['http', 'udp'] as const) {
        expect(await dial(host, pods[hostPod] ?? '', 'hostname', protocol, pods[server] ?? '')).toEqual({ responses: [server, server, server], errors: [] });
      }
    }
  });

  it('keeps pod IPs end to end: the server on the other node sees the client pod IP', async () => {
    const answer = await dial('w1', pods['client-w1'] ?? '', 'clientip', 'http', pods['srv-w2'] ?? '', 1);
    expect(answer.errors).toEqual([]);
    expect(answer.responses[0]?.split(':')[0]).toBe(pods['client-w1']);
  });

  it('carries pod traffic between the nodes as VXLAN on UDP 8472 with VNI 1 (tcpdump on the underlay)', async () => {
    // capture on w2's port of the lab switch: everything between the nodes crosses it
    const tcpdump = spawn('ip', ['netns', 'exec', lab.netns('sw'), 'tcpdump', '-i', 'w2', '-nn', '-l', '-T', 'vxlan', '-c', '6', 'udp', 'port', '8472'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    tcpdump.stdout.on('data', (d: Buffer) => (out += d.toString()));
    tcpdump.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => tcpdump.on('exit', () => resolve()));
    try {
      await waitFor('tcpdump listening', () => /listening on/.test(err), { timeoutMs: 10_000 });
      await dial('w1', pods['client-w1'] ?? '', 'hostname', 'http', pods['srv-w2'] ?? '', 3);
      await waitFor(() => `6 VXLAN packets (got: ${out})`, () => out.split('\n').filter((l) => l.includes('VXLAN')).length >= 6, { timeoutMs: 10_000 });
    } finally {
      tcpdump.kill('SIGTERM');
      await exited;
    }
    const lines = out.split('\n').filter((l) => l.includes('VXLAN'));
    const w1 = nodeIPs['w1'] ?? '';
    const w2 = nodeIPs['w2'] ?? '';
    expect(lines.some((l) => l.includes(`${w1}.`) && l.includes(`> ${w2}.8472`))).toBe(true);
    expect(lines.some((l) => l.includes(`${w2}.`) && l.includes(`> ${w1}.8472`))).toBe(true);
    expect(lines.every((l) => /vni 1\b/.test(l))).toBe(true);
  });
});

const FASTPATH_HELPER = join(import.meta.dirname, '..', 'dist', 'cni', 'fastpath', 'knode-fastpath');

/** The helper reads pinned maps, which are the machine's: no need to enter the node's namespace. */
async function fastPath(host: string, what: 'stats' | 'pods' | 'peers' | 'disable' | 'enable'): Promise<string> {
  const r = await run(FASTPATH_HELPER, [what, labBpfDir(lab.name, host)], undefined, 10_000);
  if (r.code !== 0) throw new Error(`knode-fastpath ${what} for ${host} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

async function counters(): Promise<Record<'w1' | 'w2', Map<string, number>>> {
  return { w1: parseStats(await fastPath('w1', 'stats')), w2: parseStats(await fastPath('w2', 'stats')) };
}

const grew = (before: Map<string, number>, after: Map<string, number>, name: string): number => (after.get(name) ?? 0) - (before.get(name) ?? 0);

/** The network namespace of the pod with IP `ip` on `host`, found among containerd's. */
async function podNetns(host: string, ip: string): Promise<string> {
  const dir = join(lab.stateDir, host, 'containerd', 'state', 'io.containerd.grpc.v1.cri', 'netns');
  for (const name of await readdir(dir)) {
    const r = await run('nsenter', [`--net=${join(dir, name)}`, 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    if (r.code === 0 && r.stdout.includes(` ${ip}/`)) return join(dir, name);
  }
  throw new Error(`no network namespace with ${ip} on ${host} (in ${dir})`);
}

async function mustOk(p: Promise<{ code: number; stderr: string }>): Promise<void> {
  const r = await p;
  if (r.code !== 0) throw new Error(`command failed (${r.code}): ${r.stderr}`);
}

/** Asks the client pod's testserver to dial host:port (any port, unlike dial()). */
async function dialPort(target: string, port: number, protocol: 'http' | 'udp', tries: number): Promise<DialAnswer> {
  const url = `http://${pods['client-w1'] ?? ''}:${HTTP_PORT}/dial?request=hostname&protocol=${protocol}&host=${target}&port=${port}&tries=${tries}`;
  const r = await lab.inHost('w1', ['curl', '-sS', '--max-time', '10', url]);
  if (r.code !== 0) throw new Error(`curl ${url} failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as DialAnswer;
}

describe('overlay: the pod fast path', () => {
  it('lists the pods of each node in its map, with their veth', async () => {
    const w1 = parsePods(await fastPath('w1', 'pods'));
    const w2 = parsePods(await fastPath('w2', 'pods'));
    expect(w1.map((e) => e.ip).sort()).toEqual([pods['client-w1'], pods['srv-w1']].sort());
    expect(w2.map((e) => e.ip)).toEqual([pods['srv-w2']]);
    for (const e of [...w1, ...w2]) {
      expect(e.ifindex).toBeGreaterThan(0);
      expect(e.podMac).toBe(`0a:58:${(e.ip.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))).join(':')}`);
    }
  });

  it('carries HTTP and UDP between pods of different nodes, both ways (its counters move on both nodes)', async () => {
    const before = await counters();
    for (const protocol of ['http', 'udp'] as const) {
      expect(await dial('w1', pods['client-w1'] ?? '', 'hostname', protocol, pods['srv-w2'] ?? '', 3)).toEqual({ responses: ['srv-w2', 'srv-w2', 'srv-w2'], errors: [] });
    }
    const after = await counters();
    // client -> server: from_pod on w1 (encapsulated there), from_underlay on w2; the answers: from_pod
    // on w2, from_underlay on w1
    expect(grew(before.w1, after.w1, 'pod_encapsulated')).toBeGreaterThanOrEqual(6);
    expect(grew(before.w2, after.w2, 'underlay_redirected')).toBeGreaterThanOrEqual(6);
    expect(grew(before.w2, after.w2, 'pod_encapsulated')).toBeGreaterThanOrEqual(6);
    expect(grew(before.w1, after.w1, 'underlay_redirected')).toBeGreaterThanOrEqual(6);
  });

  it('knows the other node\'s VTEP (the FDB mirrored into its peer map)', async () => {
    const vtep = async (name: string): Promise<string> => (await getNode(name)).metadata.annotations?.['knode.io/vtep-mac'] ?? 'none';
    expect(await fastPath('w1', 'peers')).toBe(`${await vtep('w2')} ${nodeIPs['w2']}\n`);
    expect(await fastPath('w2', 'peers')).toBe(`${await vtep('w1')} ${nodeIPs['w1']}\n`);
  });

  it('leaves a packet too big for the underlay once encapsulated to the normal path, where the VXLAN device deals with it', async () => {
    // w2's underlay link (both ends) lowered to 1400 by hand, as an operator might: the pods' 1450
    // segments no longer fit once encapsulated. Without the fast path the VXLAN device learns the
    // smaller path MTU and fragments its outer packets (forwarding itself goes by the device's MTU):
    // the fast path must leave such packets to it. Sent by from_pod itself they would be dropped by
    // the link, or pass whole as GSO on these veths, and the device would never see them.
    const src = { host: 'w2', ip: pods['srv-w2'] ?? '' };
    const dst = { host: 'w1', ip: pods['client-w1'] ?? '' };
    const [srcNs, dstNs] = await Promise.all([podNetns(src.host, src.ip), podNetns(dst.host, dst.ip)]);
    const setUnderlayMtu = async (mtu: number): Promise<void> => {
      await mustOk(lab.inHost('w2', ['ip', 'link', 'set', 'dev', 'eth0', 'mtu', String(mtu)]));
      await mustOk(run('ip', ['netns', 'exec', lab.netns('sw'), 'ip', 'link', 'set', 'dev', 'w2', 'mtu', String(mtu)]));
    };
    const flush = async (): Promise<void> => {
      await mustOk(run('nsenter', [`--net=${srcNs}`, 'ip', 'route', 'flush', 'cache']));
      await mustOk(lab.inHost('w2', ['ip', 'route', 'flush', 'cache']));
    };
    const iperfServer = spawn('nsenter', [`--net=${dstNs}`, 'iperf3', '-s', '-1', '-p', '5299'], { stdio: 'ignore' });
    try {
      await setUnderlayMtu(1400);
      await flush();
      const before = await counters();
      const client = await waitFor('iperf3 from the w2 pod to the w1 pod', async () => {
        const r = await run('nsenter', [`--net=${srcNs}`, 'iperf3', '-c', dst.ip, '-p', '5299', '-n', '4M', '-J'], undefined, 30_000);
        return r.code === 0 ? r : undefined; // refused until the server listens
      });
      // (the receiver's count stops at the sender's end mark, with data still in flight: not compared)
      const report = JSON.parse(client.stdout) as { end: { sum_sent: { bytes: number }; sum_received: { bytes: number } } };
      expect(report.end.sum_sent.bytes).toBeGreaterThanOrEqual(4 * 1024 * 1024);
      expect(report.end.sum_received.bytes).toBeGreaterThan(1024 * 1024);
      const after = await counters();
      // 4 MB in 64 KB super-packets: dozens, all too big, all left to the normal path
      expect(grew(before.w2, after.w2, 'pod_passed')).toBeGreaterThanOrEqual(30);
      expect((await lab.inHost('w2', ['ip', '-4', 'route', 'get', dst.ip])).stdout).toMatch(/\bmtu 1350\b/);
    } finally {
      iperfServer.kill();
      await setUnderlayMtu(1500);
      await flush();
    }
  }, 60_000);

  it('interoperates with a node whose fast path is off: its kernel VXLAN device takes what the other encapsulated, and the reverse', async () => {
    try {
      await fastPath('w2', 'disable');
      const before = await counters();
      for (const protocol of ['http', 'udp'] as const) {
        expect(await dial('w1', pods['client-w1'] ?? '', 'hostname', protocol, pods['srv-w2'] ?? '', 3)).toEqual({ responses: ['srv-w2', 'srv-w2', 'srv-w2'], errors: [] });
      }
      const after = await counters();
      expect(grew(before.w1, after.w1, 'pod_encapsulated')).toBeGreaterThanOrEqual(5);
      expect(grew(before.w2, after.w2, 'underlay_redirected')).toBe(0);
      expect(grew(before.w2, after.w2, 'pod_encapsulated')).toBe(0);
      // the answers came through w2's normal path and w1's from_underlay
      expect(grew(before.w1, after.w1, 'underlay_redirected')).toBeGreaterThanOrEqual(6);
    } finally {
      await fastPath('w2', 'enable');
    }
  });

  it('leaves a Service connection to netfilter on the client node: the answers of a backend on the other node come back from the ClusterIP', async () => {
    await lab.apply({ ...(pod('fp-backend', 'w2') as Record<string, unknown>), metadata: { name: 'fp-backend', labels: { app: 'fp-backend' } } });
    await readyPod('fp-backend');
    await lab.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'fp-svc' }, spec: { selector: { app: 'fp-backend' }, ports: [{ port: 80, targetPort: HTTP_PORT }] } });
    const clusterIP = (await lab.kubectlOk(['get', 'service', 'fp-svc', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    // kube-proxy programs the Service within its sync period: wait for the first answer
    await waitFor('the Service answering', async () => (await dialPort(clusterIP, 80, 'http', 1)).responses[0] === 'fp-backend', { timeoutMs: 30_000 });
    const before = await counters();
    // a reply that skipped netfilter would reach the client from the pod IP, not the ClusterIP: its
    // TCP stack would reset the connection and the dial would fail
    expect(await dialPort(clusterIP, 80, 'http', 5)).toEqual({ responses: Array(5).fill('fp-backend'), errors: [] });
    const after = await counters();
    expect(grew(before.w1, after.w1, 'underlay_passed')).toBeGreaterThanOrEqual(5);
    expect(grew(before.w2, after.w2, 'pod_encapsulated')).toBeGreaterThanOrEqual(5); // w2 does no NAT: fast
  });

  it('still serves a hostPort to a pod of the other node (DNAT on the receiving node), and drops a deleted pod from its node map', async () => {
    await lab.apply(pod('fp-hostport', 'w2', {}, { ports: [{ containerPort: HTTP_PORT, hostPort: 30083 }] }));
    const hp = await readyPod('fp-hostport');
    expect(await dialPort(nodeIPs['w2'] ?? '', 30083, 'http', 3)).toEqual({ responses: ['fp-hostport', 'fp-hostport', 'fp-hostport'], errors: [] });
    await waitFor('the hostPort pod in the map of w2', async () => parsePods(await fastPath('w2', 'pods')).some((e) => e.ip === hp.status.podIP));
    await lab.kubectlOk(['delete', 'pod', 'fp-hostport', '--wait=true']);
    await waitFor('the deleted pod out of the map of w2', async () => !parsePods(await fastPath('w2', 'pods')).some((e) => e.ip === hp.status.podIP), { timeoutMs: 30_000 });
  }, 90_000);
});

describe('overlay: following the Nodes', () => {
  const ghost = { mac: '0e:00:00:00:be:ef', cidr: '10.244.200.0/24' };

  it('programs a new Node on every worker, follows its underlay IP change, and removes everything when it is deleted', async () => {
    const underlay = nodeIPs['w1']?.split('.').slice(0, 3).join('.') ?? '';
    const firstIP = `${underlay}.99`;
    const secondIP = `${underlay}.98`;
    await lab.apply({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'ghost', annotations: { 'knode.io/vtep-mac': ghost.mac, 'knode.io/public-ip': firstIP } },
      spec: { podCIDR: ghost.cidr, podCIDRs: [ghost.cidr] },
    });
    const peerIP = async (host: string): Promise<string | undefined> => parsePeers(await fastPath(host, 'peers')).find((p) => p.mac === ghost.mac)?.ip;
    for (const host of ['w1', 'w2']) {
      await waitFor(`ghost programmed on ${host}`, async () => hasPeer(await overlayEntries(host), ghost.cidr, ghost.mac, firstIP), { timeoutMs: 3_000 });
      await waitFor(`ghost in the fast path's peers on ${host}`, async () => (await peerIP(host)) === firstIP, { timeoutMs: 3_000 });
    }
    await lab.kubectlOk(['annotate', 'node', 'ghost', '--overwrite', `knode.io/public-ip=${secondIP}`]);
    for (const host of ['w1', 'w2']) {
      await waitFor(`ghost's FDB entry moved on ${host}`, async () => hasPeer(await overlayEntries(host), ghost.cidr, ghost.mac, secondIP), { timeoutMs: 3_000 });
      await waitFor(`ghost's peer entry moved on ${host}`, async () => (await peerIP(host)) === secondIP, { timeoutMs: 3_000 });
    }
    await lab.kubectlOk(['delete', 'node', 'ghost']);
    for (const host of ['w1', 'w2']) {
      const gone = await waitFor(
        `ghost removed on ${host}`,
        async () => {
          const e = await overlayEntries(host);
          const left = e.routes.some((r) => r.dst === ghost.cidr) || e.neighbours.some((n) => n.dst === '10.244.200.0') || e.fdb.some((f) => f.mac === ghost.mac);
          return left ? undefined : e;
        },
        { timeoutMs: 3_000 },
      );
      // and the real peer is still there
      expect(gone.routes).toHaveLength(1);
      await waitFor(`ghost out of the fast path's peers on ${host}`, async () => (await peerIP(host)) === undefined, { timeoutMs: 3_000 });
      expect(parsePeers(await fastPath(host, 'peers'))).toHaveLength(1);
    }
  });

  it('keeps an established TCP connection between pods and the VXLAN device across agent restarts', async () => {
    await lab.apply(pod('tcp-server', 'w2', { restartPolicy: 'Never' }, { command: ['sh', '-c', 'sleep 100000 | nc -l -p 9000'], readinessProbe: undefined }));
    const server = await readyPod('tcp-server');
    await lab.apply(
      pod('tcp-client', 'w1', { restartPolicy: 'Never' }, {
        command: ['sh', '-c', `i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done | nc ${server.status.podIP} 9000`],
        readinessProbe: undefined,
      }),
    );
    await readyPod('tcp-client');
    const ticks = async (): Promise<number> => {
      const log = await lab.kubectlOk(['logs', 'tcp-server']);
      const last = log.trim().split('\n').at(-1)?.match(/^tick (\d+)$/);
      return last ? Number(last[1]) : 0;
    };
    await waitFor('ticks flowing', async () => (await ticks()) >= 3);
    const linkBefore = await jsonIn('w1', ['ip', '-j', 'link', 'show', 'knode.1']);
    await lab.restartAgent('w1');
    await lab.restartAgent('w2');
    // the new agents are up when the Nodes report Ready again with their leases renewed
    await waitFor('both nodes Ready after the restart', async () => {
      const out = await lab.kubectlOk(['get', 'nodes', '--no-headers']);
      return ['w1', 'w2'].every((n) => new RegExp(`^${n}\\s+Ready\\s`, 'm').test(out));
    });
    // kubectl logs goes through the restarted kubelet's server: readable once it listens again
    const seen = await waitFor('the restarted kubelet serving logs', () => ticks(), { timeoutMs: 30_000 });
    await waitFor('ticks still flowing on the same connection', async () => (await ticks()) >= seen + 10, { timeoutMs: 20_000 });
    for (const name of ['tcp-server', 'tcp-client']) {
      const p = await getPod(name);
      expect(p?.status?.phase).toBe('Running');
      expect(p?.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    }
    // one connection: the server's nc accepts only one, so the count never restarted from 1
    const log = (await lab.kubectlOk(['logs', 'tcp-server'])).trim().split('\n');
    expect(log.map((l) => Number(l.replace('tick ', '')))).toEqual(log.map((_, i) => i + 1));
    // the same device (a re-created one would have a new ifindex), with the same MAC
    const identity = (links: unknown[]): unknown[] => links.map((l) => [(l as { ifindex: number }).ifindex, (l as { address: string }).address]);
    expect(identity(await jsonIn('w1', ['ip', '-j', 'link', 'show', 'knode.1']))).toEqual(identity(linkBefore));
  }, 120_000);
});

describe('overlay: IP allocations follow the runtime', () => {
  it('frees, at agent start, an address held for a sandbox the runtime no longer has, and keeps the running pods\' addresses', async () => {
    const store = new FileStore(join(lab.stateDir, 'w1', 'cni', 'knode'));
    const ghost = { containerId: 'f'.repeat(64), ifname: 'eth0' };
    const ip = '10.244.1.250';
    // what a sandbox that vanished without a DEL leaves: a reservation and a record, old enough for GC
    expect(store.reserveIp(ip, ghost)).toBe(true);
    store.putAttachment({ ...ghost, ip, podCidr: '10.244.1.0/24', hostVeth: 'vethdeadbeef', netns: '/var/run/netns/gone', portMappings: [], createdAt: Date.now() - 3_600_000 });
    const held = () => store.listReservations().map((r) => r.ip).sort();
    expect(held()).toContain(ip);
    const running = [pods['srv-w1'], pods['client-w1']];
    await lab.restartAgent('w1');
    await waitFor('the leaked address freed by the restarted agent', () => !held().includes(ip), { timeoutMs: 30_000 });
    expect(store.getAttachment(ghost)).toBeUndefined();
    for (const p of running) expect(held()).toContain(p);
    // and the pods still answer across the nodes
    const after = await dial('w1', pods['client-w1'] ?? '', 'hostname', 'http', pods['srv-w2'] ?? '', 1);
    expect(after, JSON.stringify(after)).toEqual({ responses: ['srv-w2'], errors: [] });
  }, 60_000);
});
