/**
 * Deletion as a user sees it through kubectl: graceful pod deletion (a bound pod waits for its kubelet,
 * an unbound or finished one goes at once), finalizers holding an object, the three cascade policies of
 * the garbage collector, and namespace deletion emptying the namespace. No kubelet or controllers other
 * than the control plane's own run, so the tests play the kubelet's part where one is needed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { at, createNamespace, getJson, itemNames, listAt, tryGet } from './helpers/objects.js';
import { waitFor } from './helpers/wait.js';

let server: TestServer;

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  await createNamespace(server, 'del');
});

afterAll(async () => {
  await server?.stop();
});

const NS = 'del';

interface PodOpts {
  readonly nodeName?: string;
  readonly owner?: { readonly name: string; readonly uid: string };
  readonly finalizers?: readonly string[];
  readonly grace?: number;
  readonly labels?: Readonly<Record<string, string>>;
}

function podManifest(name: string, opts: PodOpts = {}, ns = NS): string {
  const metadata: Record<string, unknown> = { name, namespace: ns, labels: opts.labels ?? { app: name } };
  if (opts.finalizers) metadata['finalizers'] = opts.finalizers;
  if (opts.owner) {
    metadata['ownerReferences'] = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: opts.owner.name, uid: opts.owner.uid, controller: true, blockOwnerDeletion: true },
    ];
  }
  const spec: Record<string, unknown> = { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] };
  if (opts.nodeName !== undefined) spec['nodeName'] = opts.nodeName;
  if (opts.grace !== undefined) spec['terminationGracePeriodSeconds'] = opts.grace;
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata, spec });
}

async function createPod(name: string, opts: PodOpts = {}, ns = NS): Promise<void> {
  await server.kubectlOk(['create', '-f', '-'], { input: podManifest(name, opts, ns) });
}

/** A ReplicaSet plus `count` pods that name it as their controller, as the ReplicaSet controller would. */
async function createOwnedPods(rs: string, count: number, holdFirst = false): Promise<string[]> {
  const manifest = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: rs, namespace: NS },
    spec: {
      replicas: count,
      selector: { matchLabels: { rs } },
      template: { metadata: { labels: { rs } }, spec: { containers: [{ name: 'main', image: 'registry.k8s.io/pause:3.10' }] } },
    },
  };
  await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest) });
  const uid = String(at(await getJson(server, ['get', 'rs', rs, '-n', NS]), 'metadata.uid'));
  const names = Array.from({ length: count }, (_, i) => `${rs}-${i}`);
  const docs = names.map((n, i) => podManifest(n, { owner: { name: rs, uid }, labels: { rs }, ...(holdFirst && i === 0 ? { finalizers: ['example.com/hold'] } : {}) }));
  await server.kubectlOk(['create', '-f', '-'], { input: docs.join('\n') });
  return names;
}

async function podNames(selector: string): Promise<string[]> {
  return itemNames(await getJson(server, ['get', 'pods', '-n', NS, '-l', selector])).sort();
}

