/**
 * How each served resource is stored and treated beyond its kind's pure definition: the storage key
 * prefix, its subresources, how deletion behaves, and (for events.k8s.io) the conversion between the
 * stored form and the served one. One entry per (group, version, resource) the apiserver serves.
 */
import type { KindDefinition } from '../../api/kind.js';
import { apiVersionOf } from '../../api/kind.js';
import type { KubeObject } from '../../api/meta.js';

export type DeletionPropagation = 'Orphan' | 'Background' | 'Foreground';

export interface ResourceEntry {
  readonly def: KindDefinition;
  readonly subresources: readonly string[];
  /** `/registry/pods/` (core) or `/registry/apps/deployments/`; ends with `/`. */
  readonly storagePrefix: string;
  /** What a create may carry in `status`: nodes keep theirs, every other status-subresource kind starts from its defaulted empty status. */
  readonly keepStatusOnCreate: boolean;
  /** Stored form -> served form (identity for all but events.k8s.io/v1 Events, stored as core/v1 Events). */
  readonly toView?: (stored: KubeObject) => KubeObject;
  readonly fromView?: (view: KubeObject) => KubeObject;
  readonly defaultPropagation: DeletionPropagation;
  /** A Warning for deletes that name no propagation policy (batch/v1 Jobs: their pods stay, as upstream warns). */
  readonly defaultPropagationWarning?: string;
  /** Stamps the authenticated creator into a new object (CSR spec.username/groups); `user` is absent for in-process writes. */
  readonly stampRequester?: (obj: KubeObject, user: RequestUser | undefined) => KubeObject;
}

/** Who made a request, as the authenticator saw it (a structural copy of auth's UserInfo). */
export interface RequestUser {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export function apiVersionOfEntry(e: ResourceEntry): string {
  return apiVersionOf(e.def);
}

export function storagePrefixFor(def: Pick<KindDefinition, 'group' | 'plural'>): string {
  return def.group === '' ? `/registry/${def.plural}/` : `/registry/${def.group}/${def.plural}/`;
}

/** Key of one object: `/registry/pods/default/web`, `/registry/nodes/node-1`. */
export function objectKey(e: ResourceEntry, namespace: string | undefined, name: string): string {
  return e.def.namespaced ? `${e.storagePrefix}${namespace ?? ''}/${name}` : `${e.storagePrefix}${name}`;
}

/** Prefix of a list: one namespace, or all of them. */
export function listPrefix(e: ResourceEntry, namespace: string | undefined): string {
  return e.def.namespaced && namespace !== undefined ? `${e.storagePrefix}${namespace}/` : e.storagePrefix;
}

/** Looks resources up by group/version and by plural, short name or kind. */
export class ResourceIndex {
  private readonly byGVR = new Map<string, ResourceEntry>();
  private readonly byGroupKind = new Map<string, ResourceEntry>();
  constructor(readonly entries: readonly ResourceEntry[]) {
    for (const e of entries) {
      this.byGVR.set(`${e.def.group}/${e.def.version}/${e.def.plural}`, e);
      this.byGroupKind.set(`${e.def.group}/${e.def.kind}`, e);
    }
  }
  find(group: string, version: string, plural: string): ResourceEntry | undefined {
    return this.byGVR.get(`${group}/${version}/${plural}`);
  }
  /** The resource serving `kind` in the group of `apiVersion` (`apps/v1`, `v1`). */
  findByKind(apiVersion: string, kind: string): ResourceEntry | undefined {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    return this.byGroupKind.get(`${group}/${kind}`);
  }
  groupVersions(): Array<{ group: string; version: string }> {
    const seen = new Map<string, { group: string; version: string }>();
    for (const e of this.entries) seen.set(`${e.def.group}/${e.def.version}`, { group: e.def.group, version: e.def.version });
    return [...seen.values()];
  }
}
