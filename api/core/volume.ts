/**
 * core/v1 Volume: the sources a kubelet can mount (emptyDir, hostPath, configMap, secret, downwardAPI,
 * projected, persistentVolumeClaim, plus nfs, csi, ephemeral and image for completeness), their schema and
 * upstream's defaults (a volume without a source is an emptyDir; file modes default to 0644 = 420).
 * The Volume object carries upstream's `retainKeys` patch strategy, so switching sources in a patch
 * drops the old one. Validation is in volume-validate.ts.
 */
import { anyValue, arrayOf, bool, int, mapOf, obj, quantity, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import type { LocalObjectReference } from './common.js';
import { localObjectReferenceSchema } from './common.js';
import type { ObjectFieldSelector, ResourceFieldSelector } from './container-types.js';
import { enumOf, objectFieldSelectorSchema, resourceFieldSelectorSchema } from './container-schema.js';

/** Upstream's default file mode for projected files (0644). */
export const DEFAULT_VOLUME_MODE = 0o644;

export type HostPathType =
  | ''
  | 'DirectoryOrCreate'
  | 'Directory'
  | 'FileOrCreate'
  | 'File'
  | 'Socket'
  | 'CharDevice'
  | 'BlockDevice';
export const HOST_PATH_TYPES: readonly string[] = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];

export interface KeyToPath {
  readonly key: string;
  readonly path: string;
  readonly mode?: number;
}

export interface HostPathVolumeSource {
  readonly path: string;
  readonly type?: HostPathType;
}

export interface EmptyDirVolumeSource {
  readonly medium?: '' | 'Memory' | 'HugePages';
  readonly sizeLimit?: string;
}

export interface SecretVolumeSource {
  readonly secretName?: string;
  readonly items?: readonly KeyToPath[];
  readonly defaultMode?: number;
  readonly optional?: boolean;
}

export interface ConfigMapVolumeSource {
  readonly name?: string;
  readonly items?: readonly KeyToPath[];
  readonly defaultMode?: number;
  readonly optional?: boolean;
}

export interface DownwardAPIVolumeFile {
  readonly path: string;
  readonly fieldRef?: ObjectFieldSelector;
  readonly resourceFieldRef?: ResourceFieldSelector;
  readonly mode?: number;
}

export interface DownwardAPIVolumeSource {
  readonly items?: readonly DownwardAPIVolumeFile[];
  readonly defaultMode?: number;
}

export interface ServiceAccountTokenProjection {
  readonly audience?: string;
  readonly expirationSeconds?: number;
  readonly path: string;
}

export interface VolumeProjection {
  readonly secret?: { readonly name?: string; readonly items?: readonly KeyToPath[]; readonly optional?: boolean };
  readonly configMap?: { readonly name?: string; readonly items?: readonly KeyToPath[]; readonly optional?: boolean };
  readonly downwardAPI?: { readonly items?: readonly DownwardAPIVolumeFile[] };
  readonly serviceAccountToken?: ServiceAccountTokenProjection;
}

export interface ProjectedVolumeSource {
  readonly sources?: readonly VolumeProjection[];
  readonly defaultMode?: number;
}

export interface PersistentVolumeClaimVolumeSource {
  readonly claimName: string;
  readonly readOnly?: boolean;
}

export interface NFSVolumeSource {
  readonly server: string;
  readonly path: string;
  readonly readOnly?: boolean;
}

export interface CSIVolumeSource {
  readonly driver: string;
  readonly readOnly?: boolean;
  readonly fsType?: string;
  readonly volumeAttributes?: Readonly<Record<string, string>>;
  readonly nodePublishSecretRef?: LocalObjectReference;
}

export interface EphemeralVolumeSource {
  /** A PersistentVolumeClaimTemplate; kept opaque since knode has no dynamic provisioning. */
  readonly volumeClaimTemplate?: unknown;
}

export interface ImageVolumeSource {
  readonly reference?: string;
  readonly pullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
}

export interface VolumeSource {
  readonly hostPath?: HostPathVolumeSource;
  readonly emptyDir?: EmptyDirVolumeSource;
  readonly secret?: SecretVolumeSource;
  readonly configMap?: ConfigMapVolumeSource;
  readonly downwardAPI?: DownwardAPIVolumeSource;
  readonly projected?: ProjectedVolumeSource;
  readonly persistentVolumeClaim?: PersistentVolumeClaimVolumeSource;
  readonly nfs?: NFSVolumeSource;
  readonly csi?: CSIVolumeSource;
  readonly ephemeral?: EphemeralVolumeSource;
  readonly image?: ImageVolumeSource;
}

export interface Volume extends VolumeSource {
  readonly name: string;
}

