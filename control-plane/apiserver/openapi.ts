/**
 * OpenAPI v3 documents as kubectl 1.32 reads them:
 *
 *  GET /openapi/v3                    -> { paths: { 'api/v1': { serverRelativeURL: '/openapi/v3/api/v1?hash=…' } } }
 *  GET /openapi/v3/apis/<g>/<v>?hash= -> one document per group-version: paths + components.schemas
 *
 * What kubectl does with them, and so what must be right here:
 *  - field validation discovery (QueryParamVerifierV3): for a GVK it walks `paths`, takes the first PATCH
 *    operation whose `x-kubernetes-group-version-kind` is that GVK and looks for a `fieldValidation`
 *    query parameter on that very operation. Map order is random there, so every PATCH operation
 *    (subresources included) carries the parameter inline.
 *  - `kubectl explain`: finds the GVK on a GET/POST/PUT/PATCH/DELETE of the resource's collection or item
 *    path, then the component schema whose `x-kubernetes-group-version-kind` array contains it, then
 *    follows `properties`, `items`, `additionalProperties`, `allOf` and `$ref`.
 *  - client-side `kubectl apply`: builds the strategic merge patch from the component schema's
 *    `x-kubernetes-patch-merge-key`/`x-kubernetes-patch-strategy`, if the PATCH operation accepts
 *    `application/strategic-merge-patch+json`.
 *
 * Schemas come from each kind's `Schema` (api/schema.ts), converted by SchemaConverter (openapi-schema.ts,
 * which decides what is inlined and what becomes a shared component); this file adds the shared meta/v1
 * and autoscaling/v1 components, the paths and their operations, and memoizes the documents.
 *
 * Cost model: a document is linear in the size of its kinds' schemas (tens of KB for core/v1). Documents
 * and their hashes are memoized per `resources` array, so the root and the group-version documents are
 * built once and always agree (the hash in the root is the hash of the document served).
 */
import { createHash } from 'node:crypto';
import type { KindDefinition } from '../../api/kind.js';
import { listMetaSchema, objectMetaSchema, typeMetaFields } from '../../api/meta-schema.js';
import type { ObjectSchema } from '../../api/schema.js';
import { anyValue, arrayOf, bool, int, obj, str } from '../../api/schema.js';
import type { JsonValue } from '../../lib/json.js';
import type { GroupVersionKind, ServedResource } from './discovery.js';
import { KNODE_GIT_VERSION, resourceVerbs, servedGroupVersions, subresourceInfo } from './discovery.js';
import type { JsonObject } from './openapi-schema.js';
import { componentRef, META, SchemaConverter } from './openapi-schema.js';

export type { JsonObject } from './openapi-schema.js';
export { SchemaConverter } from './openapi-schema.js';

export interface OpenAPIV3Root {
  readonly paths: Readonly<Record<string, { readonly serverRelativeURL: string }>>;
}

export interface OpenAPIV3Document {
  readonly openapi: '3.0.0';
  readonly info: { readonly title: string; readonly version: string };
  readonly paths: Readonly<Record<string, JsonObject>>;
  readonly components: { readonly schemas: Readonly<Record<string, JsonObject>> };
}

// ---------------------------------------------------------------------------------------------------
// Names

/** Go package prefixes upstream's schema names use for groups that do not follow `io.k8s.api.<name>`. */
const GROUP_PACKAGES: Readonly<Record<string, string>> = {
  '': 'io.k8s.api.core',
  'apiextensions.k8s.io': 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions',
  'apiregistration.k8s.io': 'io.k8s.kube-aggregator.pkg.apis.apiregistration',
  'internal.apiserver.k8s.io': 'io.k8s.api.apiserverinternal',
};

/** `io.k8s.api.core.v1.Pod`, `io.k8s.api.apps.v1.Deployment`, `io.k8s.api.discovery.v1.EndpointSlice`. */
export function componentName(gvk: GroupVersionKind): string {
  const g = gvk.group;
  const pkg =
    GROUP_PACKAGES[g] ??
    (!g.includes('.') || g.endsWith('.k8s.io') ? `io.k8s.api.${g.split('.')[0] ?? g}` : g.split('.').reverse().join('.'));
  return `${pkg}.${gvk.version}.${gvk.kind}`;
}

