import { describe, expect, it } from 'vitest';
import type { Schema } from '../../../api/schema.js';
import type { PatchErrorCode } from './errors.js';
import { PatchError } from './errors.js';
import type { JsonObject } from './json-util.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';
import { deepFreeze, deploymentSchema, podSchema, treeSchema } from './test-schemas.js';

const pod = deepFreeze({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', labels: { app: 'web', tier: 'frontend' }, finalizers: ['a', 'b'] },
  spec: {
    containers: [
      {
        name: 'web',
        image: 'nginx:1.25',
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
          { name: 'C', value: '3' },
        ],
        ports: [{ containerPort: 80 }],
      },
      { name: 'sidecar', image: 'busybox:1.36', args: ['sleep', 'inf'] },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [{ key: 'a', operator: 'Exists' }],
    nodeSelector: { disk: 'ssd', zone: 'a' },
    extra: { keep: 1, items: [{ name: 'x' }] },
  },
});
type Pod = typeof pod;

/** The pod with `spec` members overridden. */
const podWith = (spec: Record<string, unknown>, meta: Record<string, unknown> = {}): JsonObject => ({
  ...pod,
  metadata: { ...pod.metadata, ...meta },
  spec: { ...pod.spec, ...spec },
});
const [web, sidecar] = pod.spec.containers;
const env = (...pairs: [string, string][]) => pairs.map(([name, value]) => ({ name, value }));

const deployment = deepFreeze({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 2,
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.25' },
          { name: 'sidecar', image: 'busybox:1.36' },
        ],
      },
    },
  },
});

interface Case {
  name: string;
  original?: JsonObject;
  schema?: Schema;
  patch: unknown;
  want: JsonObject;
}

