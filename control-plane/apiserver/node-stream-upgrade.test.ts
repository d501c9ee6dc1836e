/**
 * pods/exec through a kubelet stand-in: a client that leaves while the apiserver waits for the
 * kubelet's 101 aborts the kubelet request, so the kubelet (and the runtime behind it) can let go.
 */
import { IncomingMessage } from 'node:http';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { createCA, createClientCert, createServingCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import { responseForUpgrade } from '../../lib/websocket/index.js';
import type { KubeletClientTls, NodeProxyLookup } from './node-proxy.js';
import { proxyPodStream } from './node-stream.js';

let tls: KubeletClientTls;
let serving: { certPem: string; keyPem: string };
beforeAll(async () => {
  const ca = await createCA('knode-ca');
  const caPem = (await encodeCertKeyPair(ca)).certPem;
  tls = { ...(await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }))), caPem };
  serving = await encodeCertKeyPair(await createServingCert(ca, { commonName: 'node-a', ips: ['127.0.0.1'], dnsNames: [] }));
});

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
});

const pod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'shop' }, spec: { containers: [{ name: 'app' }], nodeName: 'node-a' }, status: { phase: 'Running' } } as Pod;

/** A kubelet that takes the upgrade request and never answers it. */
async function silentKubelet(): Promise<{ port: number; upgraded: Promise<Duplex> }> {
  const server = createServer({ cert: serving.certPem, key: serving.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true });
  servers.push(server);
  const upgraded = new Promise<Duplex>((r) => server.on('upgrade', (_req: IncomingMessage, socket: Duplex) => r(socket)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { port: (server.address() as AddressInfo).port, upgraded };
}

function clientUpgrade(): { req: IncomingMessage; res: ReturnType<typeof responseForUpgrade>; socket: Duplex } {
  const socket = new Duplex({ read() {}, write: (_c, _e, cb) => cb() });
  const req = new IncomingMessage(socket as unknown as Socket);
  req.method = 'GET';
  req.url = '/api/v1/namespaces/shop/pods/web/exec?command=sh&stdout=true';
  req.headers = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'v5.channel.k8s.io' };
  return { req, res: responseForUpgrade(req, socket, Buffer.alloc(0)), socket };
}

describe('proxyPodStream when the client leaves', () => {
  it('aborts the pending kubelet upgrade', async () => {
    const kubelet = await silentKubelet();
    const lookup: NodeProxyLookup = {
      getPod: async () => pod,
      getNode: async () => ({ metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } }) as Node,
    };
    const client = clientUpgrade();
    const done = proxyPodStream('exec', client.req, client.res, lookup, tls, 'shop', 'web', 10_000);
    const kubeletSide = await kubelet.upgraded;
    const kubeletClosed = new Promise<void>((r) => kubeletSide.once('close', () => r()));
    kubeletSide.resume();
    client.socket.destroy();
    await done;
    await kubeletClosed;
    expect(kubeletSide.destroyed).toBe(true);
  });

  it('does not call the kubelet for a client already gone', async () => {
    const kubelet = await silentKubelet();
    let called = false;
    void kubelet.upgraded.then(() => (called = true));
    const client = clientUpgrade();
    const lookup: NodeProxyLookup = {
      getPod: async () => pod,
      getNode: async () => {
        client.socket.destroy();
        return { metadata: { name: 'node-a' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubelet.port } } } } as Node;
      },
    };
    await proxyPodStream('exec', client.req, client.res, lookup, tls, 'shop', 'web', 10_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(called).toBe(false);
  });
});
