import { appendFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Registry } from 'prom-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import { createCA, createClientCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import type { CertificateAuthority } from '../../lib/pki/index.js';
import type { ContainerState } from '../cri/types-common.js';
import type { RuntimePod } from '../types.js';
import { KubeletServer } from './server.js';
import type { KubeletServerOptions } from './server.js';
import { createKubeletServingCert, createSelfSignedKubeletCert } from './tls.js';

interface Creds {
  readonly certPem: string;
  readonly keyPem: string;
}

let ca: CertificateAuthority;
let caPem: string;
let serving: Creds;
let apiserverClient: Creds;
let strangerClient: Creds;
let root: string;

beforeAll(async () => {
  ca = await createCA('knode-ca');
  caPem = (await encodeCertKeyPair(ca)).certPem;
  serving = await createKubeletServingCert(ca, { nodeName: 'node-a', ips: ['127.0.0.1'] });
  apiserverClient = await encodeCertKeyPair(await createClientCert(ca, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] }));
  const other = await createCA('someone-else');
  strangerClient = await encodeCertKeyPair(await createClientCert(other, { commonName: 'mallory', organizations: [] }));
  root = await mkdtemp(join(tmpdir(), 'knode-kubelet-server-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1' },
  spec: { containers: [{ name: 'app' }, { name: 'side' }] },
};

let appState: ContainerState = 'CONTAINER_RUNNING';
const runtimePod: RuntimePod = {
  uid: 'u-1',
  name: 'web',
  namespace: 'shop',
  sandboxes: [],
  containers: [
    { id: 'c2', name: 'app', sandboxId: 's', attempt: 1, state: 'running', createdAt: 0, image: 'i', imageRef: 'i', hash: 'h', restartCount: 1, isInit: false },
    { id: 'c1', name: 'app', sandboxId: 's', attempt: 0, state: 'exited', exitCode: 1, createdAt: 0, image: 'i', imageRef: 'i', hash: 'h', restartCount: 0, isInit: false },
  ],
};

const servers: KubeletServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  appState = 'CONTAINER_RUNNING';
});

async function startServer(over: Partial<KubeletServerOptions> = {}): Promise<number> {
  const metrics = new Registry();
  new Counter({ name: 'kubelet_test_total', help: 'test', registers: [metrics] }).inc(3);
  const server = new KubeletServer({
    bindAddress: '127.0.0.1',
    port: 0,
    tls: serving,
    clientCaPem: caPem,
    pods: () => [pod],
    runtimePod: (uid) => (uid === 'u-1' ? runtimePod : undefined),
    runtime: {
      containerStatus: async () => ({ status: { state: appState } as never, info: {} }),
      exec: async () => ({ url: 'http://127.0.0.1:1/exec/none' }),
      attach: async () => ({ url: 'http://127.0.0.1:1/attach/none' }),
    },
    metrics,
    podLogsRoot: root,
    logPollIntervalMs: 20,
    ...over,
  });
  servers.push(server);
  return (await server.start()).port;
}

function open(port: number, path: string, creds?: Creds, trust = caPem): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET', ca: trust, ...(creds ? { cert: creds.certPem, key: creds.keyPem } : {}), agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

async function get(port: number, path: string, creds?: Creds): Promise<{ status: number; type: string; body: string }> {
  const res = await open(port, path, creds);
  const chunks: Buffer[] = [];
  for await (const c of res as AsyncIterable<Buffer>) chunks.push(c);
  return { status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks).toString() };
}

const logLine = (sec: number, msg: string): string => `2024-05-01T10:00:${String(sec).padStart(2, '0')}.000000000Z stdout F ${msg}\n`;

async function writeLog(restartCount: number, content: string): Promise<string> {
  const dir = join(root, 'shop_web_u-1', 'app');
  await mkdir(dir, { recursive: true });
  const p = join(dir, `${restartCount}.log`);
  await writeFile(p, content);
  return p;
}

describe('KubeletServer authentication', () => {
  it('answers /healthz without credentials', async () => {
    const port = await startServer();
    expect(await get(port, '/healthz')).toMatchObject({ status: 200, body: 'ok' });
  });

  it('refuses anonymous callers with a 401 Status', async () => {
    const port = await startServer();
    const res = await get(port, '/pods');
    expect(res.status).toBe(401);
    expect(JSON.parse(res.body)).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
  });

  it('refuses a client certificate from another CA', async () => {
    const port = await startServer();
    expect((await get(port, '/pods', strangerClient)).status).toBe(401);
  });

  it('passes the caller and node subresource to the authorizer; a refusal is a 403 Status', async () => {
    const seen: unknown[] = [];
    const port = await startServer({
      authorize: (user, attrs) => {
        seen.push([user.name, user.groups, attrs.verb, attrs.subresource]);
        return attrs.subresource !== 'metrics';
      },
    });
    expect((await get(port, '/pods', apiserverClient)).status).toBe(200);
    const res = await get(port, '/metrics', apiserverClient);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body).message).toBe('Forbidden (user=kube-apiserver-kubelet-client, verb=get, resource=nodes, subresource=metrics)');
    expect(seen[0]).toEqual(['kube-apiserver-kubelet-client', ['system:masters', 'system:authenticated'], 'get', 'proxy']);
  });
});

