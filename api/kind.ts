/**
 * What the apiserver needs to know about one kind of object. Each kind's module (api/core/pod.ts,
 * api/apps/deployment.ts, ...) exports one `KindDefinition`; api/registry.ts lists them all.
 * Everything here is pure: no I/O, no clock (timestamps are set by the apiserver).
 */
import type { FieldError } from './field-errors.js';
import type { KubeObject } from './meta.js';
import type { ObjectSchema } from './schema.js';

export interface KindDefinition<T extends KubeObject = KubeObject> {
  /** API group: '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Resource name in URLs: `pods`. */
  readonly plural: string;
  readonly singular: string;
  readonly namespaced: boolean;
  readonly shortNames: readonly string[];
  /** Discovery categories, e.g. ['all'] for pods, services, deployments, replicasets, daemonsets. */
  readonly categories: readonly string[];
  /** Whole-object schema: apiVersion, kind, metadata, spec, status, data... */
  readonly schema: ObjectSchema;
  /** True when the kind has a `status` subresource (the main endpoint then ignores status changes). */
  readonly hasStatusSubresource: boolean;
  /** Applies upstream's defaults; returns a new object, never mutates its argument. */
  default(obj: T): T;
  /** Validation of a new object (metadata included). */
  validate(obj: T): FieldError[];
  /** Validation of an update: everything `validate` checks plus immutable fields against `old`. */
  validateUpdate(obj: T, old: T): FieldError[];
  /**
   * Validation of an update through a subresource with rules of its own (pods: `ephemeralcontainers`).
   * Undefined: the kind has no special rules for that subresource, and `validateUpdate` applies.
   */
  validateSubresourceUpdate?(subresource: string, obj: T, old: T): FieldError[] | undefined;
  /**
   * Field-selector values for this kind beyond metadata.name and metadata.namespace, which the apiserver
   * always supports: e.g. pods give spec.nodeName, status.phase, status.podIP, spec.restartPolicy...
   */
  selectableFields?(obj: T): Readonly<Record<string, string>>;
}

/** group/version string as used in apiVersion: `v1` for core, `apps/v1` otherwise. */
export function apiVersionOf(def: Pick<KindDefinition, 'group' | 'version'>): string {
  return def.group === '' ? def.version : `${def.group}/${def.version}`;
}
