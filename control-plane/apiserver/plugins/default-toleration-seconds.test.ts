import { describe, expect, it } from 'vitest';
import type { Pod } from '../../../api/core/pod.js';
import type { Toleration } from '../../../api/core/scheduling.js';
import type { KubeObject } from '../../../api/meta.js';
import type { AdmissionContext } from '../admission.js';
import type { Registry } from '../registry.js';
import { servedResources } from '../resources.js';
import { computeDefaultTolerations, DefaultTolerationSeconds, TAINT_NODE_NOT_READY, TAINT_NODE_UNREACHABLE } from './default-toleration-seconds.js';

const notReady = (s = 300): Toleration => ({ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: s });
const unreachable = (s = 300): Toleration => ({ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: s });

describe('computeDefaultTolerations', () => {
  const cases: Array<[string, Toleration[] | undefined, Toleration[] | undefined]> = [
    ['a pod without tolerations gets both, 300 s', undefined, [notReady(), unreachable()]],
    ['other tolerations are kept, the defaults appended', [{ key: 'gpu', operator: 'Exists' }], [{ key: 'gpu', operator: 'Exists' }, notReady(), unreachable()]],
    ['its own not-ready toleration stays, only unreachable is added', [notReady(10)], [notReady(10), unreachable()]],
    ['its own unreachable toleration forever stays, only not-ready is added', [{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }], [{ key: TAINT_NODE_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' }, notReady()]],
    ['a toleration of the key for any effect counts', [{ key: TAINT_NODE_NOT_READY, operator: 'Exists' }], [{ key: TAINT_NODE_NOT_READY, operator: 'Exists' }, unreachable()]],
    ['a NoSchedule toleration of the key does not count', [{ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoSchedule' }], [{ key: TAINT_NODE_NOT_READY, operator: 'Exists', effect: 'NoSchedule' }, notReady(), unreachable()]],
    ['an empty key with NoExecute tolerates both: nothing added', [{ operator: 'Exists', effect: 'NoExecute' }], undefined],
    ['tolerate-everything: nothing added', [{ operator: 'Exists' }], undefined],
    ['both present: nothing added', [notReady(5), unreachable(6)], undefined],
  ];
  for (const [name, input, expected] of cases) it(name, () => expect(computeDefaultTolerations(input)).toEqual(expected));

  it('takes the seconds per taint', () => {
    expect(computeDefaultTolerations([], { notReadySeconds: 60, unreachableSeconds: 30 })).toEqual([notReady(60), unreachable(30)]);
  });
});

describe('DefaultTolerationSeconds plugin', () => {
  const index = servedResources();
  const ctxFor = (plural: string, group = '', subresource?: string): AdmissionContext => {
    const entry = index.find(group, 'v1', plural);
    if (entry === undefined) throw new Error(`no ${plural}`);
    return { entry, registry: {} as Registry, dryRun: false, ...(subresource !== undefined ? { subresource } : {}) };
  };
  const pod = (tolerations?: Toleration[]): KubeObject =>
    ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }], ...(tolerations ? { tolerations } : {}) } }) as unknown as KubeObject;
  const plugin = new DefaultTolerationSeconds({ notReadySeconds: 42 });

  it('adds the defaults to a created pod', async () => {
    const r = await plugin.admitCreate(ctxFor('pods'), pod());
    expect((r?.obj as unknown as Pod).spec.tolerations).toEqual([notReady(42), unreachable(300)]);
  });
  it('returns nothing for a pod that already tolerates both', async () => {
    expect(await plugin.admitCreate(ctxFor('pods'), pod([{ operator: 'Exists' }]))).toBeUndefined();
  });
  it('leaves other resources alone', async () => {
    expect(await plugin.admitCreate(ctxFor('services'), pod())).toBeUndefined();
    expect(await plugin.admitCreate(ctxFor('deployments', 'apps'), pod())).toBeUndefined();
  });
  it('leaves subresource creates (binding) alone', async () => {
    expect(await plugin.admitCreate(ctxFor('pods', '', 'binding'), pod())).toBeUndefined();
  });
  it('does not change the input object', async () => {
    const input = pod();
    await plugin.admitCreate(ctxFor('pods'), input);
    expect((input as unknown as Pod).spec.tolerations).toBeUndefined();
  });
});
