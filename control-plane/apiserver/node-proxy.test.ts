import { createServer as createHttpServer, request as httpRequest } from 'node:http';
import type { IncomingMessage, Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Node } from '../../api/core/node.js';
import type { Pod } from '../../api/core/pod.js';
import { createCA, createClientCert, createServingCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import { ApiError } from './errors.js';
import { chooseContainer, containerLogsUrl, kubeletClientFrom, kubeletEndpoint, parsePodLogOptions, proxyPodLog } from './node-proxy.js';
import type { KubeletClientTls, NodeProxyLookup } from './node-proxy.js';

const pod = (over: Partial<Pod['spec']> = {}, annotations?: Record<string, string>): Pod => ({
  metadata: { name: 'web', namespace: 'shop', uid: 'u1', ...(annotations ? { annotations } : {}) },
  spec: { nodeName: 'node-a', containers: [{ name: 'app' }], ...over },
});

const node = (status: Node['status']): Node => ({ metadata: { name: 'node-a' }, ...(status ? { status } : {}) });

function apiErrorOf(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

describe('parsePodLogOptions', () => {
  it('decodes the options kubectl sends', () => {
    expect(parsePodLogOptions({ container: 'app', follow: 'true', previous: 'true', timestamps: 'true', tailLines: '10', limitBytes: '100', sinceSeconds: '30' }, 'web')).toEqual({
      container: 'app',
      follow: true,
      previous: true,
      timestamps: true,
      insecureSkipTLSVerifyBackend: false,
      tailLines: 10,
      limitBytes: 100,
      sinceSeconds: 30,
    });
  });

  it('normalizes sinceTime to RFC 3339 seconds', () => {
    expect(parsePodLogOptions({ sinceTime: '2024-05-01T12:00:00.123+02:00' }, 'web').sinceTime).toBe('2024-05-01T10:00:00Z');
  });

  it.each([
    [{ tailLines: '-1' }, 422, 'PodLogOptions "web" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0'],
    [{ limitBytes: '0' }, 422, 'PodLogOptions "web" is invalid: limitBytes: Invalid value: 0: must be greater than 0'],
    [{ sinceSeconds: '0' }, 422, 'PodLogOptions "web" is invalid: sinceSeconds: Invalid value: 0: must be greater than 0'],
    [{ sinceSeconds: '5', sinceTime: '2024-05-01T10:00:00Z' }, 422, 'at most one of `sinceTime` or `sinceSeconds` may be specified'],
    [{ tailLines: 'ten' }, 400, 'tailLines: strconv.ParseInt: parsing "ten": invalid syntax'],
    [{ follow: 'yes' }, 400, 'follow: strconv.ParseBool: parsing "yes": invalid syntax'],
  ])('rejects %j', (query, code, text) => {
    const err = apiErrorOf(() => parsePodLogOptions(query, 'web'));
    expect(err.httpCode).toBe(code);
    expect(err.message).toContain(text);
  });
});

describe('chooseContainer', () => {
  const cases: Array<{ name: string; pod: Pod; requested?: string; want: string }> = [
    { name: 'the only container', pod: pod(), want: 'app' },
    { name: 'a named container, init ones included', pod: pod({ initContainers: [{ name: 'setup' }] }), requested: 'setup', want: 'setup' },
    {
      name: 'the default-container annotation',
      pod: pod({ containers: [{ name: 'app' }, { name: 'side' }] }, { 'kubectl.kubernetes.io/default-container': 'side' }),
      want: 'side',
    },
    {
      name: 'several containers need a name',
      pod: pod({ initContainers: [{ name: 'setup' }], containers: [{ name: 'app' }, { name: 'side' }] }),
      want: 'ERR a container name must be specified for pod web, choose one of: [setup app side]',
    },
    { name: 'an unknown name', pod: pod(), requested: 'db', want: 'ERR container db is not valid for pod web' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (c.want.startsWith('ERR ')) {
        const err = apiErrorOf(() => chooseContainer(c.pod, c.requested));
        expect(err.httpCode).toBe(400);
        expect(err.message).toBe(c.want.slice(4));
      } else {
        expect(chooseContainer(c.pod, c.requested)).toBe(c.want);
      }
    });
  }
});

describe('kubeletEndpoint and containerLogsUrl', () => {
  it('uses the InternalIP and the advertised kubelet port', () => {
    const n = node({ addresses: [{ type: 'Hostname', address: 'node-a' }, { type: 'InternalIP', address: '192.168.50.11' }], daemonEndpoints: { kubeletEndpoint: { Port: 10350 } } });
    expect(kubeletEndpoint(n)).toEqual({ host: '192.168.50.11', port: 10350 });
  });

  it('defaults the port to 10250', () => {
    expect(kubeletEndpoint(node({ addresses: [{ type: 'InternalIP', address: '10.0.0.2' }] })).port).toBe(10250);
  });

  it('a node without addresses is unavailable', () => {
    const err = apiErrorOf(() => kubeletEndpoint(node({})));
    expect(err.httpCode).toBe(503);
    expect(err.message).toMatch(/node "node-a" has no address/);
  });

  it('encodes the options as upstream LogLocation', () => {
    const url = containerLogsUrl({ host: 'fd00::2', port: 10250 }, pod(), 'app', parsePodLogOptions({ follow: 'true', tailLines: '5', timestamps: 'true', previous: '1' }, 'web'));
    expect(url.href).toBe('https://[fd00::2]:10250/containerLogs/shop/web/app?follow=true&previous=true&tailLines=5&timestamps=true');
  });

  it('reads the client TLS material from the handler deps when present', () => {
    expect(kubeletClientFrom({})).toBeUndefined();
    expect(kubeletClientFrom({ kubeletClient: { certPem: 'c', keyPem: 'k', caPem: 'a' } })).toEqual({ certPem: 'c', keyPem: 'k', caPem: 'a' });
  });
});

// ---- proxying against a fake kubelet ---------------------------------------------------------------

let tls: KubeletClientTls;
let kubeletServing: { certPem: string; keyPem: string };
let foreignServing: { certPem: string; keyPem: string };

beforeAll(async () => {
  const ca = await createCA('knode-ca');
  const caPem = (await encodeCertKeyPair(ca)).certPem;
  const client = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }));
  tls = { ...client, caPem };
  kubeletServing = await encodeCertKeyPair(await createServingCert(ca, { commonName: 'node-a', ips: ['127.0.0.1'], dnsNames: [] }));
  const other = await createCA('not-the-cluster');
  foreignServing = await encodeCertKeyPair(await createServingCert(other, { commonName: 'node-a', ips: ['127.0.0.1'], dnsNames: [] }));
});

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((r) => {
          s.close(() => r());
          s.closeAllConnections();
        }),
    ),
  );
});

