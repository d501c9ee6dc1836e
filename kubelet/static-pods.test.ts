import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Pod } from '../api/core/pod.js';
import { FakeClock } from '../lib/clock.js';
import {
  buildStaticPod,
  computeStaticPods,
  decodeManifest,
  rfc3339Nano,
  StaticPodManifestError,
  StaticPodSource,
  staticPodUid,
} from './static-pods.js';

const WEB_YAML = `apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: { app: web }
spec:
  containers:
  - name: web
    image: busybox
`;
const web = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'busybox' }] } };
const params = { nodeName: 'n1', source: '/etc/kubernetes/manifests/web.yaml' };
const NOW = new Date('2026-01-01T00:00:00Z');

describe('decodeManifest', () => {
  it.each([
    ['YAML', WEB_YAML, 1],
    ['JSON', JSON.stringify(web), 1],
    ['several YAML documents', `${WEB_YAML}---\n${WEB_YAML.replace('name: web\n  labels', 'name: api\n  labels')}`, 2],
    ['empty documents are skipped', `---\n${WEB_YAML}---\n`, 1],
    ['an empty file has no pods', '', 0],
  ])('%s', (_name, content, count) => {
    expect(decodeManifest({ path: 'f', content })).toHaveLength(count);
  });

  it('names the file when the YAML is broken', () => {
    expect(() => decodeManifest({ path: '/m/bad.yaml', content: 'kind: Pod\n  bad: [indent' })).toThrow(/^\/m\/bad\.yaml: cannot parse YAML\/JSON/);
  });
});

describe('buildStaticPod', () => {
  it('names, places and annotates the pod as upstream does', () => {
    const pod = buildStaticPod(web, { ...params, seen: '2026-01-01T00:00:00Z' });
    const uid = staticPodUid('n1', params.source, web);
    expect(pod.metadata).toMatchObject({
      name: 'web-n1',
      namespace: 'default',
      uid,
      annotations: { 'kubernetes.io/config.hash': uid, 'kubernetes.io/config.source': 'file', 'kubernetes.io/config.seen': '2026-01-01T00:00:00Z' },
    });
    expect(uid).toMatch(/^[0-9a-f]{32}$/);
    expect(pod.spec?.nodeName).toBe('n1');
    expect(pod.spec?.tolerations).toEqual([{ operator: 'Exists', effect: 'NoExecute' }]);
    expect(pod.status?.phase).toBe('Pending');
    // API defaults applied, as for pods from the apiserver
    expect(pod.spec?.restartPolicy).toBe('Always');
    expect(pod.spec?.containers[0]?.terminationMessagePath).toBe('/dev/termination-log');
    // but no service account: upstream forbids it on mirror pods
    expect(pod.spec?.serviceAccountName).toBeUndefined();
  });

  it('keeps the namespace, a manifest uid and an existing tolerate-all toleration', () => {
    const pod = buildStaticPod(
      { ...web, metadata: { name: 'web', namespace: 'kube-system', uid: 'fixed' }, spec: { ...web.spec, tolerations: [{ operator: 'Exists', effect: 'NoExecute' }] } },
      params,
    );
    expect(pod.metadata).toMatchObject({ namespace: 'kube-system', uid: 'fixed' });
    expect(pod.spec?.tolerations).toHaveLength(1);
  });

  describe('UID', () => {
    const base = staticPodUid('n1', '/m/web.yaml', web);
    it.each<[string, string]>([
      ['another node', staticPodUid('n2', '/m/web.yaml', web)],
      ['another file', staticPodUid('n1', '/m/other.yaml', web)],
      ['changed content', staticPodUid('n1', '/m/web.yaml', { ...web, spec: { containers: [{ name: 'web', image: 'nginx' }] } })],
    ])('changes with %s', (_name, other) => {
      expect(other).not.toBe(base);
    });
    it('does not depend on key order', () => {
      const reordered = { spec: web.spec, metadata: web.metadata, kind: 'Pod', apiVersion: 'v1' };
      expect(staticPodUid('n1', '/m/web.yaml', reordered)).toBe(base);
    });
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', ['a'], /must be a Pod object/],
    ['kind missing', { apiVersion: 'v1', metadata: { name: 'x' } }, /Object 'Kind' is missing/],
    ['another kind', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' } }, /expected a v1 Pod, got apps\/v1\/Deployment/],
    ['name missing', { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec: web.spec }, /metadata\.name: Required value/],
    ['no containers', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'x' }, spec: { containers: [] } }, /invalid pod: spec\.containers: Required value/],
    ['bad container name', { ...web, spec: { containers: [{ name: 'Bad_Name', image: 'busybox' }] } }, /invalid pod: spec\.containers\[0\]\.name: Invalid value/],
  ])('rejects %s, naming the file', (_name, doc, message) => {
    let err: unknown;
    try {
      buildStaticPod(doc, params);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StaticPodManifestError);
    expect((err as StaticPodManifestError).code).toBe('ERR_KUBELET_STATIC_POD_MANIFEST');
    expect((err as StaticPodManifestError).file).toBe(params.source);
    expect((err as Error).message).toMatch(message);
  });
});

