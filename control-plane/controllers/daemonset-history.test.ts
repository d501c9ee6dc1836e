import { describe, expect, it } from 'vitest';
import type { ControllerRevision } from '../../api/apps/controllerrevision.js';
import type { DaemonSet } from '../../api/apps/daemonset.js';
import { ownedRevisions, planHistory, revisionData, revisionName } from './daemonset-history.js';
import { templateHash } from './daemonset-pods.js';

const ds = (image: string, extra: Partial<DaemonSet['spec']> = {}): DaemonSet => ({
  apiVersion: 'apps/v1',
  kind: 'DaemonSet',
  metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', annotations: { 'kubernetes.io/change-cause': `image ${image}` } },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image }] } }, ...extra },
});

/** Applies a plan to a list of revisions, as the controller would through the API. */
function apply(revs: ControllerRevision[], d: DaemonSet, live: string[] = []): ControllerRevision[] {
  const plan = planHistory(d, ownedRevisions(d, revs), templateHash(d), new Set(live));
  let out = revs.filter((r) => !plan.delete.includes(r.metadata.name ?? ''));
  const renumber = plan.renumber;
  if (renumber !== undefined) out = out.map((r) => (r.metadata.name === renumber.name ? { ...r, revision: renumber.revision } : r));
  if (plan.create !== undefined) out = [...out, plan.create];
  return out;
}
const numbers = (revs: ControllerRevision[]): Record<string, number> => Object.fromEntries(revs.map((r) => [(r.data as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]?.image ?? '', r.revision]));

describe('DaemonSet history', () => {
  it('the first template gets revision 1: named after its hash, a replace patch, labels, annotations, owner', () => {
    const d = ds('img:1');
    const [r] = apply([], d);
    expect(r?.metadata.name).toBe(`agent-${templateHash(d)}`);
    expect(r?.revision).toBe(1);
    expect(r?.data).toEqual({ spec: { template: { ...d.spec.template, $patch: 'replace' } } });
    expect(r?.data).toEqual(revisionData(d));
    expect(r?.metadata.labels).toEqual({ app: 'agent', 'controller-revision-hash': templateHash(d) });
    expect(r?.metadata.annotations).toEqual({ 'kubernetes.io/change-cause': 'image img:1' });
    expect(r?.metadata.ownerReferences).toEqual([expect.objectContaining({ kind: 'DaemonSet', name: 'agent', uid: 'ds-uid', controller: true })]);
    expect(apply([r as ControllerRevision], d)).toEqual([r]);
  });

  it('a new template is the next revision; going back renumbers the old one instead of copying it', () => {
    let revs = apply([], ds('img:1'));
    revs = apply(revs, ds('img:2'));
    expect(numbers(revs)).toEqual({ 'img:1': 1, 'img:2': 2 });
    revs = apply(revs, ds('img:1'));
    expect(numbers(revs)).toEqual({ 'img:1': 3, 'img:2': 2 });
    expect(revs).toHaveLength(2);
  });

  it('keeps revisionHistoryLimit old revisions besides the current one, and any a pod still runs', () => {
    let revs: ControllerRevision[] = [];
    for (let i = 1; i <= 5; i++) revs = apply(revs, ds(`img:${i}`, { revisionHistoryLimit: 2 }));
    expect(numbers(revs)).toEqual({ 'img:3': 3, 'img:4': 4, 'img:5': 5 });
    const liveHash = templateHash(ds('img:3'));
    revs = apply(revs, ds('img:6', { revisionHistoryLimit: 1 }), [liveHash]);
    expect(numbers(revs)).toEqual({ 'img:3': 3, 'img:5': 5, 'img:6': 6 });
  });

  it('ignores revisions of another DaemonSet or namespace', () => {
    const mine = apply([], ds('img:1'));
    const other = mine.map((r) => ({ ...r, metadata: { ...r.metadata, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'x', uid: 'other', controller: true }] } }));
    expect(ownedRevisions(ds('img:1'), other)).toEqual([]);
    expect(ownedRevisions(ds('img:1'), mine.map((r) => ({ ...r, metadata: { ...r.metadata, namespace: 'elsewhere' } })))).toEqual([]);
  });

  it('cuts a long DaemonSet name to 223 characters before the hash, so the revision name stays valid', () => {
    const long = 'a'.repeat(250);
    expect(revisionName(long, 'abc12')).toBe(`${'a'.repeat(223)}-abc12`);
    const d = { ...ds('img:1'), metadata: { ...ds('img:1').metadata, name: long } };
    expect(apply([], d)[0]?.metadata.name?.length).toBeLessThanOrEqual(253);
  });
});
