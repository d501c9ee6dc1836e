/**
 * buildContainerConfig: the CRI ContainerConfig of one container, as upstream's generateContainerConfig
 * and generateLinuxContainerConfig build it. Pure: resolved env, host mounts, the image's user and the
 * node's memory come in as options.
 *
 *  - metadata name + attempt (= restartCount); log path `<name>/<restartCount>.log` under the
 *    sandbox's log directory; image = the resolved image id, userSpecifiedImage = the spec's;
 *  - command/args: `command` replaces the image ENTRYPOINT, `args` its CMD (absent keeps the image's);
 *    `$(VAR)` references expand from the resolved env, `$$` escapes, unknown names stay literal;
 *  - labels io.kubernetes.{pod.name,pod.namespace,pod.uid,container.name,container.type}; annotations:
 *    spec hash, restartCount, termination message path/policy, grace periods, preStop handler JSON,
 *    ports JSON, so a restarted kubelet can kill and report the container without the pod spec;
 *  - linux resources: cpu shares max(2, milliCPU*1024/1000) from the request (the limit when only a
 *    limit is set), CFS quota from the limit over a 100 ms period, memory limit, oom_score_adj by QoS
 *    (Guaranteed -997, BestEffort 1000, Burstable 1000 - 1000*request/capacity clamped to [3, 999]);
 *  - security context: the container's fields over the pod's (runAsUser/Group/NonRoot, SELinux,
 *    seccomp, AppArmor), capabilities add/drop, privileged, read-only rootfs, allowPrivilegeEscalation
 *    false -> no_new_privs, namespace modes, supplemental groups, masked/read-only /proc paths;
 *    runAsNonRoot is verified here and fails with CreateContainerConfigError like upstream.
 *
 * Cost model: linear in the container's env, mounts and args.
 */
import type { Container, Pod, SecurityContext, SeccompProfile, AppArmorProfile, MountPropagationMode } from '../api/core/pod.js';
import { expandVars } from './env.js';
import { TERMINATION_MESSAGE_PATH_DEFAULT } from '../api/core/container-defaults.js';
import { computePodQOS } from '../api/core/qos.js';
import { resourceQuantity } from '../api/core/resources.js';
import { quantityMilliValue, quantityValue } from '../api/quantity.js';
import { hashContainer } from './container-hash.js';
import type { LinuxContainerResources, MountPropagation, SecurityProfile } from './cri/types-common.js';
import type { ContainerConfig, LinuxContainerSecurityContext, Mount } from './cri/types-container.js';
import { ContainerConfigError } from './errors.js';
import { formatPod } from './pod-actions.js';
import { namespaceOptionsForPod } from './sandbox-config.js';
import {
  ANNOTATION_CONTAINER_HASH,
  ANNOTATION_GRACE_PERIOD,
  ANNOTATION_PRESTOP_HANDLER,
  ANNOTATION_RESTART_COUNT,
  ANNOTATION_TERMINATION_MESSAGE_PATH,
  ANNOTATION_TERMINATION_MESSAGE_POLICY,
  LABEL_CONTAINER_NAME,
  LABEL_CONTAINER_TYPE,
  LABEL_POD_NAME,
  LABEL_POD_NAMESPACE,
  LABEL_POD_UID,
} from './types.js';
import type { EnvVar, HostMount } from './types.js';

export const ANNOTATION_DELETION_GRACE_PERIOD = 'io.kubernetes.pod.deletionGracePeriod';
export const ANNOTATION_CONTAINER_PORTS = 'io.kubernetes.container.ports';
export const DEFAULT_SECCOMP_PROFILE_ROOT = '/var/lib/kubelet/seccomp';
export const CPU_PERIOD_US = 100_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;
const MIN_QUOTA_US = 1000;
const GUARANTEED_OOM_SCORE_ADJ = -997;
const BESTEFFORT_OOM_SCORE_ADJ = 1000;

