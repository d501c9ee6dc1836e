/**
 * End-to-end proof that the certificates work with real TLS stacks: Node's (OpenSSL) as server and
 * client, Go's through the installed kubectl, and @kubernetes/client-node reading our kubeconfig.
 * A tiny HTTPS server configured like the apiserver (requestCert, rejectUnauthorized: false, the
 * cluster CA) answers /healthz with `ok` and /whoami with the authenticated user.
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type RequestOptions, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClientCertAuthenticator } from '../../control-plane/apiserver/auth/client-cert.js';
import { StaticTokenAuthenticator } from '../../control-plane/apiserver/auth/static-token.js';
import { authRequestFrom } from '../../control-plane/apiserver/auth/types.js';
import { UnionAuthenticator } from '../../control-plane/apiserver/auth/union.js';
import { createCA, createClientCert } from './certs.js';
import { loadOrCreateClusterPKI, type LoadedClusterPki } from './files.js';
import { buildKubeconfig, writeKubeconfig, type KubeconfigParams } from './kubeconfig.js';
import { encodeCertificatePem, encodePrivateKeyPem } from './pem.js';

const run = promisify(execFile);
const TOKEN = 'loopback-token-for-tests';

let root: string;
let pki: LoadedClusterPki;
let server: Server;
let port: number;
let adminParams: KubeconfigParams;

interface Reply {
  readonly status: number;
  readonly body: string;
}

function get(path: string, opts: RequestOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca: pki.caCertPem, ...opts }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function kubectl(kubeconfig: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(root, 'kube-cache'), '--request-timeout=20s', ...args], {
    env: { ...process.env, HOME: root },
  });
  return stdout;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'knode-tls-'));
  pki = await loadOrCreateClusterPKI(join(root, 'pki'), { bindAddress: '127.0.0.1', serviceIP: '10.96.0.1' });
  const authn = new UnionAuthenticator([
    new ClientCertAuthenticator(),
    new StaticTokenAuthenticator({ [TOKEN]: { name: 'token-user', groups: ['testers'] } }),
  ]);
  server = createServer(
    { cert: pki.servingCertPem, key: pki.servingKeyPem, ca: [pki.caCertPem], requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      // kubectl appends ?timeout=... from --request-timeout, so match the path alone.
      if (new URL(req.url ?? '/', 'https://server').pathname === '/healthz') {
        res.end('ok');
        return;
      }
      authn.authenticate(authRequestFrom(req)).then(
        (user) => {
          res.statusCode = user === undefined ? 401 : 200;
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify(user ?? { reason: 'Unauthorized' }));
        },
        () => {
          res.statusCode = 500;
          res.end();
        },
      );
    },
  );
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
  adminParams = {
    clusterName: 'knode',
    server: `https://127.0.0.1:${port}`,
    caPem: pki.caCertPem,
    user: 'kubernetes-admin',
    clientCertPem: pki.adminCertPem,
    clientKeyPem: pki.adminKeyPem,
    contextName: 'kubernetes-admin@knode',
  };
  await writeKubeconfig(join(root, 'admin.kubeconfig'), adminParams);
});

afterAll(async () => {
  if (server !== undefined) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

describe('Node TLS with the generated PKI', () => {
  it('identifies a client holding the admin certificate as kubernetes-admin in system:masters', async () => {
    const reply = await get('/whoami', { cert: pki.adminCertPem, key: pki.adminKeyPem });
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
  });

  it('lets a client without a certificate reach /healthz but not authenticate', async () => {
    expect(await get('/healthz')).toEqual({ status: 200, body: 'ok' });
    expect((await get('/whoami')).status).toBe(401);
  });

  it('does not accept the serving certificate as a client certificate (no clientAuth usage)', async () => {
    expect((await get('/whoami', { cert: pki.servingCertPem, key: pki.servingKeyPem })).status).toBe(401);
  });

  it('does not accept a client certificate from another CA', async () => {
    const otherCA = await createCA('other-ca');
    const forged = await createClientCert(otherCA, { commonName: 'kubernetes-admin', organizations: ['system:masters'] });
    const reply = await get('/whoami', { cert: encodeCertificatePem(forged.cert), key: await encodePrivateKeyPem(forged.keys) });
    expect(reply.status).toBe(401);
  });

  it('serves under the in-cluster DNS names and no others', async () => {
    expect((await get('/healthz', { servername: 'kubernetes.default.svc' })).body).toBe('ok');
    await expect(get('/healthz', { servername: 'evil.example' })).rejects.toThrow(/altnames|Hostname/i);
  });
});

describe('kubectl (Go crypto/tls) with the generated kubeconfig', () => {
  it('trusts the serving chain: get --raw /healthz prints ok', async () => {
    expect(await kubectl(join(root, 'admin.kubeconfig'), 'get', '--raw', '/healthz')).toBe('ok');
  });

  it('loads the PKCS#8 client key and presents the admin certificate', async () => {
    const out = await kubectl(join(root, 'admin.kubeconfig'), 'get', '--raw', '/whoami');
    expect(JSON.parse(out)).toMatchObject({ name: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] });
  });

  it('sends a bearer token from a token kubeconfig', async () => {
    const { clientCertPem: _c, clientKeyPem: _k, ...base } = adminParams;
    const path = join(root, 'token.kubeconfig');
    await writeKubeconfig(path, { ...base, user: 'loopback', token: TOKEN });
    expect(JSON.parse(await kubectl(path, 'get', '--raw', '/whoami'))).toEqual({ name: 'token-user', groups: ['testers', 'system:authenticated'] });
  });

  it('refuses the server when the kubeconfig trusts another CA', async () => {
    const otherCA = await createCA('other-ca');
    const path = join(root, 'wrong-ca.kubeconfig');
    await writeFile(path, buildKubeconfig({ ...adminParams, caPem: encodeCertificatePem(otherCA.cert) }), { mode: 0o600 });
    await expect(kubectl(path, 'get', '--raw', '/healthz')).rejects.toThrow(/certificate signed by unknown authority|x509/);
  });
});

describe('@kubernetes/client-node with the generated kubeconfig', () => {
  it('connects with the embedded CA and client certificate', async () => {
    const kc = new KubeConfig();
    kc.loadFromString(buildKubeconfig(adminParams));
    expect(kc.getCurrentCluster()?.server).toBe(`https://127.0.0.1:${port}`);
    const opts: RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    const reply = await get('/whoami', { ...opts, ca: opts.ca ?? pki.caCertPem });
    expect(JSON.parse(reply.body)).toMatchObject({ name: 'kubernetes-admin' });
  });
});
