/**
 * CRI runtime.v1 container messages (see types-common.ts for the conventions every CRI type
 * follows).
 */
import type {
  ContainerState,
  FilesystemUsage,
  ImageSpec,
  Int64Value,
  KeyValue,
  LinuxContainerResources,
  MountPropagation,
  NamespaceOption,
  SELinuxOption,
  SecurityProfile,
  StringMap,
  SupplementalGroupsPolicy,
  UInt64Value,
} from './types-common.js';
import type { PodSandboxConfig } from './types-sandbox.js';

export interface ContainerMetadata {
  readonly name: string;
  readonly attempt: number;
}

export interface Mount {
  readonly containerPath: string;
  readonly hostPath: string;
  readonly readonly?: boolean;
  readonly selinuxRelabel?: boolean;
  readonly propagation?: MountPropagation;
  readonly recursiveReadOnly?: boolean;
}

export interface Device {
  readonly containerPath: string;
  readonly hostPath: string;
  /** Any of `r`, `w`, `m`. */
  readonly permissions?: string;
}

export interface Capability {
  readonly addCapabilities?: readonly string[];
  readonly dropCapabilities?: readonly string[];
  readonly addAmbientCapabilities?: readonly string[];
}

export interface LinuxContainerSecurityContext {
  readonly capabilities?: Capability;
  readonly privileged?: boolean;
  readonly namespaceOptions?: NamespaceOption;
  readonly selinuxOptions?: SELinuxOption;
  readonly runAsUser?: Int64Value;
  readonly runAsGroup?: Int64Value;
  readonly runAsUsername?: string;
  readonly readonlyRootfs?: boolean;
  readonly supplementalGroups?: readonly number[];
  readonly supplementalGroupsPolicy?: SupplementalGroupsPolicy;
  readonly noNewPrivs?: boolean;
  readonly maskedPaths?: readonly string[];
  readonly readonlyPaths?: readonly string[];
  readonly seccomp?: SecurityProfile;
  readonly apparmor?: SecurityProfile;
}

export interface LinuxContainerConfig {
  readonly resources?: LinuxContainerResources;
  readonly securityContext?: LinuxContainerSecurityContext;
}

export interface ContainerConfig {
  readonly metadata: ContainerMetadata;
  readonly image: ImageSpec;
  /** Replaces the image's entrypoint. */
  readonly command?: readonly string[];
  /** Replaces the image's cmd. */
  readonly args?: readonly string[];
  readonly workingDir?: string;
  readonly envs?: readonly KeyValue[];
  readonly mounts?: readonly Mount[];
  readonly devices?: readonly Device[];
  readonly labels?: StringMap;
  readonly annotations?: StringMap;
  /** Relative to the sandbox's `logDirectory`, e.g. `web/0.log`. */
  readonly logPath?: string;
  readonly stdin?: boolean;
  readonly stdinOnce?: boolean;
  readonly tty?: boolean;
  readonly linux?: LinuxContainerConfig;
}

export interface CreateContainerRequest {
  readonly podSandboxId: string;
  readonly config: ContainerConfig;
  /** The same config RunPodSandbox received. */
  readonly sandboxConfig?: PodSandboxConfig;
}

export interface CreateContainerResponse {
  readonly containerId: string;
}

export interface ContainerIdRequest {
  readonly containerId: string;
}

export type StartContainerRequest = ContainerIdRequest;
export type RemoveContainerRequest = ContainerIdRequest;
export type ReopenContainerLogRequest = ContainerIdRequest;
export type ContainerStatsRequest = ContainerIdRequest;
export type EmptyResponse = Readonly<Record<string, never>>;

export interface StopContainerRequest {
  readonly containerId: string;
  /** Grace period in seconds; 0 kills at once. */
  readonly timeout?: number;
}

export interface ContainerFilter {
  readonly id?: string;
  readonly state?: { readonly state: ContainerState };
  readonly podSandboxId?: string;
  readonly labelSelector?: StringMap;
}

export interface ListContainersRequest {
  readonly filter?: ContainerFilter;
}

export interface Container {
  readonly id: string;
  readonly podSandboxId: string;
  readonly metadata?: ContainerMetadata;
  readonly image?: ImageSpec;
  readonly imageRef: string;
  readonly imageId: string;
  readonly state: ContainerState;
  readonly createdAt: bigint;
  readonly labels: StringMap;
  readonly annotations: StringMap;
}

export interface ListContainersResponse {
  readonly containers: readonly Container[];
}

export interface ContainerStatusRequest {
  readonly containerId: string;
  readonly verbose?: boolean;
}

export interface ContainerStatus {
  readonly id: string;
  readonly metadata?: ContainerMetadata;
  readonly state: ContainerState;
  readonly createdAt: bigint;
  /** 0n until started. */
  readonly startedAt: bigint;
  /** 0n until exited. */
  readonly finishedAt: bigint;
  readonly exitCode: number;
  readonly image?: ImageSpec;
  readonly imageRef: string;
  readonly imageId: string;
  /** `Completed`, `Error`, `OOMKilled`, ... */
  readonly reason: string;
  readonly message: string;
  readonly labels: StringMap;
  readonly annotations: StringMap;
  readonly mounts: readonly Mount[];
  /** Absolute path on the host. */
  readonly logPath: string;
  readonly resources?: { readonly linux?: LinuxContainerResources };
}

export interface ContainerStatusResponse {
  readonly status?: ContainerStatus;
  /** Only with `verbose`: runtime-specific JSON values (containerd puts the pid here). */
  readonly info: StringMap;
}

export interface UpdateContainerResourcesRequest {
  readonly containerId: string;
  readonly linux?: LinuxContainerResources;
  readonly annotations?: StringMap;
}

export interface ExecSyncRequest {
  readonly containerId: string;
  readonly cmd: readonly string[];
  /** Seconds; 0 or absent runs without a runtime-side limit. */
  readonly timeout?: number;
}

export interface ExecSyncResponse {
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
  readonly exitCode: number;
}

export interface ExecRequest {
  readonly containerId: string;
  readonly cmd: readonly string[];
  readonly tty?: boolean;
  readonly stdin?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
}

export interface AttachRequest {
  readonly containerId: string;
  readonly stdin?: boolean;
  readonly tty?: boolean;
  readonly stdout?: boolean;
  readonly stderr?: boolean;
}

// ---- Statistics ------------------------------------------------------------------------------

export interface CpuUsage {
  readonly timestamp: bigint;
  readonly usageCoreNanoSeconds?: UInt64Value;
  readonly usageNanoCores?: UInt64Value;
}

export interface MemoryUsage {
  readonly timestamp: bigint;
  readonly workingSetBytes?: UInt64Value;
  readonly availableBytes?: UInt64Value;
  readonly usageBytes?: UInt64Value;
  readonly rssBytes?: UInt64Value;
  readonly pageFaults?: UInt64Value;
  readonly majorPageFaults?: UInt64Value;
}

export interface ContainerStats {
  readonly attributes?: {
    readonly id: string;
    readonly metadata?: ContainerMetadata;
    readonly labels: StringMap;
    readonly annotations: StringMap;
  };
  readonly cpu?: CpuUsage;
  readonly memory?: MemoryUsage;
  readonly writableLayer?: FilesystemUsage;
}

export interface ContainerStatsResponse {
  readonly stats?: ContainerStats;
}

export interface ListContainerStatsRequest {
  readonly filter?: { readonly id?: string; readonly podSandboxId?: string; readonly labelSelector?: StringMap };
}

export interface ListContainerStatsResponse {
  readonly stats: readonly ContainerStats[];
}
