/**
 * Validation of container environment (upstream ValidateEnv, ValidateEnvFrom) and of the downward API
 * selectors that env vars and downwardAPI volumes share (validateObjectFieldSelector,
 * validateContainerResourceFieldSelector). Messages and paths are upstream's.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid, notSupported, required } from '../field-errors.js';
import { isConfigMapKey, isDNS1123Subdomain, isEnvVarName, isQualifiedName } from '../names.js';
import { quantityErrors, tryParseQuantity } from '../quantity.js';
import type { EnvFromSource, EnvVar, KeySelector, ObjectFieldSelector, ResourceFieldSelector } from './container-types.js';
import { setFields } from './common.js';

export const ENV_DOWNWARD_API_FIELDS: readonly string[] = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

export const VOLUME_DOWNWARD_API_FIELDS: readonly string[] = [
  'metadata.annotations',
  'metadata.labels',
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
];

const CONTAINER_RESOURCE_FIELDS: readonly string[] = [
  'limits.cpu',
  'limits.ephemeral-storage',
  'limits.memory',
  'requests.cpu',
  'requests.ephemeral-storage',
  'requests.memory',
];
const CONTAINER_RESOURCE_PREFIXES: readonly string[] = ['limits.hugepages-', 'requests.hugepages-'];

/** `metadata.labels['app']` -> ['metadata.labels', 'app']; plain paths have no subscript. */
export function splitSubscriptedPath(path: string): { readonly path: string; readonly subscript?: string } {
  const m = /^([^[]+)\['(.*)'\]$/.exec(path);
  return m ? { path: m[1] ?? '', subscript: m[2] ?? '' } : { path };
}

export function validateObjectFieldSelector(fs: ObjectFieldSelector, allowed: readonly string[], path: FieldPath): FieldError[] {
  if (!fs.apiVersion) return [required(path.child('apiVersion'))];
  if (!fs.fieldPath) return [required(path.child('fieldPath'))];
  if (fs.apiVersion !== 'v1') {
    return [invalid(path.child('fieldPath'), fs.fieldPath, `error converting fieldPath: unsupported version: ${fs.apiVersion}`)];
  }
  const { path: field, subscript } = splitSubscriptedPath(fs.fieldPath);
  if (subscript !== undefined) {
    switch (field) {
      case 'metadata.annotations':
        return isQualifiedName(subscript.toLowerCase()).map((m) => invalid(path, subscript.toLowerCase(), m));
      case 'metadata.labels':
        return isQualifiedName(subscript).map((m) => invalid(path, subscript, m));
      default:
        return [invalid(path, field, 'does not support subscript')];
    }
  }
  return allowed.includes(field) ? [] : [notSupported(path.child('fieldPath'), field, allowed)];
}

export function validateResourceFieldSelector(fs: ResourceFieldSelector, forVolume: boolean, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (forVolume && !fs.containerName) errs.push(required(path.child('containerName')));
  else if (!fs.resource) errs.push(required(path.child('resource')));
  else if (!CONTAINER_RESOURCE_FIELDS.includes(fs.resource) && !CONTAINER_RESOURCE_PREFIXES.some((p) => fs.resource.startsWith(p))) {
    errs.push(notSupported(path.child('resource'), fs.resource, CONTAINER_RESOURCE_FIELDS));
  }
  if (fs.divisor !== undefined) errs.push(...validateDivisor(fs.resource ?? '', fs.divisor, path.child('divisor')));
  return errs;
}

/** Upstream only allows round divisors: 1m/1 for cpu, powers of 1000 and 1024 for memory. */
function validateDivisor(resource: string, divisor: string, path: FieldPath): FieldError[] {
  const parse = quantityErrors(divisor);
  if (parse.length > 0) return parse.map((m) => invalid(path, divisor, m));
  const q = tryParseQuantity(divisor);
  if (q === undefined || q.nanos === 0n) return [];
  const n = q.nanos;
  if (resource.endsWith('.cpu')) {
    return n === 1_000_000n || n === 1_000_000_000n ? [] : [invalid(path, divisor, 'only divisor\'s values 1m and 1 are supported with the cpu resource')];
  }
  if (resource.endsWith('.memory') || resource.endsWith('.ephemeral-storage') || resource.includes('hugepages-')) {
    const units = [1n, 1000n, 1024n, 1000n ** 2n, 1024n ** 2n, 1000n ** 3n, 1024n ** 3n, 1000n ** 4n, 1024n ** 4n, 1000n ** 5n, 1024n ** 5n, 1000n ** 6n, 1024n ** 6n];
    const ok = units.some((u) => u * 1_000_000_000n === n);
    const what = resource.endsWith('.memory') ? 'memory' : resource.endsWith('.ephemeral-storage') ? 'local ephemeral storage' : 'hugepages';
    return ok
      ? []
      : [invalid(path, divisor, `only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the ${what} resource`)];
  }
  return [];
}

function validateKeySelector(s: KeySelector, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const name = s.name ?? '';
  for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(path.child('name'), name, msg));
  if (!s.key) errs.push(required(path.child('key')));
  else for (const msg of isConfigMapKey(s.key)) errs.push(invalid(path.child('key'), s.key, msg));
  return errs;
}

function validateEnvVarValueFrom(ev: EnvVar, path: FieldPath): FieldError[] {
  const from = ev.valueFrom;
  if (from === undefined) return [];
  const errs: FieldError[] = [];
  if (from.fieldRef) errs.push(...validateObjectFieldSelector(from.fieldRef, ENV_DOWNWARD_API_FIELDS, path.child('fieldRef')));
  if (from.resourceFieldRef) errs.push(...validateResourceFieldSelector(from.resourceFieldRef, false, path.child('resourceFieldRef')));
  if (from.configMapKeyRef) errs.push(...validateKeySelector(from.configMapKeyRef, path.child('configMapKeyRef')));
  if (from.secretKeyRef) errs.push(...validateKeySelector(from.secretKeyRef, path.child('secretKeyRef')));
  const n = setFields(from, ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef']).length;
  if (n === 0) {
    errs.push(invalid(path, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
  } else if ((ev.value ?? '') !== '') {
    errs.push(invalid(path, '', 'may not be specified when `value` is not empty'));
  } else if (n > 1) {
    errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  }
  return errs;
}

export function validateEnv(vars: readonly EnvVar[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (vars ?? []).forEach((ev, i) => {
    const p = path.index(i);
    if (!ev.name) errs.push(required(p.child('name')));
    else for (const msg of isEnvVarName(ev.name)) errs.push(invalid(p.child('name'), ev.name, msg));
    errs.push(...validateEnvVarValueFrom(ev, p.child('valueFrom')));
  });
  return errs;
}

export function validateEnvFrom(sources: readonly EnvFromSource[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  (sources ?? []).forEach((src, i) => {
    const p = path.index(i);
    if (src.prefix) for (const msg of isEnvVarName(src.prefix)) errs.push(invalid(p.child('prefix'), src.prefix, msg));
    for (const field of ['configMapRef', 'secretRef'] as const) {
      const ref = src[field];
      if (ref === undefined) continue;
      if (!ref.name) errs.push(required(p.child(field).child('name')));
      else for (const msg of isDNS1123Subdomain(ref.name)) errs.push(invalid(p.child(field).child('name'), ref.name, msg));
    }
    const n = setFields(src, ['configMapRef', 'secretRef']).length;
    if (n === 0) errs.push(invalid(path, '', 'must specify one of: `configMapRef` or `secretRef`'));
    else if (n > 1) errs.push(invalid(path, '', 'may not have more than one field specified at a time'));
  });
  return errs;
}
