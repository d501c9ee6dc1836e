/**
 * StatefulSets on a real lab (`knode lab up --nodes 2`), with the real kubectl: pods web-0..2 start in
 * order, each only once the one before is Ready; each has its own hostname and a DNS name under the
 * headless Service (`web-1.nginx`) that other pods resolve; a deleted pod comes back with the same
 * name; scaling down removes the highest ordinal first; `kubectl set image` rolls from the highest
 * ordinal down and `kubectl rollout status|history|undo statefulset` work; volumeClaimTemplates are
 * refused with an event naming why. Every wait is on a condition; `lab down` runs in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labName, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('ss'));
const V1 = 'knode.local/testserver:1.0';
const V2 = 'knode.local/testserver:2.0';

interface PodView {
  metadata: { name: string; uid: string; creationTimestamp: string; deletionTimestamp?: string; labels?: Record<string, string> };
  spec: { hostname?: string; subdomain?: string; containers: Array<{ image: string }> };
  status?: { phase?: string; conditions?: Array<{ type: string; status: string; lastTransitionTime?: string }> };
}

const ready = (p: PodView): boolean => p.metadata.deletionTimestamp === undefined && (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false);
const readySince = (p: PodView): number => Date.parse(p.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');

async function pods(ns: string, selector = 'app=web'): Promise<PodView[]> {
  const out = await lab.kubectlOk(['get', 'pods', '-n', ns, '-l', selector, '-o', 'json']);
  return (JSON.parse(out) as { items: PodView[] }).items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

async function waitReady(ns: string, names: string[], image: string, timeoutMs = 120_000): Promise<PodView[]> {
  let last: PodView[] = [];
  return waitFor(
    () => `pods ${names.join(', ')} Ready on ${image} (last: ${JSON.stringify(last.map((p) => [p.metadata.name, p.status?.phase, ready(p), p.spec.containers[0]?.image]))})`,
    async () => {
      last = await pods(ns);
      const ok = last.length === names.length && last.every((p, i) => p.metadata.name === names[i] && ready(p) && p.spec.containers[0]?.image === image);
      return ok ? last : undefined;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

function manifest(ns: string, replicas: number, extra: Record<string, unknown> = {}): string {
  const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'nginx', namespace: ns }, spec: { clusterIP: 'None', selector: { app: 'web' }, ports: [{ name: 'http', port: 8083 }] } };
  const set = {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: ns },
    spec: {
      replicas,
      serviceName: 'nginx',
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'c', image: V1, readinessProbe: { httpGet: { path: '/healthz', port: 8083 }, periodSeconds: 1 } }],
        },
      },
      ...extra,
    },
  };
  return [service, set].map((o) => JSON.stringify(o)).join('\n');
}

beforeAll(async () => {
  await lab.up(2);
}, 240_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('StatefulSets on a lab', () => {
  const ns = 'sts';

  it('starts web-0, web-1, web-2 in order, each once the one before is Ready, with stable hostnames and DNS names', async () => {
    await lab.kubectlOk(['create', 'namespace', ns]);
    await lab.kubectlOk(['apply', '-f', '-'], manifest(ns, 3));
    const ps = await waitReady(ns, ['web-0', 'web-1', 'web-2'], V1);
    for (let i = 1; i < ps.length; i++) {
      const prev = ps[i - 1] as PodView;
      const cur = ps[i] as PodView;
      // OrderedReady: web-i is created only after web-(i-1) turned Ready (second resolution)
      expect(Date.parse(cur.metadata.creationTimestamp)).toBeGreaterThanOrEqual(Math.floor(readySince(prev) / 1000) * 1000);
    }
    for (const p of ps) {
      expect(p.spec.hostname).toBe(p.metadata.name);
      expect(p.spec.subdomain).toBe('nginx');
      expect(p.metadata.labels?.['statefulset.kubernetes.io/pod-name']).toBe(p.metadata.name);
    }
    expect((await lab.kubectlOk(['exec', '-n', ns, 'web-1', '--', 'hostname'])).trim()).toBe('web-1');
    // the headless Service gives each pod a name other pods resolve, and the address it gives is that
    // pod's (nslookup; the image's busybox wget crashes when a connection is refused, which a pod
    // not yet in the Service's endpoints gives)
    const address = await waitFor('web-0 to resolve web-2.nginx', async () => {
      const r = await lab.kubectl(['exec', '-n', ns, 'web-0', '--', 'nslookup', `web-2.nginx.${ns}.svc.cluster.local`]);
      return r.code === 0 ? /Name:\s+web-2\.nginx\S*\s+Address:\s+(\S+)/.exec(r.stdout)?.[1] : undefined;
    }, { timeoutMs: 30_000, intervalMs: 500 });
    const web2 = JSON.parse(await lab.kubectlOk(['get', 'pod', 'web-2', '-n', ns, '-o', 'json'])) as { status?: { podIP?: string } };
    expect(address).toBe(web2.status?.podIP);
    // and web-0 reaches web-2 there (the testserver's /dial, asked through the apiserver's pod proxy)
    const dial = await lab.kubectlOk(['get', '--raw', `/api/v1/namespaces/${ns}/pods/web-0:8083/proxy/dial?request=hostname&protocol=http&host=${address ?? ''}&port=8083&tries=1`]);
    expect(JSON.parse(dial)).toEqual({ responses: ['web-2'], errors: [] });
    expect(await lab.kubectlOk(['get', 'statefulset', 'web', '-n', ns])).toMatch(/web\s+3\/3\s+/);
  }, 180_000);

  it('a deleted pod comes back under the same name', async () => {
    const before = (await pods(ns)).find((p) => p.metadata.name === 'web-1');
    await lab.kubectlOk(['delete', 'pod', 'web-1', '-n', ns]);
    const after = await waitFor('web-1 back and Ready', async () => (await pods(ns)).find((p) => p.metadata.name === 'web-1' && p.metadata.uid !== before?.metadata.uid && ready(p)), { timeoutMs: 90_000, intervalMs: 300 });
    expect(after.spec.hostname).toBe('web-1');
  }, 120_000);

  it('kubectl scale down removes the highest ordinal first', async () => {
    await lab.kubectlOk(['scale', 'statefulset', 'web', '-n', ns, '--replicas=1']);
    let outOfOrder = false;
    await waitFor('only web-0 left', async () => {
      const names = (await pods(ns)).filter((p) => p.metadata.deletionTimestamp === undefined).map((p) => p.metadata.name);
      if (names.includes('web-2') && !names.includes('web-1')) outOfOrder = true;
      return names.length === 1 && names[0] === 'web-0';
    }, { timeoutMs: 90_000, intervalMs: 100 });
    expect(outOfOrder).toBe(false);
    await lab.kubectlOk(['scale', 'statefulset', 'web', '-n', ns, '--replicas=3']);
    await waitReady(ns, ['web-0', 'web-1', 'web-2'], V1);
  }, 180_000);

  it('kubectl set image rolls from the highest ordinal down; rollout status, history and undo work', async () => {
    await lab.kubectlOk(['set', 'image', 'statefulset/web', '-n', ns, `c=${V2}`]);
    const status = await lab.kubectl(['rollout', 'status', 'statefulset/web', '-n', ns, '--timeout=150s']);
    expect(status.code, status.stderr).toBe(0);
    // (the partition defaults to 0, so kubectl speaks of a partitioned roll out, as against upstream)
    expect(status.stdout).toMatch(/partitioned roll out complete: 3 new pods have been updated/);
    const ps = await waitReady(ns, ['web-0', 'web-1', 'web-2'], V2);
    // web-2 went first, web-0 last
    expect(readySince(ps[2] as PodView)).toBeLessThanOrEqual(readySince(ps[1] as PodView));
    expect(readySince(ps[1] as PodView)).toBeLessThanOrEqual(readySince(ps[0] as PodView));
    const history = await lab.kubectlOk(['rollout', 'history', 'statefulset/web', '-n', ns]);
    expect(history).toMatch(/^1\s/m);
    expect(history).toMatch(/^2\s/m);
    await lab.kubectlOk(['rollout', 'undo', 'statefulset/web', '-n', ns]);
    const back = await lab.kubectl(['rollout', 'status', 'statefulset/web', '-n', ns, '--timeout=150s']);
    expect(back.code, back.stderr).toBe(0);
    await waitReady(ns, ['web-0', 'web-1', 'web-2'], V1);
  }, 360_000);

  it('volumeClaimTemplates get no pods and an event that says why', async () => {
    const claims = { volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] };
    await lab.kubectlOk(['create', 'namespace', 'sts-claims']);
    await lab.kubectlOk(['apply', '-f', '-'], manifest('sts-claims', 1, claims));
    const events = await waitFor('the FailedCreate event', async () => {
      const out = await lab.kubectlOk(['get', 'events', '-n', 'sts-claims', '--field-selector', 'reason=FailedCreate', '-o', 'custom-columns=M:.message', '--no-headers']);
      return out.trim() !== '' ? out : undefined;
    }, { timeoutMs: 30_000 });
    expect(events).toContain('volumeClaimTemplates need PersistentVolumeClaims, which knode does not serve');
    expect(await pods('sts-claims')).toEqual([]);
  }, 60_000);
});
