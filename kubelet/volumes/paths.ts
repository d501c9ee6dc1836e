/**
 * Where a pod's volumes and per-pod files live on the node, upstream's layout under the kubelet root
 * (default /var/lib/kubelet):
 *
 *   <root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<volume>
 *   <root>/pods/<uid>/volumes/kubernetes.io~configmap/<volume>      (also ~secret, ~downward-api, ~projected)
 *   <root>/pods/<uid>/etc-hosts                                     managed /etc/hosts
 *   <root>/pods/<uid>/containers/<container>/<8 hex digits>         termination-log files
 *
 * Keeping upstream's names means tools that know the kubelet's tree (and `du` habits) still apply.
 * Pure.
 */
import { posix } from 'node:path';

export type VolumePlugin = 'empty-dir' | 'configmap' | 'secret' | 'downward-api' | 'projected';

/** Upstream escapes the `/` of plugin names as `~`. */
export const pluginDirName = (plugin: VolumePlugin): string => `kubernetes.io~${plugin}`;

const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A UID or name used as one path segment must not climb out of the tree. */
export function isSafeSegment(segment: string): boolean {
  return SAFE_SEGMENT.test(segment) && segment !== '.' && segment !== '..';
}

export class PodPaths {
  constructor(readonly rootDir: string) {}
  podsDir(): string {
    return posix.join(this.rootDir, 'pods');
  }
  podDir(uid: string): string {
    return posix.join(this.podsDir(), uid);
  }
  volumesDir(uid: string): string {
    return posix.join(this.podDir(uid), 'volumes');
  }
  volumeDir(uid: string, plugin: VolumePlugin, volume: string): string {
    return posix.join(this.volumesDir(uid), pluginDirName(plugin), volume);
  }
  etcHosts(uid: string): string {
    return posix.join(this.podDir(uid), 'etc-hosts');
  }
  containerDir(uid: string, container: string): string {
    return posix.join(this.podDir(uid), 'containers', container);
  }
}
