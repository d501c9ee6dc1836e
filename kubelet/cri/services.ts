/**
 * The two roles a kubelet talks to, as upstream's CRI draws them: `RuntimeService` (sandboxes,
 * containers, exec) and `ImageService`. Implemented by the gRPC client (remote-runtime.ts,
 * remote-image.ts), by the metrics wrapper (instrumented.ts) and by the fakes (fake-runtime.ts,
 * fake-image.ts), so kubelet code never knows which it holds.
 *
 * Every method takes one request object and optional CallOptions and rejects with a CriError
 * (errors.ts): decide on `instanceof CriNotFoundError`, never on message text.
 */
import type { CallOptions } from './types-common.js';
import type {
  AttachRequest,
  ContainerStatsRequest,
  ContainerStatsResponse,
  ContainerStatusRequest,
  ContainerStatusResponse,
  CreateContainerRequest,
  CreateContainerResponse,
  EmptyResponse,
  ExecRequest,
  ExecSyncRequest,
  ExecSyncResponse,
  ListContainerStatsRequest,
  ListContainerStatsResponse,
  ListContainersRequest,
  ListContainersResponse,
  RemoveContainerRequest,
  ReopenContainerLogRequest,
  StartContainerRequest,
  StopContainerRequest,
  UpdateContainerResourcesRequest,
} from './types-container.js';
import type {
  ImageFsInfoRequest,
  ImageFsInfoResponse,
  ImageStatusRequest,
  ImageStatusResponse,
  ListImagesRequest,
  ListImagesResponse,
  PullImageRequest,
  PullImageResponse,
  RemoveImageRequest,
  RemoveImageResponse,
} from './types-image.js';
import type {
  ListPodSandboxRequest,
  ListPodSandboxResponse,
  PodSandboxStatusRequest,
  PodSandboxStatusResponse,
  PortForwardRequest,
  RemovePodSandboxRequest,
  RemovePodSandboxResponse,
  RunPodSandboxRequest,
  RunPodSandboxResponse,
  StatusRequest,
  StatusResponse,
  StopPodSandboxRequest,
  StopPodSandboxResponse,
  StreamingUrlResponse,
  VersionRequest,
  VersionResponse,
} from './types-sandbox.js';

/** The CRI API version a kubelet speaks and requires of the runtime. */
export const CRI_API_VERSION = '0.1.0';

export interface RuntimeService {
  version(req: VersionRequest, opts?: CallOptions): Promise<VersionResponse>;

  /** Creates and starts a sandbox; it is ready when this resolves. */
  runPodSandbox(req: RunPodSandboxRequest, opts?: CallOptions): Promise<RunPodSandboxResponse>;
  /** Idempotent for a known sandbox; also stops its containers. */
  stopPodSandbox(req: StopPodSandboxRequest, opts?: CallOptions): Promise<StopPodSandboxResponse>;
  /** Idempotent: removing a missing sandbox succeeds. Removes its containers. */
  removePodSandbox(req: RemovePodSandboxRequest, opts?: CallOptions): Promise<RemovePodSandboxResponse>;
  /** Rejects with CriNotFoundError for an unknown id. */
  podSandboxStatus(req: PodSandboxStatusRequest, opts?: CallOptions): Promise<PodSandboxStatusResponse>;
  listPodSandbox(req: ListPodSandboxRequest, opts?: CallOptions): Promise<ListPodSandboxResponse>;

  createContainer(req: CreateContainerRequest, opts?: CallOptions): Promise<CreateContainerResponse>;
  startContainer(req: StartContainerRequest, opts?: CallOptions): Promise<EmptyResponse>;
  /** Idempotent; the runtime kills the container once `timeout` seconds pass. */
  stopContainer(req: StopContainerRequest, opts?: CallOptions): Promise<EmptyResponse>;
  /** Idempotent: removing a missing container succeeds. A running one is killed first. */
  removeContainer(req: RemoveContainerRequest, opts?: CallOptions): Promise<EmptyResponse>;
  listContainers(req: ListContainersRequest, opts?: CallOptions): Promise<ListContainersResponse>;
  /** Rejects with CriNotFoundError for an unknown id. */
  containerStatus(req: ContainerStatusRequest, opts?: CallOptions): Promise<ContainerStatusResponse>;
  updateContainerResources(req: UpdateContainerResourcesRequest, opts?: CallOptions): Promise<EmptyResponse>;
  reopenContainerLog(req: ReopenContainerLogRequest, opts?: CallOptions): Promise<EmptyResponse>;

