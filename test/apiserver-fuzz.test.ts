/**
 * Fuzzing the apiserver's write paths with mutated objects. A seeded PRNG (seed printed; rerun with
 * KNODE_FUZZ_SEED=<seed>) takes valid Pods, Services, ConfigMaps, Deployments, Secrets and Namespaces,
 * mutates them (dropped fields, wrong types, huge/unicode/empty strings, negative and huge numbers,
 * nulls, deep junk, duplicated list items, unknown fields) and corrupts bodies (random bytes,
 * truncation), then sends them as create, update, the four patch types and delete.
 *
 * Every answer must be well formed and below 500 (a 2xx object or a 4xx Status), the process must stay
 * up, and the store must end consistent with what the answers said: every object a 2xx reported is
 * readable with the same uid, each kind's LIST holds exactly the created-and-not-deleted names, and
 * the resourceVersions of changing writes are unique and increase with real time.
 *
 * Workers own disjoint objects (one write in flight per object), so the expected state is exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { adminClient, failureStatus, itemsOf, metaOf } from './helpers/api-client.js';
import type { ApiClient, ApiResponse } from './helpers/api-client.js';

const SEED = Number(process.env['KNODE_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const WORKERS = 8;
const OPS_PER_WORKER = 450; // 3600 requests, plus the final checks
const NS = 'fuzz';

// ---- PRNG -----------------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough to pick mutations reproducibly. */
class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    const v = xs[this.int(xs.length)];
    if (v === undefined) throw new Error('pick from an empty list');
    return v;
  }
}

// ---- seeds: one valid object per kind ----------------------------------------------------------

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

interface Kind {
  readonly kind: string;
  readonly collection: string;
  readonly base: (name: string) => { [k: string]: Json };
}

const container = (): Json => ({
  name: 'c',
  image: 'busybox:1.36',
  command: ['sh', '-c', 'sleep 3600'],
  ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
  env: [{ name: 'A', value: 'b' }],
  resources: { limits: { cpu: '100m', memory: '64Mi' } },
});

const KINDS: readonly Kind[] = [
  {
    kind: 'ConfigMap',
    collection: `/api/v1/namespaces/${NS}/configmaps`,
    base: (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: 'fuzz' }, annotations: { note: 'x' } }, data: { k: 'v', k2: 'v2' } }),
  },
  {
    kind: 'Secret',
    collection: `/api/v1/namespaces/${NS}/secrets`,
    base: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, labels: { app: 'fuzz' } }, type: 'Opaque', data: { k: 'dmFsdWU=' } }),
  },
  {
    kind: 'Pod',
    collection: `/api/v1/namespaces/${NS}/pods`,
    base: (name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: 'fuzz' } }, spec: { containers: [container()], restartPolicy: 'Always' } }),
  },
  {
    kind: 'Service',
    collection: `/api/v1/namespaces/${NS}/services`,
    base: (name) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, labels: { app: 'fuzz' } },
      spec: { selector: { app: 'fuzz' }, ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], type: 'ClusterIP' },
    }),
  },
  {
    kind: 'Deployment',
    collection: `/apis/apps/v1/namespaces/${NS}/deployments`,
    base: (name) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, labels: { app: 'fuzz' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'fuzz' } }, template: { metadata: { labels: { app: 'fuzz' } }, spec: { containers: [container()] } } },
    }),
  },
  {
    kind: 'Namespace',
    collection: '/api/v1/namespaces',
    base: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { app: 'fuzz' } } }),
  },
];

// ---- mutations ---------------------------------------------------------------------------------

type Path = ReadonlyArray<string | number>;

function paths(v: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...prefix, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out);
  return out;
}

function parentOf(root: Json, p: Path): { parent: Json; key: string | number } | undefined {
  if (p.length === 0) return undefined;
  let cur: Json = root;
  for (const k of p.slice(0, -1)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, Json>)[k] ?? null;
  }
  const key = p[p.length - 1];
  return cur !== null && typeof cur === 'object' && key !== undefined ? { parent: cur, key } : undefined;
}

