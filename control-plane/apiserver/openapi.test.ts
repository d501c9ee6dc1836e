import { describe, expect, it } from 'vitest';
import type { KindDefinition } from '../../api/kind.js';
import { labelSelectorSchema, objectMetaSchema, typeMetaFields } from '../../api/meta-schema.js';
import type { ObjectSchema, Schema } from '../../api/schema.js';
import { anyValue, arrayOf, bool, int, intOrString, listByKey, mapOf, obj, quantity, setOf, str, time } from '../../api/schema.js';
import type { JsonValue } from '../../lib/json.js';
import type { ServedResource } from './discovery.js';
import type { JsonObject, OpenAPIV3Document } from './openapi.js';
import { buildOpenAPIV3GroupVersion, buildOpenAPIV3Root, componentName, SchemaConverter } from './openapi.js';

function kind(k: Partial<KindDefinition> & Pick<KindDefinition, 'group' | 'version' | 'kind' | 'plural' | 'schema'>): KindDefinition {
  return {
    singular: k.kind.toLowerCase(),
    namespaced: true,
    shortNames: [],
    categories: [],
    hasStatusSubresource: false,
    default: (o) => o,
    validate: () => [],
    validateUpdate: () => [],
    ...k,
  };
}

const container = obj(
  {
    name: str('Name of the container.'),
    image: str(),
    ports: listByKey(obj({ containerPort: int(), protocol: str() }), 'containerPort'),
    resources: obj({ limits: mapOf(quantity()) }),
  },
  { required: ['name'] },
);
const podSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    spec: obj(
      {
        containers: listByKey(container, 'name', 'List of containers belonging to the pod.'),
        nodeSelector: mapOf(str()),
        restartPolicy: { type: 'string', enum: ['Always', 'OnFailure', 'Never'] },
      },
      { required: ['containers'] },
    ),
    status: obj({ phase: str(), startTime: time() }),
  },
  { description: 'Pod is a collection of containers.' },
);
const pod = kind({ group: '', version: 'v1', kind: 'Pod', plural: 'pods', schema: podSchema });
const namespace = kind({
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  namespaced: false,
  schema: obj({ ...typeMetaFields, metadata: objectMetaSchema, spec: obj({ finalizers: setOf(str()) }) }),
});
const deployment = kind({
  group: 'apps',
  version: 'v1',
  kind: 'Deployment',
  plural: 'deployments',
  schema: obj({
    ...typeMetaFields,
    metadata: objectMetaSchema,
    spec: obj({
      replicas: int(),
      selector: labelSelectorSchema,
      strategy: obj({ rollingUpdate: obj({ maxSurge: intOrString('Extra pods allowed.') }) }, { retainKeys: true }),
    }),
  }),
});

const resources: ServedResource[] = [
  { def: pod, subresources: ['status', 'binding', 'log', 'exec'] },
  { def: namespace, subresources: ['status', 'finalize'] },
  { def: deployment, subresources: ['status', 'scale'] },
];

function doc(group: string, version: string, rs: readonly ServedResource[] = resources): OpenAPIV3Document {
  const d = buildOpenAPIV3GroupVersion(rs, group, version);
  if (!d) throw new Error(`no document for ${group}/${version}`);
  return d;
}

const asObj = (v: JsonValue | undefined): JsonObject => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {});

/** Follows `$ref` and single-element `allOf` as kubectl's explain and strategic-merge code do. */
function resolve(d: OpenAPIV3Document, s: JsonValue | undefined): JsonObject {
  let cur = asObj(s);
  for (;;) {
    const all = cur.allOf;
    if (Array.isArray(all) && all.length === 1) cur = asObj(all[0]);
    else if (typeof cur.$ref === 'string') cur = d.components.schemas[cur.$ref.replace('#/components/schemas/', '')] ?? {};
    else return cur;
  }
}

function field(d: OpenAPIV3Document, root: string, ...path: string[]): JsonObject {
  let cur: JsonObject = d.components.schemas[root] ?? {};
  for (const p of path) cur = p === '[]' ? resolve(d, cur.items) : asObj(asObj(resolve(d, cur).properties)[p]);
  return cur;
}

