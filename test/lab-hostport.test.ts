/**
 * HostPort on a real lab (targets.md "HostPort", after upstream's conformance test): `knode lab up
 * --nodes 1` with the lab's default CNI (knode-cni), three testserver pods on w1 sharing host port
 * 54323 - TCP bound to 127.0.0.1, TCP bound to the node IP, UDP bound to the node IP - and, from the
 * node's own namespace, each address/protocol reaches its own pod: the kubelet hands the ports to
 * containerd, containerd to the plugin's portMappings, the plugin to nftables DNAT.
 *
 * The UDP probe runs Node's dgram inside the node namespace (`ip netns exec`): the lab has no
 * `kubectl exec` yet and busybox nc cannot speak UDP. `lab down` runs in afterAll whatever happened.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const LAB = `hp${Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, 'a').padEnd(6, 'a')}`;
const KUBECONFIG = `/var/lib/knode-lab/${LAB}/cp/admin.kubeconfig`;
const NODE_NETNS = `knode-${LAB}-w1`;
const IMAGE = 'knode.local/testserver:1.0';
const HOST_PORT = 54323;
/** The testserver's defaults (lab/images/src/testserver.c): HTTP 8083, UDP 8081. */
const HTTP_PORT = 8083;
const UDP_PORT = 8081;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], input?: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const knode = (args: readonly string[]): Promise<Run> => run(process.execPath, [CLI, ...args], undefined, 180_000);
const kubectl = (args: readonly string[], input?: string): Promise<Run> => run('kubectl', ['--kubeconfig', KUBECONFIG, ...args], input);
const inNode = (argv: readonly string[]): Promise<Run> => run('ip', ['netns', 'exec', NODE_NETNS, ...argv], undefined, 15_000);

interface PodView {
  status?: { podIP?: string; hostIP?: string; conditions?: Array<{ type: string; status: string }> };
}

async function readyPod(name: string): Promise<PodView> {
  let last: PodView | undefined;
  return waitFor(
    () => `pod ${name} Ready (last status: ${JSON.stringify(last?.status ?? null)})`,
    async () => {
      const r = await kubectl(['get', 'pod', name, '-o', 'json']);
      last = r.code === 0 ? (JSON.parse(r.stdout) as PodView) : undefined;
      return last?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true ? last : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

interface PortCase {
  readonly pod: string;
  readonly protocol: 'TCP' | 'UDP';
  /** 'node' stands for the node's underlay address, known once the lab is up. */
  readonly hostIP: '127.0.0.1' | 'node';
  readonly containerPort: number;
}

const CASES: readonly PortCase[] = [
  { pod: 'hostport-tcp-loopback', protocol: 'TCP', hostIP: '127.0.0.1', containerPort: HTTP_PORT },
  { pod: 'hostport-tcp-nodeip', protocol: 'TCP', hostIP: 'node', containerPort: HTTP_PORT },
  { pod: 'hostport-udp-nodeip', protocol: 'UDP', hostIP: 'node', containerPort: UDP_PORT },
];

let nodeIp = '';

function podManifest(c: PortCase): unknown {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: c.pod },
    spec: {
      nodeName: 'w1',
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: 'app',
          image: IMAGE,
          imagePullPolicy: 'Never',
          ports: [{ containerPort: c.containerPort, hostPort: HOST_PORT, hostIP: c.hostIP === 'node' ? nodeIp : c.hostIP, protocol: c.protocol }],
          readinessProbe: { httpGet: { path: '/healthz', port: HTTP_PORT }, periodSeconds: 1 },
        },
      ],
    },
  };
}

/** One UDP datagram from inside the node namespace; resolves with the answer's text. */
function udpAsk(host: string, port: number, msg: string): Promise<Run> {
  const script = [
    "const s = require('dgram').createSocket('udp4');",
    "const t = setTimeout(() => { console.error('no answer'); process.exit(1); }, 2000);",
    "s.on('message', (m) => { clearTimeout(t); process.stdout.write(m.toString()); s.close(); });",
    `s.send(${JSON.stringify(msg)}, ${port}, ${JSON.stringify(host)});`,
  ].join(' ');
  return inNode([process.execPath, '-e', script]);
}

beforeAll(async () => {
  const up = await knode(['lab', 'up', '--nodes', '1', '--name', LAB]);
  if (up.code !== 0) throw new Error(`knode lab up failed (${up.code}):\n${up.stderr}`);
  const addr = await inNode(['ip', '-4', '-j', 'addr', 'show', 'dev', 'eth0']);
  const parsed = JSON.parse(addr.stdout) as Array<{ addr_info?: Array<{ local?: string }> }>;
  nodeIp = parsed[0]?.addr_info?.[0]?.local ?? '';
  if (nodeIp === '') throw new Error(`no address on eth0 in ${NODE_NETNS}: ${addr.stdout}${addr.stderr}`);
  for (const c of CASES) {
    const r = await kubectl(['apply', '-f', '-'], JSON.stringify(podManifest(c)));
    if (r.code !== 0) throw new Error(`creating ${c.pod} failed: ${r.stderr}`);
  }
  await Promise.all(CASES.map((c) => readyPod(c.pod)));
}, 300_000);

afterAll(async () => {
  const r = await knode(['lab', 'down', '--name', LAB]);
  if (r.code !== 0) throw new Error(`knode lab down failed (${r.code}):\n${r.stderr}`);
}, 180_000);

describe('HostPort: three pods share host port 54323 by host IP and protocol', () => {
  it('schedules all three on the same node, each with its own pod IP', async () => {
    const pods = await Promise.all(CASES.map((c) => readyPod(c.pod)));
    const ips = pods.map((p) => p.status?.podIP ?? '');
    expect(ips.every((ip) => ip.startsWith('10.244.1.'))).toBe(true);
    expect(new Set(ips).size).toBe(3);
  });

  it('answers TCP on 127.0.0.1:54323 with the pod bound to 127.0.0.1', async () => {
    const r = await waitFor('curl 127.0.0.1', async () => {
      const x = await inNode(['curl', '-s', '-m', '3', `http://127.0.0.1:${HOST_PORT}/hostname`]);
      return x.code === 0 ? x : undefined;
    });
    expect(r.stdout).toBe('hostport-tcp-loopback');
  });

  it('answers TCP on <nodeIP>:54323 with the pod bound to the node IP (a different pod)', async () => {
    const r = await waitFor('curl node IP', async () => {
      const x = await inNode(['curl', '-s', '-m', '3', `http://${nodeIp}:${HOST_PORT}/hostname`]);
      return x.code === 0 ? x : undefined;
    });
    expect(r.stdout).toBe('hostport-tcp-nodeip');
  });

  it('answers UDP on <nodeIP>:54323 with the UDP pod', async () => {
    const r = await waitFor('udp node IP', async () => {
      const x = await udpAsk(nodeIp, HOST_PORT, 'hostname');
      return x.code === 0 ? x : undefined;
    });
    expect(r.stdout).toBe('hostport-udp-nodeip');
  });

  it('keeps the two TCP bindings apart: each address reaches its own pod on every request', async () => {
    for (let i = 0; i < 3; i++) {
      expect((await inNode(['curl', '-s', '-m', '3', `http://127.0.0.1:${HOST_PORT}/hostname`])).stdout).toBe('hostport-tcp-loopback');
      expect((await inNode(['curl', '-s', '-m', '3', `http://${nodeIp}:${HOST_PORT}/hostname`])).stdout).toBe('hostport-tcp-nodeip');
    }
  });
});