function setAt(root: Json, p: Path, v: Json): void {
  const at = parentOf(root, p);
  if (at) (at.parent as Record<string | number, Json>)[at.key] = v;
}

const STRINGS: readonly string[] = [
  '', ' ', 'ü', '日本語', '🚀🔥', '\u0000', '\u202e', '\ud800', 'Invalid_Name', 'UPPER', '-leading', 'a.b.c', '..', '../../etc/passwd',
  '${jndi:ldap://x}', "' OR 1=1 --", '<script>', '%s%n', '\n\t', 'null', 'true', '0x10', '1e3', '-1', 'TCP', 'Always', 'x'.repeat(64), 'y'.repeat(254),
];
const NUMBERS: readonly number[] = [0, -1, -0, 1.5, -2147483649, 2147483648, 2 ** 53 + 2, 1e308, -1e308, 65536, 99999999999];

function randomScalar(r: Rng): Json {
  switch (r.int(5)) {
    case 0:
      return r.pick(STRINGS);
    case 1:
      return r.pick(NUMBERS);
    case 2:
      return r.chance(0.5);
    case 3:
      return null;
    default:
      return r.chance(0.5) ? [] : {};
  }
}

function deepJunk(r: Rng, depth: number): Json {
  let v: Json = randomScalar(r);
  for (let i = 0; i < depth; i++) v = r.chance(0.5) ? [v] : { [r.pick(['a', 'spec', 'metadata', '$patch', 'name'])]: v };
  return v;
}

function hugeString(r: Rng): string {
  const sizes = [10_000, 100_000, 1_000_000, 3_200_000];
  const n = r.pick(sizes);
  return r.chance(0.5) ? 'a'.repeat(n) : 'ü🚀'.repeat(Math.floor(n / 6));
}

/** One mutation of a JSON value, in place (the root is replaced through the returned value). */
function mutate(r: Rng, obj: Json): Json {
  const all = paths(obj);
  const p = r.pick(all);
  const choice = r.int(12);
  if (p.length === 0 && choice < 6) return r.chance(0.5) ? randomScalar(r) : obj; // the whole object becomes junk
  switch (choice) {
    case 0: {
      const at = parentOf(obj, p);
      if (at && Array.isArray(at.parent) && typeof at.key === 'number') at.parent.splice(at.key, 1);
      else if (at) delete (at.parent as Record<string, Json>)[at.key];
      return obj;
    }
    case 1:
      setAt(obj, p, randomScalar(r));
      return obj;
    case 2:
      setAt(obj, p, hugeString(r));
      return obj;
    case 3:
      setAt(obj, p, r.pick(STRINGS));
      return obj;
    case 4:
      setAt(obj, p, r.pick(NUMBERS));
      return obj;
    case 5:
      setAt(obj, p, null);
      return obj;
    case 6:
      setAt(obj, p, deepJunk(r, r.pick([5, 50, 300])));
      return obj;
    case 7: {
      // duplicate an item of some list
      const lists = all.filter((q) => {
        const at = parentOf(obj, q);
        const v = at ? (at.parent as Record<string | number, Json>)[at.key] : undefined;
        return Array.isArray(v) && v.length > 0;
      });
      if (lists.length === 0) return obj;
      const at = parentOf(obj, r.pick(lists));
      const list = at ? ((at.parent as Record<string | number, Json>)[at.key] as Json[]) : [];
      list.push(structuredClone(r.pick(list)));
      return obj;
    }
    case 8: {
      // an unknown field next to a known one
      const at = parentOf(obj, p);
      if (at && at.parent !== null && typeof at.parent === 'object' && !Array.isArray(at.parent)) at.parent[`fuzz${r.int(1000)}`] = randomScalar(r);
      return obj;
    }
    case 9:
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj)) {
        const field = r.pick(['kind', 'apiVersion']);
        obj[field] = r.pick(['Pod', 'Secret', 'v2', 'apps/v1', '', 'List']);
      }
      return obj;
    case 10:
      setAt(obj, ['metadata', r.pick(['name', 'namespace', 'generateName', 'resourceVersion', 'uid', 'labels', 'finalizers', 'ownerReferences'])], randomScalar(r));
      return obj;
    default:
      setAt(obj, p, r.pick([-1, -65535, -0.5]));
      return obj;
  }
}