const cases: Case[] = [
  {
    name: 'null removes a label (kubectl apply three-way patch)',
    patch: { metadata: { labels: { tier: null } } },
    want: podWith({}, { labels: { app: 'web' } }),
  },
  {
    name: 'kubectl apply changing one image of a two-container template uses $setElementOrder',
    original: deployment,
    schema: deploymentSchema,
    patch: {
      spec: {
        template: {
          spec: {
            '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
            containers: [{ image: 'busybox:1.37', name: 'sidecar' }],
          },
        },
      },
    },
    want: {
      ...deployment,
      spec: {
        ...deployment.spec,
        template: {
          ...deployment.spec.template,
          spec: { containers: [{ name: 'web', image: 'nginx:1.25' }, { name: 'sidecar', image: 'busybox:1.37' }] },
        },
      },
    },
  },
  {
    name: '$patch: delete removes an env var by key',
    patch: {
      spec: {
        '$setElementOrder/containers': [{ name: 'web' }, { name: 'sidecar' }],
        containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'A' }, { name: 'C' }], env: [{ name: 'B', $patch: 'delete' }] }],
      },
    },
    want: podWith({ containers: [{ ...web, env: env(['A', '1'], ['C', '3']) }, sidecar] }),
  },
  {
    name: 'a new env var lands where $setElementOrder puts it',
    patch: {
      spec: {
        containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'A' }, { name: 'N' }, { name: 'B' }, { name: 'C' }], env: [{ name: 'N', value: 'x' }] }],
      },
    },
    want: podWith({ containers: [{ ...web, env: env(['A', '1'], ['N', 'x'], ['B', '2'], ['C', '3']) }, sidecar] }),
  },
  {
    name: 'server-only items interleave with ordered items by their live position (upstream mergeSortedSlice)',
    original: podWith({ containers: [{ name: 'web', env: env(['C', 'c'], ['B', 'b'], ['D', 'd'], ['A', 'a'], ['E', 'e']) }] }),
    patch: { spec: { containers: [{ name: 'web', '$setElementOrder/env': [{ name: 'A' }, { name: 'B' }], env: env(['A', 'a2'], ['B', 'b2']) }] } },
    want: podWith({ containers: [{ name: 'web', env: env(['C', 'c'], ['D', 'd'], ['A', 'a2'], ['B', 'b2'], ['E', 'e']) }] }),
  },
  {
    name: '$setElementOrder alone reorders a list',
    patch: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }] } },
    want: podWith({ containers: [sidecar, web] }),
  },
  {
    name: 'without $setElementOrder patch items keep patch order and server-only items their live slots',
    original: podWith({ containers: [{ name: 'B' }, { name: 'C' }, { name: 'A' }] }),
    patch: { spec: { containers: [{ name: 'A', image: 'a' }, { name: 'B', image: 'b' }, { name: 'D' }] } },
    want: podWith({ containers: [{ name: 'C' }, { name: 'A', image: 'a' }, { name: 'B', image: 'b' }, { name: 'D' }] }),
  },
  {
    name: 'a container new to the list goes first without $setElementOrder, as upstream does',
    patch: { spec: { containers: [{ name: 'logger', image: 'fluent-bit' }] } },
    want: podWith({ containers: [{ name: 'logger', image: 'fluent-bit' }, web, sidecar] }),
  },
  {
    name: 'a patch item merges into the live item (ports keyed by a number)',
    patch: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }] }] } },
    want: podWith({ containers: [{ ...web, ports: [{ containerPort: 80, name: 'http' }] }, sidecar] }),
  },
  {
    name: 'a scalar list with merge strategy merges as a set',
    patch: { metadata: { finalizers: ['b', 'c'] } },
    want: podWith({}, { finalizers: ['a', 'b', 'c'] }),
  },
  {
    name: '$deleteFromPrimitiveList removes set values',
    patch: { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
    want: podWith({}, { finalizers: ['b'] }),
  },
  {
    name: 'set ordering, deletion and addition together (finalizers example of the order design)',
    original: podWith({}, { finalizers: ['b', 'e', 'a', 'c', 'd'] }),
    patch: { metadata: { '$setElementOrder/finalizers': ['a', 'b', 'f'], '$deleteFromPrimitiveList/finalizers': ['c'], finalizers: ['f'] } },
    want: podWith({}, { finalizers: ['e', 'a', 'b', 'f', 'd'] }),
  },
  {
    name: 'lists without merge strategy are replaced whole (args, tolerations)',
    patch: { spec: { containers: [{ name: 'sidecar', args: ['sleep', '10'] }], tolerations: [{ key: 'b', operator: 'Exists' }] } },
    want: podWith({ containers: [web, { ...sidecar, args: ['sleep', '10'] }], tolerations: [{ key: 'b', operator: 'Exists' }] }),
  },
  {
    name: '$patch: replace on a map replaces it',
    patch: { spec: { nodeSelector: { $patch: 'replace', zone: 'b' } } },
    want: podWith({ nodeSelector: { zone: 'b' } }),
  },
  {
    name: '$patch: replace in a keyed list replaces the list',
    patch: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } },
    want: podWith({ containers: [{ name: 'only', image: 'x' }] }),
  },
  {
    name: '$patch: delete on a map removes the field',
    patch: { spec: { nodeSelector: { $patch: 'delete' } } },
    want: (() => {
      const { nodeSelector: _, ...spec } = pod.spec;
      return { ...pod, spec };
    })(),
  },
  {
    name: '$patch: merge is the ordinary merge',
    patch: { metadata: { labels: { $patch: 'merge', team: 'a' } } },
    want: podWith({}, { labels: { app: 'web', tier: 'frontend', team: 'a' } }),
  },
  {
    name: '$retainKeys clears the deployment strategy members not listed',
    original: deployment,
    schema: deploymentSchema,
    patch: { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate', rollingUpdate: null } } },
    want: { ...deployment, spec: { ...deployment.spec, strategy: { type: 'Recreate' } } },
  },
  {
    name: '$retainKeys on a volume switches its source (volumes are merge,retainKeys)',
    patch: {
      spec: {
        '$setElementOrder/volumes': [{ name: 'data' }],
        volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'cfg' }, name: 'data' }],
      },
    },
    want: podWith({ volumes: [{ name: 'data', configMap: { name: 'cfg' } }] }),
  },
  {
    name: 'unknown fields merge as plain maps and their lists replace',
    original: podWith({ future: { b: 2, list: [0, 9] } }),
    patch: { spec: { future: { a: 1, list: [1] } } },
    want: podWith({ future: { a: 1, b: 2, list: [1] } }),
  },
  {
    name: 'an `any` field gets JSON merge patch semantics',
    patch: { spec: { extra: { items: [{ name: 'y' }], keep: null, added: { n: null } } } },
    want: podWith({ extra: { items: [{ name: 'y' }], added: {} } }),
  },
  {
    name: 'new subtrees are stored without directives or nulls',
    patch: {
      spec: {
        containers: [{ name: 'new', '$setElementOrder/env': [{ name: 'X' }], env: [{ name: 'X', value: '1' }], image: null }],
      },
    },
    want: podWith({ containers: [{ name: 'new', env: [{ name: 'X', value: '1' }] }, web, sidecar] }),
  },
  {
    name: 'recursive schemas resolve through thunks',
    original: { name: 'root', children: [{ name: 'a', children: [{ name: 'a1' }] }] },
    schema: treeSchema,
    patch: { children: [{ name: 'a', children: [{ name: 'a2' }] }] },
    want: { name: 'root', children: [{ name: 'a', children: [{ name: 'a2' }, { name: 'a1' }] }] },
  },
];

