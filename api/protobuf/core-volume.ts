/**
 * core/v1 volume messages: Volume with its inline VolumeSource, the sources this server models, the
 * projected-volume projections, and the PVC template of ephemeral volumes. Cloud and legacy in-tree
 * sources are `opaque`: the schema checks then report them as unknown fields instead of the volume
 * silently turning into an emptyDir. Numbers from k8s.io/api core/v1 generated.proto.
 */
import type { MessageTable } from './types.js';
import { PTR, bool, inline, int32, int64, map, msg, msgs, opaque, quantity, str, strs } from './types.js';

export const volumeMessages: MessageTable = {
  'core.v1.Volume': {
    1: str('name'),
    2: inline('volumeSource', 'core.v1.VolumeSource'),
  },
  'core.v1.VolumeSource': {
    1: msg('hostPath', 'core.v1.HostPathVolumeSource', PTR),
    2: msg('emptyDir', 'core.v1.EmptyDirVolumeSource', PTR),
    3: opaque('gcePersistentDisk'),
    4: opaque('awsElasticBlockStore'),
    5: opaque('gitRepo'),
    6: msg('secret', 'core.v1.SecretVolumeSource', PTR),
    7: msg('nfs', 'core.v1.NFSVolumeSource', PTR),
    8: opaque('iscsi'),
    9: opaque('glusterfs'),
    10: msg('persistentVolumeClaim', 'core.v1.PersistentVolumeClaimVolumeSource', PTR),
    11: opaque('rbd'),
    12: opaque('flexVolume'),
    13: opaque('cinder'),
    14: opaque('cephfs'),
    15: opaque('flocker'),
    16: msg('downwardAPI', 'core.v1.DownwardAPIVolumeSource', PTR),
    17: opaque('fc'),
    18: opaque('azureFile'),
    19: msg('configMap', 'core.v1.ConfigMapVolumeSource', PTR),
    20: opaque('vsphereVolume'),
    21: opaque('quobyte'),
    22: opaque('azureDisk'),
    23: opaque('photonPersistentDisk'),
    24: opaque('portworxVolume'),
    25: opaque('scaleIO'),
    26: msg('projected', 'core.v1.ProjectedVolumeSource', PTR),
    27: opaque('storageos'),
    28: msg('csi', 'core.v1.CSIVolumeSource', PTR),
    29: msg('ephemeral', 'core.v1.EphemeralVolumeSource', PTR),
    30: msg('image', 'core.v1.ImageVolumeSource', PTR),
  },
  'core.v1.HostPathVolumeSource': {
    1: str('path'),
    2: str('type', PTR),
  },
  'core.v1.EmptyDirVolumeSource': {
    1: str('medium'),
    2: quantity('sizeLimit', PTR),
  },
  'core.v1.SecretVolumeSource': {
    1: str('secretName'),
    2: msgs('items', 'core.v1.KeyToPath'),
    3: int32('defaultMode', PTR),
    4: bool('optional', PTR),
  },
  'core.v1.ConfigMapVolumeSource': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: msgs('items', 'core.v1.KeyToPath'),
    3: int32('defaultMode', PTR),
    4: bool('optional', PTR),
  },
  'core.v1.KeyToPath': {
    1: str('key'),
    2: str('path'),
    3: int32('mode', PTR),
  },
  'core.v1.NFSVolumeSource': {
    1: str('server'),
    2: str('path'),
    3: bool('readOnly'),
  },
  'core.v1.PersistentVolumeClaimVolumeSource': {
    1: str('claimName'),
    2: bool('readOnly'),
  },
  'core.v1.DownwardAPIVolumeSource': {
    1: msgs('items', 'core.v1.DownwardAPIVolumeFile'),
    2: int32('defaultMode', PTR),
  },
  'core.v1.DownwardAPIVolumeFile': {
    1: str('path'),
    2: msg('fieldRef', 'core.v1.ObjectFieldSelector', PTR),
    3: msg('resourceFieldRef', 'core.v1.ResourceFieldSelector', PTR),
    4: int32('mode', PTR),
  },
  'core.v1.ProjectedVolumeSource': {
    1: msgs('sources', 'core.v1.VolumeProjection'),
    2: int32('defaultMode', PTR),
  },
  'core.v1.VolumeProjection': {
    1: msg('secret', 'core.v1.SecretProjection', PTR),
    2: msg('downwardAPI', 'core.v1.DownwardAPIProjection', PTR),
    3: msg('configMap', 'core.v1.ConfigMapProjection', PTR),
    4: msg('serviceAccountToken', 'core.v1.ServiceAccountTokenProjection', PTR),
    5: msg('clusterTrustBundle', 'core.v1.ClusterTrustBundleProjection', PTR),
    6: opaque('podCertificate'),
  },
  'core.v1.SecretProjection': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: msgs('items', 'core.v1.KeyToPath'),
    4: bool('optional', PTR),
  },
  'core.v1.ConfigMapProjection': {
    1: inline('localObjectReference', 'core.v1.LocalObjectReference'),
    2: msgs('items', 'core.v1.KeyToPath'),
    4: bool('optional', PTR),
  },
  'core.v1.DownwardAPIProjection': {
    1: msgs('items', 'core.v1.DownwardAPIVolumeFile'),
  },
  'core.v1.ServiceAccountTokenProjection': {
    1: str('audience'),
    2: int64('expirationSeconds', PTR),
    3: str('path'),
  },
  'core.v1.ClusterTrustBundleProjection': {
    1: str('name', PTR),
    2: str('signerName', PTR),
    3: msg('labelSelector', 'meta.v1.LabelSelector', PTR),
    5: bool('optional', PTR),
    4: str('path'),
  },
  'core.v1.CSIVolumeSource': {
    1: str('driver'),
    2: bool('readOnly', PTR),
    3: str('fsType', PTR),
    4: map('volumeAttributes', 'string'),
    5: msg('nodePublishSecretRef', 'core.v1.LocalObjectReference', PTR),
  },
  'core.v1.ImageVolumeSource': {
    1: str('reference'),
    2: str('pullPolicy'),
  },
  'core.v1.EphemeralVolumeSource': {
    1: msg('volumeClaimTemplate', 'core.v1.PersistentVolumeClaimTemplate', PTR),
  },
  'core.v1.PersistentVolumeClaimTemplate': {
    1: msg('metadata', 'meta.v1.ObjectMeta'),
    2: msg('spec', 'core.v1.PersistentVolumeClaimSpec'),
  },
  'core.v1.PersistentVolumeClaimSpec': {
    1: strs('accessModes'),
    4: msg('selector', 'meta.v1.LabelSelector', PTR),
    2: msg('resources', 'core.v1.VolumeResourceRequirements'),
    3: str('volumeName'),
    5: str('storageClassName', PTR),
    6: str('volumeMode', PTR),
    7: msg('dataSource', 'core.v1.TypedLocalObjectReference', PTR),
    8: msg('dataSourceRef', 'core.v1.TypedObjectReference', PTR),
    9: str('volumeAttributesClassName', PTR),
  },
  'core.v1.VolumeResourceRequirements': {
    1: map('limits', 'Quantity'),
    2: map('requests', 'Quantity'),
  },
  'core.v1.TypedLocalObjectReference': {
    1: str('apiGroup', PTR),
    2: str('kind'),
    3: str('name'),
  },
  'core.v1.TypedObjectReference': {
    1: str('apiGroup', PTR),
    2: str('kind'),
    3: str('name'),
    4: str('namespace', PTR),
  },
};