describe('component names', () => {
  it.each<[string, string, string, string]>([
    ['', 'v1', 'Pod', 'io.k8s.api.core.v1.Pod'],
    ['apps', 'v1', 'Deployment', 'io.k8s.api.apps.v1.Deployment'],
    ['discovery.k8s.io', 'v1', 'EndpointSlice', 'io.k8s.api.discovery.v1.EndpointSlice'],
    ['coordination.k8s.io', 'v1', 'Lease', 'io.k8s.api.coordination.v1.Lease'],
    ['events.k8s.io', 'v1', 'Event', 'io.k8s.api.events.v1.Event'],
    ['rbac.authorization.k8s.io', 'v1', 'Role', 'io.k8s.api.rbac.v1.Role'],
    ['apiextensions.k8s.io', 'v1', 'CustomResourceDefinition', 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinition'],
    ['example.com', 'v1alpha1', 'Widget', 'com.example.v1alpha1.Widget'],
  ])('%s/%s %s -> %s', (group, version, k, expected) => {
    expect(componentName({ group, version, kind: k })).toBe(expected);
  });
});

describe('schema conversion', () => {
  const convert = (s: Schema): JsonObject => new SchemaConverter().convert(s);

  it('turns a keyed list into a merge list with patch and list-map markers', () => {
    expect(convert(listByKey(obj({ name: str(), value: str() }), 'name', 'Env vars.'))).toEqual({
      description: 'Env vars.',
      type: 'array',
      items: { type: 'object', properties: { name: { type: 'string' }, value: { type: 'string' } } },
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['name'],
    });
  });

  it.each<[string, Schema, JsonObject]>([
    ['a merged scalar list is a set', setOf(str()), { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'merge', 'x-kubernetes-list-type': 'set' }],
    ['a replaced list is atomic', arrayOf(str(), { strategy: 'replace' }), { type: 'array', items: { type: 'string' }, 'x-kubernetes-patch-strategy': 'replace', 'x-kubernetes-list-type': 'atomic' }],
    ['a plain list has no markers', arrayOf(int()), { type: 'array', items: { type: 'integer' } }],
    ['a map has additionalProperties', mapOf(str(), 'Labels.'), { description: 'Labels.', type: 'object', additionalProperties: { type: 'string' } }],
    ['any value preserves unknown fields', anyValue('Raw.'), { description: 'Raw.', 'x-kubernetes-preserve-unknown-fields': true }],
    ['a timestamp is a date-time string', time(), { type: 'string', format: 'date-time' }],
    ['bytes are base64 strings', { type: 'bytes' }, { type: 'string', format: 'byte' }],
    ['a number is a double', { type: 'number' }, { type: 'number', format: 'double' }],
    ['a boolean', bool('On?'), { description: 'On?', type: 'boolean' }],
    ['an enum keeps its values', { type: 'string', enum: ['A', 'B'] }, { type: 'string', enum: ['A', 'B'] }],
    ['a quantity refers to Quantity', quantity(), { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' }],
    [
      'a described int-or-string wraps the reference',
      intOrString('Port.'),
      { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString' }], description: 'Port.' },
    ],
  ])('%s', (_name, s, expected) => {
    expect(convert(s)).toEqual(expected);
  });

  it('defines IntOrString as upstream: either type, flagged int-or-string', () => {
    const conv = new SchemaConverter();
    conv.convert(intOrString());
    expect(conv.components.get('io.k8s.apimachinery.pkg.util.intstr.IntOrString')).toMatchObject({
      oneOf: [{ type: 'integer' }, { type: 'string' }],
      'x-kubernetes-int-or-string': true,
    });
  });

  it('keeps required fields and marks retainKeys structs on the property', () => {
    const s = obj({ strategy: obj({ type: str() }, { retainKeys: true }) }, { required: ['strategy'] });
    const out = convert(s);
    expect(out.required).toEqual(['strategy']);
    expect(asObj(asObj(out.properties).strategy)['x-kubernetes-patch-strategy']).toBe('retainKeys');
  });

  it('refers to the shared meta types instead of inlining them', () => {
    const conv = new SchemaConverter();
    const out = conv.convert(obj({ metadata: objectMetaSchema, selector: labelSelectorSchema }));
    const props = asObj(out.properties);
    expect(props.metadata).toEqual({ allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: 'Standard object metadata.' });
    expect(props.selector).toEqual({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector' });
    expect([...conv.components.keys()]).toEqual(
      expect.arrayContaining(['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', 'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference']),
    );
    // ownerReferences keep their merge key through the reference.
    const owners = asObj(asObj(conv.components.get('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')?.properties).ownerReferences);
    expect(owners['x-kubernetes-patch-merge-key']).toBe('uid');
  });

  it('stops at a schema that contains itself', () => {
    const node: ObjectSchema = obj({ value: str(), children: arrayOf(() => node) });
    const out = convert(node);
    const child = asObj(asObj(asObj(out.properties).children).items);
    expect(child).toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
  });
});

describe('group-version document', () => {
  const core = doc('', 'v1');
  const apps = doc('apps', 'v1');

  it('is an OpenAPI 3.0 document for the served group-version only', () => {
    expect(core.openapi).toBe('3.0.0');
    expect(core.info.title).toBe('Kubernetes');
    expect(Object.keys(core.paths).every((p) => p.startsWith('/api/v1/'))).toBe(true);
    expect(buildOpenAPIV3GroupVersion(resources, 'apps', 'v1beta1')).toBeUndefined();
  });

  it('has collection, item, all-namespaces and subresource paths', () => {
    expect(Object.keys(core.paths).sort()).toEqual([
      '/api/v1/namespaces',
      '/api/v1/namespaces/{name}',
      '/api/v1/namespaces/{name}/finalize',
      '/api/v1/namespaces/{name}/status',
      '/api/v1/namespaces/{namespace}/pods',
      '/api/v1/namespaces/{namespace}/pods/{name}',
      '/api/v1/namespaces/{namespace}/pods/{name}/binding',
      '/api/v1/namespaces/{namespace}/pods/{name}/exec',
      '/api/v1/namespaces/{namespace}/pods/{name}/log',
      '/api/v1/namespaces/{namespace}/pods/{name}/status',
      '/api/v1/pods',
    ].sort());
  });

  it('offers the operations the verbs allow, tagged with action and kind', () => {
    const methods = (p: string): string[] => Object.keys(core.paths[p] ?? {}).filter((k) => k !== 'parameters');
    expect(methods('/api/v1/namespaces/{namespace}/pods')).toEqual(['get', 'post', 'delete']);
    expect(methods('/api/v1/namespaces/{namespace}/pods/{name}')).toEqual(['get', 'put', 'patch', 'delete']);
    expect(methods('/api/v1/namespaces')).toEqual(['get', 'post']); // no deletecollection of namespaces
    expect(methods('/api/v1/namespaces/{name}/finalize')).toEqual(['put']);
    expect(methods('/api/v1/namespaces/{namespace}/pods/{name}/binding')).toEqual(['post']);
    expect(methods('/api/v1/namespaces/{namespace}/pods/{name}/exec')).toEqual(['get', 'post']);
    const patch = asObj(core.paths['/api/v1/namespaces/{namespace}/pods/{name}']?.patch);
    expect(patch.operationId).toBe('patchCoreV1NamespacedPod');
    expect(patch['x-kubernetes-action']).toBe('patch');
    expect(patch['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'Pod', version: 'v1' });
    const list = asObj(core.paths['/api/v1/pods']?.get);
    expect(list.operationId).toBe('listCoreV1PodForAllNamespaces');
    expect(list['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'PodList', version: 'v1' });
    const exec = asObj(core.paths['/api/v1/namespaces/{namespace}/pods/{name}/exec']?.post);
    expect(exec['x-kubernetes-action']).toBe('connect');
    expect(exec['x-kubernetes-group-version-kind']).toEqual({ group: '', kind: 'PodExecOptions', version: 'v1' });
  });

  it('declares fieldValidation on every PATCH, POST and PUT, as kubectl looks for it (QueryParamVerifierV3)', () => {
    for (const d of [core, apps]) {
      for (const [path, item] of Object.entries(d.paths)) {
        for (const method of ['patch', 'post', 'put']) {
          const op = asObj(item[method]);
          if (Object.keys(op).length === 0 || op['x-kubernetes-action'] === 'connect') continue;
          const params = (Array.isArray(op.parameters) ? op.parameters : []).map(asObj);
          expect(params.some((p) => p.name === 'fieldValidation' && p.in === 'query'), `${method} ${path}`).toBe(true);
          expect(params.some((p) => p.name === 'dryRun'), `${method} ${path}`).toBe(true);
          expect(params.some((p) => p.name === 'fieldManager'), `${method} ${path}`).toBe(true);
        }
      }
    }
  });

  it('accepts strategic merge patches, which client-side apply checks before using the schema', () => {
    const patch = asObj(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}']?.patch);
    expect(Object.keys(asObj(asObj(patch.requestBody).content))).toEqual([
      'application/apply-patch+yaml',
      'application/json-patch+json',
      'application/merge-patch+json',
      'application/strategic-merge-patch+json',
    ]);
  });

  it('gives every kind a component tagged with its GVK, and a list component', () => {
    expect(core.components.schemas['io.k8s.api.core.v1.Pod']?.['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Pod', version: 'v1' }]);
    expect(core.components.schemas['io.k8s.api.core.v1.Pod']?.description).toBe('Pod is a collection of containers.');
    const list = core.components.schemas['io.k8s.api.core.v1.PodList'];
    expect(list?.['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'PodList', version: 'v1' }]);
    expect(asObj(asObj(list?.properties).items).items).toEqual({ $ref: '#/components/schemas/io.k8s.api.core.v1.Pod' });
  });

  it('carries merge keys down the kind schema for kubectl apply', () => {
    const containers = field(core, 'io.k8s.api.core.v1.Pod', 'spec', 'containers');
    expect(containers['x-kubernetes-patch-merge-key']).toBe('name');
    expect(containers['x-kubernetes-patch-strategy']).toBe('merge');
    expect(field(core, 'io.k8s.api.core.v1.Pod', 'spec', 'containers', '[]', 'ports')['x-kubernetes-patch-merge-key']).toBe('containerPort');
    expect(field(core, 'io.k8s.api.core.v1.Pod', 'metadata', 'finalizers')['x-kubernetes-list-type']).toBe('set');
    expect(field(core, 'io.k8s.api.core.v1.Pod', 'spec').required).toEqual(['containers']);
    expect(field(apps, 'io.k8s.api.apps.v1.Deployment', 'spec', 'strategy')['x-kubernetes-patch-strategy']).toBe('retainKeys');
  });

  it('lets explain find the kind from the collection path and walk to nested fields', () => {
    const gvk = asObj(core.paths['/api/v1/namespaces/{namespace}/pods']?.post)['x-kubernetes-group-version-kind'];
    const found = Object.values(core.components.schemas).filter((s) =>
      (Array.isArray(s['x-kubernetes-group-version-kind']) ? s['x-kubernetes-group-version-kind'] : []).some(
        (g) => JSON.stringify(g) === JSON.stringify(gvk),
      ),
    );
    expect(found).toHaveLength(1);
    expect(field(core, 'io.k8s.api.core.v1.Pod', 'spec', 'containers').description).toBe('List of containers belonging to the pod.');
    expect(field(core, 'io.k8s.api.core.v1.Pod', 'metadata', 'labels').additionalProperties).toEqual({ type: 'string' });
  });

  it('includes the shared meta schemas and Scale for the scale subresource', () => {
    for (const name of ['ObjectMeta', 'ListMeta', 'Status', 'DeleteOptions', 'WatchEvent', 'Patch']) {
      expect(apps.components.schemas[`io.k8s.apimachinery.pkg.apis.meta.v1.${name}`], name).toBeDefined();
    }
    expect(apps.components.schemas['io.k8s.api.autoscaling.v1.Scale']?.['x-kubernetes-group-version-kind']).toEqual([
      { group: 'autoscaling', kind: 'Scale', version: 'v1' },
    ]);
    const scalePatch = asObj(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']?.patch);
    expect(scalePatch['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', kind: 'Scale', version: 'v1' });
    expect(core.components.schemas['io.k8s.api.autoscaling.v1.Scale']).toBeUndefined();
  });

  it('resolves every $ref inside the document', () => {
    for (const d of [core, apps]) {
      const refs = JSON.stringify(d).match(/"\$ref":"#\/components\/schemas\/[^"]+"/g) ?? [];
      expect(refs.length).toBeGreaterThan(0);
      for (const r of refs) expect(d.components.schemas[r.slice('"$ref":"#/components/schemas/'.length, -1)], r).toBeDefined();
    }
  });
});

describe('root document', () => {
  it('lists each group-version with a hashed URL', () => {
    const root = buildOpenAPIV3Root(resources);
    expect(Object.keys(root.paths)).toEqual(['api/v1', 'apis/apps/v1']);
    expect(root.paths['apis/apps/v1']?.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  });

  it('keeps the hash for the same resources and changes it when a schema changes', () => {
    const again: ServedResource[] = [...resources];
    expect(buildOpenAPIV3Root(again).paths['api/v1']).toEqual(buildOpenAPIV3Root(resources).paths['api/v1']);
    const changed: ServedResource[] = [
      { def: { ...pod, schema: obj({ ...podSchema.fields, extra: str() }) }, subresources: ['status'] },
      ...resources.slice(1),
    ];
    expect(buildOpenAPIV3Root(changed).paths['api/v1']).not.toEqual(buildOpenAPIV3Root(resources).paths['api/v1']);
    expect(buildOpenAPIV3Root(changed).paths['apis/apps/v1']).toEqual(buildOpenAPIV3Root(resources).paths['apis/apps/v1']);
  });
});