function mutated(r: Rng, v: Json): Json {
  let out = structuredClone(v);
  const n = 1 + r.int(3);
  for (let i = 0; i < n; i++) out = mutate(r, out);
  return out;
}

/** Serializes, then sometimes corrupts the bytes. */
function encode(r: Rng, v: Json, yaml: boolean): Buffer {
  const text = yaml ? toYaml(v, { lineWidth: 0 }) : JSON.stringify(v);
  const roll = r.next();
  if (roll < 0.04) return Buffer.from(Array.from({ length: 1 + r.int(2000) }, () => r.int(256)));
  if (roll < 0.08) return Buffer.from(text.slice(0, r.int(text.length)));
  if (roll < 0.1) {
    const i = r.int(text.length + 1);
    return Buffer.from(text.slice(0, i) + String.fromCharCode(r.int(256)) + text.slice(i));
  }
  return Buffer.from(text);
}

// ---- the model and the run ---------------------------------------------------------------------

interface Live {
  readonly kind: Kind;
  readonly name: string;
  readonly uid: string;
  rv: number;
  body: Json;
  /** A 2xx delete left it in place (graceful deletion or finalizers): it may or may not still exist. */
  deleting: boolean;
}

interface WriteRecord {
  readonly sent: number;
  readonly acked: number;
  readonly rv: number;
  readonly what: string;
}

let server: TestServer;
let api: ApiClient;
const live = new Map<string, Live>(); // key: kind/name
const deleted = new Set<string>();
const writes: WriteRecord[] = [];
const violations: string[] = [];
let requests = 0;
const codes = new Map<number, number>();
let baselineNamespaces = new Set<string>();

const keyOf = (k: Kind, name: string): string => `${k.kind}/${name}`;
const itemPath = (k: Kind, name: string): string => `${k.collection}/${encodeURIComponent(name)}`;

function record(what: string, res: ApiResponse, expectKind: string | undefined): Record<string, unknown> | undefined {
  if (res.status >= 500 || res.status < 200 || (res.status >= 300 && res.status < 400)) {
    violations.push(`${what} -> HTTP ${res.status}: ${res.text.slice(0, 300)}`);
    return undefined;
  }
  if (res.status >= 400) {
    try {
      failureStatus(res);
    } catch (err) {
      violations.push(`${what} -> ${String(err)}`);
    }
    return undefined;
  }
  const body = res.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    violations.push(`${what} -> HTTP ${res.status} without a JSON object: ${res.text.slice(0, 200)}`);
    return undefined;
  }
  const o = body as Record<string, unknown>;
  if (expectKind !== undefined && (o['kind'] !== expectKind || !metaOf(o).uid || !/^\d+$/.test(metaOf(o).resourceVersion ?? ''))) {
    violations.push(`${what} -> HTTP ${res.status} with kind ${String(o['kind'])}, uid ${metaOf(o).uid}, rv ${metaOf(o).resourceVersion}`);
    return undefined;
  }
  return o;
}

async function send(what: string, fn: () => Promise<ApiResponse>): Promise<ApiResponse | undefined> {
  requests++;
  try {
    const res = await fn();
    codes.set(res.status, (codes.get(res.status) ?? 0) + 1);
    return res;
  } catch (err) {
    violations.push(`${what} -> no answer: ${String(err)} (server exit ${server.proc.exitCode ?? server.proc.signalCode ?? 'none'})`);
    return undefined;
  }
}