async function removeFinalizers(resource: string, name: string, ns = NS): Promise<void> {
  await server.kubectlOk(['patch', resource, name, '-n', ns, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
}

describe('graceful pod deletion', () => {
  it('a bound pod stays Terminating until deleted again with --grace-period=0 --force', async () => {
    await createPod('bound', { nodeName: 'node-a' });
    expect((await server.kubectlOk(['delete', 'pod', 'bound', '-n', NS, '--wait=false'])).trim()).toBe('pod "bound" deleted');

    const p = await tryGet(server, 'pod', 'bound', NS);
    expect(at(p, 'metadata.deletionTimestamp')).toEqual(expect.any(String));
    expect(at(p, 'metadata.deletionGracePeriodSeconds')).toBe(30);
    expect(await server.kubectlOk(['get', 'pod', 'bound', '-n', NS])).toMatch(/^bound\s+0\/1\s+Terminating\s+0\s+\d+s$/m);

    const forced = await server.kubectl(['delete', 'pod', 'bound', '-n', NS, '--grace-period=0', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout.trim()).toBe('pod "bound" force deleted');
    expect(forced.stderr).toContain('Immediate deletion does not wait for confirmation that the running resource has been terminated');
    expect(await tryGet(server, 'pod', 'bound', NS)).toBeUndefined();
  });

  it('a second delete may shorten the grace period but never lengthen it', async () => {
    await createPod('slow', { nodeName: 'node-a', grace: 60 });
    await server.kubectlOk(['delete', 'pod', 'slow', '-n', NS, '--wait=false']);
    expect(at(await tryGet(server, 'pod', 'slow', NS), 'metadata.deletionGracePeriodSeconds')).toBe(60);
    await server.kubectlOk(['delete', 'pod', 'slow', '-n', NS, '--wait=false', '--grace-period=5']);
    expect(at(await tryGet(server, 'pod', 'slow', NS), 'metadata.deletionGracePeriodSeconds')).toBe(5);
    await server.kubectlOk(['delete', 'pod', 'slow', '-n', NS, '--wait=false', '--grace-period=50']);
    expect(at(await tryGet(server, 'pod', 'slow', NS), 'metadata.deletionGracePeriodSeconds')).toBe(5);
    await server.kubectlOk(['delete', 'pod', 'slow', '-n', NS, '--grace-period=0', '--force']);
    expect(await tryGet(server, 'pod', 'slow', NS)).toBeUndefined();
  });

  it('an unbound pod goes at once', async () => {
    await createPod('unbound');
    await server.kubectlOk(['delete', 'pod', 'unbound', '-n', NS, '--wait=false']);
    expect(await tryGet(server, 'pod', 'unbound', NS)).toBeUndefined();
  });

  it('a bound pod that has finished (phase Succeeded) goes at once', async () => {
    await createPod('finished', { nodeName: 'node-a' });
    await server.kubectlOk(['patch', 'pod', 'finished', '-n', NS, '--subresource=status', '--type=merge', '-p', '{"status":{"phase":"Succeeded"}}']);
    await server.kubectlOk(['delete', 'pod', 'finished', '-n', NS, '--wait=false']);
    expect(await tryGet(server, 'pod', 'finished', NS)).toBeUndefined();
  });
});

describe('finalizers', () => {
  it('keep a deleted object until the last finalizer is removed, and no new one may be added meanwhile', async () => {
    await server.kubectlOk(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kept', namespace: NS, finalizers: ['example.com/keep'] }, data: { a: '1' } }),
    });
    expect((await server.kubectlOk(['delete', 'cm', 'kept', '-n', NS, '--wait=false'])).trim()).toBe('configmap "kept" deleted');

    const held = await tryGet(server, 'cm', 'kept', NS);
    expect(at(held, 'metadata.deletionTimestamp')).toEqual(expect.any(String));
    expect(at(held, 'metadata.finalizers')).toEqual(['example.com/keep']);

    // Deleting again is accepted and changes nothing; other updates are still allowed.
    await server.kubectlOk(['delete', 'cm', 'kept', '-n', NS, '--wait=false']);
    await server.kubectlOk(['label', 'cm', 'kept', '-n', NS, 'still=here']);
    expect(at(await tryGet(server, 'cm', 'kept', NS), 'metadata.labels.still')).toBe('here');

    const added = await server.kubectl(['patch', 'cm', 'kept', '-n', NS, '--type=merge', '-p', '{"metadata":{"finalizers":["example.com/keep","example.com/other"]}}']);
    expect(added.code).not.toBe(0);
    expect(added.stderr).toContain('no new finalizers can be added if the object is being deleted');

    await removeFinalizers('cm', 'kept');
    await waitFor('configmap kept to disappear', async () => (await tryGet(server, 'cm', 'kept', NS)) === undefined);
  });
});

describe('cascading deletion of a ReplicaSet and its pods', () => {
  it('--cascade=background deletes the owner at once and its pods soon after', async () => {
    const pods = await createOwnedPods('bg', 3);
    expect(await podNames('rs=bg')).toEqual(pods);
    const out = await server.kubectlOk(['delete', 'rs', 'bg', '-n', NS, '--cascade=background']);
    expect(out.trim()).toBe('replicaset.apps "bg" deleted');
    expect(await tryGet(server, 'rs', 'bg', NS)).toBeUndefined();
    await waitFor('the pods of bg to be garbage collected', async () => (await podNames('rs=bg')).length === 0);
  });

  it('--cascade=foreground deletes the pods first while the owner waits with the foregroundDeletion finalizer', async () => {
    await createOwnedPods('fg', 3, true);
    await server.kubectlOk(['delete', 'rs', 'fg', '-n', NS, '--cascade=foreground', '--wait=false']);

    const owner = await tryGet(server, 'rs', 'fg', NS);
    expect(at(owner, 'metadata.deletionTimestamp')).toEqual(expect.any(String));
    expect(at(owner, 'metadata.finalizers')).toContain('foregroundDeletion');

    // fg-0 carries a finalizer of its own, so the collector can delete but not remove it: the owner
    // must stay until it is gone.
    await waitFor('fg-1 and fg-2 to be deleted and fg-0 to be terminating', async () => {
      const left = await podNames('rs=fg');
      if (left.join() !== 'fg-0') return false;
      return at(await tryGet(server, 'pod', 'fg-0', NS), 'metadata.deletionTimestamp') !== undefined;
    });
    expect(at(await tryGet(server, 'rs', 'fg', NS), 'metadata.finalizers')).toContain('foregroundDeletion');

    await removeFinalizers('pod', 'fg-0');
    await waitFor('the ReplicaSet fg to disappear after its last pod', async () => (await tryGet(server, 'rs', 'fg', NS)) === undefined);
    expect(await podNames('rs=fg')).toEqual([]);
  });

  it('--cascade=orphan deletes the owner, keeps the pods and strips their ownerReferences', async () => {
    const pods = await createOwnedPods('or', 2);
    const out = await server.kubectlOk(['delete', 'rs', 'or', '-n', NS, '--cascade=orphan']);
    expect(out.trim()).toBe('replicaset.apps "or" deleted');
    await waitFor('the ReplicaSet or to disappear', async () => (await tryGet(server, 'rs', 'or', NS)) === undefined);
    await waitFor('the orphans to lose their ownerReferences', async () => {
      const list = await getJson(server, ['get', 'pods', '-n', NS, '-l', 'rs=or']);
      return listAt(list, 'items').every((p) => listAt(p, 'metadata.ownerReferences').length === 0);
    });
    expect(await podNames('rs=or')).toEqual(pods);
  });
});

describe('namespace deletion', () => {
  it('empties the namespace, refuses new content meanwhile, and removes it once the last finalizer goes', async () => {
    await createNamespace(server, 'doomed');
    const docs = [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', namespace: 'doomed' }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pin', namespace: 'doomed', finalizers: ['example.com/pin'] } },
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec', namespace: 'doomed' }, stringData: { k: 'v' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: 'doomed' }, spec: { ports: [{ port: 80 }] } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'dep', namespace: 'doomed' },
        spec: {
          selector: { matchLabels: { app: 'dep' } },
          template: { metadata: { labels: { app: 'dep' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
        },
      },
    ];
    await server.kubectlOk(['create', '-f', '-'], { input: docs.map((d) => JSON.stringify(d)).join('\n') });
    await createPod('loose', {}, 'doomed');

    expect((await server.kubectlOk(['delete', 'ns', 'doomed', '--wait=false'])).trim()).toBe('namespace "doomed" deleted');
    expect(await server.kubectlOk(['get', 'ns', 'doomed'])).toMatch(/^doomed\s+Terminating\s+\d+s$/m);

    const late = await server.kubectl(['create', '-f', '-'], {
      input: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late', namespace: 'doomed' } }),
    });
    expect(late.code).not.toBe(0);
    expect(late.stderr).toContain('Error from server (Forbidden)');
    expect(late.stderr).toContain('unable to create new content in namespace doomed because it is being terminated');

    await waitFor('everything but the pinned configmap to be deleted', async () => {
      const names = await server.kubectlOk(['get', 'configmaps,secrets,services,deployments,pods', '-n', 'doomed', '-o', 'name']);
      return names.trim() === 'configmap/pin';
    });
    expect(at(await tryGet(server, 'cm', 'pin', 'doomed'), 'metadata.deletionTimestamp')).toEqual(expect.any(String));
    expect(await tryGet(server, 'ns', 'doomed')).toBeDefined();

    await removeFinalizers('cm', 'pin', 'doomed');
    await waitFor('namespace doomed to disappear', async () => (await tryGet(server, 'ns', 'doomed')) === undefined);
    const after = await server.kubectl(['get', 'configmaps', '-n', 'doomed']);
    expect(after.stderr).toContain('No resources found in doomed namespace.');
  });

  it.each(['kube-public', 'kube-system'])('refuses to delete the system namespace %s', async (ns) => {
    const r = await server.kubectl(['delete', 'ns', ns, '--wait=false']);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim()).toBe(`Error from server (Forbidden): namespaces "${ns}" is forbidden: this namespace may not be deleted`);
    expect(await tryGet(server, 'ns', ns)).toBeDefined();
  });
});