const gvkOf = (def: KindDefinition, kind = def.kind): GroupVersionKind => ({ group: def.group, version: def.version, kind });
const gvkJson = (g: GroupVersionKind): JsonObject => ({ group: g.group, kind: g.kind, version: g.version });

// ---------------------------------------------------------------------------------------------------
// Shared components

// Shared meta/v1 and autoscaling/v1 schemas every group-version document references.
const statusSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: listMetaSchema,
    status: str('Status of the operation: "Success" or "Failure".'),
    message: str('A human-readable description of the status of this operation.'),
    reason: str('A machine-readable description of why this operation is in the "Failure" status.'),
    details: obj({
      name: str(),
      group: str(),
      kind: str(),
      uid: str(),
      causes: arrayOf(obj({ reason: str(), message: str(), field: str() })),
      retryAfterSeconds: int(),
    }),
    code: int('Suggested HTTP return code for this status, 0 if not set.'),
  },
  { description: 'Status is the return value for calls that do not return other objects.' },
);
const deleteOptionsSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    gracePeriodSeconds: int('Seconds before the object should be deleted.'),
    preconditions: obj({ uid: str(), resourceVersion: str() }),
    orphanDependents: bool('Deprecated: use propagationPolicy.'),
    propagationPolicy: str('Whether and how garbage collection is performed: Orphan, Background or Foreground.'),
    dryRun: arrayOf(str()),
    ignoreStoreReadErrorWithClusterBreakingPotential: bool(),
  },
  { description: 'DeleteOptions may be provided when deleting an API object.' },
);
const watchEventSchema: ObjectSchema = obj(
  { type: str('ADDED, MODIFIED, DELETED, BOOKMARK or ERROR.'), object: anyValue('The object, or a Status for ERROR.') },
  { description: 'Event represents a single event to a watched resource.', required: ['type', 'object'] },
);
const scaleSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    spec: obj({ replicas: int('Desired number of instances for the scaled object.') }),
    status: obj(
      {
        replicas: int('Actual number of observed instances of the scaled object.'),
        selector: str('Label query over pods that should match the replicas count, in string form.'),
      },
      { required: ['replicas'] },
    ),
  },
  { description: 'Scale represents a scaling request for a resource.' },
);
const SCALE: GroupVersionKind = { group: 'autoscaling', version: 'v1', kind: 'Scale' };

// ---------------------------------------------------------------------------------------------------
// Paths and operations

const param = (name: string, type: 'string' | 'integer' | 'boolean', description: string): JsonObject => ({
  name,
  in: 'query',
  description,
  schema: { type, uniqueItems: true },
});
const P = {
  pretty: param('pretty', 'string', "If 'true', the output is pretty printed."),
  dryRun: param('dryRun', 'string', 'When present, modifications are not persisted. Valid value: All.'),
  fieldManager: param('fieldManager', 'string', 'A name associated with the actor or entity making these changes.'),
  fieldValidation: param(
    'fieldValidation',
    'string',
    'How the server responds to unknown or duplicate fields in the request: Ignore, Warn (the default) or Strict.',
  ),
  force: param('force', 'boolean', 'Force an Apply request to take ownership of conflicting fields.'),
  gracePeriodSeconds: param('gracePeriodSeconds', 'integer', 'Seconds before the object should be deleted.'),
  orphanDependents: param('orphanDependents', 'boolean', 'Deprecated: use propagationPolicy.'),
  propagationPolicy: param('propagationPolicy', 'string', 'Orphan, Background or Foreground.'),
  ignoreStoreReadError: param('ignoreStoreReadErrorWithClusterBreakingPotential', 'boolean', 'Delete objects that cannot be read.'),
  allowWatchBookmarks: param('allowWatchBookmarks', 'boolean', 'Ask for BOOKMARK watch events.'),
  continue: param('continue', 'string', 'The continue token of a previous paginated list.'),
  fieldSelector: param('fieldSelector', 'string', 'Restrict the returned objects by their fields.'),
  labelSelector: param('labelSelector', 'string', 'Restrict the returned objects by their labels.'),
  limit: param('limit', 'integer', 'Maximum number of objects to return in one page.'),
  resourceVersion: param('resourceVersion', 'string', 'Which resource versions the request may be served from.'),
  resourceVersionMatch: param('resourceVersionMatch', 'string', 'How resourceVersion is applied: Exact or NotOlderThan.'),
  sendInitialEvents: param('sendInitialEvents', 'boolean', 'Start a watch with synthetic events for the current state.'),
  timeoutSeconds: param('timeoutSeconds', 'integer', 'Timeout for the list or watch call.'),
  watch: param('watch', 'boolean', 'Watch for changes instead of listing.'),
};
const pathParam = (name: 'name' | 'namespace', description: string): JsonObject => ({
  name,
  in: 'path',
  description,
  required: true,
  schema: { type: 'string', uniqueItems: true },
});

