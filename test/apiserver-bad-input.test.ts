/**
 * Bad input to the apiserver, as a user sends it: through kubectl (the stderr a user reads) and as raw
 * HTTP (the Status object client libraries decode). Every answer must be a 4xx Status naming what was
 * wrong (with field paths for 422), never a 5xx, and after all of it the server must still serve.
 *
 * Expected wording is upstream's (kube-apiserver v1.32), so kubectl prints the same sentences it prints
 * against a real cluster. One server for the whole file; cases are tables.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { adminClient, failureStatus, metaOf } from './helpers/api-client.js';
import type { ApiClient, ApiResponse } from './helpers/api-client.js';

let server: TestServer;
let api: ApiClient;
let dir: string;

const NS = 'default';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const PODS = `/api/v1/namespaces/${NS}/pods`;
const DEPLOYS = `/apis/apps/v1/namespaces/${NS}/deployments`;

const configMap = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { key: 'value' },
  ...extra,
});
const pod = (name: string, spec: Record<string, unknown>): Record<string, unknown> => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });
const deployment = (name: string, replicas: unknown): Record<string, unknown> => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
  },
});
/** `{"a":{"a":...1...}}` nested n levels, built as text (JSON.stringify would overflow the stack). */
const nested = (n: number): string => '{"a":'.repeat(n) + '1' + '}'.repeat(n);

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  api = await adminClient(server.kubeconfig);
  dir = await mkdtemp(join(tmpdir(), 'knode-bad-input-'));
  expect((await api.post(CM, configMap('existing'))).status).toBe(201);
  expect((await api.post(DEPLOYS, deployment('web', 1))).status).toBe(201);
});

afterAll(async () => {
  api?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface RawCase {
  readonly name: string;
  readonly send: () => Promise<ApiResponse>;
  readonly code: number;
  readonly reason?: string;
  /** Substrings (or a pattern) the Status message must contain. */
  readonly message?: string | RegExp;
  /** Field paths details.causes must name (422). */
  readonly causes?: readonly string[];
}

const post = (path: string, body: unknown, contentType?: string): (() => Promise<ApiResponse>) => () =>
  api.post(path, body, contentType !== undefined ? { contentType } : {});
const patch = (path: string, body: string, type: string): (() => Promise<ApiResponse>) => () => api.patch(path, body, type);

function expectCase(res: ApiResponse, c: RawCase): void {
  expect(res.status, `${c.name}: ${res.text.slice(0, 400)}`).toBe(c.code);
  const st = failureStatus(res);
  if (c.reason !== undefined) expect(st.reason).toBe(c.reason);
  if (typeof c.message === 'string') expect(st.message).toContain(c.message);
  else if (c.message) expect(st.message).toMatch(c.message);
  if (c.code === 422) {
    expect(st.details?.causes?.length ?? 0, 'a 422 names its fields in details.causes').toBeGreaterThan(0);
  }
  for (const f of c.causes ?? []) expect(st.details?.causes?.map((x) => x.field)).toContain(f);
}

describe('raw requests with a malformed body', () => {
  const cases: RawCase[] = [
    { name: 'truncated JSON', send: post(CM, '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"'), code: 400, reason: 'BadRequest', message: /json/i },
    { name: 'malformed YAML', send: post(CM, 'apiVersion: v1\nkind: ConfigMap\nmetadata: [\n  name: x', 'application/yaml'), code: 400, reason: 'BadRequest', message: /yaml/i },
    { name: 'a JSON array', send: post(CM, '[{"apiVersion":"v1","kind":"ConfigMap"}]'), code: 400, reason: 'BadRequest' },
    { name: 'a JSON string', send: post(CM, '"hello"'), code: 400, reason: 'BadRequest' },
    { name: 'JSON null', send: post(CM, 'null'), code: 400, reason: 'BadRequest' },
    { name: 'an empty body', send: post(CM, ''), code: 400, reason: 'BadRequest' },
    { name: 'random bytes', send: post(CM, Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x7b, 0x80, 0x0a])), code: 400, reason: 'BadRequest' },
    { name: 'a YAML list', send: post(CM, '- a\n- b\n', 'application/yaml'), code: 400, reason: 'BadRequest' },
  ];
  it.each(cases)('$name -> $code', async (c) => expectCase(await c.send(), c));
});

