/**
 * RuntimeService over gRPC (runtime.v1.RuntimeService). Each method is one unary call through the
 * shared CriTransport, which applies the deadline and turns gRPC statuses into CriErrors.
 */
import type { RuntimeService } from './services.js';
import { runtimeOperations as ops } from './services.js';
import type { CriTransport } from './transport.js';
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

const S = 'RuntimeService';

export class RemoteRuntimeService implements RuntimeService {
  constructor(private readonly t: CriTransport) {}

  version(req: VersionRequest, opts?: CallOptions): Promise<VersionResponse> {
    return this.t.call(S, ops.version, req, opts);
  }
  runPodSandbox(req: RunPodSandboxRequest, opts?: CallOptions): Promise<RunPodSandboxResponse> {
    return this.t.call(S, ops.runPodSandbox, req, opts);
  }
  stopPodSandbox(req: StopPodSandboxRequest, opts?: CallOptions): Promise<StopPodSandboxResponse> {
    return this.t.call(S, ops.stopPodSandbox, req, opts);
  }
  removePodSandbox(req: RemovePodSandboxRequest, opts?: CallOptions): Promise<RemovePodSandboxResponse> {
    return this.t.call(S, ops.removePodSandbox, req, opts);
  }
  podSandboxStatus(req: PodSandboxStatusRequest, opts?: CallOptions): Promise<PodSandboxStatusResponse> {
    return this.t.call(S, ops.podSandboxStatus, req, opts);
  }
  listPodSandbox(req: ListPodSandboxRequest, opts?: CallOptions): Promise<ListPodSandboxResponse> {
    return this.t.call(S, ops.listPodSandbox, req, opts);
  }
  createContainer(req: CreateContainerRequest, opts?: CallOptions): Promise<CreateContainerResponse> {
    return this.t.call(S, ops.createContainer, req, opts);
  }
  startContainer(req: StartContainerRequest, opts?: CallOptions): Promise<EmptyResponse> {
    return this.t.call(S, ops.startContainer, req, opts);
  }
  stopContainer(req: StopContainerRequest, opts?: CallOptions): Promise<EmptyResponse> {
    return this.t.call(S, ops.stopContainer, req, opts);
  }
  removeContainer(req: RemoveContainerRequest, opts?: CallOptions): Promise<EmptyResponse> {
    return this.t.call(S, ops.removeContainer, req, opts);
  }
  listContainers(req: ListContainersRequest, opts?: CallOptions): Promise<ListContainersResponse> {
    return this.t.call(S, ops.listContainers, req, opts);
  }
  containerStatus(req: ContainerStatusRequest, opts?: CallOptions): Promise<ContainerStatusResponse> {
    return this.t.call(S, ops.containerStatus, req, opts);
  }
  updateContainerResources(req: UpdateContainerResourcesRequest, opts?: CallOptions): Promise<EmptyResponse> {
    return this.t.call(S, ops.updateContainerResources, req, opts);
  }
  reopenContainerLog(req: ReopenContainerLogRequest, opts?: CallOptions): Promise<EmptyResponse> {
    return this.t.call(S, ops.reopenContainerLog, req, opts);
  }
  execSync(req: ExecSyncRequest, opts?: CallOptions): Promise<ExecSyncResponse> {
    return this.t.call(S, ops.execSync, req, opts);
  }
  exec(req: ExecRequest, opts?: CallOptions): Promise<StreamingUrlResponse> {
    return this.t.call(S, ops.exec, req, opts);
  }
  attach(req: AttachRequest, opts?: CallOptions): Promise<StreamingUrlResponse> {
    return this.t.call(S, ops.attach, req, opts);
  }
  portForward(req: PortForwardRequest, opts?: CallOptions): Promise<StreamingUrlResponse> {
    return this.t.call(S, ops.portForward, req, opts);
  }
  containerStats(req: ContainerStatsRequest, opts?: CallOptions): Promise<ContainerStatsResponse> {
    return this.t.call(S, ops.containerStats, req, opts);
  }
  listContainerStats(req: ListContainerStatsRequest, opts?: CallOptions): Promise<ListContainerStatsResponse> {
    return this.t.call(S, ops.listContainerStats, req, opts);
  }
  status(req: StatusRequest, opts?: CallOptions): Promise<StatusResponse> {
    return this.t.call(S, ops.status, req, opts);
  }
}
