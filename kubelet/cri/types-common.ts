/**
 * CRI runtime.v1 building blocks shared by sandboxes, containers and images, as the kubelet sees
 * them: camelCase, readonly, written by hand against proto/runtime/v1/api.proto (the wire test in
 * remote.test.ts round-trips every one through that file).
 *
 * Conventions of every CRI type in this folder:
 * - Requests: all fields optional, as in proto3; omitted means the zero value on the wire.
 * - Responses: every scalar, list and map is present (decoded with defaults); a nested message is
 *   optional because the runtime may leave it out.
 * - Enums are the proto value names as string unions.
 * - Timestamps (`createdAt`, `startedAt`, `finishedAt`, `timestamp`) are nanoseconds since the
 *   epoch as `bigint`: ~1.8e18 does not fit a double exactly (see time.ts for conversions).
 *   Every other int64/uint64 is a `number` (sizes and limits stay far below 2^53).
 */

export type StringMap = Readonly<Record<string, string>>;

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** POD: shared by the pod; CONTAINER: private; NODE: the host's; TARGET: another container's. */
export type NamespaceMode = 'POD' | 'CONTAINER' | 'NODE' | 'TARGET';

export type SupplementalGroupsPolicy = 'Merge' | 'Strict';

export type MountPropagation = 'PROPAGATION_PRIVATE' | 'PROPAGATION_HOST_TO_CONTAINER' | 'PROPAGATION_BIDIRECTIONAL';

export type PodSandboxState = 'SANDBOX_READY' | 'SANDBOX_NOTREADY';

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface Int64Value {
  readonly value: number;
}

export interface UInt64Value {
  readonly value: number;
}

export interface KeyValue {
  readonly key: string;
  readonly value: string;
}

export interface NamespaceOption {
  readonly network?: NamespaceMode;
  readonly pid?: NamespaceMode;
  readonly ipc?: NamespaceMode;
  readonly targetId?: string;
}

export interface SELinuxOption {
  readonly user?: string;
  readonly role?: string;
  readonly type?: string;
  readonly level?: string;
}

export interface SecurityProfile {
  readonly profileType?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  readonly localhostRef?: string;
}

export interface ImageSpec {
  /** A reference (`knode.local/pause:3.10`) or an image id (`sha256:...`). */
  readonly image: string;
  readonly annotations?: StringMap;
  readonly userSpecifiedImage?: string;
  readonly runtimeHandler?: string;
}

export interface HugepageLimit {
  readonly pageSize: string;
  readonly limit: number;
}

export interface LinuxContainerResources {
  readonly cpuPeriod?: number;
  readonly cpuQuota?: number;
  readonly cpuShares?: number;
  readonly memoryLimitInBytes?: number;
  readonly oomScoreAdj?: number;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
  readonly hugepageLimits?: readonly HugepageLimit[];
  /** cgroup v2 files, e.g. `memory.max`. */
  readonly unified?: StringMap;
  readonly memorySwapLimitInBytes?: number;
}

export interface FilesystemIdentifier {
  readonly mountpoint: string;
}

export interface FilesystemUsage {
  readonly timestamp: bigint;
  readonly fsId?: FilesystemIdentifier;
  readonly usedBytes?: UInt64Value;
  readonly inodesUsed?: UInt64Value;
}

/** Per-call options every service method takes. */
export interface CallOptions {
  /** Overrides the client's default deadline for this call. */
  readonly timeoutMs?: number;
  /** Cancels the call; the promise rejects with a CriCancelledError. */
  readonly signal?: AbortSignal;
}
