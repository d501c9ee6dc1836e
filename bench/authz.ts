/**
 * `node dist/bench/authz.js`: what authorization costs.
 *
 * 1. In process, the decision itself: an RbacAuthorizer holding B RoleBindings spread over N
 *    namespaces (plus the default policy), asked D times for a user bound in one namespace: allowed
 *    and refused decisions per second; and the time to apply one binding change to its indexes and
 *    decide again (the indexes are updated in place).
 * 2. End to end, same run: two `knode server`s, `--authorization-mode Node,RBAC` and the reference
 *    `AlwaysAllow` (no authorization work at all), each holding the same B RoleBindings; C clients
 *    with a non-admin client certificate GET one ConfigMap R times, the two servers alternating for
 *    4 rounds (who goes first alternates too). Median requests/s, p50/p99, and the ratio RBAC / AlwaysAllow. (The admin would skip
 *    RBAC: system:masters is allowed at once.) A third phase in each round does the same GETs on the
 *    Node,RBAC server with a service account token (TokenRequest, bound to view like the user): what
 *    authenticating a JWT and checking its account costs next to a client certificate.
 * There is no upstream apiserver on this machine to compare against.
 *
 * Flags: --bindings B (default 5,000), --namespaces N (default 500), --decisions D (default 1,000,000),
 * --requests R (default 20,000), --concurrency C (default 16), --timeout S (default 600),
 * --cpu-prof DIR (both servers under node --cpu-prof).
 * Report on stdout, progress on stderr; servers and temp dirs are removed on exit, Ctrl-C and the deadline.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import { RbacAuthorizer } from '../control-plane/apiserver/authz/rbac.js';
import { defaultPolicyObjects } from '../control-plane/apiserver/authz/policy.js';
import type { Attributes } from '../control-plane/apiserver/authz/types.js';
import { createClientCert, decodeCertKeyPair, encodeCertKeyPair } from '../lib/pki/index.js';
import type { Cleanup } from './lib/cleanup.js';
import { KubeHttp, loadCreds, warmConnections } from './lib/kube-http.js';
import type { KubeCreds } from './lib/kube-http.js';
import { startKnodeServer } from './lib/knode-server.js';
import type { KnodeServer } from './lib/knode-server.js';
import type { Progress } from './lib/progress.js';
import { intFlag, runReport } from './lib/run-report.js';
import { fmtMs, fmtRate, fmtRatio, median, summarize } from './lib/stats.js';
import type { LatencySummary } from './lib/stats.js';
import { renderTable } from './lib/table.js';

interface Options {
  bindings: number;
  namespaces: number;
  decisions: number;
  requests: number;
  concurrency: number;
  timeout: number;
  cpuProf?: string;
}

const RBAC = 'rbac.authorization.k8s.io';
const USER = 'bench-user';

const nsName = (i: number): string => `ns-${i}`;

/**
 * B RoleBindings over N namespaces: binding i binds user-i to a ClusterRole in ns-(i mod N): `view`
 * on the servers; in process `system:aggregate-to-view`, the rules `view` aggregates (no aggregation
 * controller runs there).
 */
function bindingObject(i: number, namespaces: number, user = `user-${i}`, role = 'view'): Record<string, unknown> {
  return {
    apiVersion: `${RBAC}/v1`,
    kind: 'RoleBinding',
    metadata: { name: `rb-${i}`, namespace: nsName(i % namespaces) },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: role },
    subjects: [{ kind: 'User', apiGroup: RBAC, name: user }],
  };
}

// ---- 1. in process ----------------------------------------------------------------------------------

interface InProcess {
  readonly allowedPerSec: number;
  readonly refusedPerSec: number;
  readonly changeMs: number[];
}

