/**
 * core/v1 Namespace (shortName `ns`, cluster-scoped, status subresource). On create the `kubernetes`
 * finalizer is added to spec.finalizers and status.phase is Active; the namespace controller removes the
 * finalizer (through the finalize subresource) once the namespace is empty. Defaulting tells a create
 * from an update by the absent status: the apiserver drops status on create and carries it on update,
 * so the finalizer is never re-added to a namespace being finalized.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, notSupported } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { Condition, KubeObject, ObjectMeta } from '../meta.js';
import { conditionFields, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, listByKey, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { isDNS1123Label } from '../names.js';
import { validateFinalizers, validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { enumOf } from './container-schema.js';

export type NamespacePhase = 'Active' | 'Terminating';
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';
export const FINALIZER_KUBERNETES = 'kubernetes';

export interface Namespace extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Namespace';
  readonly metadata: ObjectMeta;
  readonly spec?: { readonly finalizers?: readonly string[] };
  readonly status?: { readonly phase?: NamespacePhase; readonly conditions?: readonly Condition[] };
}

export const namespaceSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({ finalizers: arrayOf(str(), { description: 'Must be empty before the namespace is removed.' }) }),
  status: obj({
    phase: enumOf(['Active', 'Terminating']),
    conditions: listByKey(obj(conditionFields, { required: ['type', 'status'] }), 'type'),
  }),
});

export function defaultNamespace(ns: Namespace): Namespace {
  const name = ns.metadata.name ?? '';
  // upstream keeps this label equal to the name on every write, so selectors can pick namespaces by name
  const labels = name !== '' ? { ...(ns.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name } : ns.metadata.labels;
  const out: Namespace = { ...ns, metadata: { ...ns.metadata, ...(labels ? { labels } : {}) } };
  if (ns.status !== undefined) return out;
  const finalizers = ns.spec?.finalizers ?? [];
  return {
    ...out,
    spec: { ...ns.spec, finalizers: finalizers.includes(FINALIZER_KUBERNETES) ? finalizers : [...finalizers, FINALIZER_KUBERNETES] },
    status: { phase: 'Active' },
  };
}

function validateNamespaceBody(ns: Namespace): FieldError[] {
  const errs: FieldError[] = [];
  const fp = FieldPath.root('spec').child('finalizers');
  errs.push(...validateFinalizers(ns.spec?.finalizers, fp));
  errs.push(...validateKubeFinalizerNames(ns.spec?.finalizers, fp));
  const phase = ns.status?.phase;
  // upstream spells this path with a capital P
  const phasePath = FieldPath.root('status').child('Phase');
  if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating') errs.push(notSupported(phasePath, phase, ['Active', 'Terminating']));
  // Upstream also insists on Terminating once deletionTimestamp is set; here the delete path marks the
  // namespace and the namespace controller flips the phase a moment later, so Active stays accepted then.
  else if (ns.metadata.deletionTimestamp === undefined && phase === 'Terminating') {
    errs.push(invalid(phasePath, phase, "may only be 'Active' if `deletionTimestamp` is empty"));
  }
  return errs;
}

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateNamespace(ns: Namespace): FieldError[] {
  return [
    ...validateObjectMeta(ns.metadata, { namespaced: false, nameValidator: isDNS1123Label }),
    ...validateKubeFinalizerNames(ns.metadata.finalizers, finalizersPath),
    ...validateNamespaceBody(ns),
  ];
}

export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ns.metadata, old.metadata),
    ...validateKubeFinalizerNames(ns.metadata.finalizers, finalizersPath),
    ...validateNamespaceBody(ns),
  ];
}

export const namespaceKind: KindDefinition<Namespace> = {
  group: '',
  version: 'v1',
  kind: 'Namespace',
  plural: 'namespaces',
  singular: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  categories: [],
  schema: namespaceSchema,
  hasStatusSubresource: true,
  default: defaultNamespace,
  validate: validateNamespace,
  validateUpdate: validateNamespaceUpdate,
  selectableFields: (ns) => ({ 'status.phase': ns.status?.phase ?? '' }),
};
