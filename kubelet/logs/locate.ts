/**
 * Where a container's log lives and which instance `kubectl logs [--previous]` means. Pure.
 *
 * Layout (upstream's): `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restartCount>.log`; the
 * sandbox's logDirectory is the pod directory and each container's logPath `<container>/<n>.log`.
 *
 * Choice of instance, as upstream's validateContainerLogStatus over the container status the kubelet
 * would report: `--previous` is the last terminated instance before the current one; otherwise a
 * running instance, else the terminated one (a container that will not restart), else the last
 * terminated one (a container waiting to restart), else an error saying why there is no log yet.
 */
import type { Container, Pod } from '../../api/core/pod.js';
import { willRestart } from '../probes/manager.js';
import type { RuntimeContainer, RuntimePod } from '../types.js';
import { ContainerLogUnavailableError } from './errors.js';

export const POD_LOGS_ROOT = '/var/log/pods';

export function podLogDirectory(namespace: string, podName: string, uid: string, root: string = POD_LOGS_ROOT): string {
  return `${root.replace(/\/+$/, '')}/${namespace}_${podName}_${uid}`;
}

/** Relative to the pod log directory: the ContainerConfig.logPath the runtime gets. */
export function containerLogRelativePath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}

export function containerLogPath(namespace: string, podName: string, uid: string, containerName: string, restartCount: number, root: string = POD_LOGS_ROOT): string {
  return `${podLogDirectory(namespace, podName, uid, root)}/${containerLogRelativePath(containerName, restartCount)}`;
}

export interface LogTarget {
  readonly containerId: string;
  readonly path: string;
  /** Following stops once this instance is no longer running. */
  readonly running: boolean;
}

/** Every container of the spec: init, regular, ephemeral. */
export function findContainerSpec(pod: Pod, name: string): Container | undefined {
  return [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])].find((c) => c.name === name);
}

function waitingReason(pod: Pod, name: string): string {
  const s = pod.status;
  const st = [...(s?.initContainerStatuses ?? []), ...(s?.containerStatuses ?? []), ...(s?.ephemeralContainerStatuses ?? [])].find((c) => c.name === name);
  return st?.state?.waiting?.reason ?? 'ContainerCreating';
}

/** Picks the instance and its log file; throws ContainerLogUnavailableError with upstream's wording. */
export function locateContainerLog(pod: Pod, runtimePod: RuntimePod | undefined, containerName: string, previous: boolean, root: string = POD_LOGS_ROOT): LogTarget {
  const podName = pod.metadata.name ?? '';
  const q = (s: string): string => JSON.stringify(s);
  const spec = findContainerSpec(pod, containerName);
  if (!spec) throw new ContainerLogUnavailableError(`container ${q(containerName)} in pod ${q(podName)} is not available`);
  const instances = (runtimePod?.containers ?? []).filter((c) => c.name === containerName);
  const [newest, older] = instances;
  const exited = (c: RuntimeContainer | undefined): RuntimeContainer | undefined => (c?.state === 'exited' ? c : undefined);

  let running: RuntimeContainer | undefined;
  let terminated: RuntimeContainer | undefined;
  let lastTerminated: RuntimeContainer | undefined;
  if (newest?.state === 'running') {
    running = newest;
    lastTerminated = exited(older);
  } else if (newest?.state === 'exited') {
    if (willRestart(pod, spec, newest.exitCode)) lastTerminated = newest;
    else {
      terminated = newest;
      lastTerminated = exited(older);
    }
  } else {
    lastTerminated = exited(older);
  }

  const target = (c: RuntimeContainer): LogTarget => ({
    containerId: c.id,
    path: containerLogPath(pod.metadata.namespace ?? '', podName, pod.metadata.uid ?? '', containerName, c.restartCount, root),
    running: c.state === 'running',
  });
  if (previous) {
    if (!lastTerminated) throw new ContainerLogUnavailableError(`previous terminated container ${q(containerName)} in pod ${q(podName)} not found`);
    return target(lastTerminated);
  }
  const chosen = running ?? terminated ?? lastTerminated;
  if (chosen) return target(chosen);
  const reason = waitingReason(pod, containerName);
  const why = reason === 'ErrImagePull' ? "image can't be pulled" : reason === 'ImagePullBackOff' ? 'trying and failing to pull image' : reason;
  throw new ContainerLogUnavailableError(`container ${q(containerName)} in pod ${q(podName)} is waiting to start: ${why}`);
}