  /** Runs a command to completion (probes, hooks); a non-zero exit is a result, not an error. */
  execSync(req: ExecSyncRequest, opts?: CallOptions): Promise<ExecSyncResponse>;
  exec(req: ExecRequest, opts?: CallOptions): Promise<StreamingUrlResponse>;
  attach(req: AttachRequest, opts?: CallOptions): Promise<StreamingUrlResponse>;
  portForward(req: PortForwardRequest, opts?: CallOptions): Promise<StreamingUrlResponse>;

  containerStats(req: ContainerStatsRequest, opts?: CallOptions): Promise<ContainerStatsResponse>;
  listContainerStats(req: ListContainerStatsRequest, opts?: CallOptions): Promise<ListContainerStatsResponse>;

  status(req: StatusRequest, opts?: CallOptions): Promise<StatusResponse>;
}

export interface ImageService {
  listImages(req: ListImagesRequest, opts?: CallOptions): Promise<ListImagesResponse>;
  /** An absent image resolves with no `image`; it does not reject. */
  imageStatus(req: ImageStatusRequest, opts?: CallOptions): Promise<ImageStatusResponse>;
  pullImage(req: PullImageRequest, opts?: CallOptions): Promise<PullImageResponse>;
  /** Idempotent: removing a missing image succeeds. */
  removeImage(req: RemoveImageRequest, opts?: CallOptions): Promise<RemoveImageResponse>;
  imageFsInfo(req: ImageFsInfoRequest, opts?: CallOptions): Promise<ImageFsInfoResponse>;
}

/**
 * Every RuntimeService method with upstream's `operation_type` metric label and the deadline class
 * the remote client gives it. The mapped type makes forgetting a method a compile error.
 */
export type DeadlineClass = 'status' | 'default' | 'sandbox' | 'stopContainer' | 'exec' | 'pull';

export interface OperationInfo {
  readonly rpc: string;
  readonly metric: string;
  readonly deadline: DeadlineClass;
}

export const runtimeOperations: { readonly [K in keyof RuntimeService]: OperationInfo } = {
  version: { rpc: 'Version', metric: 'version', deadline: 'status' },
  runPodSandbox: { rpc: 'RunPodSandbox', metric: 'run_podsandbox', deadline: 'sandbox' },
  stopPodSandbox: { rpc: 'StopPodSandbox', metric: 'stop_podsandbox', deadline: 'sandbox' },
  removePodSandbox: { rpc: 'RemovePodSandbox', metric: 'remove_podsandbox', deadline: 'sandbox' },
  podSandboxStatus: { rpc: 'PodSandboxStatus', metric: 'podsandbox_status', deadline: 'status' },
  listPodSandbox: { rpc: 'ListPodSandbox', metric: 'list_podsandbox', deadline: 'status' },
  createContainer: { rpc: 'CreateContainer', metric: 'create_container', deadline: 'default' },
  startContainer: { rpc: 'StartContainer', metric: 'start_container', deadline: 'default' },
  stopContainer: { rpc: 'StopContainer', metric: 'stop_container', deadline: 'stopContainer' },
  removeContainer: { rpc: 'RemoveContainer', metric: 'remove_container', deadline: 'default' },
  listContainers: { rpc: 'ListContainers', metric: 'list_containers', deadline: 'status' },
  containerStatus: { rpc: 'ContainerStatus', metric: 'container_status', deadline: 'status' },
  updateContainerResources: { rpc: 'UpdateContainerResources', metric: 'update_container', deadline: 'default' },
  reopenContainerLog: { rpc: 'ReopenContainerLog', metric: 'reopen_container_log', deadline: 'default' },
  execSync: { rpc: 'ExecSync', metric: 'exec_sync', deadline: 'exec' },
  exec: { rpc: 'Exec', metric: 'exec', deadline: 'default' },
  attach: { rpc: 'Attach', metric: 'attach', deadline: 'default' },
  portForward: { rpc: 'PortForward', metric: 'port_forward', deadline: 'default' },
  containerStats: { rpc: 'ContainerStats', metric: 'container_stats', deadline: 'status' },
  listContainerStats: { rpc: 'ListContainerStats', metric: 'list_container_stats', deadline: 'status' },
  status: { rpc: 'Status', metric: 'status', deadline: 'status' },
};

export const imageOperations: { readonly [K in keyof ImageService]: OperationInfo } = {
  listImages: { rpc: 'ListImages', metric: 'list_images', deadline: 'status' },
  imageStatus: { rpc: 'ImageStatus', metric: 'image_status', deadline: 'status' },
  pullImage: { rpc: 'PullImage', metric: 'pull_image', deadline: 'pull' },
  removeImage: { rpc: 'RemoveImage', metric: 'remove_image', deadline: 'default' },
  imageFsInfo: { rpc: 'ImageFsInfo', metric: 'image_fs_info', deadline: 'status' },
};