/** A 2xx write of an object: update the model, and note the revision when the object changed. */
function noteWrite(kind: Kind, o: Record<string, unknown>, sent: number, what: string): void {
  const md = metaOf(o);
  const name = md.name ?? '';
  const rv = Number(md.resourceVersion);
  const key = keyOf(kind, name);
  const prev = live.get(key);
  if (prev && prev.uid !== md.uid) violations.push(`${what} -> changed the uid of ${key} from ${prev.uid} to ${md.uid}`);
  const changed = !prev || rv !== prev.rv;
  if (prev && rv < prev.rv) violations.push(`${what} -> resourceVersion of ${key} went back from ${prev.rv} to ${rv}`);
  if (changed) writes.push({ sent, acked: Date.now(), rv, what });
  live.set(key, { kind, name, uid: md.uid ?? '', rv, body: o as Json, deleting: md.deletionTimestamp !== undefined });
  deleted.delete(key);
}

async function fuzzWorker(w: number): Promise<void> {
  const r = new Rng(SEED + w * 7919);
  const mine: string[] = [];
  for (let i = 0; i < OPS_PER_WORKER; i++) {
    if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
    const kind = r.pick(KINDS);
    const owned = mine.filter((k) => k.startsWith(`${kind.kind}/`) && live.has(k));
    const target = owned.length > 0 && r.chance(0.55) ? live.get(r.pick(owned)) : undefined;
    const sent = Date.now();
    const yaml = r.chance(0.15);
    const ct = r.chance(0.03) ? r.pick(['text/plain', 'application/xml', 'application/json; charset=utf-16', '']) : yaml ? 'application/yaml' : 'application/json';

    if (!target) {
      const name = `${kind.kind.toLowerCase()}-w${w}-${i}`;
      const obj = r.chance(0.2) ? kind.base(name) : mutated(r, kind.base(name));
      const what = `[seed ${SEED} w${w} #${i}] POST ${kind.collection} (${ct})`;
      const res = await send(what, () => api.post(kind.collection, encode(r, obj, yaml), { contentType: ct }));
      const o = res && record(what, res, res.status < 300 ? kind.kind : undefined);
      if (o && res?.status !== 201) violations.push(`${what} -> ${res?.status} instead of 201`);
      if (o) {
        noteWrite(kind, o, sent, what);
        mine.push(keyOf(kind, metaOf(o).name ?? ''));
      }
      continue;
    }

    const path = itemPath(kind, target.name);
    const op = r.int(7);
    let what = `[seed ${SEED} w${w} #${i}] `;
    let res: ApiResponse | undefined;
    if (op <= 1) {
      // update: the current object, mutated; with its resourceVersion, without, or a stale one
      let obj = mutated(r, target.body);
      if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && typeof obj['metadata'] === 'object' && obj['metadata'] !== null && !Array.isArray(obj['metadata'])) {
        const md = obj['metadata'];
        const roll = r.int(3);
        if (roll === 0) delete md['resourceVersion'];
        if (roll === 1) md['resourceVersion'] = String(Math.max(1, target.rv - 1));
        obj = { ...obj, metadata: md };
      }
      what += `PUT ${path} (${ct})`;
      res = await send(what, () => api.put(path, encode(r, obj, yaml), { contentType: ct }));
    } else if (op <= 5) {
      const type = r.pick(['merge', 'strategic', 'json', 'apply'] as const);
      let body: Buffer;
      let query = '';
      let contentType: string;
      switch (type) {
        case 'merge':
        case 'strategic': {
          const full = target.body as Record<string, Json>;
          const field = r.pick(Object.keys(full).filter((k) => k !== 'apiVersion' && k !== 'kind'));
          body = encode(r, mutated(r, { [field]: structuredClone(full[field] ?? null) }), false);
          contentType = type === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json';
          break;
        }
        case 'json': {
          const ps = paths(target.body).filter((p) => p.length > 0);
          const ops = Array.from({ length: 1 + r.int(3) }, () => {
            const p = `/${r.pick(ps).map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/')}`;
            const o = r.pick(['add', 'remove', 'replace', 'test', 'move', 'copy', 'frob']);
            return { op: o, path: r.chance(0.1) ? '/no/such' : p, ...(o === 'move' || o === 'copy' ? { from: p } : { value: randomScalar(r) }) };
          });
          body = encode(r, r.chance(0.2) ? mutated(r, ops as unknown as Json) : (ops as unknown as Json), false);
          contentType = 'application/json-patch+json';
          break;
        }
        case 'apply': {
          body = encode(r, mutated(r, kind.base(target.name)), true);
          contentType = 'application/apply-patch+yaml';
          query = r.chance(0.85) ? `?fieldManager=fuzz${r.chance(0.3) ? '&force=true' : ''}` : '';
          break;
        }
      }
      what += `PATCH ${path}${query} (${contentType})`;
      res = await send(what, () => api.patch(`${path}${query}`, body, contentType));
    } else {
      if (kind.kind === 'Namespace') continue; // namespaces finalize asynchronously: kept out of the exact model
      const junk = r.chance(0.2);
      what += `DELETE ${path}${junk ? ' (junk options)' : ''}`;
      res = await send(what, () => (junk ? api.request('DELETE', path, { body: encode(r, mutated(r, { gracePeriodSeconds: 0 }), false) }) : api.delete(path)));
      const o = res && record(what, res, undefined);
      if (o && res) {
        const md = metaOf(o);
        if (md.deletionTimestamp !== undefined) target.deleting = true;
        else {
          live.delete(keyOf(kind, target.name));
          deleted.add(keyOf(kind, target.name));
        }
      }
      continue;
    }
    const o = res && record(what, res, res.status < 300 ? kind.kind : undefined);
    if (o) {
      if (metaOf(o).name !== target.name) violations.push(`${what} -> answered for another object: ${metaOf(o).name}`);
      else noteWrite(kind, o, sent, what);
    }
  }
}

