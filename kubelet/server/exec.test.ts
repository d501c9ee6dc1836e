/**
 * /exec and /attach end to end in one process: a real KubeletServer (TLS, client certificates), a
 * stand-in for containerd's streaming server speaking v4.channel.k8s.io (built on lib/websocket),
 * and a WebSocket client in kubectl's place offering v5 and v4.
 */
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { createCA, createClientCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import { connectWebSocket, parseUpgradeRequest, serverHandshakeResponse, WebSocketConnection, WebSocketHandshakeError } from '../../lib/websocket/index.js';
import type { AttachRequest, ExecRequest } from '../cri/types-container.js';
import type { RuntimePod } from '../types.js';
import { WebSocketRuntimeStream } from './runtime-stream.js';
import { KubeletServer } from './server.js';
import { createKubeletServingCert } from './tls.js';

interface Creds {
  readonly certPem: string;
  readonly keyPem: string;
}
let caPem: string;
let serving: Creds;
let client: Creds;

beforeAll(async () => {
  const ca = await createCA('knode-ca');
  caPem = (await encodeCertKeyPair(ca)).certPem;
  serving = await createKubeletServingCert(ca, { nodeName: 'node-a', ips: ['127.0.0.1'] });
  client = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }));
});

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'app' }, { name: 'idle' }] } };
const base = { sandboxId: 's', attempt: 0, createdAt: 0, image: 'i', imageRef: 'i', hash: 'h', restartCount: 0, isInit: false } as const;
const runtimePod: RuntimePod = {
  uid: 'u-1',
  name: 'web',
  namespace: 'shop',
  sandboxes: [],
  containers: [
    { ...base, id: 'c-app', name: 'app', state: 'running' },
    { ...base, id: 'c-idle', name: 'idle', state: 'exited', exitCode: 0 },
  ],
};

/** What the stand-in runtime saw: the CRI request and every message from the kubelet. */
interface RuntimeSession {
  readonly request: ExecRequest | AttachRequest;
  readonly received: Buffer[];
  closed: boolean;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const status = (code: number): Buffer =>
  Buffer.from(JSON.stringify(code === 0 ? { metadata: {}, status: 'Success' } : { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } }));

/**
 * containerd's streaming server, reduced: one empty stdout message on open, then stdin lines are
 * commands: `out X` / `err X` write X, `exit N` sends the Status and closes.
 */
