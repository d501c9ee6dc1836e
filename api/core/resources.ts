/**
 * Compute resources of containers, pods and nodes (upstream pkg/apis/core/helper and the resource parts of
 * core validation): resource names (cpu, memory, ephemeral-storage, hugepages-*, extended `vendor/thing`),
 * quantity checks, requests <= limits, and canonical spelling of resource lists.
 *
 * Cost model: one quantity parse per entry.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { invalid, required } from '../field-errors.js';
import { isQualifiedName } from '../names.js';
import type { Quantity } from '../quantity.js';
import { compareQuantities, formatQuantity, quantityErrors, tryParseQuantity } from '../quantity.js';
import { listByKey, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { ResourceList } from './common.js';
import { resourceListSchema } from './common.js';

export interface ResourceClaim {
  readonly name: string;
  readonly request?: string;
}

export interface ResourceRequirements {
  readonly limits?: ResourceList;
  readonly requests?: ResourceList;
  readonly claims?: readonly ResourceClaim[];
}

export const resourceRequirementsSchema: ObjectSchema = obj({
  limits: resourceListSchema,
  requests: resourceListSchema,
  claims: listByKey(obj({ name: str(), request: str() }, { required: ['name'] }), 'name'),
});

const STANDARD_CONTAINER_RESOURCES: ReadonlySet<string> = new Set(['cpu', 'memory', 'ephemeral-storage']);

export const isHugePageResourceName = (name: string): boolean => name.startsWith('hugepages-');

/** Names without a domain, or in the kubernetes.io domain, belong to Kubernetes itself. */
export const isNativeResource = (name: string): boolean => !name.includes('/') || name.includes('kubernetes.io/');

/** `example.com/gpu`: counted in whole units, never overcommitted. */
export function isExtendedResourceName(name: string): boolean {
  if (isNativeResource(name) || name.startsWith('requests.')) return false;
  return isQualifiedName(`requests.${name}`).length === 0;
}

/** Requests may be lower than limits only for native, non-hugepage resources. */
export const isOvercommitAllowed = (name: string): boolean => isNativeResource(name) && !isHugePageResourceName(name);

export function isStandardContainerResourceName(name: string): boolean {
  return STANDARD_CONTAINER_RESOURCES.has(name) || isHugePageResourceName(name);
}

export function validateContainerResourceName(name: string, path: FieldPath): FieldError[] {
  const errs = isQualifiedName(name).map((msg) => invalid(path, name, msg));
  if (!name.includes('/')) {
    if (!isStandardContainerResourceName(name)) errs.push(invalid(path, name, 'must be a standard resource for containers'));
  } else if (!isNativeResource(name) && !isExtendedResourceName(name)) {
    errs.push(invalid(path, name, "doesn't follow extended resource name standard"));
  }
  return errs;
}

/** A parseable, non-negative quantity; whole units for extended resources. */
export function validateResourceQuantityValue(name: string, value: string | number, path: FieldPath): FieldError[] {
  const text = String(value);
  const parseErrs = quantityErrors(value);
  if (parseErrs.length > 0) return parseErrs.map((msg) => invalid(path, text, msg));
  const q = tryParseQuantity(value);
  if (q === undefined) return [];
  if (q.nanos < 0n) return [invalid(path, formatQuantity(q), 'must be greater than or equal to 0')];
  if (isExtendedResourceName(name) && q.nanos % 1_000_000_000n !== 0n) return [invalid(path, formatQuantity(q), 'must be an integer')];
  return [];
}

/** Upstream ValidateResourceRequirements (without dynamic resource claims beyond their names). */
export function validateResourceRequirements(req: ResourceRequirements | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const limPath = path.child('limits');
  const reqPath = path.child('requests');
  const limits = req?.limits ?? {};
  for (const [name, value] of Object.entries(limits)) {
    errs.push(...validateContainerResourceName(name, limPath.key(name)));
    errs.push(...validateResourceQuantityValue(name, value, limPath.key(name)));
  }
  for (const [name, value] of Object.entries(req?.requests ?? {})) {
    errs.push(...validateContainerResourceName(name, reqPath.key(name)));
    errs.push(...validateResourceQuantityValue(name, value, reqPath.key(name)));
    const request = tryParseQuantity(value);
    const limitText = limits[name];
    if (limitText !== undefined) {
      const limit = tryParseQuantity(limitText);
      if (request === undefined || limit === undefined) continue;
      const cmp = compareQuantities(request, limit);
      if (cmp !== 0 && !isOvercommitAllowed(name)) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be equal to ${name} limit of ${formatQuantity(limit)}`));
      } else if (cmp > 0) {
        errs.push(invalid(reqPath, formatQuantity(request), `must be less than or equal to ${name} limit of ${formatQuantity(limit)}`));
      }
    } else if (!isOvercommitAllowed(name)) {
      errs.push(required(limPath, 'Limit must be set for non overcommitable resources'));
    }
  }
  return errs;
}

/** Canonical spelling of every parseable quantity (`0.5` -> `500m`); invalid ones are left for validation. */
export function canonicalResourceList(list: ResourceList | undefined): ResourceList | undefined {
  if (list === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(list)) {
    const q = tryParseQuantity(value);
    out[name] = q === undefined ? value : formatQuantity(q);
  }
  return out;
}

/** The parsed quantity of one resource, or undefined when absent or invalid. */
export function resourceQuantity(list: ResourceList | undefined, name: string): Quantity | undefined {
  const v = list?.[name];
  return v === undefined ? undefined : tryParseQuantity(v);
}
