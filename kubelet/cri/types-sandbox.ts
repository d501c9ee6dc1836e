/**
 * CRI runtime.v1 pod sandbox messages, plus Version and Status (see types-common.ts for the
 * conventions every CRI type follows).
 */
import type {
  Int64Value,
  LinuxContainerResources,
  NamespaceOption,
  PodSandboxState,
  Protocol,
  SELinuxOption,
  SecurityProfile,
  StringMap,
  SupplementalGroupsPolicy,
} from './types-common.js';
import type { ContainerStatus } from './types-container.js';

// ---- Version and runtime status -------------------------------------------------------------

export interface VersionRequest {
  /** The kubelet's CRI API version, `0.1.0`. */
  readonly version?: string;
}

export interface VersionResponse {
  readonly version: string;
  readonly runtimeName: string;
  readonly runtimeVersion: string;
  readonly runtimeApiVersion: string;
}

export interface StatusRequest {
  readonly verbose?: boolean;
}

export interface RuntimeCondition {
  /** `RuntimeReady` or `NetworkReady` are the ones a kubelet requires. */
  readonly type: string;
  readonly status: boolean;
  readonly reason: string;
  readonly message: string;
}

export interface RuntimeHandler {
  readonly name: string;
  readonly features?: { readonly recursiveReadOnlyMounts: boolean; readonly userNamespaces: boolean };
}

export interface StatusResponse {
  readonly status?: { readonly conditions: readonly RuntimeCondition[] };
  readonly info: StringMap;
  readonly runtimeHandlers: readonly RuntimeHandler[];
}

// ---- Sandbox configuration ------------------------------------------------------------------

export interface PodSandboxMetadata {
  readonly name: string;
  readonly uid: string;
  readonly namespace: string;
  readonly attempt: number;
}

export interface DNSConfig {
  readonly servers?: readonly string[];
  readonly searches?: readonly string[];
  readonly options?: readonly string[];
}

export interface PortMapping {
  readonly protocol?: Protocol;
  readonly containerPort?: number;
  readonly hostPort?: number;
  readonly hostIp?: string;
}

export interface LinuxSandboxSecurityContext {
  readonly namespaceOptions?: NamespaceOption;
  readonly selinuxOptions?: SELinuxOption;
  readonly runAsUser?: Int64Value;
  readonly runAsGroup?: Int64Value;
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly supplementalGroupsPolicy?: SupplementalGroupsPolicy;
  readonly privileged?: boolean;
  readonly seccomp?: SecurityProfile;
  readonly apparmor?: SecurityProfile;
}

export interface LinuxPodSandboxConfig {
  readonly cgroupParent?: string;
  readonly securityContext?: LinuxSandboxSecurityContext;
  readonly sysctls?: StringMap;
  readonly overhead?: LinuxContainerResources;
  readonly resources?: LinuxContainerResources;
}

export interface PodSandboxConfig {
  readonly metadata: PodSandboxMetadata;
  /** Must be empty when `linux.securityContext.namespaceOptions.network` is NODE. */
  readonly hostname?: string;
  /** e.g. `/var/log/pods/<namespace>_<name>_<uid>`; container log paths are relative to it. */
  readonly logDirectory?: string;
  readonly dnsConfig?: DNSConfig;
  readonly portMappings?: readonly PortMapping[];
  readonly labels?: StringMap;
  readonly annotations?: StringMap;
  readonly linux?: LinuxPodSandboxConfig;
}

// ---- Sandbox calls --------------------------------------------------------------------------

export interface RunPodSandboxRequest {
  readonly config: PodSandboxConfig;
  /** RuntimeClass handler; empty selects the runtime's default. */
  readonly runtimeHandler?: string;
}

export interface RunPodSandboxResponse {
  readonly podSandboxId: string;
}

export interface PodSandboxIdRequest {
  readonly podSandboxId: string;
}

export type StopPodSandboxRequest = PodSandboxIdRequest;
export type RemovePodSandboxRequest = PodSandboxIdRequest;
export type StopPodSandboxResponse = Readonly<Record<string, never>>;
export type RemovePodSandboxResponse = Readonly<Record<string, never>>;

export interface PodSandboxStatusRequest {
  readonly podSandboxId: string;
  readonly verbose?: boolean;
}

export interface PodSandboxNetworkStatus {
  readonly ip: string;
  readonly additionalIps: readonly { readonly ip: string }[];
}

export interface PodSandboxStatus {
  readonly id: string;
  readonly metadata?: PodSandboxMetadata;
  readonly state: PodSandboxState;
  readonly createdAt: bigint;
  readonly network?: PodSandboxNetworkStatus;
  readonly linux?: { readonly namespaces?: { readonly options?: NamespaceOption } };
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly runtimeHandler: string;
}

export interface PodSandboxStatusResponse {
  readonly status?: PodSandboxStatus;
  /** Only with `verbose`: runtime-specific JSON values (containerd puts the netns path here). */
  readonly info: StringMap;
  readonly containersStatuses: readonly ContainerStatus[];
  readonly timestamp: bigint;
}

export interface PodSandboxFilter {
  /** containerd also matches a unique prefix of the id. */
  readonly id?: string;
  readonly state?: { readonly state: PodSandboxState };
  readonly labelSelector?: StringMap;
}

export interface ListPodSandboxRequest {
  readonly filter?: PodSandboxFilter;
}

export interface PodSandbox {
  readonly id: string;
  readonly metadata?: PodSandboxMetadata;
  readonly state: PodSandboxState;
  readonly createdAt: bigint;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly runtimeHandler: string;
}

export interface ListPodSandboxResponse {
  readonly items: readonly PodSandbox[];
}

export interface PortForwardRequest {
  readonly podSandboxId: string;
  readonly port?: readonly number[];
}

export interface StreamingUrlResponse {
  /** URL of the runtime's streaming server for this one session. */
  readonly url: string;
}
