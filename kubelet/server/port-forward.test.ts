/**
 * /portForward end to end in one process: a real KubeletServer (TLS, client certificates), a
 * stand-in for containerd's streaming server (SPDY/3.1 `portforward.k8s.io` upgrade, then it answers
 * every DATA frame with `echo:` + the data on the same stream), and a client in kubectl's place,
 * once over the WebSocket tunnel (SPDY bytes in binary messages) and once over plain SPDY.
 */
import { createServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { createCA, createClientCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import { connectWebSocket } from '../../lib/websocket/index.js';
import type { PortForwardRequest } from '../cri/types-sandbox.js';
import type { RuntimePod } from '../types.js';
import { TUNNEL_PROTOCOL } from './port-forward-protocol.js';
import { KubeletServer } from './server.js';
import { encodeData, encodeSynStream, HeaderWriter, SpdyFrameDecoder } from '../../lib/spdy/frames.js';
import type { SpdyFrame } from '../../lib/spdy/frames.js';
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

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'app' }] } };
const sandbox = (id: string, state: 'ready' | 'notready') => ({ id, state, attempt: 0, createdAt: 0, hostNetwork: false }) as const;
const runtimePod: RuntimePod = { uid: 'u-1', name: 'web', namespace: 'shop', sandboxes: [sandbox('s-new', 'notready'), sandbox('s-ready', 'ready')], containers: [] };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** containerd's streaming server, reduced to an echo per SPDY stream; records the upgrade headers. */
async function startRuntime(seen: IncomingMessage[]): Promise<number> {
  const server: Server = createServer((_req, res) => res.writeHead(404).end());
  server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
    seen.push(req);
    if (req.headers['x-stream-protocol-version'] !== 'portforward.k8s.io') {
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
    const decoder = new SpdyFrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const f of decoder.push(chunk)) if (f.kind === 'data' && f.data.length > 0) socket.write(encodeData(f.streamId, Buffer.concat([Buffer.from('echo:'), f.data])));
    });
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  const open = new Set<Duplex>();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of open) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function startKubelet(opts: { calls: PortForwardRequest[]; seen: IncomingMessage[]; runtimeDown?: boolean }): Promise<number> {
  const rtPort = opts.runtimeDown ? 1 : await startRuntime(opts.seen);
  const server = new KubeletServer({
    bindAddress: '127.0.0.1',
    port: 0,
    tls: serving,
    clientCaPem: caPem,
    pods: () => [pod],
    runtimePod: (uid) => (uid === 'u-1' ? runtimePod : undefined),
    runtime: {
      containerStatus: async () => ({ status: { state: 'CONTAINER_RUNNING' } as never, info: {} }),
      exec: async () => ({ url: 'http://127.0.0.1:1/' }),
      attach: async () => ({ url: 'http://127.0.0.1:1/' }),
      portForward: async (req) => {
        opts.calls.push(req);
        return { url: `http://127.0.0.1:${rtPort}/portforward/tok${opts.calls.length}` };
      },
    },
  });
  const port = (await server.start()).port;
  cleanups.push(() => server.close());
  return port;
}

/** What kubectl sends for one forwarded connection: error and data streams, then a payload. */
function kubectlFrames(payload: string): Buffer {
  const h = new HeaderWriter();
  return Buffer.concat([
    encodeSynStream(1, h.block({ streamtype: 'error', port: '8083', requestid: '0' })),
    encodeSynStream(3, h.block({ streamtype: 'data', port: '8083', requestid: '0' })),
    encodeData(3, Buffer.from(payload)),
  ]);
}

function collectUntil(decoder: SpdyFrameDecoder, frames: SpdyFrame[], n: number): (chunk: Buffer) => boolean {
  return (chunk) => {
    frames.push(...decoder.push(chunk));
    return frames.length >= n;
  };
}