function inProcess(opts: Options, progress: Progress): InProcess {
  const rbac = new RbacAuthorizer();
  for (const [plural, obj] of defaultPolicyObjects()) {
    const target = { clusterroles: rbac.clusterRoles, roles: rbac.roles, clusterrolebindings: rbac.clusterRoleBindings, rolebindings: rbac.roleBindings }[plural];
    target.apply(`/${plural}/${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`, obj);
  }
  for (let i = 0; i < opts.bindings; i++) rbac.roleBindings.apply(`/rb/${i}`, bindingObject(i, opts.namespaces, i === 0 ? USER : `user-${i}`, 'system:aggregate-to-view'));
  const base = { user: { name: USER, groups: ['devs', 'system:authenticated'] }, resourceRequest: true, apiGroup: '', subresource: '', name: 'cm', path: '' };
  const allowed: Attributes = { ...base, verb: 'get', resource: 'configmaps', namespace: nsName(0) };
  const refused: Attributes = { ...base, verb: 'get', resource: 'secrets', namespace: nsName(0) };
  if (rbac.authorize(allowed).verdict !== 'allow' || rbac.authorize(refused).verdict === 'allow') throw new Error('in-process check: the bound user is not judged as expected');
  const rate = (attrs: Attributes): number => {
    const rounds: number[] = [];
    for (let r = 0; r < 5; r++) {
      const n = Math.max(1, Math.floor(opts.decisions / 5));
      const t0 = performance.now();
      for (let i = 0; i < n; i++) rbac.authorize(attrs);
      rounds.push(n / ((performance.now() - t0) / 1000));
    }
    return median(rounds);
  };
  progress.note(`in process: ${opts.decisions} decisions each, allowed and refused`);
  const allowedPerSec = rate(allowed);
  const refusedPerSec = rate(refused);
  const changeMs: number[] = [];
  for (let r = 0; r < 20; r++) {
    const t0 = performance.now();
    rbac.roleBindings.apply(`/rb/extra`, bindingObject(opts.bindings + r, opts.namespaces, `user-x${r}`, 'system:aggregate-to-view'));
    rbac.authorize(allowed);
    changeMs.push(performance.now() - t0);
  }
  return { allowedPerSec, refusedPerSec, changeMs };
}

// ---- 2. end to end ----------------------------------------------------------------------------------

interface EndToEnd {
  readonly mode: string;
  readonly perSec: number;
  readonly latency: LatencySummary;
}

async function userCreds(server: KnodeServer, admin: KubeCreds): Promise<KubeCreds> {
  const pki = join(server.kubeconfigPath, '..', 'pki');
  const ca = await decodeCertKeyPair(await readFile(join(pki, 'ca.crt'), 'utf8'), await readFile(join(pki, 'ca.key'), 'utf8'));
  const pair = await encodeCertKeyPair(await createClientCert(ca, { commonName: USER, organizations: ['devs'] }));
  return { ...admin, cert: pair.certPem, key: pair.keyPem };
}