describe('raw requests with the wrong object', () => {
  const cases: RawCase[] = [
    {
      name: 'a Secret sent to the configmaps URL',
      send: post(CM, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-kind' } }),
      code: 400,
      reason: 'BadRequest',
    },
    {
      name: 'apiVersion apps/v1 for a core ConfigMap',
      send: post(CM, { apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'wrong-version' } }),
      code: 400,
      reason: 'BadRequest',
      message: 'the API version in the data (apps/v1) does not match the expected API version (v1)',
    },
    {
      name: 'an unknown field with fieldValidation=Strict',
      send: post(`${PODS}?fieldValidation=Strict`, pod('strict', { foo: 1, containers: [{ name: 'c', image: 'busybox' }] })),
      code: 400,
      reason: 'BadRequest',
      message: 'strict decoding error: unknown field "spec.foo"',
    },
    {
      name: 'an unsupported fieldValidation value',
      send: post(`${CM}?fieldValidation=Loose`, configMap('fv')),
      code: 400,
      reason: 'BadRequest',
      message: 'fieldValidation',
    },
    {
      name: 'replicas: "three"',
      send: post(DEPLOYS, deployment('three', 'three')),
      code: 400,
      reason: 'BadRequest',
      message: 'spec.replicas',
    },
    {
      name: 'data that is a number',
      send: post(CM, configMap('numdata', { data: 5 })),
      code: 400,
      reason: 'BadRequest',
      message: 'data',
    },
    {
      name: 'a namespace in the body that differs from the URL',
      send: post(CM, { ...configMap('ns-mismatch'), metadata: { name: 'ns-mismatch', namespace: 'kube-system' } }),
      code: 400,
      reason: 'BadRequest',
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    },
    {
      name: 'a namespace that does not exist',
      send: post('/api/v1/namespaces/nope/configmaps', configMap('orphan')),
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "nope" not found',
    },
    {
      name: 'resourceVersion set on create',
      send: post(CM, { ...configMap('with-rv'), metadata: { name: 'with-rv', resourceVersion: '5' } }),
      code: 400,
    },
    {
      name: 'a PUT whose name differs from the URL',
      send: () => api.put(`${CM}/existing`, configMap('other')),
      code: 400,
      reason: 'BadRequest',
      message: 'the name of the object (other) does not match the name on the URL (existing)',
    },
    {
      name: 'a PUT of an object that does not exist',
      send: () => api.put(`${CM}/absent`, configMap('absent')),
      code: 404,
      reason: 'NotFound',
      message: 'configmaps "absent" not found',
    },
  ];
  it.each(cases)('$name -> $code', async (c) => expectCase(await c.send(), c));

  it('an unknown field without fieldValidation is created (201) with a Warning header naming it', async () => {
    const res = await api.post(PODS, pod('warned', { foo: 1, containers: [{ name: 'c', image: 'busybox' }] }));
    expect(res.status, res.text).toBe(201);
    const warning = String(res.headers['warning'] ?? '');
    expect(warning).toMatch(/^299 /);
    expect(warning).toContain('unknown field \\"spec.foo\\"');
    // the unknown field is dropped, as Go's decoding drops it
    const back = await api.get(`${PODS}/warned`);
    expect((back.body as { spec: Record<string, unknown> }).spec['foo']).toBeUndefined();
  });

  it('fieldValidation=Ignore drops an unknown field silently', async () => {
    const res = await api.post(`${CM}?fieldValidation=Ignore`, configMap('ignored', { bogus: true }));
    expect(res.status, res.text).toBe(201);
    expect(res.headers['warning']).toBeUndefined();
  });
});