const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const LIST_PARAMS = [
  P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit,
  P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch,
];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const PATCH_TYPES = [
  'application/apply-patch+yaml',
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
];
const CONNECT_PARAMS: Readonly<Record<string, readonly JsonObject[]>> = {
  exec: ['command', 'container', 'stderr', 'stdin', 'stdout', 'tty'].map((n) =>
    param(n, n === 'command' || n === 'container' ? 'string' : 'boolean', `The ${n} option of the exec call.`),
  ),
  attach: ['container', 'stderr', 'stdin', 'stdout', 'tty'].map((n) =>
    param(n, n === 'container' ? 'string' : 'boolean', `The ${n} option of the attach call.`),
  ),
  portforward: [param('ports', 'integer', 'The pod ports to forward.')],
  proxy: [param('path', 'string', 'Path to the resource.')],
};

const body = (schema: JsonObject, description: string): JsonObject => ({
  description,
  content: { 'application/json': { schema }, 'application/yaml': { schema } },
});

/** `Core`, `Apps`, `RbacAuthorization`: the group as upstream spells it inside operation ids. */
function groupWord(group: string): string {
  if (group === '') return 'Core';
  return group
    .replace(/\.k8s\.io$/, '')
    .split('.')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

interface OpContext {
  readonly def: KindDefinition;
  readonly tag: string;
  /** e.g. `CoreV1Namespaced` for namespaced core resources, `AppsV1` for cluster-scoped apps ones. */
  readonly idPrefix: string;
  readonly schemaOf: (gvk: GroupVersionKind) => JsonObject;
}

function operation(
  ctx: OpContext,
  action: string,
  idVerb: string,
  idSuffix: string,
  description: string,
  gvk: GroupVersionKind,
  parts: { params?: readonly JsonObject[]; request?: JsonObject; responses: JsonObject },
): JsonObject {
  return {
    tags: [ctx.tag],
    description,
    operationId: `${idVerb}${ctx.idPrefix}${idSuffix}`,
    ...(parts.params && parts.params.length > 0 ? { parameters: [...parts.params] } : {}),
    ...(parts.request ? { requestBody: parts.request } : {}),
    responses: { ...parts.responses, '401': { description: 'Unauthorized' } },
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': gvkJson(gvk),
  };
}

function writeOps(ctx: OpContext, gvk: GroupVersionKind, idSuffix: string, what: string, verbs: readonly string[]): JsonObject {
  const schema = ctx.schemaOf(gvk);
  const ops: JsonObject = {};
  if (verbs.includes('get')) {
    ops.get = operation(ctx, 'get', 'read', idSuffix, `read ${what}`, gvk, { responses: { '200': body(schema, 'OK') } });
  }
  if (verbs.includes('update')) {
    ops.put = operation(ctx, 'put', 'replace', idSuffix, `replace ${what}`, gvk, {
      params: WRITE_PARAMS,
      request: { content: { '*/*': { schema } }, required: true },
      responses: { '200': body(schema, 'OK'), '201': body(schema, 'Created') },
    });
  }
  if (verbs.includes('patch')) {
    const patchSchema = componentRef(`${META}.Patch`);
    ops.patch = operation(ctx, 'patch', 'patch', idSuffix, `partially update ${what}`, gvk, {
      params: [...WRITE_PARAMS, P.force],
      request: { content: Object.fromEntries(PATCH_TYPES.map((t) => [t, { schema: patchSchema }])), required: true },
      responses: { '200': body(schema, 'OK'), '201': body(schema, 'Created') },
    });
  }
  return ops;
}

function resourcePaths(def: KindDefinition, subresources: readonly string[], schemaOf: OpContext['schemaOf']): Record<string, JsonObject> {
  const prefix = def.group === '' ? `/api/${def.version}` : `/apis/${def.group}/${def.version}`;
  const gv = `${groupWord(def.group)}${def.version.charAt(0).toUpperCase()}${def.version.slice(1)}`;
  const ctx: OpContext = {
    def,
    tag: `${groupWord(def.group).charAt(0).toLowerCase()}${groupWord(def.group).slice(1)}_${def.version}`,
    idPrefix: def.namespaced ? `${gv}Namespaced` : gv,
    schemaOf,
  };
  const verbs = resourceVerbs(def);
  const kind = gvkOf(def);
  const listKind = gvkOf(def, `${def.kind}List`);
  const status = componentRef(`${META}.Status`);
  const scopeParams = def.namespaced ? [pathParam('namespace', 'object name and auth scope, such as for teams and projects')] : [];
  const base = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.plural}` : `${prefix}/${def.plural}`;
  const paths: Record<string, JsonObject> = {};

  const collection: JsonObject = {};
  if (verbs.includes('list')) {
    collection.get = operation(ctx, 'list', 'list', def.kind, `list or watch objects of kind ${def.kind}`, listKind, {
      params: LIST_PARAMS,
      responses: { '200': body(schemaOf(listKind), 'OK') },
    });
  }
  if (verbs.includes('create')) {
    collection.post = operation(ctx, 'post', 'create', def.kind, `create a ${def.kind}`, kind, {
      params: WRITE_PARAMS,
      request: { content: { '*/*': { schema: schemaOf(kind) } }, required: true },
      responses: { '200': body(schemaOf(kind), 'OK'), '201': body(schemaOf(kind), 'Created'), '202': body(schemaOf(kind), 'Accepted') },
    });
  }
  if (verbs.includes('deletecollection')) {
    collection.delete = operation(ctx, 'deletecollection', 'deleteCollection', def.kind, `delete collection of ${def.kind}`, kind, {
      params: [...DELETE_PARAMS, ...LIST_PARAMS.filter((p) => p.name !== 'watch' && p.name !== 'allowWatchBookmarks')],
      request: { content: { '*/*': { schema: componentRef(`${META}.DeleteOptions`) } } },
      responses: { '200': body(status, 'OK') },
    });
  }
  if (Object.keys(collection).length > 0) paths[base] = { ...collection, parameters: [...scopeParams, P.pretty] };

  const item: JsonObject = writeOps(ctx, kind, def.kind, `the specified ${def.kind}`, verbs);
  if (verbs.includes('delete')) {
    item.delete = operation(ctx, 'delete', 'delete', def.kind, `delete a ${def.kind}`, kind, {
      params: DELETE_PARAMS,
      request: { content: { '*/*': { schema: componentRef(`${META}.DeleteOptions`) } } },
      responses: { '200': body(schemaOf(kind), 'OK'), '202': body(schemaOf(kind), 'Accepted') },
    });
  }
  const nameParam = pathParam('name', `name of the ${def.kind}`);
  if (Object.keys(item).length > 0) paths[`${base}/{name}`] = { ...item, parameters: [nameParam, ...scopeParams, P.pretty] };

  if (def.namespaced && verbs.includes('list')) {
    const allCtx: OpContext = { ...ctx, idPrefix: gv };
    paths[`${prefix}/${def.plural}`] = {
      get: operation(allCtx, 'list', 'list', `${def.kind}ForAllNamespaces`, `list or watch objects of kind ${def.kind}`, listKind, {
        params: LIST_PARAMS,
        responses: { '200': body(schemaOf(listKind), 'OK') },
      }),
      parameters: [P.pretty],
    };
  }

  for (const sub of subresources) {
    const info = subresourceInfo(def, sub);
    const suffix = `${def.kind}${sub.charAt(0).toUpperCase()}${sub.slice(1)}`;
    const ops = subresourceOps(ctx, sub, info.kind, info.verbs, suffix);
    paths[`${base}/{name}/${sub}`] = { ...ops, parameters: [pathParam('name', `name of the ${info.kind.kind}`), ...scopeParams, P.pretty] };
  }
  return paths;
}

function subresourceOps(ctx: OpContext, sub: string, gvk: GroupVersionKind, verbs: readonly string[], suffix: string): JsonObject {
  const text: JsonObject = { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } };
  const connect = CONNECT_PARAMS[sub];
  if (connect !== undefined) {
    const ops: JsonObject = {};
    const methods: ReadonlyArray<[string, string]> = [['get', 'get'], ['post', 'create'], ['put', 'update'], ['patch', 'patch'], ['delete', 'delete']];
    for (const [method, verb] of methods) {
      if (!verbs.includes(verb)) continue;
      const word = method.charAt(0).toUpperCase() + method.slice(1);
      ops[method] = operation(ctx, 'connect', `connect${word}`, suffix, `connect ${method.toUpperCase()} requests to ${sub} of ${ctx.def.kind}`, gvk, {
        params: connect,
        responses: { '200': text },
      });
    }
    return ops;
  }
  if (sub === 'log') {
    return {
      get: operation(ctx, 'get', 'read', suffix, `read log of the specified ${ctx.def.kind}`, gvk, {
        params: ['container', 'follow', 'previous', 'sinceSeconds', 'tailLines', 'timestamps', 'limitBytes'].map((n) =>
          param(n, n === 'container' ? 'string' : n === 'follow' || n === 'previous' || n === 'timestamps' ? 'boolean' : 'integer', `The ${n} log option.`),
        ),
        responses: { '200': text },
      }),
    };
  }
  if (verbs.length === 1 && verbs[0] === 'create') {
    const schema = ctx.schemaOf(gvk);
    return {
      post: operation(ctx, 'post', 'create', suffix, `create ${sub} of a ${ctx.def.kind}`, gvk, {
        params: WRITE_PARAMS,
        request: { content: { '*/*': { schema } }, required: true },
        responses: { '200': body(schema, 'OK'), '201': body(schema, 'Created'), '202': body(schema, 'Accepted') },
      }),
    };
  }
  return writeOps(ctx, gvk, suffix, `${sub} of the specified ${ctx.def.kind}`, verbs);
}

// ---------------------------------------------------------------------------------------------------
// Documents

function buildDocument(resources: readonly ServedResource[], group: string, version: string): OpenAPIV3Document | undefined {
  const served = resources.filter((r) => r.def.group === group && r.def.version === version);
  if (served.length === 0) return undefined;
  served.sort((a, b) => a.def.plural.localeCompare(b.def.plural));
  const conv = new SchemaConverter();
  const self: GroupVersionKind = { group, version, kind: '' };

  for (const { def } of served) defineKind(conv, def);
  // Always present, whatever the kinds reference: clients look these up by name.
  conv.convert(objectMetaSchema);
  conv.convert(listMetaSchema);
  conv.defineNamed(`${META}.Status`, statusSchema, { 'x-kubernetes-group-version-kind': [gvkJson({ group: '', version: 'v1', kind: 'Status' })] });
  conv.defineNamed(`${META}.DeleteOptions`, deleteOptionsSchema, { 'x-kubernetes-group-version-kind': metaKinds(self, 'DeleteOptions') });
  conv.defineNamed(`${META}.WatchEvent`, watchEventSchema, { 'x-kubernetes-group-version-kind': metaKinds(self, 'WatchEvent') });
  conv.components.set(`${META}.Patch`, { description: 'The body of a PATCH request, in the format its content type names.', type: 'object' });

  // Kinds of this group-version are all defined by now. A subresource speaking another kind gets a schema
  // too, so that every `$ref` resolves: Scale in full, option and request kinds as open objects.
  const schemaOf = (gvk: GroupVersionKind): JsonObject => {
    const name = componentName(gvk);
    if (!conv.components.has(name)) {
      const isScale = gvk.group === SCALE.group && gvk.version === SCALE.version && gvk.kind === SCALE.kind;
      if (isScale) conv.defineNamed(name, scaleSchema, { 'x-kubernetes-group-version-kind': [gvkJson(SCALE)] });
      else conv.components.set(name, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true, 'x-kubernetes-group-version-kind': [gvkJson(gvk)] });
    }
    return componentRef(name);
  };

  const paths: Record<string, JsonObject> = {};
  for (const { def, subresources } of served) Object.assign(paths, resourcePaths(def, subresources, schemaOf));
  const schemas = Object.fromEntries([...conv.components.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: KNODE_GIT_VERSION },
    paths,
    components: { schemas },
  };
}

function metaKinds(gv: GroupVersionKind, kind: string): JsonValue[] {
  const kinds = [gvkJson({ group: '', version: 'v1', kind })];
  if (gv.group !== '') kinds.push(gvkJson({ group: gv.group, version: gv.version, kind }));
  return kinds;
}

/** The kind's component and its list's, as upstream names and tags them. */
function defineKind(conv: SchemaConverter, def: KindDefinition): void {
  const kindName = componentName(gvkOf(def));
  // `metadata` is always the shared ObjectMeta, whatever the kind's author wrote for it.
  const top: ObjectSchema = { ...def.schema, fields: { ...def.schema.fields, metadata: objectMetaSchema } };
  conv.defineNamed(kindName, top, { 'x-kubernetes-group-version-kind': [gvkJson(gvkOf(def))] });
  const listKind = gvkOf(def, `${def.kind}List`);
  conv.components.set(componentName(listKind), {
    description: `${def.kind}List is a list of ${def.kind} objects.`,
    type: 'object',
    properties: {
      apiVersion: conv.property(typeMetaFields.apiVersion ?? str()),
      items: { description: `List of ${def.plural}.`, type: 'array', items: componentRef(kindName) },
      kind: conv.property(typeMetaFields.kind ?? str()),
      metadata: conv.property(listMetaSchema),
    },
    required: ['items'],
    'x-kubernetes-group-version-kind': [gvkJson(listKind)],
  });
}

const memo = new WeakMap<readonly ServedResource[], Map<string, { doc: OpenAPIV3Document; hash: string } | undefined>>();

function cached(resources: readonly ServedResource[], group: string, version: string): { doc: OpenAPIV3Document; hash: string } | undefined {
  let perSet = memo.get(resources);
  if (!perSet) {
    perSet = new Map();
    memo.set(resources, perSet);
  }
  const key = `${group}/${version}`;
  if (!perSet.has(key)) {
    const doc = buildDocument(resources, group, version);
    perSet.set(key, doc && { doc, hash: createHash('sha512').update(JSON.stringify(doc)).digest('hex').toUpperCase() });
  }
  return perSet.get(key);
}

/** `api/v1` or `apis/<group>/<version>`: the key of a group-version in the root document. */
export function openAPIV3Path(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** GET /openapi/v3: every served group-version with the URL (carrying a content hash) of its document. */
export function buildOpenAPIV3Root(resources: readonly ServedResource[]): OpenAPIV3Root {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of servedGroupVersions(resources)) {
    const entry = cached(resources, group, version);
    if (!entry) continue;
    const p = openAPIV3Path(group, version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=${entry.hash}` };
  }
  return { paths };
}

/**
 * GET /openapi/v3/api/v1 or /openapi/v3/apis/<group>/<version>; undefined when nothing is served there.
 * The result is shared between calls with the same `resources` array: do not mutate it.
 */
export function buildOpenAPIV3GroupVersion(
  resources: readonly ServedResource[],
  group: string,
  version: string,
): OpenAPIV3Document | undefined {
  return cached(resources, group, version)?.doc;
}