/** upstream securitycontext defaultMaskedPaths / defaultReadonlyPaths (procMount Default) */
export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/asound',
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];
export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export interface ContainerConfigOptions {
  readonly restartCount: number;
  /** Resolved environment (env.ts), in order; later names win in `$(VAR)` expansion. */
  readonly envs: readonly EnvVar[];
  /** Volume mounts resolved to host paths (VolumeManager.mountsFor). */
  readonly mounts: readonly HostMount[];
  /** Node memory in bytes, for the Burstable oom_score_adj formula. */
  readonly memoryCapacity: number;
  readonly isInit?: boolean;
  /** The image id/digest EnsureImage resolved; default the spec's image. */
  readonly imageRef?: string;
  /** The image's configured user (ImageStatus uid/username); none means root, as upstream. */
  readonly imageUser?: { readonly uid?: number; readonly username?: string };
  /** Host file bind-mounted at terminationMessagePath (created by the executor per instance). */
  readonly terminationMessageHostPath?: string;
  readonly seccompProfileRoot?: string;
  /**
   * An ephemeral container's targetContainerName, as the runtime id of that container: the container
   * then joins its process namespace (CRI NamespaceMode TARGET), as upstream does for `kubectl debug --target`.
   */
  readonly targetId?: string;
}

// ---- $(VAR) expansion --------------------------------------------------------------------------------

// `$(VAR)` expansion is env.ts's (one implementation for env values and command/args); re-exported.
export { expandVars };

export function expandCommandAndArgs(container: Container, envs: readonly EnvVar[]): { readonly command?: string[]; readonly args?: string[] } {
  const values = new Map<string, string>();
  for (const e of envs) values.set(e.name, e.value);
  const lookup = (name: string): string | undefined => values.get(name);
  const command = container.command?.length ? container.command.map((c) => expandVars(c, lookup)) : undefined;
  const args = container.args?.length ? container.args.map((a) => expandVars(a, lookup)) : undefined;
  return { ...(command ? { command } : {}), ...(args ? { args } : {}) };
}

// ---- resources ---------------------------------------------------------------------------------------

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu === 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * 1024) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** CFS quota (us per period) for a limit; 0 means unlimited. */
export function milliCpuToQuota(milliCpu: number, periodUs: number = CPU_PERIOD_US): number {
  if (milliCpu === 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * periodUs) / 1000));
}

/** Upstream GetContainerOOMScoreAdjust. */
export function oomScoreAdjust(pod: Pod, container: Container, memoryCapacity: number): number {
  if (pod.spec.priorityClassName === 'system-node-critical') return GUARANTEED_OOM_SCORE_ADJ;
  const qos = computePodQOS(pod.spec);
  if (qos === 'Guaranteed') return GUARANTEED_OOM_SCORE_ADJ;
  if (qos === 'BestEffort') return BESTEFFORT_OOM_SCORE_ADJ;
  const q = resourceQuantity(container.resources?.requests, 'memory');
  const request = q === undefined ? 0 : quantityValue(q);
  const adj = memoryCapacity > 0 ? 1000 - Math.trunc((1000 * request) / memoryCapacity) : 1000;
  // below 3 a Burstable container would outlive Guaranteed ones; 1000 would tie with BestEffort
  if (adj < 1000 + GUARANTEED_OOM_SCORE_ADJ) return 1000 + GUARANTEED_OOM_SCORE_ADJ;
  if (adj === BESTEFFORT_OOM_SCORE_ADJ) return adj - 1;
  return adj;
}

export function linuxResourcesFor(pod: Pod, container: Container, memoryCapacity: number): LinuxContainerResources {
  const milli = (list: Readonly<Record<string, string>> | undefined, name: string): number | undefined => {
    const q = resourceQuantity(list, name);
    return q === undefined ? undefined : quantityMilliValue(q);
  };
  const cpuRequest = milli(container.resources?.requests, 'cpu');
  const cpuLimit = milli(container.resources?.limits, 'cpu') ?? 0;
  const memQ = resourceQuantity(container.resources?.limits, 'memory');
  const memoryLimit = memQ === undefined ? 0 : quantityValue(memQ);
  // a limit alone means request = limit (the apiserver defaults this for new pods; older ones lack it)
  const cpuShares = !cpuRequest && cpuLimit !== 0 ? milliCpuToShares(cpuLimit) : milliCpuToShares(cpuRequest ?? 0);
  return {
    cpuShares,
    cpuPeriod: CPU_PERIOD_US,
    cpuQuota: milliCpuToQuota(cpuLimit),
    ...(memoryLimit !== 0 ? { memoryLimitInBytes: memoryLimit } : {}),
    oomScoreAdj: oomScoreAdjust(pod, container, memoryCapacity),
  };
}

// ---- labels and annotations --------------------------------------------------------------------