async function listen(s: Server): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return (s.address() as AddressInfo).port;
}

interface KubeletCall {
  readonly url: string;
  readonly clientCN: string | undefined;
}

/** A kubelet stand-in: records who called what, answers with `handler`. */
async function fakeKubelet(handler: (req: IncomingMessage, res: import('node:http').ServerResponse) => void, serving = kubeletServing): Promise<{ port: number; calls: KubeletCall[] }> {
  const calls: KubeletCall[] = [];
  const server = createHttpsServer({ cert: serving.certPem, key: serving.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const cn = socket.getPeerCertificate().subject?.CN;
    calls.push({ url: req.url ?? '', clientCN: typeof cn === 'string' ? cn : undefined });
    handler(req, res);
  });
  return { port: await listen(server), calls };
}

function lookupFor(p: Pod, kubeletPort: number): NodeProxyLookup {
  return {
    getPod: async () => p,
    getNode: async () => node({ addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } }),
  };
}

/** An apiserver stand-in: runs proxyPodLog and renders ApiErrors as Status JSON, as the real server does. */
async function apiserver(lookup: NodeProxyLookup, material: KubeletClientTls | 'none' = tls): Promise<number> {
  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    proxyPodLog(req, res, lookup, material === 'none' ? undefined : material, 'shop', 'web', query).catch((err: unknown) => {
      const e = err instanceof ApiError ? err : new ApiError(500, 'InternalError', String(err));
      res.writeHead(e.httpCode, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(e.toStatus()));
    });
  });
  return listen(server);
}