describe('applyStrategicMergePatch', () => {
  it.each(cases)('$name', ({ original = pod, schema = podSchema, patch, want }) => {
    expect(applyStrategicMergePatch(deepFreeze(original), deepFreeze(patch), schema)).toEqual(want);
  });

  it('a patch without directives touches nothing else and shares untouched subtrees', () => {
    const out = applyStrategicMergePatch(pod, { metadata: { labels: { tier: 'backend' } } }, podSchema) as Pod;
    expect(out.spec).toBe(pod.spec);
    expect(out.metadata.labels).toEqual({ app: 'web', tier: 'backend' });
  });

  const failures: { name: string; patch: unknown; code: PatchErrorCode; status: number; message: RegExp }[] = [
    { name: 'a patch that is not an object', patch: [1], code: 'ERR_PATCH_MALFORMED', status: 400, message: /must be a JSON object, got array/ },
    {
      name: 'an unknown $patch value',
      patch: { metadata: { labels: { $patch: 'frob' } } },
      code: 'ERR_PATCH_INVALID_DIRECTIVE',
      status: 400,
      message: /^metadata\.labels: unknown \$patch directive "frob"/,
    },
    {
      name: 'a keyed list item without its key',
      patch: { spec: { containers: [{ image: 'x' }] } },
      code: 'ERR_PATCH_MISSING_MERGE_KEY',
      status: 422,
      message: /spec\.containers\[0\]: item \{"image":"x"\} does not contain declared merge key "name"/,
    },
    {
      name: 'a delete directive without the key',
      patch: { spec: { containers: [{ $patch: 'delete' }] } },
      code: 'ERR_PATCH_MISSING_MERGE_KEY',
      status: 422,
      message: /merge key "name"/,
    },
    {
      name: 'a scalar in a keyed list',
      patch: { spec: { containers: ['web'] } },
      code: 'ERR_PATCH_TYPE_MISMATCH',
      status: 422,
      message: /spec\.containers\[0\]: items of a list merged by "name" must be objects/,
    },
    {
      name: '$setElementOrder in another order than the patch list',
      patch: { spec: { '$setElementOrder/containers': [{ name: 'sidecar' }, { name: 'web' }], containers: [{ name: 'web' }, { name: 'sidecar' }] } },
      code: 'ERR_PATCH_ELEMENT_ORDER',
      status: 400,
      message: /spec\.containers \(\$setElementOrder\): patch item \{"name":"sidecar"\} is missing from the order list or out of its order/,
    },
    {
      name: 'a patch item missing from $setElementOrder',
      patch: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'other' }] } },
      code: 'ERR_PATCH_ELEMENT_ORDER',
      status: 400,
      message: /"other"/,
    },
    {
      name: '$setElementOrder that is not a list',
      patch: { spec: { '$setElementOrder/containers': { name: 'web' } } },
      code: 'ERR_PATCH_INVALID_DIRECTIVE',
      status: 400,
      message: /spec: \$setElementOrder\/containers must be a list, got object/,
    },
    {
      name: 'a parallel list directive without a field',
      patch: { metadata: { $deleteFromPrimitiveList: ['a'] } },
      code: 'ERR_PATCH_INVALID_DIRECTIVE',
      status: 400,
      message: /must be written \$deleteFromPrimitiveList\/<list field>/,
    },
    {
      name: '$retainKeys that is not a list of names',
      patch: { spec: { volumes: [{ name: 'data', $retainKeys: 'name' }] } },
      code: 'ERR_PATCH_RETAIN_KEYS',
      status: 400,
      message: /spec\.volumes\[0\]: \$retainKeys must be a list of field names/,
    },
    {
      name: 'a patch setting a member $retainKeys does not list',
      patch: { spec: { volumes: [{ name: 'data', $retainKeys: ['name'], hostPath: { path: '/x' } }] } },
      code: 'ERR_PATCH_RETAIN_KEYS',
      status: 400,
      message: /the patch sets hostPath but \$retainKeys does not list it/,
    },
  ];

  it.each(failures)('rejects $name', ({ patch, code, status, message }) => {
    let err: unknown;
    try {
      applyStrategicMergePatch(pod, deepFreeze(patch), podSchema);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    const e = err as PatchError;
    expect(e.code).toBe(code);
    expect(e.httpStatus).toBe(status);
    expect(e.message).toMatch(message);
  });

  it('treats __proto__ and Object.prototype names as ordinary fields', () => {
    const patch = JSON.parse('{"metadata":{"labels":{"__proto__":"x"}},"spec":{"constructor":{"a":1},"$setElementOrder/__proto__":[]}}') as unknown;
    const out = applyStrategicMergePatch(pod, patch, podSchema) as { metadata: { labels: object }; spec: Record<string, unknown> };
    expect(Object.keys(out.metadata.labels)).toEqual(['app', 'tier', '__proto__']);
    expect(Object.getPrototypeOf(out.metadata.labels)).toBe(Object.prototype);
    expect(out.spec['constructor']).toEqual({ a: 1 });
  });

  it('errors carry the offending path', () => {
    try {
      applyStrategicMergePatch(pod, { metadata: { labels: { $patch: 'frob' } } }, podSchema);
      expect.unreachable();
    } catch (e) {
      expect((e as PatchError).path).toBe('metadata.labels');
    }
  });

  it('a top-level $patch: delete empties the object, and no schema means merge-patch semantics', () => {
    expect(applyStrategicMergePatch({ a: 1 }, { $patch: 'delete' }, undefined)).toEqual({});
    expect(applyStrategicMergePatch({ a: [1, 2], b: { c: 1 } }, { a: [3], b: { d: 2 } }, undefined)).toEqual({ a: [3], b: { c: 1, d: 2 } });
  });
});
