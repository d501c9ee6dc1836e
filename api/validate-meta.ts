/**
 * Validation of ObjectMeta, shared by every kind (upstream apimachinery/pkg/api/validation/objectmeta.go):
 * name or generateName, name format (per kind), namespace presence and format, labels, annotations,
 * owner references, finalizers; and on update, the fields that never change after creation.
 *
 * Field paths and messages are upstream's, so `kubectl` users see `metadata.name: Invalid value: ...`.
 * Cost model: linear in the number of labels, annotations, owner references and finalizers.
 */
import type { FieldError } from './field-errors.js';
import { FieldPath, forbidden, invalid, required } from './field-errors.js';
import type { ObjectMeta, OwnerReference } from './meta.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, validateAnnotations, validateLabels } from './names.js';

export const FIELD_IMMUTABLE_MESSAGE = 'field is immutable';
export const NON_NEGATIVE_MESSAGE = 'must be greater than or equal to 0';

export interface ObjectMetaValidationOptions {
  readonly namespaced: boolean;
  /** Name format of the kind; DNS-1123 subdomain when absent (most kinds). */
  readonly nameValidator?: (name: string) => string[];
}

const metadataPath = (): FieldPath => FieldPath.root('metadata');

/** Upstream's maskTrailingDash: `web-` is a fine prefix, the generated suffix completes it. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

export function validateObjectMeta(
  meta: ObjectMeta,
  opts: ObjectMetaValidationOptions,
  path: FieldPath = metadataPath(),
): FieldError[] {
  const nameFn = opts.nameValidator ?? isDNS1123Subdomain;
  const errs: FieldError[] = [];
  const generateName = meta.generateName ?? '';
  if (generateName !== '') {
    for (const msg of nameFn(maskTrailingDash(generateName))) errs.push(invalid(path.child('generateName'), generateName, msg));
  }
  const name = meta.name ?? '';
  if (name === '') {
    // the apiserver fills the name from generateName before validation; a bare generateName still counts
    if (generateName === '') errs.push(required(path.child('name'), 'name or generateName is required'));
  } else {
    for (const msg of nameFn(name)) errs.push(invalid(path.child('name'), name, msg));
  }
  const namespace = meta.namespace ?? '';
  if (opts.namespaced) {
    if (namespace === '') errs.push(required(path.child('namespace')));
    else for (const msg of isDNS1123Label(namespace)) errs.push(invalid(path.child('namespace'), namespace, msg));
  } else if (namespace !== '') {
    errs.push(forbidden(path.child('namespace'), 'not allowed on this type'));
  }
  errs.push(...validateNonnegativeField(meta.generation, path.child('generation')));
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, path.child('finalizers')));
  return errs;
}

/**
 * Update rules: name, namespace, uid, creationTimestamp never change; no finalizer may be added once the
 * object is being deleted; generation never goes backwards. The new labels, annotations and owner
 * references are validated too, as upstream does, so kinds call this instead of validateObjectMeta.
 * An absent uid or creationTimestamp means "unchanged" (upstream copies them from the old object first).
 */