function get(port: number, path: string): Promise<{ status: number; body: string; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), res }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('proxyPodLog', () => {
  it('proxies to the kubelet with the client certificate and streams the text back', async () => {
    const k = await fakeKubelet((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('line 1\nline 2\n');
    });
    const port = await apiserver(lookupFor(pod(), k.port));
    const r = await get(port, '/?tailLines=2&timestamps=true');
    expect(r.status).toBe(200);
    expect(r.res.headers['content-type']).toBe('text/plain');
    expect(r.body).toBe('line 1\nline 2\n');
    expect(k.calls).toEqual([{ url: '/containerLogs/shop/web/app?tailLines=2&timestamps=true', clientCN: 'kube-apiserver-kubelet-client' }]);
  });

  it('keeps streaming a follow and cancels the kubelet request when the client leaves', async () => {
    let kubeletSawClose = false;
    const k = await fakeKubelet((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first\n');
      const t = setInterval(() => res.write('tick\n'), 20);
      req.socket.on('close', () => {
        kubeletSawClose = true;
        clearInterval(t);
      });
    });
    const port = await apiserver(lookupFor(pod(), k.port));
    const text = await new Promise<string>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/?follow=true', agent: false }, (res) => {
        let acc = '';
        res.on('data', (c: Buffer) => {
          acc += c.toString();
          if (acc.split('\n').length > 3) {
            req.destroy();
            resolve(acc);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(text.startsWith('first\ntick\n')).toBe(true);
    const deadline = Date.now() + 5000;
    while (!kubeletSawClose && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(kubeletSawClose).toBe(true);
    expect(k.calls[0]?.url).toBe('/containerLogs/shop/web/app?follow=true');
  });

  it("relays the kubelet's 400 with its own message", async () => {
    const k = await fakeKubelet((_req, res) => {
      res.writeHead(400, { 'Content-Type': 'text/plain' });
      res.end('container "app" in pod "web" is waiting to start: ContainerCreating\n');
    });
    const port = await apiserver(lookupFor(pod(), k.port));
    const r = await get(port, '/');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body)).toMatchObject({ reason: 'BadRequest', message: 'container "app" in pod "web" is waiting to start: ContainerCreating', code: 400 });
  });

  it('a kubelet that does not answer is a 503 naming the URL', async () => {
    const k = await fakeKubelet(() => undefined);
    await new Promise<void>((r) => {
      const s = servers.pop();
      s?.close(() => r());
    });
    const port = await apiserver(lookupFor(pod(), k.port));
    const r = await get(port, '/');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).message).toBe(`Get "https://127.0.0.1:${k.port}/containerLogs/shop/web/app": dial tcp 127.0.0.1:${k.port}: connect: connection refused`);
  });

  it('refuses a kubelet whose certificate the cluster CA did not sign, unless told to skip verification', async () => {
    const k = await fakeKubelet((_req, res) => res.end('ok\n'), foreignServing);
    const port = await apiserver(lookupFor(pod(), k.port));
    const refused = await get(port, '/');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).message).toBe(`Get "https://127.0.0.1:${k.port}/containerLogs/shop/web/app": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
    expect(k.calls).toEqual([]);
    expect((await get(port, '/?insecureSkipTLSVerifyBackend=true')).body).toBe('ok\n');
  });

  it('a pod not scheduled yet has an empty log', async () => {
    const port = await apiserver(lookupFor(pod({ nodeName: '' }), 1));
    expect(await get(port, '/')).toMatchObject({ status: 200, body: '' });
  });

  it('container errors come before any node lookup', async () => {
    const port = await apiserver(lookupFor(pod({ containers: [{ name: 'a' }, { name: 'b' }] }), 1));
    const r = await get(port, '/');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).message).toBe('a container name must be specified for pod web, choose one of: [a b]');
  });

  it('without kubelet client credentials the request is unavailable, not hanging', async () => {
    const port = await apiserver(lookupFor(pod(), 1), 'none');
    const r = await get(port, '/');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).message).toMatch(/no kubelet client certificate/);
  });
});

describe('withNodeServingCA', () => {
  const tls = { certPem: 'C', keyPem: 'K', caPem: '-----BEGIN CERTIFICATE-----\ncluster\n-----END CERTIFICATE-----\n' };
  const node = (annotations?: Record<string, string>): Node => ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n', ...(annotations ? { annotations } : {}) } }) as Node;
  it('trusts the node CA published on the Node, next to the cluster CA', async () => {
    const { withNodeServingCA: add } = await import('./node-proxy.js');
    const { KUBELET_SERVING_CA_ANNOTATION } = await import('../../kubelet/serving-cert.js');
    const ca = '-----BEGIN CERTIFICATE-----\nnode\n-----END CERTIFICATE-----';
    const out = add(tls, node({ [KUBELET_SERVING_CA_ANNOTATION]: ca }));
    expect(out.caPem).toContain('cluster');
    expect(out.caPem).toContain('node');
    expect(add(tls, node()).caPem).toBe(tls.caPem);
    expect(add(tls, node({ [KUBELET_SERVING_CA_ANNOTATION]: 'junk' })).caPem).toBe(tls.caPem);
  });
});