describe('raw requests that fail validation (422 with field paths)', () => {
  const cases: RawCase[] = [
    {
      name: 'name Invalid_Name',
      send: post(CM, configMap('Invalid_Name')),
      code: 422,
      reason: 'Invalid',
      message: 'ConfigMap "Invalid_Name" is invalid: metadata.name: Invalid value: "Invalid_Name": a lowercase RFC 1123 subdomain',
      causes: ['metadata.name'],
    },
    {
      name: 'a 254-character ConfigMap name',
      send: post(CM, configMap('a'.repeat(254))),
      code: 422,
      reason: 'Invalid',
      message: 'must be no more than 253 characters',
      causes: ['metadata.name'],
    },
    {
      name: 'a 64-character Service name',
      send: post(`/api/v1/namespaces/${NS}/services`, { apiVersion: 'v1', kind: 'Service', metadata: { name: 's'.repeat(64) }, spec: { ports: [{ port: 80 }] } }),
      code: 422,
      reason: 'Invalid',
      message: 'must be no more than 63 characters',
      causes: ['metadata.name'],
    },
    {
      name: 'no name at all',
      send: post(CM, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }),
      code: 422,
      reason: 'Invalid',
      message: 'metadata.name: Required value: name or generateName is required',
      causes: ['metadata.name'],
    },
    {
      name: 'a pod without containers',
      send: post(PODS, pod('empty', {})),
      code: 422,
      reason: 'Invalid',
      message: 'Pod "empty" is invalid: spec.containers: Required value',
      causes: ['spec.containers'],
    },
    {
      name: 'a container without image',
      send: post(PODS, pod('noimage', { containers: [{ name: 'c' }] })),
      code: 422,
      reason: 'Invalid',
      message: 'spec.containers[0].image: Required value',
      causes: ['spec.containers[0].image'],
    },
    {
      name: 'a container without name',
      send: post(PODS, pod('noname', { containers: [{ image: 'busybox' }] })),
      code: 422,
      reason: 'Invalid',
      message: 'spec.containers[0].name: Required value',
      causes: ['spec.containers[0].name'],
    },
    {
      name: 'negative replicas',
      send: post(DEPLOYS, deployment('negative', -1)),
      code: 422,
      reason: 'Invalid',
      causes: ['spec.replicas'],
    },
  ];
  it.each(cases)('$name -> $code', async (c) => expectCase(await c.send(), c));

  it('causes carry a reason and a message besides the field', async () => {
    const st = failureStatus(await api.post(PODS, pod('noimage2', { containers: [{ name: 'c' }] })));
    expect(st.details?.causes?.[0]).toMatchObject({ field: 'spec.containers[0].image', reason: 'FieldValueRequired', message: 'Required value' });
    expect(st.details).toMatchObject({ name: 'noimage2', kind: 'Pod' });
  });
});

describe('raw requests refused by the transport rules', () => {
  const big = JSON.stringify(configMap('big', { data: { blob: 'x'.repeat(3 * 1024 * 1024 + 16) } }));
  const cases: RawCase[] = [
    { name: 'a body over 3 MiB (Content-Length)', send: post(CM, big), code: 413, reason: 'RequestEntityTooLarge' },
    { name: 'a body over 3 MiB (chunked)', send: () => api.post(CM, big, { chunked: true }), code: 413, reason: 'RequestEntityTooLarge' },
    { name: 'Content-Type text/plain', send: post(CM, 'name: x', 'text/plain'), code: 415, reason: 'UnsupportedMediaType' },
    { name: 'Content-Type application/xml', send: post(CM, '<ConfigMap/>', 'application/xml'), code: 415, reason: 'UnsupportedMediaType' },
    {
      name: 'an unknown resource in a served group version',
      send: () => api.get(`/api/v1/namespaces/${NS}/foos`),
      code: 404,
      reason: 'NotFound',
      // go-restful's answer for an unregistered route, which kubectl prints as is
      message: 'the server could not find the requested resource',
    },
    { name: 'an unknown API group', send: () => api.get('/apis/example.com/v1/foos'), code: 404 },
    { name: 'a cluster-scoped resource under a namespace', send: () => api.get(`/api/v1/namespaces/${NS}/nodes`), code: 404 },
    { name: 'PATCH on a collection', send: () => api.patch(CM, '{}', 'application/merge-patch+json'), code: 405, reason: 'MethodNotAllowed' },
  ];
  it.each(cases)('$name -> $code', async (c) => expectCase(await c.send(), c));
});