export function validateObjectMetaUpdate(meta: ObjectMeta, oldMeta: ObjectMeta, path: FieldPath = metadataPath()): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta.deletionTimestamp !== undefined) {
    errs.push(...validateNoNewFinalizers(meta.finalizers, oldMeta.finalizers, path.child('finalizers')));
  }
  if ((meta.generation ?? 0) < (oldMeta.generation ?? 0)) {
    errs.push(invalid(path.child('generation'), meta.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...validateImmutableField(meta.name ?? '', oldMeta.name ?? '', path.child('name')));
  errs.push(...validateImmutableField(meta.namespace ?? '', oldMeta.namespace ?? '', path.child('namespace')));
  if (meta.uid !== undefined) errs.push(...validateImmutableField(meta.uid, oldMeta.uid ?? '', path.child('uid')));
  if (meta.creationTimestamp !== undefined) {
    errs.push(...validateImmutableField(meta.creationTimestamp, oldMeta.creationTimestamp ?? '', path.child('creationTimestamp')));
  }
  errs.push(...validateLabels(meta.labels, path.child('labels')));
  errs.push(...validateAnnotations(meta.annotations, path.child('annotations')));
  errs.push(...validateOwnerReferences(meta.ownerReferences, path.child('ownerReferences')));
  errs.push(...validateFinalizers(meta.finalizers, path.child('finalizers')));
  return errs;
}

/** `field is immutable` when a scalar (or JSON-equal value) changed. */
export function validateImmutableField(value: unknown, old: unknown, path: FieldPath): FieldError[] {
  return jsonEqual(value, old) ? [] : [invalid(path, value, FIELD_IMMUTABLE_MESSAGE)];
}

export function validateNonnegativeField(value: number | undefined, path: FieldPath): FieldError[] {
  return value !== undefined && value < 0 ? [invalid(path, value, NON_NEGATIVE_MESSAGE)] : [];
}

/** Upstream reports owner-reference problems on the list path plus the field, without an index. */
export function validateOwnerReferences(refs: readonly OwnerReference[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  let firstController = '';
  for (const ref of refs ?? []) {
    const slash = ref.apiVersion.indexOf('/');
    const version = slash >= 0 ? ref.apiVersion.slice(slash + 1) : ref.apiVersion;
    const group = slash >= 0 ? ref.apiVersion.slice(0, slash) : '';
    if (version === '') errs.push(invalid(path.child('apiVersion'), ref.apiVersion, 'version must not be empty'));
    if (!ref.kind) errs.push(invalid(path.child('kind'), ref.kind, 'kind must not be empty'));
    if (!ref.name) errs.push(invalid(path.child('name'), ref.name, 'name must not be empty'));
    if (!ref.uid) errs.push(invalid(path.child('uid'), ref.uid, 'uid must not be empty'));
    // core/v1 Events are deleted by TTL, so nothing may hang off them
    if (group === '' && version === 'v1' && ref.kind === 'Event') {
      errs.push(invalid(path, ref, '/v1, Kind=Event is disallowed from being an owner'));
    }
    if (ref.controller === true) {
      const current = `${ref.kind}/${ref.name}`;
      if (firstController !== '') {
        errs.push(
          invalid(
            path,
            refs,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else firstController = current;
    }
  }
  return errs;
}

export function validateFinalizers(finalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) for (const msg of isQualifiedName(f)) errs.push(invalid(path, f, msg));
  const list = finalizers ?? [];
  if (list.includes('orphan') && list.includes('foregroundDeletion')) {
    errs.push(invalid(path, list, 'finalizer orphan and foregroundDeletion cannot be both set'));
  }
  return errs;
}

const STANDARD_FINALIZERS: ReadonlySet<string> = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

/** Core kinds also require un-prefixed finalizers to be one of the built-in ones. */
export function validateKubeFinalizerNames(finalizers: readonly string[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of finalizers ?? []) {
    if (!f.includes('/') && !STANDARD_FINALIZERS.has(f)) {
      errs.push(invalid(path, f, 'name is neither a standard finalizer name nor is it fully qualified'));
    }
  }
  return errs;
}

function validateNoNewFinalizers(
  finalizers: readonly string[] | undefined,
  oldFinalizers: readonly string[] | undefined,
  path: FieldPath,
): FieldError[] {
  const old = new Set(oldFinalizers ?? []);
  const extra = [...new Set((finalizers ?? []).filter((f) => !old.has(f)))].sort();
  if (extra.length === 0) return [];
  return [forbidden(path, `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(extra)}`)];
}

/** Structural equality of JSON values; absent and undefined are the same. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
    for (const k of keys) if (!jsonEqual(ra[k], rb[k])) return false;
    return true;
  }
  return false;
}