/** In upstream's checking order, so that "more than 1 volume type" names the same field as upstream. */
export const VOLUME_SOURCE_KINDS: readonly (keyof VolumeSource)[] = [
  'emptyDir',
  'hostPath',
  'secret',
  'nfs',
  'persistentVolumeClaim',
  'downwardAPI',
  'configMap',
  'projected',
  'csi',
  'ephemeral',
  'image',
];

// ---- schema ----------------------------------------------------------------------------------

const keyToPathSchema: ObjectSchema = obj({ key: str(), path: str(), mode: int() }, { required: ['key', 'path'] });

const downwardAPIVolumeFileSchema: ObjectSchema = obj(
  { path: str(), fieldRef: objectFieldSelectorSchema, resourceFieldRef: resourceFieldSelectorSchema, mode: int() },
  { required: ['path'] },
);

const volumeSourceFields = {
  hostPath: obj({ path: str(), type: enumOf(HOST_PATH_TYPES) }, { required: ['path'] }),
  emptyDir: obj({ medium: str(), sizeLimit: quantity() }),
  secret: obj({ secretName: str(), items: arrayOf(keyToPathSchema), defaultMode: int(), optional: bool() }),
  configMap: obj({ name: str(), items: arrayOf(keyToPathSchema), defaultMode: int(), optional: bool() }),
  downwardAPI: obj({ items: arrayOf(downwardAPIVolumeFileSchema), defaultMode: int() }),
  projected: obj({
    sources: arrayOf(
      obj({
        secret: obj({ name: str(), items: arrayOf(keyToPathSchema), optional: bool() }),
        configMap: obj({ name: str(), items: arrayOf(keyToPathSchema), optional: bool() }),
        downwardAPI: obj({ items: arrayOf(downwardAPIVolumeFileSchema) }),
        serviceAccountToken: obj({ audience: str(), expirationSeconds: int(), path: str() }, { required: ['path'] }),
      }),
    ),
    defaultMode: int(),
  }),
  persistentVolumeClaim: obj({ claimName: str(), readOnly: bool() }, { required: ['claimName'] }),
  nfs: obj({ server: str(), path: str(), readOnly: bool() }, { required: ['server', 'path'] }),
  csi: obj(
    {
      driver: str(),
      readOnly: bool(),
      fsType: str(),
      volumeAttributes: mapOf(str()),
      nodePublishSecretRef: localObjectReferenceSchema,
    },
    { required: ['driver'] },
  ),
  ephemeral: obj({ volumeClaimTemplate: anyValue() }),
  image: obj({ reference: str(), pullPolicy: enumOf(['Always', 'IfNotPresent', 'Never']) }),
} as const;

export const volumeSchema: ObjectSchema = obj(
  { name: str('A DNS label, unique within the pod.'), ...volumeSourceFields },
  { required: ['name'], retainKeys: true },
);

/** `volumes` as upstream tags it: merge by name, retaining only the keys the patch sets. */
export const volumesSchema = arrayOf(volumeSchema, { strategy: 'merge,retainKeys', mergeKey: 'name' });

// ---- defaults --------------------------------------------------------------------------------

const withFieldRefVersion = (files: readonly DownwardAPIVolumeFile[] | undefined): readonly DownwardAPIVolumeFile[] | undefined =>
  files?.map((f) => (f.fieldRef ? { ...f, fieldRef: { apiVersion: 'v1', ...f.fieldRef } } : f));

/** Upstream SetDefaults_Volume and the per-source defaults. Returns a new object. */
export function defaultVolume(v: Volume): Volume {
  if (VOLUME_SOURCE_KINDS.every((k) => v[k] === undefined)) return { ...v, emptyDir: {} };
  let out: Volume = v;
  if (v.secret) out = { ...out, secret: { defaultMode: DEFAULT_VOLUME_MODE, ...v.secret } };
  if (v.configMap) out = { ...out, configMap: { defaultMode: DEFAULT_VOLUME_MODE, ...v.configMap } };
  if (v.downwardAPI) {
    const items = withFieldRefVersion(v.downwardAPI.items);
    out = { ...out, downwardAPI: { defaultMode: DEFAULT_VOLUME_MODE, ...v.downwardAPI, ...(items ? { items } : {}) } };
  }
  if (v.projected) {
    const sources = v.projected.sources?.map((s) => {
      let src = s;
      if (s.downwardAPI) {
        const items = withFieldRefVersion(s.downwardAPI.items);
        src = { ...src, downwardAPI: { ...s.downwardAPI, ...(items ? { items } : {}) } };
      }
      // upstream defaults token lifetimes to one hour
      if (s.serviceAccountToken) src = { ...src, serviceAccountToken: { expirationSeconds: 3600, ...s.serviceAccountToken } };
      return src;
    });
    out = { ...out, projected: { defaultMode: DEFAULT_VOLUME_MODE, ...v.projected, ...(sources ? { sources } : {}) } };
  }
  if (v.hostPath && v.hostPath.type === undefined) out = { ...out, hostPath: { ...v.hostPath, type: '' } };
  return out;
}