async function startRuntime(sessions: RuntimeSession[]): Promise<{ url: (path: string) => string }> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const up = parseUpgradeRequest(req.method ?? 'GET', req.headers);
    if (!up.protocols.includes('v4.channel.k8s.io')) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    socket.write(serverHandshakeResponse(up.key, 'v4.channel.k8s.io'));
    const ws = new WebSocketConnection(socket, { role: 'server', head });
    const session = sessions[Number(req.url?.split('/').pop())];
    if (!session) throw new Error(`unknown session ${req.url ?? ''}`);
    ws.send(Buffer.from([1]));
    ws.onMessage((data) => {
      session.received.push(data);
      if (data[0] !== 0) return;
      const [verb, arg = ''] = data.subarray(1).toString().trim().split(' ');
      if (verb === 'out') ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`${arg}\n`)]));
      if (verb === 'err') ws.send(Buffer.concat([Buffer.from([2]), Buffer.from(`${arg}\n`)]));
      if (verb === 'exit') {
        ws.send(Buffer.concat([Buffer.from([3]), status(Number(arg))]));
        ws.close(1000);
      }
    });
    ws.onClose(() => {
      session.closed = true;
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  return { url: (path) => `http://127.0.0.1:${port}${path}` };
}

async function startKubelet(sessions: RuntimeSession[]): Promise<number> {
  const rt = await startRuntime(sessions);
  const open = (request: ExecRequest | AttachRequest, kind: string): { url: string } => {
    sessions.push({ request, received: [], closed: false });
    return { url: rt.url(`/${kind}/${sessions.length - 1}`) };
  };
  const server = new KubeletServer({
    bindAddress: '127.0.0.1',
    port: 0,
    tls: serving,
    clientCaPem: caPem,
    pods: () => [pod],
    runtimePod: (uid) => (uid === 'u-1' ? runtimePod : undefined),
    runtime: {
      containerStatus: async () => ({ status: { state: 'CONTAINER_RUNNING' } as never, info: {} }),
      exec: async (req) => open(req, 'exec'),
      attach: async (req) => open(req, 'attach'),
    },
    // the stand-in speaks WebSocket only (SPDY has its own test)
    dialRuntime: async (url, o) => new WebSocketRuntimeStream((await connectWebSocket(url, { protocols: ['v4.channel.k8s.io'] })).ws, o),
  });
  const port = (await server.start()).port;
  cleanups.push(() => server.close());
  return port;
}

interface Transcript {
  readonly protocol: string | undefined;
  readonly stdout: string;
  readonly stderr: string;
  readonly status: unknown;
}

/** Connects as kubectl would, sends the stdin messages in order, collects until the server closes. */
async function session(port: number, path: string, send: readonly Buffer[], protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io']): Promise<Transcript> {
  const { ws, protocol } = await connectWebSocket(new URL(`https://127.0.0.1:${port}${path}`), { protocols, tls: { ca: caPem, cert: client.certPem, key: client.keyPem } });
  let stdout = '';
  let stderr = '';
  let st: unknown;
  ws.onMessage((data) => {
    const body = data.subarray(1).toString();
    if (data[0] === 1) stdout += body;
    if (data[0] === 2) stderr += body;
    if (data[0] === 3) st = JSON.parse(body);
  });
  const closed = new Promise<void>((r) => ws.onClose(() => r()));
  for (const m of send) ws.send(m);
  await closed;
  return { protocol, stdout, stderr, status: st };
}

const stdin = (text: string): Buffer => Buffer.concat([Buffer.from([0]), Buffer.from(`${text}\n`)]);

describe('kubelet /exec and /attach over WebSocket', () => {
  it('relays stdout, stderr and the exit Status, and passes the command and flags to CRI Exec', async () => {
    const sessions: RuntimeSession[] = [];
    const port = await startKubelet(sessions);
    const t = await session(port, '/exec/shop/web/app?command=sh&command=-c&command=true&stdin=1&stdout=1&stderr=1', [stdin('out hello'), stdin('err oops'), stdin('exit 3')]);
    expect(t).toEqual({
      protocol: 'v5.channel.k8s.io',
      stdout: 'hello\n',
      stderr: 'oops\n',
      status: { metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } },
    });
    expect(sessions[0]?.request).toEqual({ containerId: 'c-app', cmd: ['sh', '-c', 'true'], stdin: true, stdout: true, stderr: true, tty: false });
  });

  it('negotiates v4 with a v4-only client', async () => {
    const port = await startKubelet([]);
    const t = await session(port, '/exec/shop/web/app?command=x&stdin=1&stdout=1', [stdin('exit 0')], ['v4.channel.k8s.io']);
    expect(t).toMatchObject({ protocol: 'v4.channel.k8s.io', status: { status: 'Success' } });
  });

  it('attach calls CRI Attach; a tty drops stderr', async () => {
    const sessions: RuntimeSession[] = [];
    const port = await startKubelet(sessions);
    await session(port, '/attach/shop/web/app?stdin=1&stdout=1&stderr=1&tty=1', [stdin('exit 0')]);
    expect(sessions[0]?.request).toEqual({ containerId: 'c-app', stdin: true, stdout: true, stderr: false, tty: true });
  });

  it('a v5 stdin close becomes ^D with a tty and ends the runtime stream without one', async () => {
    const sessions: RuntimeSession[] = [];
    const port = await startKubelet(sessions);
    const closeStdin = Buffer.from([255, 0]);
    await session(port, '/exec/shop/web/app?command=cat&stdin=1&stdout=1&tty=1', [stdin('out a'), closeStdin, stdin('exit 0')]);
    expect(sessions[0]?.received.map((b) => [...b.subarray(0, 2)])).toContainEqual([0, 4]);
    const t = await session(port, '/exec/shop/web/app?command=cat&stdin=1&stdout=1', [stdin('out a'), closeStdin]);
    expect(t.stdout).toBe('a\n');
    expect(sessions[1]?.received.some((b) => b[0] === 255)).toBe(false);
    expect(sessions[1]?.closed).toBe(true);
  });

  it("answers a SPDY upgrade (kubectl's fallback) 400 after the same checks, so real errors still show", async () => {
    const port = await startKubelet([]);
    const spdy = async (path: string): Promise<{ status: number; body: string }> => {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port, path, ca: caPem, cert: client.certPem, key: client.keyPem, agent: false, headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1' } }, resolve);
        req.on('upgrade', () => reject(new Error('upgraded')));
        req.on('error', reject);
        req.end();
      });
      const chunks: Buffer[] = [];
      for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
      return { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() };
    };
    expect(await spdy('/exec/shop/web/app?command=x&stdout=1')).toMatchObject({ status: 400, body: expect.stringMatching(/does not serve SPDY/) });
    expect(await spdy('/exec/shop/web/idle?command=x&stdout=1')).toMatchObject({ status: 404, body: expect.stringMatching(/container not found/) });
  });

  const refusals: { name: string; path: string; status: number; body: RegExp }[] = [
    { name: 'a missing pod', path: '/exec/shop/nope/app?command=x&stdout=1', status: 404, body: /pod "nope" does not exist/ },
    { name: 'a container that is not running', path: '/exec/shop/web/idle?command=x&stdout=1', status: 404, body: /container not found \("idle"\)/ },
    { name: 'no command', path: '/exec/shop/web/app?stdout=1', status: 400, body: /at least one command/ },
  ];
  for (const r of refusals) {
    it(`refuses ${r.name} with ${r.status} before upgrading`, async () => {
      const port = await startKubelet([]);
      try {
        await connectWebSocket(new URL(`https://127.0.0.1:${port}${r.path}`), {
          protocols: ['v5.channel.k8s.io'],
          tls: { ca: caPem, cert: client.certPem, key: client.keyPem },
        });
        expect.unreachable('upgraded');
      } catch (err) {
        expect(err).toBeInstanceOf(WebSocketHandshakeError);
        expect((err as WebSocketHandshakeError).httpStatus).toBe(r.status);
        expect((err as WebSocketHandshakeError).body).toMatch(r.body);
      }
    });
  }

  it('refuses anonymous callers with 401', async () => {
    const port = await startKubelet([]);
    await expect(connectWebSocket(new URL(`https://127.0.0.1:${port}/exec/shop/web/app?command=x&stdout=1`), { tls: { ca: caPem } })).rejects.toMatchObject({ httpStatus: 401 });
  });
});
