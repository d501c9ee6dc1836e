/**
 * Pod volumes for knode's kubelet: the pure plans (plan.ts, mounts.ts, host-path.ts decisions), the
 * atomic projection writer, the mounter, the service account token manager (tokens.ts) and the
 * HostVolumeManager that composes them. See manager.ts.
 */
export { HostVolumeManager, prepareSubPath } from './manager.js';
export type { HostVolumeManagerOptions } from './manager.js';
export { planPodVolumes, planVolumeFiles, planFilesForVolume, volumeReferences, hasTokenProjection, tokenKey, tmpfsSizeBytes } from './plan.js';
export type { FetchedToken, PlannedFile, TokenSpec, VolumeFiles, VolumeObjects, VolumeStep, VolumePlanOptions, PodVolumePlanOptions } from './plan.js';
export { ServiceAccountTokenManager, ServiceAccountTokenError, requestedExpirationSeconds, tokenRefreshAt } from './tokens.js';
export type { RequestToken, ServiceAccountTokens, TokenManagerOptions, TokenOptions, TokenRequest } from './tokens.js';
export { planContainerMounts, isAPIDataVolume, terminationMessagePath, DEFAULT_TERMINATION_MESSAGE_PATH } from './mounts.js';
export type { ContainerMountsInput, ContainerMountsPlan } from './mounts.js';
export { writeAtomically, readProjection, payloadPathError } from './atomic-writer.js';
export { planHostPathCheck, ensureHostPath, observeHostPath } from './host-path.js';
export type { HostFileType, HostPathAction } from './host-path.js';
export { ExecMounter, FakeMounter, parseMountInfo, mountPointsBelow } from './mounter.js';
export type { Mounter } from './mounter.js';
export { PodPaths, pluginDirName } from './paths.js';