describe('KubeletServer endpoints', () => {
  it('/pods lists the pods the kubelet runs', async () => {
    const port = await startServer();
    const res = await get(port, '/pods', apiserverClient);
    expect(res.type).toBe('application/json');
    expect(JSON.parse(res.body)).toEqual({ kind: 'PodList', apiVersion: 'v1', metadata: {}, items: [pod] });
  });

  it('/metrics serves the registry', async () => {
    const port = await startServer();
    const res = await get(port, '/metrics', apiserverClient);
    expect(res.status).toBe(200);
    expect(res.body).toContain('kubelet_test_total 3');
  });

  it('exec without streams or without an upgrade is 400; portForward of an unknown pod and unknown paths are 404', async () => {
    const port = await startServer();
    expect(await get(port, '/exec/shop/web/app?command=ls', apiserverClient)).toMatchObject({ status: 400, body: 'you must specify at least 1 of stdin, stdout, stderr\n' });
    expect(await get(port, '/exec/shop/web/app?command=ls&stdout=1', apiserverClient)).toMatchObject({ status: 400, body: expect.stringMatching(/WebSocket upgrade/) });
    expect((await get(port, '/portForward/shop/nope', apiserverClient)).status).toBe(404);
    expect((await get(port, '/nope', apiserverClient)).status).toBe(404);
  });

  it('serves with a self-signed per-node certificate clients can pin', async () => {
    const self = await createSelfSignedKubeletCert({ nodeName: 'node-b', ips: ['127.0.0.1'] });
    const port = await startServer({ tls: self });
    const issuer = self.certPem.slice(self.certPem.indexOf('-----END CERTIFICATE-----') + 26);
    const res = await open(port, '/healthz', undefined, issuer);
    expect(res.statusCode).toBe(200);
    res.resume();
  });
});

describe('KubeletServer /containerLogs', () => {
  it('streams the current instance as text/plain', async () => {
    await writeLog(1, logLine(1, 'hello') + logLine(2, 'world'));
    const port = await startServer();
    const res = await get(port, '/containerLogs/shop/web/app', apiserverClient);
    expect(res).toEqual({ status: 200, type: 'text/plain', body: 'hello\nworld\n' });
  });

  it('applies tailLines and timestamps', async () => {
    await writeLog(1, logLine(1, 'hello') + logLine(2, 'world'));
    const port = await startServer();
    expect((await get(port, '/containerLogs/shop/web/app?tailLines=1&timestamps=true', apiserverClient)).body).toBe('2024-05-01T10:00:02.000000000Z world\n');
  });

  it('previous=true reads the instance before', async () => {
    await writeLog(0, logLine(1, 'crashed'));
    const port = await startServer();
    expect((await get(port, '/containerLogs/shop/web/app?previous=true', apiserverClient)).body).toBe('crashed\n');
  });

  it.each([
    ['/containerLogs/shop/nope/app', 404, 'pod "nope" does not exist\n'],
    ['/containerLogs/shop/web/db', 404, 'container "db" not found in pod "web"\n'],
    ['/containerLogs/shop/web/side', 400, 'container "side" in pod "web" is waiting to start: ContainerCreating\n'],
    ['/containerLogs/shop/web/app?tailLines=-1', 422, 'tailLines: Invalid value: -1: must be greater than or equal to 0\n'],
  ])('%s answers %i', async (path, status, body) => {
    await writeLog(1, logLine(1, 'x'));
    const port = await startServer();
    expect(await get(port, path, apiserverClient)).toMatchObject({ status, body });
  });

  it('follow streams new lines and ends when the container stops', async () => {
    const file = await writeLog(1, logLine(1, 'first'));
    const port = await startServer();
    const res = await open(port, '/containerLogs/shop/web/app?follow=true', apiserverClient);
    expect(res.statusCode).toBe(200);
    const chunks: string[] = [];
    res.on('data', (c: Buffer) => chunks.push(c.toString()));
    const ended = new Promise<void>((r) => res.on('end', () => r()));
    const waitFor = async (text: string): Promise<void> => {
      const end = Date.now() + 5000;
      while (chunks.join('') !== text) {
        if (Date.now() > end) throw new Error(`waited for ${JSON.stringify(text)}, got ${JSON.stringify(chunks.join(''))}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    await waitFor('first\n');
    await appendFile(file, logLine(2, 'second'));
    await waitFor('first\nsecond\n');
    await appendFile(file, logLine(3, 'last words'));
    appState = 'CONTAINER_EXITED';
    await ended;
    expect(chunks.join('')).toBe('first\nsecond\nlast words\n');
  });
});