export function containerLabels(pod: Pod, container: Container, isInit = false): Record<string, string> {
  return {
    [LABEL_POD_NAME]: pod.metadata.name ?? '',
    [LABEL_POD_NAMESPACE]: pod.metadata.namespace ?? '',
    [LABEL_POD_UID]: pod.metadata.uid ?? '',
    [LABEL_CONTAINER_NAME]: container.name,
    [LABEL_CONTAINER_TYPE]: isInit ? 'init' : 'regular',
  };
}

export function containerAnnotations(pod: Pod, container: Container, restartCount: number): Record<string, string> {
  const a: Record<string, string> = {
    [ANNOTATION_CONTAINER_HASH]: hashContainer(container),
    [ANNOTATION_RESTART_COUNT]: String(restartCount),
    [ANNOTATION_TERMINATION_MESSAGE_PATH]: container.terminationMessagePath ?? TERMINATION_MESSAGE_PATH_DEFAULT,
    [ANNOTATION_TERMINATION_MESSAGE_POLICY]: container.terminationMessagePolicy ?? 'File',
  };
  if (pod.metadata.deletionGracePeriodSeconds !== undefined) a[ANNOTATION_DELETION_GRACE_PERIOD] = String(pod.metadata.deletionGracePeriodSeconds);
  if (pod.spec.terminationGracePeriodSeconds !== undefined) a[ANNOTATION_GRACE_PERIOD] = String(pod.spec.terminationGracePeriodSeconds);
  if (container.lifecycle?.preStop) a[ANNOTATION_PRESTOP_HANDLER] = JSON.stringify(container.lifecycle.preStop);
  if (container.ports && container.ports.length > 0) a[ANNOTATION_CONTAINER_PORTS] = JSON.stringify(container.ports);
  return a;
}

// ---- mounts ------------------------------------------------------------------------------------

const PROPAGATION: Readonly<Record<MountPropagationMode, MountPropagation>> = {
  None: 'PROPAGATION_PRIVATE',
  HostToContainer: 'PROPAGATION_HOST_TO_CONTAINER',
  Bidirectional: 'PROPAGATION_BIDIRECTIONAL',
};

export function criMounts(container: Container, mounts: readonly HostMount[], terminationMessageHostPath?: string): Mount[] {
  const out: Mount[] = mounts.map((m) => {
    const spec = container.volumeMounts?.find((v) => v.mountPath === m.containerPath);
    const hostPath = m.subPath ? `${m.hostPath.replace(/\/+$/, '')}/${m.subPath.replace(/^\/+/, '')}` : m.hostPath;
    return { containerPath: m.containerPath, hostPath, readonly: m.readOnly, propagation: PROPAGATION[spec?.mountPropagation ?? 'None'] };
  });
  const tmp = container.terminationMessagePath ?? TERMINATION_MESSAGE_PATH_DEFAULT;
  if (terminationMessageHostPath !== undefined && tmp !== '' && !out.some((m) => m.containerPath === tmp)) {
    out.push({ containerPath: tmp, hostPath: terminationMessageHostPath });
  }
  return out;
}

// ---- security context --------------------------------------------------------------------------

function profile(p: SeccompProfile | AppArmorProfile, root: string | undefined): SecurityProfile {
  if (p.type === 'Localhost') return { profileType: 'Localhost', localhostRef: root !== undefined ? `${root.replace(/\/+$/, '')}/${p.localhostProfile ?? ''}` : (p.localhostProfile ?? '') };
  return { profileType: p.type };
}

/** Container fields over pod fields (upstream DetermineEffectiveSecurityContext). */
export function effectiveSecurityContext(pod: Pod, container: Container): SecurityContext {
  const p = pod.spec.securityContext;
  const c = container.securityContext ?? {};
  const pick = <K extends keyof SecurityContext>(k: K, v: SecurityContext[K] | undefined): Partial<SecurityContext> => (v !== undefined ? { [k]: v } : {});
  return {
    ...c,
    ...pick('runAsUser', c.runAsUser ?? p?.runAsUser),
    ...pick('runAsGroup', c.runAsGroup ?? p?.runAsGroup),
    ...pick('runAsNonRoot', c.runAsNonRoot ?? p?.runAsNonRoot),
    ...pick('seLinuxOptions', c.seLinuxOptions ?? p?.seLinuxOptions),
    ...pick('seccompProfile', c.seccompProfile ?? p?.seccompProfile),
    ...pick('appArmorProfile', c.appArmorProfile ?? p?.appArmorProfile),
  };
}

