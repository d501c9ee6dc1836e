/**
 * A container's mounts from its volumeMounts (upstream kubelet makeMounts), as plain data:
 * - each volumeMount becomes `{ hostPath: <volume dir>[/<subPath>], containerPath, readOnly }`;
 *   `hostPath` already includes the subPath (HostMount.subPath is left unset), so the runtime bind-mounts
 *   exactly that path;
 * - `subPathExpr` is expanded against the container's env (every referenced variable must be set);
 *   a subPath must be relative and free of `..` (upstream's messages);
 * - configMap, secret, downwardAPI and projected volumes are always read-only, as upstream mounts them;
 * - the managed /etc/hosts (when the pod has one and the container does not mount /etc/hosts itself)
 *   comes after the volumes, read-write like upstream.
 * The termination-log file needs a fresh file per container start and is added by the manager.
 *
 * Pure. Errors are ContainerConfigError (CreateContainerConfigError), as upstream reports them.
 */
import { posix } from 'node:path';
import type { Container, Pod, Volume } from '../../api/core/pod.js';
import { expandSubPathExpr } from '../env.js';
import { ContainerConfigError } from '../errors.js';
import { ETC_HOSTS_PATH, containerMountsEtcHosts } from '../hosts-file.js';
import type { EnvVar, HostMount } from '../types.js';

export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Volumes whose content the kubelet owns: containers may never write to them. */
export function isAPIDataVolume(v: Volume | undefined): boolean {
  return v !== undefined && (v.configMap !== undefined || v.secret !== undefined || v.downwardAPI !== undefined || v.projected !== undefined);
}

export interface ContainerMountsInput {
  readonly pod: Pod;
  readonly container: Container;
  /** Host directory (or file) of each set-up volume, by name: what setUpPod returned. */
  readonly volumes: ReadonlyMap<string, string>;
  /** The pod's managed hosts file, when one was written. */
  readonly etcHostsPath?: string;
  /** The container's resolved env, for subPathExpr. */
  readonly env?: readonly EnvVar[];
}

export interface SubPathToPrepare {
  /** The volume's host directory. */
  readonly volumeRoot: string;
  /** volumeRoot joined with the subPath: created when missing, and must stay inside volumeRoot. */
  readonly hostPath: string;
  readonly volume: string;
}

export interface ContainerMountsPlan {
  readonly mounts: readonly HostMount[];
  readonly subPaths: readonly SubPathToPrepare[];
}

function checkSubPath(subPath: string): void {
  if (subPath.startsWith('/')) throw new ContainerConfigError(`error SubPath \`${subPath}\` must not be an absolute path`);
  if (subPath.split('/').includes('..')) throw new ContainerConfigError(`unable to provision SubPath \`${subPath}\`: must not contain '..'`);
}

export function planContainerMounts(input: ContainerMountsInput): ContainerMountsPlan {
  const { pod, container, volumes } = input;
  const specVolumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const mounts: HostMount[] = [];
  const subPaths: SubPathToPrepare[] = [];
  for (const m of container.volumeMounts ?? []) {
    const root = volumes.get(m.name);
    if (root === undefined) throw new ContainerConfigError(`cannot find volume ${JSON.stringify(m.name)} to mount into container ${JSON.stringify(container.name)}`);
    let subPath = m.subPath ?? '';
    if (m.subPathExpr) subPath = expandSubPathExpr(m.subPathExpr, input.env ?? []);
    let hostPath = root;
    if (subPath !== '') {
      checkSubPath(subPath);
      hostPath = posix.join(root, subPath);
      subPaths.push({ volumeRoot: root, hostPath, volume: m.name });
    }
    const readOnly = m.readOnly === true || isAPIDataVolume(specVolumes.get(m.name));
    mounts.push({ hostPath, containerPath: m.mountPath, readOnly });
  }
  if (input.etcHostsPath !== undefined && !containerMountsEtcHosts(container)) {
    mounts.push({ hostPath: input.etcHostsPath, containerPath: ETC_HOSTS_PATH, readOnly: false });
  }
  return { mounts, subPaths };
}

/** Where the container's termination message goes; '' (explicitly empty) means none. */
export function terminationMessagePath(container: Container): string {
  return container.terminationMessagePath ?? DEFAULT_TERMINATION_MESSAGE_PATH;
}
