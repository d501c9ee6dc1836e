/**
 * Types shared by the kubelet's modules (see DESIGN.md). The runtime view of a pod is rebuilt from CRI
 * lists and the labels/annotations knode puts on sandboxes and containers, so everything here can be
 * recomputed after a restart of the agent.
 */
import type { Container, Pod } from '../api/core/pod.js';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Secret } from '../api/core/secret.js';
import type { Service } from '../api/core/service.js';

// ---- labels and annotations: the kubelet's memory in the runtime ------------------------------------
export const LABEL_POD_NAME = 'io.kubernetes.pod.name';
export const LABEL_POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const LABEL_POD_UID = 'io.kubernetes.pod.uid';
export const LABEL_CONTAINER_NAME = 'io.kubernetes.container.name';
export const ANNOTATION_CONTAINER_HASH = 'io.kubernetes.container.hash';
export const ANNOTATION_RESTART_COUNT = 'io.kubernetes.container.restartCount';
export const ANNOTATION_TERMINATION_MESSAGE_PATH = 'io.kubernetes.container.terminationMessagePath';
export const ANNOTATION_TERMINATION_MESSAGE_POLICY = 'io.kubernetes.container.terminationMessagePolicy';
export const ANNOTATION_GRACE_PERIOD = 'io.kubernetes.pod.terminationGracePeriod';
export const ANNOTATION_PRESTOP_HANDLER = 'io.kubernetes.container.preStopHandler';
/** Set on sandboxes and containers of init containers: `init` or `regular`. */
export const LABEL_CONTAINER_TYPE = 'io.kubernetes.container.type';

// ---- runtime view --------------------------------------------------------------------------------
export interface RuntimeSandbox {
  readonly id: string;
  readonly state: 'ready' | 'notready';
  readonly attempt: number;
  /** ms since the epoch */
  readonly createdAt: number;
  readonly ip?: string;
  readonly hostNetwork: boolean;
}

export type RuntimeContainerState = 'created' | 'running' | 'exited' | 'unknown';

export interface RuntimeContainer {
  readonly id: string;
  readonly name: string;
  readonly sandboxId: string;
  readonly attempt: number;
  readonly state: RuntimeContainerState;
  readonly createdAt: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  readonly exitCode?: number;
  readonly reason?: string;
  readonly message?: string;
  readonly image: string;
  readonly imageRef: string;
  /** ANNOTATION_CONTAINER_HASH: a running container whose spec hash changed is restarted. */
  readonly hash: string;
  readonly restartCount: number;
  readonly isInit: boolean;
}

export interface RuntimePod {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** newest first */
  readonly sandboxes: readonly RuntimeSandbox[];
  /** newest first within each name */
  readonly containers: readonly RuntimeContainer[];
}

// ---- plan ----------------------------------------------------------------------------------------
export interface ContainerToKill {
  readonly id: string;
  readonly name: string;
  /** e.g. 'Container web failed liveness probe, will be restarted', 'Container spec hash changed' */
  readonly reason: string;
}

export interface WaitingReason {
  readonly reason: string; // ContainerCreating, PodInitializing, CrashLoopBackOff, ErrImagePull...
  readonly message?: string;
}

export interface PodActions {
  /** Kill everything (sandbox changed, pod terminating) before anything else. */
  readonly killPod: boolean;
  readonly createSandbox: boolean;
  readonly sandboxId?: string;
  readonly sandboxAttempt: number;
  /** Next init container to start, if init is not complete. */
  readonly initContainerToStart?: string;
  /** Regular containers to (re)start now (names). */
  readonly containersToStart: readonly string[];
  /** Ephemeral containers to start now (names): those that never ran; they are never restarted. */
  readonly ephemeralContainersToStart?: readonly string[];
  readonly containersToKill: readonly ContainerToKill[];
  /** Containers held back (back-off) and why. */
  readonly waiting: Readonly<Record<string, WaitingReason>>;
}

// ---- contracts between modules ------------------------------------------------------------------

/** Reads of API objects a pod refers to (informer caches in the agent, maps in tests). */
export interface ObjectLookup {
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** Services of a namespace, for the Service environment variables. */
  listServices(namespace: string): Promise<readonly Service[]>;
}

/** Facts about the pod's place that env, downward API and hosts files need. */
export interface PodRuntimeFacts {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly podIP: string;
  readonly podIPs: readonly string[];
}

/** A configuration error a user must fix; becomes CreateContainerConfigError with `message`. */
export interface EnvVar {
  readonly name: string;
  readonly value: string;
}

export interface EnvResolver {
  resolve(pod: Pod, container: Container, facts: PodRuntimeFacts): Promise<readonly EnvVar[]>;
}

/** A mount the container config carries (host side prepared by the volume manager). */
export interface HostMount {
  readonly hostPath: string;
  readonly containerPath: string;
  readonly readOnly: boolean;
  readonly subPath?: string;
}

export interface VolumeManager {
  /** Materializes every volume of the pod; returns the host directory/file of each volume by name. */
  setUpPod(pod: Pod, facts: PodRuntimeFacts): Promise<ReadonlyMap<string, string>>;
  /**
   * For a running pod: rewrites the volumes whose content expires (service account tokens) when it
   * is due; cheap when nothing is. Throws VolumeSetupError like setUpPod.
   */
  refreshVolumes?(pod: Pod, facts: PodRuntimeFacts): Promise<void>;
  /** Removes what setUpPod created for this pod UID (idempotent). */
  tearDownPod(uid: string): Promise<void>;
  /** Mounts for one container: its volumeMounts resolved to host paths, plus managed /etc/hosts. */
  mountsFor(pod: Pod, container: Container, volumes: ReadonlyMap<string, string>): readonly HostMount[];
}

export type ProbeKind = 'liveness' | 'readiness' | 'startup';
export type ProbeResult = 'success' | 'failure' | 'unknown';

export interface ProbeResults {
  get(containerId: string, kind: ProbeKind): ProbeResult;
}