async function populate(http: KubeHttp, opts: Options, progress: Progress): Promise<void> {
  const post = (path: string, obj: unknown): Promise<unknown> => http.ok({ method: 'POST', path, body: JSON.stringify(obj) });
  progress.start('namespaces', opts.namespaces);
  for (let i = 0; i < opts.namespaces; i += opts.concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency, opts.namespaces - i) }, async (_, k) => {
        await post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: nsName(i + k) } });
        progress.tick();
      }),
    );
  }
  progress.done();
  progress.start('role bindings', opts.bindings);
  for (let i = 0; i < opts.bindings; i += opts.concurrency) {
    await Promise.all(
      Array.from({ length: Math.min(opts.concurrency, opts.bindings - i) }, async (_, k) => {
        const n = i + k;
        await post(`/apis/${RBAC}/v1/namespaces/${nsName(n % opts.namespaces)}/rolebindings`, bindingObject(n, opts.namespaces, n === 0 ? USER : `user-${n}`));
        progress.tick();
      }),
    );
  }
  progress.done();
  await post(`/api/v1/namespaces/${nsName(0)}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm' }, data: { k: 'v' } });
}

interface Prepared {
  readonly mode: string;
  readonly server: KnodeServer;
  readonly admin: KubeHttp;
  readonly user: KubeHttp;
  /** Whether closing this entry stops its server (the token phase shares the Node,RBAC one). */
  readonly ownsServer: boolean;
}

const SA = 'bench-reader';

/** The same server, its clients a service account's bearer token bound to view in the ConfigMap's namespace. */
async function tokenPhase(p: Prepared, opts: Options): Promise<Prepared> {
  const ns = nsName(0);
  await p.admin.ok({ method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts`, body: JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SA } }) });
  const binding = { apiVersion: `${RBAC}/v1`, kind: 'RoleBinding', metadata: { name: SA, namespace: ns }, roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: SA, namespace: ns }] };
  await p.admin.ok({ method: 'POST', path: `/apis/${RBAC}/v1/namespaces/${ns}/rolebindings`, body: JSON.stringify(binding) });
  const tr = await p.admin.ok({ method: 'POST', path: `/api/v1/namespaces/${ns}/serviceaccounts/${SA}/token`, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } }) });
  const token = (JSON.parse(tr.body.toString('utf8')) as { status?: { token?: string } }).status?.token;
  if (token === undefined) throw new Error('TokenRequest answered no token');
  const user = new KubeHttp({ ...(await loadCreds(p.server.kubeconfigPath)), token }, opts.concurrency);
  const until = performance.now() + 10_000;
  while ((await user.request({ method: 'GET', path: CM_PATH })).status !== 200) {
    if (performance.now() > until) throw new Error(`the service account token is still refused ${CM_PATH} after 10 s`);
  }
  await warmConnections(user, opts.concurrency, CM_PATH);
  return { mode: 'Node,RBAC, service account token', server: p.server, admin: p.admin, user, ownsServer: false };
}

const CM_PATH = `/api/v1/namespaces/${nsName(0)}/configmaps/cm`;

async function prepare(mode: string, opts: Options, cleanup: Cleanup, progress: Progress): Promise<Prepared> {
  progress.note(`starting knode server --authorization-mode ${mode}`);
  const prof = opts.cpuProf !== undefined ? { cpuProfDir: join(opts.cpuProf, mode.replace(/[^A-Za-z]/g, '')) } : {};
  if (prof.cpuProfDir !== undefined) await mkdir(prof.cpuProfDir, { recursive: true });
  const server = await startKnodeServer(cleanup, { sync: 'NORMAL', extraArgs: ['--controllers', 'none', '--authorization-mode', mode], ...prof });
  const adminCreds = await loadCreds(server.kubeconfigPath);
  const admin = new KubeHttp(adminCreds, opts.concurrency);
  const user = new KubeHttp(await userCreds(server, adminCreds), opts.concurrency);
  await populate(admin, opts, progress);
  // the binding reaches the authorizer through the store's watch: wait until the user is allowed
  const until = performance.now() + 10_000;
  while ((await user.request({ method: 'GET', path: CM_PATH })).status !== 200) {
    if (performance.now() > until) throw new Error(`${mode}: ${USER} is still refused ${CM_PATH} after 10 s`);
  }
  await warmConnections(user, opts.concurrency, CM_PATH);
  return { mode, server, admin, user, ownsServer: true };
}

/** One timed phase: R GETs of the ConfigMap as the user, C at a time. */
async function getPhase(p: Prepared, opts: Options, progress: Progress): Promise<{ perSec: number; latencies: number[] }> {
  const lat: number[] = [];
  let next = 0;
  progress.start(`GET as ${USER} (${p.mode})`, opts.requests);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.requests) {
        next++;
        const r = await p.user.request({ method: 'GET', path: CM_PATH });
        if (r.status !== 200) throw new Error(`${p.mode}: GET ${CM_PATH} answered ${r.status}: ${r.body.toString('utf8').slice(0, 300)}`);
        lat.push(r.doneAt - r.sentAt);
        progress.tick();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  progress.done();
  return { perSec: lat.length / seconds, latencies: lat };
}

const ROUNDS = 4;