describe('kubelet /portForward', () => {
  it('relays SPDY tunnelled in WebSocket messages to the runtime and back, byte for byte', async () => {
    const calls: PortForwardRequest[] = [];
    const seen: IncomingMessage[] = [];
    const port = await startKubelet({ calls, seen });
    const { ws, protocol } = await connectWebSocket(new URL(`https://127.0.0.1:${port}/portForward/shop/web?port=8083`), {
      protocols: [TUNNEL_PROTOCOL],
      tls: { ca: caPem, cert: client.certPem, key: client.keyPem },
    });
    expect(protocol).toBe('SPDY/3.1+portforward.k8s.io');
    const frames: SpdyFrame[] = [];
    const got = new Promise<void>((resolve) => {
      const push = collectUntil(new SpdyFrameDecoder(), frames, 1);
      ws.onMessage((data, binary) => {
        expect(binary).toBe(true);
        if (push(data)) resolve();
      });
    });
    // a SPDY frame may straddle messages: the tunnel is a byte stream
    const bytes = kubectlFrames('GET /hostname');
    ws.send(bytes.subarray(0, 7));
    ws.send(bytes.subarray(7));
    await got;
    expect(frames[0]).toMatchObject({ kind: 'data', streamId: 3, fin: false });
    expect(frames[0]?.kind === 'data' ? frames[0].data.toString() : '').toBe('echo:GET /hostname');
    expect(calls).toEqual([{ podSandboxId: 's-ready', port: [8083] }]);
    expect(seen[0]?.method).toBe('POST');
    expect(seen[0]?.headers['upgrade']).toBe('SPDY/3.1');
    const closed = new Promise<void>((r) => ws.onClose(() => r()));
    ws.close(1000);
    await closed;
  });

  it('splices a plain SPDY/3.1 upgrade (kubectl fallback) to the runtime', async () => {
    const calls: PortForwardRequest[] = [];
    const port = await startKubelet({ calls, seen: [] });
    const { res, socket } = await new Promise<{ res: IncomingMessage; socket: Duplex }>((resolve, reject) => {
      const req = httpsRequest({
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/portForward/shop/web/u-1',
        ca: caPem,
        cert: client.certPem,
        key: client.keyPem,
        agent: false,
        headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' },
      });
      req.on('upgrade', (r: IncomingMessage, s: Duplex) => resolve({ res: r, socket: s }));
      req.on('response', (r: IncomingMessage) => reject(new Error(`status ${r.statusCode ?? 0}`)));
      req.on('error', reject);
      req.end();
    });
    expect(res.headers['x-stream-protocol-version']).toBe('portforward.k8s.io');
    const frames: SpdyFrame[] = [];
    const push = collectUntil(new SpdyFrameDecoder(), frames, 1);
    const got = new Promise<void>((resolve) => socket.on('data', (c: Buffer) => push(c) && resolve()));
    socket.write(kubectlFrames('hello'));
    await got;
    expect(frames[0]?.kind === 'data' ? frames[0].data.toString() : '').toBe('echo:hello');
    expect(calls).toEqual([{ podSandboxId: 's-ready' }]);
    socket.destroy();
  });

  const plain = (port: number, path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path, ca: caPem, cert: client.certPem, key: client.keyPem, agent: false, headers }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('upgrade', () => reject(new Error('upgraded')));
      req.on('error', reject);
      req.end();
    });
  const spdyHeaders = { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' };

  it('refuses before upgrading: unknown pod, wrong uid, bad port, no upgrade, runtime unreachable', async () => {
    const port = await startKubelet({ calls: [], seen: [], runtimeDown: true });
    expect(await plain(port, '/portForward/shop/nope', spdyHeaders)).toEqual({ status: 404, body: 'pod "nope" does not exist\n' });
    expect((await plain(port, '/portForward/shop/web/u-2', spdyHeaders)).status).toBe(404);
    expect(await plain(port, '/portForward/shop/web?port=0', spdyHeaders)).toMatchObject({ status: 400, body: expect.stringMatching(/invalid port "0"/) });
    expect(await plain(port, '/portForward/shop/web', {})).toMatchObject({ status: 400, body: expect.stringMatching(/needs an upgrade/) });
    expect(await plain(port, '/portForward/shop/web', spdyHeaders)).toMatchObject({ status: 500, body: expect.stringMatching(/cannot reach the runtime's streaming server/) });
  });
});
