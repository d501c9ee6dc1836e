/**
 * Real etcd for tests: Debian's `etcd` (etcd-server), one to N members on loopback, each with its
 * own temporary data dir and free client/peer ports. `stop()` kills every member and removes the
 * dirs; a member can be killed or restarted alone to test fail-over. With `tls`, the client URLs
 * are https, served with a certificate for 127.0.0.1 from a throwaway CA made with openssl, and
 * members require a client certificate signed by it (--client-cert-auth).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './server.js';

export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** Kills the member (SIGKILL) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data dir; resolves when it answers /health. */
  restart(): Promise<void>;
  running(): boolean;
}

export interface EtcdTlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface EtcdCluster {
  readonly members: readonly EtcdMember[];
  readonly endpoints: readonly string[];
  /** With `tls`: the CA and a client certificate it signed. */
  readonly tls?: EtcdTlsFiles;
  stop(): Promise<void>;
}

/** A CA, a serving certificate for 127.0.0.1 and a client certificate, in `dir`. */
function makeCerts(dir: string): { ca: string; serverCert: string; serverKey: string; client: EtcdTlsFiles } {
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  };
  ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=knode-test-etcd-ca', '-keyout', f('ca.key'), '-out', f('ca.crt'));
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=knode-test-etcd-${name}`, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`));
    writeFileSync(f(`${name}.ext`), `${ext}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '1', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`));
  }
  return { ca: f('ca.crt'), serverCert: f('server.crt'), serverKey: f('server.key'), client: { caFile: f('ca.crt'), certFile: f('client.crt'), keyFile: f('client.key') } };
}

/** GET <url>/health, with the client certificate when there is one; the parsed body or undefined. */
function health(url: string, tls: EtcdTlsFiles | undefined): Promise<{ health?: string } | undefined> {
  return new Promise((resolve) => {
    const opts = { timeout: 1_000, ...(tls ? { ca: readFileSync(tls.caFile), cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } : {}) };
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(`${url}/health`, opts, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as { health?: string });
        } catch {
          resolve(undefined);
        }
      });
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
  });
}

async function waitHealthy(url: string, tls: EtcdTlsFiles | undefined, proc: () => ChildProcess | undefined, log: () => string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = proc();
    if (p === undefined || p.exitCode !== null) throw new Error(`etcd at ${url} exited: ${log().slice(-2000)}`);
    // undefined: not listening yet; health false: no leader yet
    if ((await health(url, tls))?.health === 'true') return;
    await sleep(50);
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs / 1000} s: ${log().slice(-2000)}`);
}

/** Starts an N-member cluster (default 1) and waits until every member reports healthy. */
export async function startEtcd(opts: { members?: number; tls?: boolean } = {}): Promise<EtcdCluster> {
  const n = opts.members ?? 1;
  const root = await mkdtemp(join(tmpdir(), 'knode-etcd-'));
  let certs: ReturnType<typeof makeCerts> | undefined;
  try {
    certs = opts.tls === true ? makeCerts(root) : undefined;
  } catch (err) {
    await rm(root, { recursive: true, force: true });
    throw err;
  }
  const tlsFlags = certs ? ['--cert-file', certs.serverCert, '--key-file', certs.serverKey, '--trusted-ca-file', certs.ca, '--client-cert-auth'] : [];
  const specs: Array<{ name: string; client: number; peer: number }> = [];
  for (let i = 0; i < n; i++) specs.push({ name: `m${i}`, client: await freePort(), peer: await freePort() });
  const initialCluster = specs.map((s) => `${s.name}=http://127.0.0.1:${s.peer}`).join(',');

  const started = specs.map((s) => {
    const clientUrl = `${certs ? 'https' : 'http'}://127.0.0.1:${s.client}`;
    const peerUrl = `http://127.0.0.1:${s.peer}`;
    const dataDir = join(root, s.name);
    let proc: ChildProcess | undefined;
    let log = '';
    let started = false;
    const start = (): void => {
      log = '';
      proc = spawn('etcd', [
        '--name', s.name,
        '--data-dir', dataDir,
        '--listen-client-urls', clientUrl,
        '--advertise-client-urls', clientUrl,
        '--listen-peer-urls', peerUrl,
        '--initial-advertise-peer-urls', peerUrl,
        '--initial-cluster', initialCluster,
        '--initial-cluster-state', started ? 'existing' : 'new',
        '--initial-cluster-token', `knode-test-${process.pid}`,
        '--log-level', 'error',
        ...tlsFlags,
      ], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        log = (log + chunk).slice(-8_000);
      });
      started = true;
    };
    const kill = async (): Promise<void> => {
      const p = proc;
      if (p === undefined || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((res) => p.once('exit', () => res()));
      p.kill('SIGKILL');
      await exited;
    };
    start();
    const member: EtcdMember = {
      name: s.name,
      clientUrl,
      peerUrl,
      dataDir,
      kill,
      restart: async () => {
        await kill();
        start();
        await waitHealthy(clientUrl, certs?.client, () => proc, () => log);
      },
      running: () => proc !== undefined && proc.exitCode === null && proc.signalCode === null,
    };
    return { member, healthy: () => waitHealthy(clientUrl, certs?.client, () => proc, () => log) };
  });
  const members = started.map((m) => m.member);
  const stop = async (): Promise<void> => {
    await Promise.all(members.map((m) => m.kill()));
    await rm(root, { recursive: true, force: true });
  };
  try {
    await Promise.all(started.map((m) => m.healthy()));
  } catch (err) {
    await stop();
    throw err;
  }
  return { members, endpoints: members.map((m) => m.clientUrl), ...(certs ? { tls: certs.client } : {}), stop };
}