describe('computeStaticPods', () => {
  it('skips broken files and duplicate names, keeping the rest in file order', () => {
    const result = computeStaticPods(
      [
        { path: '/m/c.yaml', content: WEB_YAML },
        { path: '/m/a.yaml', content: WEB_YAML.replace('name: web\n  labels', 'name: api\n  labels') },
        { path: '/m/b.yaml', content: 'kind: [' },
        { path: '/m/d.json', content: JSON.stringify(web) },
      ],
      'n1',
      new Map(),
      NOW,
    );
    expect(result.pods.map((p) => p.metadata.name)).toEqual(['api-n1', 'web-n1']);
    expect(result.errors.map((e) => e.file)).toEqual(['/m/b.yaml', '/m/d.json']);
    expect(result.errors[1]?.message).toContain('duplicate pod default/web-n1, already defined in /m/c.yaml');
  });

  it('keeps the first-seen time of a known pod', () => {
    const files = [{ path: '/m/web.yaml', content: WEB_YAML }];
    const first = computeStaticPods(files, 'n1', new Map(), NOW).pods[0];
    const uid = first?.metadata.uid ?? '';
    expect(first?.metadata.annotations?.['kubernetes.io/config.seen']).toBe('2026-01-01T00:00:00Z');
    const later = computeStaticPods(files, 'n1', new Map([[uid, 'earlier']]), new Date('2026-02-01T00:00:00Z')).pods[0];
    expect(later?.metadata.annotations?.['kubernetes.io/config.seen']).toBe('earlier');
  });
});

describe('rfc3339Nano', () => {
  it.each([
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00Z'],
    ['2026-01-01T00:00:00.120Z', '2026-01-01T00:00:00.12Z'],
    ['2026-01-01T00:00:00.123Z', '2026-01-01T00:00:00.123Z'],
  ])('%s -> %s', (iso, want) => {
    expect(rfc3339Nano(new Date(iso))).toBe(want);
  });
});

describe('StaticPodSource', () => {
  let dir: string;
  let manifests: string;
  let clock: FakeClock;
  let seen: Array<readonly Pod[]>;
  let ac: AbortController;
  let running: Promise<void> | undefined;
  let logLines: string[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-static-'));
    manifests = join(dir, 'manifests');
    await mkdir(manifests);
    clock = new FakeClock();
    seen = [];
    ac = new AbortController();
    running = undefined;
    logLines = [];
  });
  afterEach(async () => {
    ac.abort();
    await running;
    await rm(dir, { recursive: true, force: true });
  });

  const source = (opts: { watch?: boolean; dir?: string } = {}): StaticPodSource =>
    new StaticPodSource({
      dir: opts.dir ?? manifests,
      nodeName: 'n1',
      clock,
      watch: opts.watch ?? false,
      log: pino({ level: 'info' }, { write: (s: string) => void logLines.push(s) }),
      onChange: (pods) => {
        seen.push(pods);
      },
    });
  const names = (pods: readonly Pod[] | undefined): Array<string | undefined> => (pods ?? []).map((p) => p.metadata.name);

  it('reports the first scan even when empty, then only changes', async () => {
    const s = source();
    await s.rescan();
    expect(seen).toEqual([[]]);
    await writeFile(join(manifests, 'web.yaml'), WEB_YAML);
    await s.rescan();
    await s.rescan();
    expect(seen.map(names)).toEqual([[], ['web-n1']]);
    await writeFile(join(manifests, 'web.yaml'), WEB_YAML.replace('busybox', 'nginx'));
    await s.rescan();
    expect(seen).toHaveLength(3);
    expect(seen[2]?.[0]?.metadata.uid).not.toBe(seen[1]?.[0]?.metadata.uid);
  });

  it('ignores dotfiles and directories, and logs a broken manifest with its file name', async () => {
    await writeFile(join(manifests, '.web.yaml.swp'), 'junk');
    await mkdir(join(manifests, 'sub'));
    await writeFile(join(manifests, 'sub', 'web.yaml'), WEB_YAML);
    await writeFile(join(manifests, 'broken.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {}\n');
    await writeFile(join(manifests, 'web.yaml'), WEB_YAML);
    const s = source();
    await s.rescan();
    expect(names(s.pods)).toEqual(['web-n1']);
    const warning = logLines.map((l) => JSON.parse(l) as { file?: string; err?: string }).find((l) => l.file !== undefined);
    expect(warning?.file).toBe(join(manifests, 'broken.yaml'));
    expect(warning?.err).toContain('metadata.name: Required value');
  });

  it('rescans every 20 s', async () => {
    running = source().run(ac.signal);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await writeFile(join(manifests, 'web.yaml'), WEB_YAML);
    await clock.advance(19_999);
    expect(seen).toHaveLength(1);
    await clock.advance(1);
    await vi.waitFor(() => expect(names(seen[1])).toEqual(['web-n1']));
  });

  it('picks up changes through the directory watch without waiting for the rescan', async () => {
    running = source({ watch: true }).run(ac.signal);
    await vi.waitFor(() => expect(seen).toHaveLength(1));
    await writeFile(join(manifests, 'web.yaml'), WEB_YAML);
    await vi.waitFor(() => expect(names(seen.at(-1))).toEqual(['web-n1']), { timeout: 5_000 });
    await rm(join(manifests, 'web.yaml'));
    await vi.waitFor(() => expect(seen.at(-1)).toEqual([]), { timeout: 5_000 });
  });

  it('treats a missing directory as empty and finds it once created', async () => {
    const later = join(dir, 'later');
    const s = source({ dir: later });
    await s.rescan();
    expect(seen).toEqual([[]]);
    await mkdir(later);
    await writeFile(join(later, 'web.yaml'), WEB_YAML);
    await s.rescan();
    expect(names(seen[1])).toEqual(['web-n1']);
  });
});
