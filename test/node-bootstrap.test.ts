/**
 * Node TLS bootstrap end to end: `knode token create` (the built CLI) makes a bootstrap token, a node
 * turns it into a client certificate through a CertificateSigningRequest that the control plane's
 * approver and signer handle, and the resulting kubeconfig works against the apiserver as
 * `system:node:w1`, for the real kubectl too. Also: the `approval` subresource through
 * `kubectl certificate approve|deny`, CA discovery from kube-public/cluster-info, wrong and deleted tokens.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CertificateSigningRequest } from '../api/certificates/csr-types.js';
import { bootstrapNodeCredentials } from '../lib/client/bootstrap.js';
import type { NodeCredentials } from '../lib/client/bootstrap.js';
import { KubeClient } from '../lib/client/client.js';
import { loadClientConfig } from '../lib/client/config.js';
import { ClientApiError, NodeBootstrapError } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import { createCSR } from '../lib/pki/csr.js';
import { generateKeyPair } from '../lib/pki/pem.js';
import { CLI, startServer } from './helpers/server.js';
import type { RunResult, TestServer } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;
let caPem: string;
let nodeDir: string;
let token: string;
let caHash: string;
let creds: NodeCredentials;

function knode(args: readonly string[]): Promise<RunResult> {
  return new Promise((res) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      res({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function tokenCreate(extra: readonly string[] = []): Promise<{ token: string; hash: string }> {
  const r = await knode(['token', 'create', '--data-dir', server.dataDir, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return { token: r.stdout.trim(), hash: /sha256:[0-9a-f]{64}/.exec(r.stderr)?.[0] ?? '' };
}

beforeAll(async () => {
  server = await startServer();
  caPem = (await loadClientConfig(server.kubeconfig)).caPem ?? '';
  nodeDir = await mkdtemp(join(tmpdir(), 'knode-node-'));
  ({ token, hash: caHash } = await tokenCreate(['--description', 'join w1']));
  creds = await bootstrapNodeCredentials({ server: server.url, caPem, token, nodeName: 'w1', dir: nodeDir, timeoutMs: 60_000 });
});

afterAll(async () => {
  await server?.stop();
  if (nodeDir) await rm(nodeDir, { recursive: true, force: true });
});

describe('knode token', () => {
  it('prints a token in the <id>.<secret> form and the CA pin', () => {
    expect(token).toMatch(/^[a-z0-9]{6}\.[a-z0-9]{16}$/);
    expect(caHash).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('lists the token with its description and default group', async () => {
    const r = await knode(['token', 'list', '--data-dir', server.dataDir]);
    expect(r.code, r.stderr).toBe(0);
    const line = r.stdout.split('\n').find((l) => l.startsWith(token));
    expect(line).toMatch(/authentication,signing\s+join w1\s+system:bootstrappers:kubeadm:default-node-token/);
  });

  it('refuses a malformed --ttl with one sentence', async () => {
    const r = await knode(['token', 'create', '--data-dir', server.dataDir, '--ttl', 'soon']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('--ttl must be a duration such as 24h');
  });
});

describe('node TLS bootstrap', () => {
  it('gives the node a kubeconfig whose certificate the apiserver accepts', async () => {
    expect(creds.reused).toBe(false);
    const client = await KubeClient.fromKubeconfigFile(creds.kubeconfigPath);
    try {
      const nodes = await client.list(resources.nodes);
      expect(nodes.kind).toBe('NodeList');
    } finally {
      client.close();
    }
    const r = await server.kubectl(['--kubeconfig', creds.kubeconfigPath, 'get', 'nodes']);
    expect(r.code, r.stderr).toBe(0);
  });

  it('shows the CSR as Approved,Issued, requested by the bootstrap token user', async () => {
    const out = await server.kubectlOk(['get', 'csr', creds.csrName ?? '']);
    const [header, row] = out.trim().split('\n');
    expect(header).toMatch(/^NAME\s+AGE\s+SIGNERNAME\s+REQUESTOR\s+REQUESTEDDURATION\s+CONDITION$/);
    expect(row).toMatch(new RegExp(`^${creds.csrName ?? ''}\\s+\\S+\\s+kubernetes.io/kube-apiserver-client-kubelet\\s+system:bootstrap:${token.slice(0, 6)}\\s+<none>\\s+Approved,Issued$`));
  });

  it('authenticates the node as system:node:w1 (the apiserver records it as requester of its next CSR, and renews it)', async () => {
    const client = await KubeClient.fromKubeconfigFile(creds.kubeconfigPath);
    try {
      const csrPem = await createCSR(await generateKeyPair(), { commonName: 'system:node:w1', organizations: ['system:nodes'] });
      const created = await client.create<CertificateSigningRequest>(resources.certificateSigningRequests, {
        metadata: { generateName: 'node-renew-' },
        spec: { request: Buffer.from(csrPem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], username: 'spoofed' },
      });
      expect(created.spec.username).toBe('system:node:w1');
      expect(created.spec.groups).toContain('system:nodes');
      const name = created.metadata.name ?? '';
      await waitFor(`renewal ${name} to be issued`, async () => {
        const c = await client.get<CertificateSigningRequest>(resources.certificateSigningRequests, name);
        return (c.status?.certificate ?? '') !== '';
      });
    } finally {
      client.close();
    }
  });

  it('keeps the credentials on the next start', async () => {
    const again = await bootstrapNodeCredentials({ server: server.url, caPem, token, nodeName: 'w1', dir: nodeDir });
    expect(again.reused).toBe(true);
    expect(again.certPem).toBe(creds.certPem);
  });

  it('discovers the CA from kube-public/cluster-info when pinned by the printed hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-node-'));
    try {
      const found = await bootstrapNodeCredentials({ server: server.url, caCertHash: caHash, token, nodeName: 'w2', dir, timeoutMs: 60_000 });
      expect(found.caPem).toBe(caPem);
      const r = await server.kubectl(['--kubeconfig', found.kubeconfigPath, 'get', 'nodes']);
      expect(r.code, r.stderr).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('fails with a clear error for a wrong token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-node-'));
    try {
      const wrong = `${token.slice(0, 7)}${'0'.repeat(16)}`;
      const err = await bootstrapNodeCredentials({ server: server.url, caPem, token: wrong, nodeName: 'w3', dir }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NodeBootstrapError);
      expect((err as NodeBootstrapError).code).toBe('ERR_NODE_BOOTSTRAP_TOKEN_REJECTED');
      expect((err as Error).message).toBe(`the apiserver at ${server.url} refused the bootstrap token (401 Unauthorized): check that it was typed correctly, exists (knode token list) and has not expired`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a token once `knode token delete` removed it', async () => {
    const { token: doomed } = await tokenCreate();
    const r = await knode(['token', 'delete', '--data-dir', server.dataDir, doomed.slice(0, 6)]);
    expect(r.stdout).toContain(`bootstrap token "${doomed.slice(0, 6)}" deleted`);
    const dir = await mkdtemp(join(tmpdir(), 'knode-node-'));
    try {
      const err = await bootstrapNodeCredentials({ server: server.url, caPem, token: doomed, nodeName: 'w4', dir }).catch((e: unknown) => e);
      expect((err as NodeBootstrapError).failure).toBe('token-rejected');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('CSR approval subresource', () => {
  async function submit(name: string): Promise<void> {
    const pem = await createCSR(await generateKeyPair(), { commonName: 'alice', organizations: ['devs'] });
    const manifest = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name },
      spec: { request: Buffer.from(pem).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], expirationSeconds: 3600 },
    };
    await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest) });
  }

  it('leaves requests for other signers Pending, and `kubectl certificate approve` approves them', async () => {
    await submit('alice');
    expect(await server.kubectlOk(['get', 'csr', 'alice', '--no-headers'])).toMatch(/kubernetes-admin\s+60m\s+Pending\s*$/);
    expect(await server.kubectlOk(['certificate', 'approve', 'alice'])).toContain('certificatesigningrequest.certificates.k8s.io/alice approved');
    expect(await server.kubectlOk(['get', 'csr', 'alice', '--no-headers'])).toMatch(/\s+Approved\s*$/);
    const denied = await server.kubectl(['certificate', 'deny', 'alice']);
    expect(denied.code).not.toBe(0);
  });

  it('`kubectl certificate deny` denies, and a denied request cannot be approved', async () => {
    await submit('bob');
    await server.kubectlOk(['certificate', 'deny', 'bob']);
    expect(await server.kubectlOk(['get', 'csr', 'bob', '--no-headers'])).toMatch(/\s+Denied\s*$/);
    // kubectl refuses on its own; the server must too, for clients that send it anyway
    const admin = await KubeClient.fromKubeconfigFile(server.kubeconfig);
    try {
      const bob = await admin.get<CertificateSigningRequest>(resources.certificateSigningRequests, 'bob');
      const approved = { ...bob, status: { conditions: [...(bob.status?.conditions ?? []), { type: 'Approved', status: 'True' as const, reason: 'Sneaky' }] } };
      const err = await admin.update(resources.certificateSigningRequests, approved, { subresource: 'approval' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ClientApiError);
      expect((err as ClientApiError).httpCode).toBe(422);
      expect((err as ClientApiError).message).toContain('Approved and Denied conditions are mutually exclusive');
    } finally {
      admin.close();
    }
  });

  it('refuses an approval smuggled in through the status subresource', async () => {
    await submit('carol');
    const r = await server.kubectl(['patch', 'csr', 'carol', '--subresource=status', '--type=merge', '-p', '{"status":{"conditions":[{"type":"Approved","status":"True"}]}}']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('updates may not add a condition of type "Approved"');
  });
});