describe('raw requests with bad query parameters', () => {
  const cases: RawCase[] = [
    {
      name: 'an unparseable label selector',
      send: () => api.get(`${CM}?labelSelector=${encodeURIComponent('a b')}`),
      code: 400,
      reason: 'BadRequest',
      // upstream: labels.Parse wraps the requirement error once
      message: /^unable to parse requirement: found 'b', expected: /,
    },
    {
      name: 'a field selector on an unsupported field',
      send: () => api.get(`${CM}?fieldSelector=spec.foo%3Dbar`),
      code: 400,
      reason: 'BadRequest',
      message: 'field label not supported: spec.foo',
    },
    { name: 'limit=abc', send: () => api.get(`${CM}?limit=abc`), code: 400, reason: 'BadRequest' },
    { name: 'a continue token that is not one', send: () => api.get(`${CM}?limit=1&continue=junk`), code: 400, reason: 'BadRequest' },
    { name: 'resourceVersion=abc on a list', send: () => api.get(`${CM}?resourceVersion=abc`), code: 400, reason: 'BadRequest' },
    {
      name: 'resourceVersionMatch=Foo',
      send: () => api.get(`${CM}?resourceVersion=1&resourceVersionMatch=Foo`),
      code: 422,
      reason: 'Invalid',
      message: 'resourceVersionMatch: Unsupported value: "Foo"',
    },
    { name: 'gracePeriodSeconds=abc on delete', send: () => api.delete(`${CM}/existing?gracePeriodSeconds=abc`), code: 400, reason: 'BadRequest' },
    { name: 'a malformed DeleteOptions body', send: () => api.request('DELETE', `${CM}/existing`, { body: '{' }), code: 400, reason: 'BadRequest' },
    { name: 'propagationPolicy=Sideways', send: () => api.delete(`${CM}/existing?propagationPolicy=Sideways`), code: 400 },
  ];
  it.each(cases)('$name -> $code', async (c) => expectCase(await c.send(), c));

  it('a watch with an unparseable resourceVersion is refused before the stream starts', async () => {
    const res = await api.get(`${CM}?watch=1&resourceVersion=abc`, { timeoutMs: 5000 });
    expect(res.status, `answered ${res.status}: ${res.text.slice(0, 300)}`).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    failureStatus(res);
  });
});

describe('a stale resourceVersion', () => {
  it('PUT with an old resourceVersion -> 409 Conflict with upstream message', async () => {
    const created = await api.post(CM, configMap('stale'));
    expect(created.status).toBe(201);
    const v1 = created.body as Record<string, unknown>;
    expect((await api.put(`${CM}/stale`, { ...v1, data: { key: 'second' } })).status).toBe(200);
    const res = await api.put(`${CM}/stale`, { ...v1, data: { key: 'third' } });
    expectCase(res, {
      name: 'stale PUT',
      send: () => Promise.resolve(res),
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "stale": the object has been modified; please apply your changes to the latest version and try again',
    });
    const now = await api.get(`${CM}/stale`);
    expect((now.body as { data: Record<string, string> }).data['key']).toBe('second');
  });
});