beforeAll(async () => {
  // eslint-disable-next-line no-console
  console.log(`apiserver fuzz seed: ${SEED} (rerun with KNODE_FUZZ_SEED=${SEED})`);
  // no controllers or scheduler: they would write to the fuzzed pods (status conditions, bindings)
  // and the model of the expected state must stay exact
  server = await startServer(APISERVER_ONLY);
  api = await adminClient(server.kubeconfig);
  const ns = await api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  expect(ns.status).toBe(201);
  baselineNamespaces = new Set(itemsOf((await api.get('/api/v1/namespaces')).body).map((o) => metaOf(o).name ?? ''));
});

afterAll(async () => {
  api?.close();
  await server?.stop();
});

describe(`apiserver fuzz (seed ${SEED})`, () => {
  it('every unmutated seed object is accepted (so mutations start from valid objects)', async () => {
    for (const k of KINDS) {
      const res = await api.post(k.collection, k.base(`seed-${k.kind.toLowerCase()}`));
      expect(res.status, `${k.kind}: ${res.text.slice(0, 300)}`).toBe(201);
      noteWrite(k, res.body as Record<string, unknown>, Date.now(), `seed ${k.kind}`);
    }
  });

  it(`${WORKERS * OPS_PER_WORKER} mutated requests all get a well-formed answer below 500`, async () => {
    const t0 = Date.now();
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => fuzzWorker(w)));
    // eslint-disable-next-line no-console
    console.log(`fuzz: ${requests} requests in ${Date.now() - t0} ms, ${live.size} live objects, ${deleted.size} deleted, ${writes.length} changing writes; answers ${[...codes].sort((a, b) => a[0] - b[0]).map(([c, n]) => `${c}x${n}`).join(' ')}`);
    expect(requests).toBeGreaterThanOrEqual(3000);
    expect(violations.slice(0, 25), `${violations.length} bad answers (seed ${SEED})`).toEqual([]);
  });

  it('the server process is alive and ready', async () => {
    expect(server.proc.exitCode).toBeNull();
    expect(server.proc.signalCode).toBeNull();
    expect((await api.get('/readyz')).status).toBe(200);
  });

  it('every object a 2xx answer reported is readable with the same uid and a resourceVersion no older', async () => {
    const wrong: string[] = [];
    for (const o of live.values()) {
      const res = await api.get(itemPath(o.kind, o.name));
      if (o.deleting && res.status === 404) continue;
      if (res.status !== 200) wrong.push(`${o.kind.kind}/${o.name}: HTTP ${res.status}`);
      else if (metaOf(res.body).uid !== o.uid) wrong.push(`${o.kind.kind}/${o.name}: uid ${metaOf(res.body).uid}, answered ${o.uid}`);
      else if (Number(metaOf(res.body).resourceVersion) < o.rv) wrong.push(`${o.kind.kind}/${o.name}: rv ${metaOf(res.body).resourceVersion} < answered ${o.rv}`);
    }
    for (const key of deleted) {
      const [kindName, ...rest] = key.split('/');
      const kind = KINDS.find((k) => k.kind === kindName);
      if (!kind) continue;
      const res = await api.get(itemPath(kind, rest.join('/')));
      if (res.status !== 404) wrong.push(`${key}: deleted with a 2xx but GET answers ${res.status}`);
    }
    expect(wrong.slice(0, 25), `${wrong.length} inconsistencies (seed ${SEED})`).toEqual([]);
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))('a LIST of %s holds exactly the created-and-not-deleted objects', async (_, kind) => {
    const res = await api.get(kind.collection);
    expect(res.status).toBe(200);
    let listed = itemsOf(res.body).map((o) => metaOf(o).name ?? '');
    if (kind.kind === 'Namespace') listed = listed.filter((n) => !baselineNamespaces.has(n));
    // the control plane's own ConfigMap in every namespace (root CA publisher)
    if (kind.kind === 'ConfigMap') listed = listed.filter((n) => n !== 'kube-root-ca.crt');
    const expected = [...live.values()].filter((o) => o.kind === kind && !o.deleting).map((o) => o.name);
    const maybe = new Set([...live.values()].filter((o) => o.kind === kind && o.deleting).map((o) => o.name));
    expect(listed.filter((n) => !maybe.has(n)).sort()).toEqual(expected.sort());
  });

  it('resourceVersions of changing writes are unique and increase with real time', () => {
    const seen = new Map<number, string>();
    const dups: string[] = [];
    for (const w of writes) {
      const other = seen.get(w.rv);
      if (other !== undefined) dups.push(`rv ${w.rv}: ${other} and ${w.what}`);
      seen.set(w.rv, w.what);
    }
    expect(dups.slice(0, 10), `${dups.length} duplicate resourceVersions`).toEqual([]);
    // a write sent after another was acknowledged must get a higher revision
    const byAck = [...writes].sort((a, b) => a.acked - b.acked);
    const prefixMax: number[] = [];
    for (const w of byAck) prefixMax.push(Math.max(w.rv, prefixMax[prefixMax.length - 1] ?? 0));
    const backwards: string[] = [];
    for (const w of writes) {
      // last write acknowledged strictly before this one was sent
      let lo = 0;
      let hi = byAck.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if ((byAck[mid]?.acked ?? 0) < w.sent) lo = mid + 1;
        else hi = mid;
      }
      const before = lo > 0 ? (prefixMax[lo - 1] ?? 0) : 0;
      if (w.rv <= before) backwards.push(`${w.what}: rv ${w.rv} not above ${before}, acknowledged before it was sent`);
    }
    expect(backwards.slice(0, 10), `${backwards.length} writes with a revision older than an earlier acknowledged one`).toEqual([]);
    expect(writes.length).toBeGreaterThan(100);
  });
});
