/**
 * The real kubectl (v1.32) against a real `knode server`: the verbs a user types every day, asserted on
 * what kubectl prints (upstream's wording), its exit codes and the stored objects. One server for the
 * file; each test works in its own namespace so tests do not see each other's objects.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { at, createNamespace, getJson, itemNames, listAt, tryGet } from './helpers/objects.js';
import { spawnKubectl } from './helpers/kubectl-stream.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
});

afterAll(async () => {
  await server?.stop();
});

function pod(name: string, ns: string, labels: Readonly<Record<string, string>> = {}): string {
  const labelLines = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`);
  return [
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    `  name: ${name}`,
    `  namespace: ${ns}`,
    ...(labelLines.length > 0 ? ['  labels:', ...labelLines] : []),
    'spec:',
    '  containers:',
    '  - name: main',
    '    image: registry.k8s.io/pause:3.10',
    '',
  ].join('\n');
}

function deployment(name: string, ns: string, opts: { image?: string; replicas?: number; tier?: string } = {}): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
  labels:
    app: ${name}
    tier: ${opts.tier ?? 'v1'}
spec:
  replicas: ${opts.replicas ?? 2}
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: app
        image: ${opts.image ?? 'nginx:1.25'}
`;
}

const SHOP = `apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: shop-config
  namespace: shop
data:
  color: blue
  size: large
---
apiVersion: v1
kind: Secret
metadata:
  name: shop-secret
  namespace: shop
type: Opaque
stringData:
  token: s3cr3t
---
apiVersion: v1
kind: Service
metadata:
  name: shop
  namespace: shop
spec:
  selector:
    app: shop
  ports:
  - port: 80
    targetPort: 8080
---
${deployment('shop', 'shop')}`;

describe('kubectl create -f and apply -f', () => {
  it('creates every document of a multi-document YAML in order and refuses to create them twice', async () => {
    const r = await server.kubectl(['create', '-f', '-'], { input: SHOP });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([
      'namespace/shop created',
      'configmap/shop-config created',
      'secret/shop-secret created',
      'service/shop created',
      'deployment.apps/shop created',
    ]);
    const names = await server.kubectlOk(['get', 'configmap,secret,service,deployment', '-n', 'shop', '-o', 'name']);
    expect(names.split('\n')).toEqual(
      expect.arrayContaining(['configmap/shop-config', 'secret/shop-secret', 'service/shop', 'deployment.apps/shop']),
    );
    const secret = await getJson(server, ['get', 'secret', 'shop-secret', '-n', 'shop']);
    expect(Buffer.from(String(at(secret, 'data.token')), 'base64').toString()).toBe('s3cr3t');
    expect(at(secret, 'stringData')).toBeUndefined();

    const again = await server.kubectl(['create', '-f', '-'], { input: SHOP });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating "STDIN": namespaces "shop" already exists');
    expect(again.stderr).toContain('configmaps "shop-config" already exists');
  });

  it('apply creates, then updates image and label, bumps generation and records last-applied', async () => {
    await createNamespace(server, 'apply');
    const first = await server.kubectlOk(['apply', '-f', '-'], { input: deployment('api', 'apply') });
    expect(first.trim()).toBe('deployment.apps/api created');
    const created = await getJson(server, ['get', 'deploy', 'api', '-n', 'apply']);
    expect(at(created, 'metadata.generation')).toBe(1);

    const second = await server.kubectlOk(['apply', '-f', '-'], { input: deployment('api', 'apply', { image: 'nginx:1.27', tier: 'v2' }) });
    expect(second.trim()).toBe('deployment.apps/api configured');
    const updated = await getJson(server, ['get', 'deploy', 'api', '-n', 'apply']);
    expect(at(updated, 'spec.template.spec.containers.0.image')).toBe('nginx:1.27');
    expect(at(updated, 'metadata.labels.tier')).toBe('v2');
    expect(at(updated, 'metadata.generation')).toBe(2);
    // Dotted-path access cannot address a key containing dots; read the annotation map directly.
    const annotations = at(updated, 'metadata.annotations') as Record<string, string> | undefined;
    const recorded = annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
    expect(typeof recorded).toBe('string');
    expect(at(JSON.parse(String(recorded)), 'spec.template.spec.containers.0.image')).toBe('nginx:1.27');

    const third = await server.kubectlOk(['apply', '-f', '-'], { input: deployment('api', 'apply', { image: 'nginx:1.27', tier: 'v2' }) });
    expect(third.trim()).toBe('deployment.apps/api unchanged');
  });

  it('server-side apply creates, and re-applying without a field removes it; conflicts name the other manager', async () => {
    await createNamespace(server, 'ssa');
    const cm = (data: string, labels = '') =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ssa\n${labels}data:\n${data}`;
    const first = await server.kubectlOk(['apply', '--server-side', '-f', '-'], { input: cm('  a: "1"\n  b: "2"\n') });
    expect(first.trim()).toBe('configmap/settings serverside-applied');
    const created = await getJson(server, ['get', 'cm', 'settings', '-n', 'ssa', '--show-managed-fields']);
    expect(at(created, 'data')).toEqual({ a: '1', b: '2' });
    const managers = listAt(created, 'metadata.managedFields').map((m) => [at(m, 'manager'), at(m, 'operation')]);
    expect(managers).toContainEqual(['kubectl', 'Apply']);

    await server.kubectlOk(['apply', '--server-side', '-f', '-'], { input: cm('  a: "1"\n') });
    const pruned = await getJson(server, ['get', 'cm', 'settings', '-n', 'ssa']);
    expect(at(pruned, 'data')).toEqual({ a: '1' });

    await server.kubectlOk(['label', 'cm', 'settings', '-n', 'ssa', 'owner=ops']);
    const conflicting = await server.kubectl(['apply', '--server-side', '-f', '-'], {
      input: cm('  a: "1"\n', '  labels:\n    owner: dev\n'),
    });
    expect(conflicting.code).not.toBe(0);
    expect(conflicting.stderr).toMatch(/Apply failed with 1 conflict: conflict with "kubectl-label".*\.metadata\.labels\.owner/);
    await server.kubectlOk(['apply', '--server-side', '--force-conflicts', '-f', '-'], {
      input: cm('  a: "1"\n', '  labels:\n    owner: dev\n'),
    });
    expect(at(await getJson(server, ['get', 'cm', 'settings', '-n', 'ssa']), 'metadata.labels.owner')).toBe('dev');
  });
});

describe('kubectl get', () => {
  beforeAll(async () => {
    await createNamespace(server, 'listing');
    await server.kubectlOk(['create', '-f', '-'], {
      input: [pod('p-a', 'listing', { app: 'a' }), pod('p-b', 'listing', { app: 'b' })].join('---\n'),
    });
  });

  it('prints pods as a table with upstream columns, and -o wide adds the node columns', async () => {
    const table = await server.kubectlOk(['get', 'pods', '-n', 'listing']);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1)).toHaveLength(2);
    expect(table).toMatch(/^p-a\s+0\/1\s+Pending\s+0\s+\d+s$/m);
    expect(table).toMatch(/^p-b\s+0\/1\s+Pending\s+0\s+\d+s$/m);

    const wide = await server.kubectlOk(['get', 'pods', '-n', 'listing', '-o', 'wide']);
    expect(wide.split('\n')[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$/);
    expect(wide).toMatch(/^p-a\s+0\/1\s+Pending\s+0\s+\d+s\s+<none>\s+<none>\s+<none>\s+<none>$/m);
  });

  it.each([
    ['services', /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/, 'default'],
    ['deployments', /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/, 'shop'],
    ['configmaps', /^NAME\s+DATA\s+AGE$/, 'shop'],
    ['secrets', /^NAME\s+TYPE\s+DATA\s+AGE$/, 'shop'],
    ['namespaces', /^NAME\s+STATUS\s+AGE$/, 'default'],
  ])('prints %s with upstream columns', async (resource, header, ns) => {
    const table = await server.kubectlOk(['get', resource, '-n', ns]);
    expect(table.split('\n')[0]).toMatch(header);
  });

  it('prints -o yaml, -o json and -o name', async () => {
    const y: unknown = parseYaml(await server.kubectlOk(['get', 'pod', 'p-a', '-n', 'listing', '-o', 'yaml']));
    expect(at(y, 'kind')).toBe('Pod');
    expect(at(y, 'apiVersion')).toBe('v1');
    expect(at(y, 'metadata.name')).toBe('p-a');
    expect(at(y, 'metadata.namespace')).toBe('listing');
    expect(at(y, 'metadata.uid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(at(y, 'status.phase')).toBe('Pending');

    const list = await getJson(server, ['get', 'pods', '-n', 'listing']);
    expect(at(list, 'kind')).toBe('List');
    expect(itemNames(list).sort()).toEqual(['p-a', 'p-b']);
    expect(listAt(list, 'items').every((i) => at(i, 'kind') === 'Pod')).toBe(true);

    const names = await server.kubectlOk(['get', 'pods', '-n', 'listing', '-o', 'name']);
    expect(names.trim().split('\n').sort()).toEqual(['pod/p-a', 'pod/p-b']);
  });

  it('filters with -l and --field-selector, and rejects an unsupported field label', async () => {
    expect((await server.kubectlOk(['get', 'pods', '-n', 'listing', '-l', 'app=a', '-o', 'name'])).trim()).toBe('pod/p-a');
    expect((await server.kubectlOk(['get', 'pods', '-n', 'listing', '-l', 'app!=a', '-o', 'name'])).trim()).toBe('pod/p-b');
    expect((await server.kubectlOk(['get', 'pods', '-n', 'listing', '-l', 'app in (a,b)', '-o', 'name'])).trim().split('\n')).toHaveLength(2);
    expect((await server.kubectlOk(['get', 'pods', '-n', 'listing', '--field-selector', 'metadata.name=p-b', '-o', 'name'])).trim()).toBe(
      'pod/p-b',
    );
    const pending = await server.kubectlOk(['get', 'pods', '-n', 'listing', '--field-selector', 'status.phase=Pending', '-o', 'name']);
    expect(pending.trim().split('\n').sort()).toEqual(['pod/p-a', 'pod/p-b']);

    const none = await server.kubectl(['get', 'pods', '-n', 'listing', '-l', 'app=zzz']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('No resources found in listing namespace.');

    const bad = await server.kubectl(['get', 'pods', '-n', 'listing', '--field-selector', 'foo=bar']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('field label not supported: foo');
  });

  it('lists across namespaces with -A and reports a missing object as NotFound', async () => {
    const all = await server.kubectlOk(['get', 'pods', '-A']);
    expect(all.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(all).toMatch(/^listing\s+p-a\s+0\/1\s+Pending/m);
    const svcs = await server.kubectlOk(['get', 'svc', '-A']);
    expect(svcs).toMatch(/^default\s+kubernetes\s+ClusterIP\s+10\.96\.0\.1\s+<none>\s+443\/TCP/m);

    const missing = await server.kubectl(['get', 'pod', 'nope', '-n', 'listing']);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nope" not found');
  });

  it('get all shows pods, services and deployments of the namespace', async () => {
    const out = await server.kubectlOk(['get', 'all', '-n', 'shop']);
    expect(out).toMatch(/^service\/shop\s+ClusterIP\s+10\.\d+\.\d+\.\d+\s+<none>\s+80\/TCP/m);
    expect(out).toMatch(/^deployment\.apps\/shop\s+0\/2\s+0\s+0\s/m);
    const listing = await server.kubectlOk(['get', 'all', '-n', 'listing']);
    expect(listing).toMatch(/^pod\/p-a\s+0\/1\s+Pending/m);
  });
});

describe('kubectl get -w', () => {
  it('prints a new line for each change of a watched pod', async () => {
    await createNamespace(server, 'watching');
    const w = spawnKubectl(server.kubeconfig, ['get', 'pods', '-n', 'watching', '-w']);
    try {
      await server.kubectlOk(['create', '-f', '-'], { input: pod('wp', 'watching') });
      await w.waitForOutput(/^wp\s+0\/1\s+Pending\s+0\s+\d+s$/m);
      await server.kubectlOk(['label', 'pod', 'wp', '-n', 'watching', 'seen=yes']);
      await waitFor(
        () => `a second line for wp after the label change (stdout: ${JSON.stringify(w.stdout())})`,
        () => (w.stdout().match(/^wp\s+0\/1\s+Pending\s/gm)?.length ?? 0) >= 2,
      );
    } finally {
      await w.stop();
    }
  });

  it('with --output-watch-events prints ADDED, MODIFIED and DELETED in order', async () => {
    await createNamespace(server, 'watch-events');
    const w = spawnKubectl(server.kubeconfig, ['get', 'configmaps', '-n', 'watch-events', '-l', 'watch=yes', '-w', '--output-watch-events']);
    try {
      const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w1\n  namespace: watch-events\n  labels:\n    watch: "yes"\ndata:\n  a: "1"\n`;
      await server.kubectlOk(['create', '-f', '-'], { input: cm });
      await w.waitForOutput(/^ADDED\s+w1\s+1\s/m);
      await server.kubectlOk(['patch', 'cm', 'w1', '-n', 'watch-events', '--type=merge', '-p', '{"data":{"b":"2"}}']);
      await w.waitForOutput(/^MODIFIED\s+w1\s+2\s/m);
      await server.kubectlOk(['delete', 'cm', 'w1', '-n', 'watch-events']);
      const out = await w.waitForOutput(/^DELETED\s+w1\s/m);
      const events = out.split('\n').map((l) => l.split(/\s+/)[0]).filter((e) => e !== undefined && /^[A-Z]+$/.test(e));
      expect(events).toEqual(['EVENT', 'ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      await w.stop();
    }
  });
});

describe('kubectl describe, label, annotate', () => {
  beforeAll(async () => {
    await createNamespace(server, 'meta');
    await server.kubectlOk(['create', '-f', '-'], { input: [pod('m1', 'meta', { app: 'm' }), deployment('md', 'meta', { replicas: 3 })].join('---\n') });
  });

  it('describes a pod and a deployment in upstream layout', async () => {
    const p = await server.kubectlOk(['describe', 'pod', 'm1', '-n', 'meta']);
    expect(p).toMatch(/^Name:\s+m1$/m);
    expect(p).toMatch(/^Namespace:\s+meta$/m);
    expect(p).toMatch(/^Labels:\s+app=m$/m);
    expect(p).toMatch(/^Status:\s+Pending$/m);
    expect(p).toMatch(/^\s+Image:\s+registry\.k8s\.io\/pause:3\.10$/m);

    const d = await server.kubectlOk(['describe', 'deployment', 'md', '-n', 'meta']);
    expect(d).toMatch(/^Name:\s+md$/m);
    expect(d).toMatch(/^Selector:\s+app=md$/m);
    expect(d).toMatch(/^Replicas:\s+3 desired \| 0 updated \| 0 total \| 0 available \| 0 unavailable$/m);
    expect(d).toMatch(/^StrategyType:\s+RollingUpdate$/m);
  });

  it('adds, refuses to overwrite, overwrites and removes labels', async () => {
    expect((await server.kubectlOk(['label', 'pod', 'm1', '-n', 'meta', 'tier=web'])).trim()).toBe('pod/m1 labeled');
    const clash = await server.kubectl(['label', 'pod', 'm1', '-n', 'meta', 'tier=db']);
    expect(clash.code).not.toBe(0);
    expect(clash.stderr.trim()).toBe("error: 'tier' already has a value (web), and --overwrite is false");
    await server.kubectlOk(['label', 'pod', 'm1', '-n', 'meta', 'tier=db', '--overwrite']);
    expect(at(await getJson(server, ['get', 'pod', 'm1', '-n', 'meta']), 'metadata.labels')).toEqual({ app: 'm', tier: 'db' });
    expect((await server.kubectlOk(['label', 'pod', 'm1', '-n', 'meta', 'tier-'])).trim()).toBe('pod/m1 unlabeled');
    expect(at(await getJson(server, ['get', 'pod', 'm1', '-n', 'meta']), 'metadata.labels')).toEqual({ app: 'm' });
  });

  it('adds and removes annotations with key-', async () => {
    expect((await server.kubectlOk(['annotate', 'pod', 'm1', '-n', 'meta', 'note=hello world'])).trim()).toBe('pod/m1 annotated');
    const annotated = await getJson(server, ['get', 'pod', 'm1', '-n', 'meta']);
    expect(at(annotated, 'metadata.annotations.note')).toBe('hello world');
    expect((await server.kubectlOk(['annotate', 'pod', 'm1', '-n', 'meta', 'note-'])).trim()).toBe('pod/m1 annotated');
    const cleared = await getJson(server, ['get', 'pod', 'm1', '-n', 'meta']);
    expect(at(cleared, 'metadata.annotations.note')).toBeUndefined();
  });
});

describe('kubectl scale and patch', () => {
  beforeAll(async () => {
    await createNamespace(server, 'changes');
  });

  it('scales a deployment through the scale subresource and honours --current-replicas', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: deployment('sc', 'changes', { replicas: 2 }) });
    expect((await server.kubectlOk(['scale', 'deployment/sc', '-n', 'changes', '--replicas=5'])).trim()).toBe('deployment.apps/sc scaled');
    expect(await server.kubectlOk(['get', 'deploy', 'sc', '-n', 'changes', '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
    const wrong = await server.kubectl(['scale', 'deployment/sc', '-n', 'changes', '--current-replicas=2', '--replicas=1']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toContain('Expected replicas to be 2, was 5');
    expect(await server.kubectlOk(['get', 'deploy', 'sc', '-n', 'changes', '-o', 'jsonpath={.spec.replicas}'])).toBe('5');
  });

  it('strategic merge patch merges containers and env by name', async () => {
    await server.kubectlOk(['create', '-f', '-'], {
      input: `apiVersion: apps/v1
kind: Deployment
metadata:
  name: smp
  namespace: changes
spec:
  selector:
    matchLabels: {app: smp}
  template:
    metadata:
      labels: {app: smp}
    spec:
      containers:
      - name: app
        image: app:1
        env:
        - {name: A, value: "1"}
      - name: sidecar
        image: side:1
`,
    });
    const patch = '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"app:2","env":[{"name":"B","value":"2"}]}]}}}}';
    expect((await server.kubectlOk(['patch', 'deployment', 'smp', '-n', 'changes', '-p', patch])).trim()).toBe('deployment.apps/smp patched');
    const d = await getJson(server, ['get', 'deploy', 'smp', '-n', 'changes']);
    const containers = listAt(d, 'spec.template.spec.containers');
    expect(containers.map((c) => [at(c, 'name'), at(c, 'image')])).toEqual([
      ['app', 'app:2'],
      ['sidecar', 'side:1'],
    ]);
    const env = listAt(containers[0], 'env').map((e) => [at(e, 'name'), at(e, 'value')]);
    expect(env).toHaveLength(2);
    expect(env).toEqual(expect.arrayContaining([['A', '1'], ['B', '2']]));
    expect(at(d, 'metadata.generation')).toBe(2);
  });

  it('merge patch sets and deletes keys, and reports a no-op patch', async () => {
    await server.kubectlOk(['create', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mp\n  namespace: changes\ndata:\n  keep: "k"\n  drop: "d"\n',
    });
    const out = await server.kubectlOk(['patch', 'cm', 'mp', '-n', 'changes', '--type=merge', '-p', '{"metadata":{"labels":{"m":"1"}},"data":{"drop":null,"new":"n"}}']);
    expect(out.trim()).toBe('configmap/mp patched');
    const cm = await getJson(server, ['get', 'cm', 'mp', '-n', 'changes']);
    expect(at(cm, 'data')).toEqual({ keep: 'k', new: 'n' });
    expect(at(cm, 'metadata.labels')).toEqual({ m: '1' });
    const again = await server.kubectlOk(['patch', 'cm', 'mp', '-n', 'changes', '--type=merge', '-p', '{"data":{"new":"n"}}']);
    expect(again.trim()).toBe('configmap/mp patched (no change)');
  });

  it('json patch applies replace/add/remove and rejects a failing test op', async () => {
    await server.kubectlOk(['create', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: jp\n  namespace: changes\ndata:\n  k: "v1"\n  old: "o"\n',
    });
    const ops = '[{"op":"replace","path":"/data/k","value":"v2"},{"op":"add","path":"/data/n","value":"x"},{"op":"remove","path":"/data/old"}]';
    expect((await server.kubectlOk(['patch', 'cm', 'jp', '-n', 'changes', '--type=json', '-p', ops])).trim()).toBe('configmap/jp patched');
    expect(at(await getJson(server, ['get', 'cm', 'jp', '-n', 'changes']), 'data')).toEqual({ k: 'v2', n: 'x' });

    const failing = await server.kubectl(['patch', 'cm', 'jp', '-n', 'changes', '--type=json', '-p', '[{"op":"test","path":"/data/k","value":"v1"},{"op":"remove","path":"/data/k"}]']);
    expect(failing.code).not.toBe(0);
    expect(failing.stderr).toContain('testing value /data/k failed: test failed');
    expect(at(await getJson(server, ['get', 'cm', 'jp', '-n', 'changes']), 'data')).toEqual({ k: 'v2', n: 'x' });
  });

  it('deletes an unbound pod at once', async () => {
    await server.kubectlOk(['create', '-f', '-'], { input: pod('gone', 'changes') });
    const started = Date.now();
    const out = await server.kubectlOk(['delete', 'pod', 'gone', '-n', 'changes']);
    expect(out.trim()).toBe('pod "gone" deleted');
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await tryGet(server, 'pod', 'gone', 'changes')).toBeUndefined();
  });
});

describe('kubectl discovery commands', () => {
  it('api-resources lists short names, groups and scope', async () => {
    const out = await server.kubectlOk(['api-resources']);
    expect(out.split('\n')[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND$/);
    expect(out).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/m);
    expect(out).toMatch(/^services\s+svc\s+v1\s+true\s+Service$/m);
    expect(out).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    expect(out).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    const cluster = await server.kubectlOk(['api-resources', '--namespaced=false', '-o', 'name']);
    expect(cluster.split('\n')).toContain('namespaces');
    expect(cluster.split('\n')).not.toContain('pods');
  });

  it('api-versions lists the core and apps groups', async () => {
    const lines = (await server.kubectlOk(['api-versions'])).trim().split('\n');
    expect(lines).toContain('v1');
    expect(lines).toContain('apps/v1');
  });

  it('explain describes pods.spec.containers', async () => {
    const r = await server.kubectl(['explain', 'pods.spec.containers']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^KIND:\s+Pod$/m);
    expect(r.stdout).toMatch(/^\s+image\s+<string>/m);
  });

  it('create -f of a create-only kind is validated on the client against /openapi/v2 (kubectl\'s protobuf form)', async () => {
    // a SelfSubjectAccessReview has no PATCH, so kubectl cannot ask the server to validate its fields
    const sar = (verbField: string): string =>
      `apiVersion: authorization.k8s.io/v1\nkind: SelfSubjectAccessReview\nspec:\n  resourceAttributes:\n    ${verbField}: get\n    resource: pods\n    namespace: default\n`;
    const answer = JSON.parse(await server.kubectlOk(['create', '-f', '-', '-o', 'json'], { input: sar('verb') })) as { status?: { allowed?: boolean } };
    expect(answer.status?.allowed).toBe(true);
    const bad = await server.kubectl(['create', '-f', '-'], { input: sar('verbb') });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('unknown field "verbb" in io.k8s.api.authorization.v1.SelfSubjectAccessReview.spec.resourceAttributes');
    const json = JSON.parse(await server.kubectlOk(['get', '--raw', '/openapi/v2'])) as { swagger: string; definitions: Record<string, unknown> };
    expect(json.swagger).toBe('2.0');
    expect(Object.keys(json.definitions)).toContain('io.k8s.api.core.v1.Pod');
  });
});

describe('kubectl create generators', () => {
  it('create namespace', async () => {
    expect((await server.kubectlOk(['create', 'namespace', 'gen'])).trim()).toBe('namespace/gen created');
    expect(await server.kubectlOk(['get', 'ns', 'gen'])).toMatch(/^gen\s+Active\s+\d+s$/m);
  });

  it('create deployment --image --replicas', async () => {
    await createNamespace(server, 'gen-d');
    expect((await server.kubectlOk(['create', 'deployment', 'x', '-n', 'gen-d', '--image=y', '--replicas=3'])).trim()).toBe(
      'deployment.apps/x created',
    );
    const d = await getJson(server, ['get', 'deploy', 'x', '-n', 'gen-d']);
    expect(at(d, 'spec.replicas')).toBe(3);
    expect(at(d, 'spec.selector.matchLabels')).toEqual({ app: 'x' });
    expect(at(d, 'spec.template.spec.containers.0.image')).toBe('y');
    expect(at(d, 'spec.strategy.type')).toBe('RollingUpdate');
    expect(at(d, 'spec.revisionHistoryLimit')).toBe(10);
  });

  it('create configmap --from-literal and secret generic', async () => {
    await createNamespace(server, 'gen-c');
    expect((await server.kubectlOk(['create', 'configmap', 'cfg', '-n', 'gen-c', '--from-literal=a=1', '--from-literal=b=two'])).trim()).toBe(
      'configmap/cfg created',
    );
    expect(at(await getJson(server, ['get', 'cm', 'cfg', '-n', 'gen-c']), 'data')).toEqual({ a: '1', b: 'two' });

    expect((await server.kubectlOk(['create', 'secret', 'generic', 'pw', '-n', 'gen-c', '--from-literal=password=hunter2'])).trim()).toBe(
      'secret/pw created',
    );
    const s = await getJson(server, ['get', 'secret', 'pw', '-n', 'gen-c']);
    expect(at(s, 'type')).toBe('Opaque');
    const b64 = await server.kubectlOk(['get', 'secret', 'pw', '-n', 'gen-c', '-o', 'jsonpath={.data.password}']);
    expect(Buffer.from(b64, 'base64').toString()).toBe('hunter2');
  });
});

describe('kubectl rollout status and wait', () => {
  beforeAll(async () => {
    await createNamespace(server, 'rollout');
  });

  it('rollout status waits until the status subresource reports the rollout done', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: deployment('ro', 'rollout', { replicas: 2 }) });
    const status = spawnKubectl(server.kubeconfig, ['rollout', 'status', 'deployment/ro', '-n', 'rollout', '--timeout=60s']);
    try {
      await status.waitForOutput(/Waiting for deployment/);
      const generation = Number(await server.kubectlOk(['get', 'deploy', 'ro', '-n', 'rollout', '-o', 'jsonpath={.metadata.generation}']));
      const body = { status: { observedGeneration: generation, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 } };
      const out = await server.kubectlOk(['patch', 'deployment', 'ro', '-n', 'rollout', '--subresource=status', '--type=merge', '-p', JSON.stringify(body)]);
      expect(out.trim()).toBe('deployment.apps/ro patched');
      const done = await status.exited;
      expect(done.stdout).toContain('deployment "ro" successfully rolled out');
      expect(done.code).toBe(0);
    } finally {
      await status.stop();
    }
    const d = await getJson(server, ['get', 'deploy', 'ro', '-n', 'rollout']);
    expect(at(d, 'metadata.generation')).toBe(1);
    expect(at(d, 'status.readyReplicas')).toBe(2);
  });

  it('a status patch does not change the spec, and a main-resource patch does not change the status', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: deployment('sub', 'rollout', { replicas: 1 }) });
    await server.kubectlOk(['patch', 'deployment', 'sub', '-n', 'rollout', '--subresource=status', '--type=merge', '-p', '{"spec":{"replicas":7},"status":{"replicas":1}}']);
    await server.kubectlOk(['patch', 'deployment', 'sub', '-n', 'rollout', '--type=merge', '-p', '{"status":{"replicas":9}}']);
    const d = await getJson(server, ['get', 'deploy', 'sub', '-n', 'rollout']);
    expect(at(d, 'spec.replicas')).toBe(1);
    expect(at(d, 'status.replicas')).toBe(1);
  });

  it('wait --for=condition returns once the condition is set', async () => {
    await server.kubectlOk(['apply', '-f', '-'], { input: deployment('av', 'rollout', { replicas: 1 }) });
    const waiter = spawnKubectl(server.kubeconfig, ['wait', '--for=condition=Available', 'deployment/av', '-n', 'rollout', '--timeout=60s']);
    try {
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      const condition = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'ok', lastUpdateTime: now, lastTransitionTime: now };
      await server.kubectlOk(['patch', 'deployment', 'av', '-n', 'rollout', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [condition] } })]);
      const done = await waiter.exited;
      expect(done.stdout.trim()).toBe('deployment.apps/av condition met');
      expect(done.code).toBe(0);
    } finally {
      await waiter.stop();
    }
  });

  it('wait --for=delete returns once a finalizer is removed', async () => {
    await server.kubectlOk(['create', '-f', '-'], {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: held\n  namespace: rollout\n  finalizers: ["example.com/hold"]\n',
    });
    await server.kubectlOk(['delete', 'cm', 'held', '-n', 'rollout', '--wait=false']);
    const waiter = spawnKubectl(server.kubeconfig, ['wait', '--for=delete', 'configmap/held', '-n', 'rollout', '--timeout=60s']);
    try {
      await waitFor('held to carry a deletionTimestamp', async () => at(await tryGet(server, 'cm', 'held', 'rollout'), 'metadata.deletionTimestamp'));
      await server.kubectlOk(['patch', 'cm', 'held', '-n', 'rollout', '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
      const done = await waiter.exited;
      expect(done.code).toBe(0);
      expect(await tryGet(server, 'cm', 'held', 'rollout')).toBeUndefined();
    } finally {
      await waiter.stop();
    }
  });
});