describe('invalid patch bodies, for each patch type', () => {
  const cm = `${CM}/existing`;
  const JSONP = 'application/json-patch+json';
  const MERGE = 'application/merge-patch+json';
  const SMP = 'application/strategic-merge-patch+json';
  const APPLY = 'application/apply-patch+yaml';
  const cases: Array<{ name: string; path?: string; body: string; type: string; code?: number }> = [
    { name: 'json patch: malformed JSON', body: '[{"op":', type: JSONP, code: 400 },
    { name: 'json patch: an object, not a list', body: '{"op":"add"}', type: JSONP, code: 400 },
    { name: 'json patch: unknown op', body: '[{"op":"frob","path":"/data/key"}]', type: JSONP },
    { name: 'json patch: missing path', body: '[{"op":"add","value":1}]', type: JSONP },
    { name: 'json patch: failed test op', body: '[{"op":"test","path":"/data/key","value":"other"}]', type: JSONP, code: 422 },
    { name: 'json patch: remove of a missing path', body: '[{"op":"remove","path":"/data/missing"}]', type: JSONP, code: 422 },
    { name: 'json patch: replace data with a number', body: '[{"op":"replace","path":"/data","value":5}]', type: JSONP, code: 400 },
    { name: 'merge patch: malformed JSON', body: '{', type: MERGE, code: 400 },
    { name: 'merge patch: a list', body: '[1]', type: MERGE },
    { name: 'merge patch: data becomes a number', body: '{"data":5}', type: MERGE, code: 400 },
    { name: 'merge patch: name becomes a number', body: '{"metadata":{"name":5}}', type: MERGE, code: 400 },
    { name: 'strategic merge patch: malformed JSON', body: '{"data":', type: SMP, code: 400 },
    { name: 'strategic merge patch: a string', body: '"x"', type: SMP },
    { name: 'strategic merge patch: unknown $patch directive', body: '{"data":{"$patch":"frob"}}', type: SMP },
    { name: 'strategic merge patch: containers becomes a string', path: `${DEPLOYS}/web`, body: '{"spec":{"template":{"spec":{"containers":"c"}}}}', type: SMP, code: 400 },
    { name: 'strategic merge patch: replicas becomes a string', path: `${DEPLOYS}/web`, body: '{"spec":{"replicas":"three"}}', type: SMP, code: 400 },
    { name: 'apply: no fieldManager', body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: existing\n', type: APPLY, code: 422 },
    { name: 'apply: malformed YAML', path: `${cm}?fieldManager=t`, body: 'a: [', type: APPLY, code: 400 },
    { name: 'apply: data becomes a number', path: `${cm}?fieldManager=t`, body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: existing\ndata: 5\n', type: APPLY, code: 400 },
    { name: 'apply: wrong kind', path: `${cm}?fieldManager=t`, body: 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: existing\n', type: APPLY },
    { name: 'an unknown patch content type', body: '{}', type: 'application/foo', code: 415 },
    { name: 'plain application/json as a patch', body: '{}', type: 'application/json', code: 415 },
  ];
  it.each(cases)('$name -> 4xx Status', async (c) => {
    const res = await api.patch(c.path ?? cm, c.body, c.type);
    if (c.code !== undefined) expect(res.status, res.text).toBe(c.code);
    expect(res.status, res.text).toBeGreaterThanOrEqual(400);
    expect(res.status, res.text).toBeLessThan(500);
    failureStatus(res);
  });

  it('none of the refused patches changed the object', async () => {
    const res = await api.get(`${CM}/existing`);
    expect(res.status).toBe(200);
    expect((res.body as { data: unknown }).data).toEqual({ key: 'value' });
  });
});

describe('kubectl, as a user sees it', () => {
  const file = async (name: string, text: string): Promise<string> => {
    const p = join(dir, name);
    await writeFile(p, text);
    return p;
  };

  it('create -f of a truncated JSON file fails client-side naming the file, and creates nothing', async () => {
    const f = await file('broken.json', '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "broken-json"');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error parsing .*broken\.json/);
    expect((await api.get(`${CM}/broken-json`)).status).toBe(404);
  });

  it('create -f of a malformed YAML file fails naming the file and the line', async () => {
    const f = await file('broken.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [broken-yaml\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/error parsing .*broken\.yaml.*line 4/);
  });

  it('create -f of a manifest with a typo in a field name fails like upstream (kubectl asks for Strict)', async () => {
    const f = await file('typo.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    imagePullPolcy: Always\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `Error from server (BadRequest): error when creating "${f}": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePullPolcy"`,
    );
    expect((await api.get(`${PODS}/typo`)).status).toBe(404);
  });

  it('create -f of an invalid name prints "The ConfigMap ... is invalid"', async () => {
    const f = await file('badname.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Invalid_Name\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The ConfigMap "Invalid_Name" is invalid: metadata.name: Invalid value: "Invalid_Name": a lowercase RFC 1123 subdomain must consist of');
  });

  it('create -f of a pod whose container has no image names the field', async () => {
    const f = await file('noimage.yaml', 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: noimage-k\nspec:\n  containers:\n  - name: c\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('The Pod "noimage-k" is invalid: spec.containers[0].image: Required value');
  });

  it('create -f of replicas: three names spec.replicas', async () => {
    const f = await file('three.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: three-k\nspec:\n  replicas: three\n  selector:\n    matchLabels: {a: b}\n  template:\n    metadata:\n      labels: {a: b}\n    spec:\n      containers:\n      - name: c\n        image: x\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/Error from server \(BadRequest\): error when creating ".*three\.yaml": Deployment in version "v1" cannot be handled as a Deployment: .*spec\.replicas/);
  });

  it('create in a namespace that does not exist', async () => {
    const f = await file('nons.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: nope\n');
    const r = await server.kubectl(['create', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Error from server (NotFound): error when creating "${f}": namespaces "nope" not found`);
  });

  it('kubectl create configmap (a typed client, which sends protobuf) in a namespace that does not exist', async () => {
    const r = await server.kubectl(['-n', 'nope', 'create', 'configmap', 'x']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: failed to create configmap: namespaces "nope" not found');
  });

  it('get of an unknown resource type', async () => {
    const r = await server.kubectl(['get', 'foos']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('error: the server doesn\'t have a resource type "foos"');
  });

  it('get of a missing object', async () => {
    const r = await server.kubectl(['get', 'configmap', 'nosuch']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('Error from server (NotFound): configmaps "nosuch" not found');
  });

  it('get with a bad label selector', async () => {
    const r = await server.kubectl(['get', 'configmaps', '-l', 'a b']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'Error from server (BadRequest): Unable to find "/v1, Resource=configmaps" that match label selector "a b", field selector "": unable to parse requirement: found \'b\', expected:',
    );
  });

  it('get with an unsupported field selector', async () => {
    const r = await server.kubectl(['get', 'configmaps', '--field-selector', 'spec.foo=bar']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('field label not supported: spec.foo');
  });

  it('replace with a stale object prints the Conflict', async () => {
    expect((await api.post(CM, configMap('stale-k', { data: { a: '1' } }))).status).toBe(201);
    const saved = await server.kubectlOk(['get', 'configmap', 'stale-k', '-o', 'json']);
    await server.kubectlOk(['patch', 'configmap', 'stale-k', '-p', '{"data":{"a":"2"}}']);
    const f = await file('stale.json', saved);
    const r = await server.kubectl(['replace', '-f', f]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      `Error from server (Conflict): error when replacing "${f}": Operation cannot be fulfilled on configmaps "stale-k": the object has been modified; please apply your changes to the latest version and try again`,
    );
  });

  it('patch with an invalid body prints a server error, not a crash', async () => {
    for (const args of [
      ['--type=json', '-p', '{"op":"add"}'],
      ['--type=json', '-p', '[{"op":"remove","path":"/data/nope"}]'],
      ['--type=merge', '-p', '[1]'],
      ['-p', '{"data":{"$patch":"frob"}}'],
    ]) {
      const r = await server.kubectl(['patch', 'configmap', 'existing', ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(/^(Error from server \((BadRequest|Invalid)\)|The request is invalid)/m);
      expect(r.stderr).not.toMatch(/InternalError|Internal error/);
    }
  });
});

describe('deeply nested input', () => {
  // Go's JSON and YAML decoders refuse nesting beyond 10000 levels with a 400; below that the
  // object decodes (and fails validation or drops the unknown field). Either way: never a 5xx.
  // A fresh server: the YAML case took a new process down (V8 out of memory compiling a RegExp)
  // on its second try, but not one that had already served other YAML.
  let fresh: TestServer;
  let api2: ApiClient;
  beforeAll(async () => {
    fresh = await startServer(APISERVER_ONLY);
    api2 = await adminClient(fresh.kubeconfig);
    expect((await api2.post(CM, configMap('existing'))).status).toBe(201);
  });
  afterAll(async () => {
    api2?.close();
    await fresh?.stop();
  });
  const alive = (): boolean => fresh.proc.exitCode === null && fresh.proc.signalCode === null;

  const cases: Array<{ name: string; send: () => Promise<ApiResponse>; times?: number }> = [
    { name: 'JSON patch adding 3000 nested objects', send: () => api2.patch(`${CM}/existing`, `[{"op":"add","path":"/metadata/annotations","value":${nested(3000)}}]`, 'application/json-patch+json') },
    { name: 'merge patch of 5000 nested objects', send: () => api2.patch(`${CM}/existing`, `{"metadata":{"annotations":${nested(5000)}}}`, 'application/merge-patch+json') },
    { name: 'strategic merge patch of 3000 nested objects', send: () => api2.patch(`${CM}/existing`, `{"metadata":{"annotations":${nested(3000)}}}`, 'application/strategic-merge-patch+json') },
    { name: 'JSON body with 20000 nested objects in an unknown field', send: () => api2.post(CM, `{"metadata":{"name":"deep-json"},"x":${nested(20000)}}`) },
    // last: when it takes the process down, the cases above have still been judged on their own
    {
      name: 'YAML body (flow style) with 5000 nested objects, three times',
      send: () => api2.post(CM, `{"metadata":{"name":"deep-yaml"},"x":${nested(5000)}}`, { contentType: 'application/yaml' }),
      times: 3,
    },
  ];
  it.each(cases)('$name -> a well-formed answer below 500', async (c) => {
    expect(alive(), 'the server died on an earlier case').toBe(true);
    for (let i = 0; i < (c.times ?? 1); i++) {
      let res: ApiResponse;
      try {
        res = await c.send();
      } catch (err) {
        throw new Error(`${c.name} (try ${i + 1}): no answer (${String(err)}); server alive: ${alive()}`);
      }
      expect(res.status, res.text.slice(0, 300)).toBeLessThan(500);
      if (res.status >= 400) failureStatus(res);
    }
  });

  it('the server survived', async () => {
    expect(alive()).toBe(true);
    expect((await api2.get('/readyz')).status).toBe(200);
  });
});

describe('after all of it', () => {
  it('the server is still running, ready, and lists work', async () => {
    expect(server.proc.exitCode).toBeNull();
    expect(server.proc.signalCode).toBeNull();
    const ready = await api.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.text).toBe('ok');
    const list = await api.get(CM);
    expect(list.status).toBe(200);
    const names = ((list.body as { items: unknown[] }).items ?? []).map((o) => metaOf(o).name);
    expect(names).toContain('existing');
    expect(await server.kubectlOk(['get', 'configmaps', '-o', 'name'])).toContain('configmap/existing');
  });
});

describe('a request target no URL parser accepts', () => {
  it('is answered 400 and the server goes on', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: server.port, rejectUnauthorized: false }, () => {
        sock.write('GET //[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      });
      let text = '';
      sock.setEncoding('utf8');
      sock.on('data', (d: string) => (text += d));
      sock.on('end', () => resolve(text));
      sock.on('error', reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(raw).toContain('is not a valid path');
    expect((await api.get('/api/v1/namespaces/default')).status).toBe(200);
  });
});