/** Both servers prepared, then their GET phases alternated ROUNDS times: median rate, pooled latencies. */
async function endToEnd(opts: Options, cleanup: Cleanup, progress: Progress): Promise<EndToEnd[]> {
  const rbac = await prepare('Node,RBAC', opts, cleanup, progress);
  const servers = [rbac, await prepare('AlwaysAllow', opts, cleanup, progress), await tokenPhase(rbac, opts)];
  const rates = servers.map(() => [] as number[]);
  const lats = servers.map(() => [] as number[]);
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // who goes first alternates, so neither always runs on a machine the other just warmed
      const order = round % 2 === 0 ? [...servers.entries()] : [...servers.entries()].reverse();
      for (const [i, p] of order) {
        const r = await getPhase(p, opts, progress);
        rates[i]?.push(r.perSec);
        lats[i]?.push(...r.latencies);
      }
    }
  } finally {
    for (const p of servers) {
      p.user.close();
      if (!p.ownsServer) continue;
      p.admin.close();
      await p.server.stop();
    }
  }
  return servers.map((p, i) => ({ mode: p.mode, perSec: median(rates[i] ?? []), latency: summarize(lats[i] ?? []) }));
}

async function run(opts: Options, cleanup: Cleanup, progress: Progress): Promise<string> {
  const local = inProcess(opts, progress);
  const [rbac, reference, token] = await endToEnd(opts, cleanup, progress);
  if (rbac === undefined || reference === undefined || token === undefined) throw new Error('end to end: a server phase is missing');
  const change = summarize(local.changeMs);
  const lines = [
    `authorization bench: ${opts.bindings} RoleBindings over ${opts.namespaces} namespaces (+ the default policy)`,
    '',
    'in process (RbacAuthorizer.authorize, median of 5 rounds)',
    renderTable(
      ['what', 'figure'],
      [
        ['allowed decisions', `${fmtRate(local.allowedPerSec)}/s`],
        ['refused decisions', `${fmtRate(local.refusedPerSec)}/s`],
        ['one binding changed, then a decision, ms (p50 / max of 20)', `${fmtMs(change.p50)} / ${fmtMs(change.max)}`],
      ],
      ['left', 'right'],
    ),
    '',
    `end to end: GET one ConfigMap as a user bound by one of the RoleBindings, ${opts.concurrency} clients, ${opts.requests} requests x ${ROUNDS} rounds, alternated (median rate; latency ms over all rounds)`,
    renderTable(
      ['--authorization-mode', 'requests/s', 'p50', 'p99'],
      [rbac, reference, token].map((r) => [r.mode, fmtRate(r.perSec), fmtMs(r.latency.p50), fmtMs(r.latency.p99)]),
      ['left', 'right', 'right', 'right'],
    ),
    '',
    `Node,RBAC / AlwaysAllow: rate ${fmtRatio(rbac.perSec, reference.perSec)}, p50 ${fmtRatio(rbac.latency.p50, reference.latency.p50)}`,
    `service account token / client certificate (both Node,RBAC): rate ${fmtRatio(token.perSec, rbac.perSec)}, p50 ${fmtRatio(token.latency.p50, rbac.latency.p50)}`,
    '',
  ];
  return lines.join('\n');
}


async function main(): Promise<void> {
  const opts = new Command('bench-authz')
    .option('--bindings <n>', 'RoleBindings to create', intFlag('--bindings', 1, 100_000), 5_000)
    .option('--namespaces <n>', 'namespaces to spread them over', intFlag('--namespaces', 1, 10_000), 500)
    .option('--decisions <n>', 'in-process decisions per kind', intFlag('--decisions', 1_000, 100_000_000), 1_000_000)
    .option('--requests <n>', 'GETs per server', intFlag('--requests', 100, 10_000_000), 20_000)
    .option('--concurrency <n>', 'clients in flight', intFlag('--concurrency', 1, 512), 16)
    .option('--timeout <s>', 'abort the whole run after this many seconds', intFlag('--timeout', 10, 86_400), 600)
    .option('--cpu-prof <dir>', 'run both servers under --cpu-prof, profiles in <dir>/NodeRBAC and <dir>/AlwaysAllow')
    .parse(process.argv)
    .opts<Options>();
  await runReport(opts.timeout, (cleanup, progress) => run(opts, cleanup, progress));
}

await main();