function verifyRunAsNonRoot(pod: Pod, container: Container, sc: SecurityContext, uid: number | undefined, username: string): void {
  if (sc.runAsNonRoot !== true) return;
  const where = `(pod: ${JSON.stringify(formatPod(pod))}, container: ${container.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  if (uid === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  if (uid === undefined && username !== '') {
    throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${username}), cannot verify user is non-root ${where}`);
  }
}

export function linuxSecurityContext(pod: Pod, container: Container, opts: Pick<ContainerConfigOptions, 'imageUser' | 'seccompProfileRoot' | 'targetId'> = {}): LinuxContainerSecurityContext {
  const sc = effectiveSecurityContext(pod, container);
  // an image without a configured user runs as root
  const uid = opts.imageUser ? opts.imageUser.uid : 0;
  const username = opts.imageUser?.username ?? '';
  verifyRunAsNonRoot(pod, container, sc, uid, username);
  const podSc = pod.spec.securityContext;
  const groups = [...(podSc?.fsGroup !== undefined ? [podSc.fsGroup] : []), ...(podSc?.supplementalGroups ?? [])];
  const unmasked = sc.procMount === 'Unmasked';
  const runAs =
    sc.runAsUser !== undefined
      ? { runAsUser: { value: sc.runAsUser } }
      : { ...(uid !== undefined ? { runAsUser: { value: uid } } : {}), ...(username !== '' ? { runAsUsername: username } : {}) };
  return {
    ...(sc.capabilities ? { capabilities: { addCapabilities: [...(sc.capabilities.add ?? [])], dropCapabilities: [...(sc.capabilities.drop ?? [])] } } : {}),
    privileged: sc.privileged === true,
    namespaceOptions: opts.targetId !== undefined ? { ...namespaceOptionsForPod(pod), pid: 'TARGET', targetId: opts.targetId } : namespaceOptionsForPod(pod),
    ...(sc.seLinuxOptions ? { selinuxOptions: { ...sc.seLinuxOptions } } : {}),
    ...runAs,
    ...(sc.runAsGroup !== undefined ? { runAsGroup: { value: sc.runAsGroup } } : {}),
    readonlyRootfs: sc.readOnlyRootFilesystem === true,
    ...(groups.length > 0 ? { supplementalGroups: groups } : {}),
    ...(podSc?.supplementalGroupsPolicy !== undefined ? { supplementalGroupsPolicy: podSc.supplementalGroupsPolicy } : {}),
    // only an explicit allowPrivilegeEscalation: false sets no_new_privs
    noNewPrivs: sc.allowPrivilegeEscalation === false,
    maskedPaths: unmasked ? [] : [...DEFAULT_MASKED_PATHS],
    readonlyPaths: unmasked ? [] : [...DEFAULT_READONLY_PATHS],
    seccomp: sc.seccompProfile ? profile(sc.seccompProfile, opts.seccompProfileRoot ?? DEFAULT_SECCOMP_PROFILE_ROOT) : { profileType: 'Unconfined' },
    ...(sc.appArmorProfile ? { apparmor: profile(sc.appArmorProfile, undefined) } : {}),
  };
}

// ---- the config --------------------------------------------------------------------------------

export function containerLogPath(containerName: string, restartCount: number): string {
  return `${containerName}/${restartCount}.log`;
}

/** Throws ContainerConfigError (CreateContainerConfigError) when runAsNonRoot cannot hold. */
export function buildContainerConfig(pod: Pod, container: Container, opts: ContainerConfigOptions): ContainerConfig {
  const image = container.image ?? '';
  const { command, args } = expandCommandAndArgs(container, opts.envs);
  return {
    metadata: { name: container.name, attempt: opts.restartCount },
    image: { image: opts.imageRef ?? image, userSpecifiedImage: image },
    ...(command ? { command } : {}),
    ...(args ? { args } : {}),
    ...(container.workingDir ? { workingDir: container.workingDir } : {}),
    envs: opts.envs.map((e) => ({ key: e.name, value: e.value })),
    mounts: criMounts(container, opts.mounts, opts.terminationMessageHostPath),
    labels: containerLabels(pod, container, opts.isInit),
    annotations: containerAnnotations(pod, container, opts.restartCount),
    logPath: containerLogPath(container.name, opts.restartCount),
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    tty: container.tty === true,
    linux: {
      resources: linuxResourcesFor(pod, container, opts.memoryCapacity),
      securityContext: linuxSecurityContext(pod, container, opts),
    },
  };
}
