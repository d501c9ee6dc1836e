/**
 * In-memory RuntimeService for kubelet unit tests, keeping the semantics a kubelet depends on
 * (as containerd 1.6 behaves on the project's machines):
 * - sandboxes are READY once RunPodSandbox resolves, NOTREADY after StopPodSandbox (which also
 *   kills their containers); the pod's name+namespace+uid+attempt is reserved while it exists;
 *   a NODE-network sandbox must have an empty hostname; pod-network sandboxes get an IP;
 * - containers go CREATED -> RUNNING -> EXITED, only inside a READY sandbox, only from a present
 *   image when an image service is attached; name+attempt is reserved per sandbox;
 * - Stop* are idempotent, Remove* of a missing object succeeds, Status of one rejects NotFound;
 * - ExecSync needs a running container and answers from a scripted handler.
 * Test hooks: `exitContainer` (the process ended with a code), `onExecSync`, `setCondition`,
 * `setVersion`, `recorder` (calls and scripted failures).
 */
import type { Clock } from '../../lib/clock.js';
import { realClock } from '../../lib/clock.js';
import { GrpcCode } from './errors.js';
import { CallRecorder, FakeNanoClock, fakeError, fakeId, matchesId, matchesLabels } from './fake-support.js';
import type { FakeImageService } from './fake-image.js';
import { CRI_API_VERSION } from './services.js';
import type { RuntimeService } from './services.js';
import type { CallOptions, ContainerState, ImageSpec, LinuxContainerResources } from './types-common.js';
import type {
  AttachRequest,
  Container,
  ContainerConfig,
  ContainerStatsRequest,
  ContainerStatsResponse,
  ContainerStatus,
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
  PodSandbox,
  PodSandboxConfig,
  PodSandboxStatus,
  PodSandboxStatusRequest,
  PodSandboxStatusResponse,
  PortForwardRequest,
  RemovePodSandboxRequest,
  RemovePodSandboxResponse,
  RunPodSandboxRequest,
  RunPodSandboxResponse,
  RuntimeCondition,
  StatusRequest,
  StatusResponse,
  StopPodSandboxRequest,
  StopPodSandboxResponse,
  StreamingUrlResponse,
  VersionRequest,
  VersionResponse,
} from './types-sandbox.js';

export type RuntimeMethod = keyof RuntimeService;

export interface FakeExecResult {
  readonly stdout?: string | Uint8Array;
  readonly stderr?: string | Uint8Array;
  readonly exitCode?: number;
}

export type FakeExecHandler = (req: ExecSyncRequest) => FakeExecResult | Promise<FakeExecResult>;

export interface FakeRuntimeOptions {
  readonly clock?: Clock;
  /** When set, CreateContainer requires the image to be present there (as containerd does). */
  readonly images?: FakeImageService;
  /** Runtime handlers besides the default (empty name). */
  readonly runtimeHandlers?: readonly string[];
  /** First three octets of sandbox IPs; default `10.88.0`. */
  readonly podSubnetPrefix?: string;
}

interface SandboxRecord {
  readonly id: string;
  readonly key: string;
  readonly config: PodSandboxConfig;
  readonly createdAt: bigint;
  readonly ip: string;
  readonly runtimeHandler: string;
  state: 'SANDBOX_READY' | 'SANDBOX_NOTREADY';
}

interface ContainerRecord {
  readonly id: string;
  readonly key: string;
  readonly sandboxId: string;
  readonly config: ContainerConfig;
  readonly image: ImageSpec;
  readonly imageRef: string;
  readonly createdAt: bigint;
  readonly logPath: string;
  state: ContainerState;
  startedAt: bigint;
  finishedAt: bigint;
  exitCode: number;
  reason: string;
  message: string;
  resources: LinuxContainerResources | undefined;
}

const EXIT_SIGKILL = 137;

export class FakeRuntimeService implements RuntimeService {
  readonly recorder = new CallRecorder<RuntimeMethod>();
  private readonly sandboxes = new Map<string, SandboxRecord>();
  private readonly containers = new Map<string, ContainerRecord>();
  private readonly nanos: FakeNanoClock;
  private readonly images: FakeImageService | undefined;
  private readonly handlers: ReadonlySet<string>;
  private readonly subnet: string;
  private nextId = 0;
  private nextIp = 2;
  private execHandler: FakeExecHandler = () => ({ exitCode: 0 });
  private versionResponse: VersionResponse = {
    version: CRI_API_VERSION,
    runtimeName: 'fake',
    runtimeVersion: '0.1.0',
    runtimeApiVersion: 'v1',
  };
  private readonly conditions = new Map<string, RuntimeCondition>([
    ['RuntimeReady', { type: 'RuntimeReady', status: true, reason: '', message: '' }],
    ['NetworkReady', { type: 'NetworkReady', status: true, reason: '', message: '' }],
  ]);

  constructor(opts: FakeRuntimeOptions = {}) {
    this.nanos = new FakeNanoClock(opts.clock ?? realClock);
    this.images = opts.images;
    this.handlers = new Set(['', ...(opts.runtimeHandlers ?? [])]);
    this.subnet = opts.podSubnetPrefix ?? '10.88.0';
  }

  // ---- test hooks ----------------------------------------------------------------------------

  /** The container's process ended: RUNNING -> EXITED with this code (Completed/Error by code). */
  exitContainer(containerId: string, exitCode: number, opts: { readonly reason?: string; readonly message?: string } = {}): void {
    const c = this.containers.get(containerId);
    if (!c) throw new Error(`fake runtime: no container ${containerId}`);
    if (c.state !== 'CONTAINER_RUNNING') throw new Error(`fake runtime: container ${containerId} is ${c.state}, not running`);
    this.finish(c, exitCode, opts.reason, opts.message ?? '');
  }

  onExecSync(handler: FakeExecHandler): void {
    this.execHandler = handler;
  }

  setCondition(type: string, status: boolean, reason = '', message = ''): void {
    this.conditions.set(type, { type, status, reason, message });
  }

  setVersion(v: Partial<VersionResponse>): void {
    this.versionResponse = { ...this.versionResponse, ...v };
  }

  // ---- RuntimeService --------------------------------------------------------------------------

  async version(req: VersionRequest, _opts?: CallOptions): Promise<VersionResponse> {
    this.recorder.enter('version', req);
    return this.versionResponse;
  }

  async status(req: StatusRequest, _opts?: CallOptions): Promise<StatusResponse> {
    this.recorder.enter('status', req);
    return { status: { conditions: [...this.conditions.values()] }, info: {}, runtimeHandlers: [...this.handlers].map((name) => ({ name })) };
  }

  async runPodSandbox(req: RunPodSandboxRequest, _opts?: CallOptions): Promise<RunPodSandboxResponse> {
    this.recorder.enter('runPodSandbox', req);
    const { config } = req;
    const m = config.metadata;
    if (!m?.name || !m.namespace || !m.uid) throw fakeError('RunPodSandbox', GrpcCode.INVALID_ARGUMENT, 'sandbox config must include metadata with name, namespace and uid');
    const handler = req.runtimeHandler ?? '';
    if (!this.handlers.has(handler)) throw fakeError('RunPodSandbox', GrpcCode.UNKNOWN, `failed to get sandbox runtime: no runtime for "${handler}" is configured`);
    const hostNetwork = config.linux?.securityContext?.namespaceOptions?.network === 'NODE';
    if (hostNetwork && config.hostname) {
      throw fakeError('RunPodSandbox', GrpcCode.INVALID_ARGUMENT, 'a sandbox in the node network namespace must have an empty hostname');
    }
    const key = `${m.name}_${m.namespace}_${m.uid}_${m.attempt}`;
    const holder = [...this.sandboxes.values()].find((s) => s.key === key);
    if (holder) throw fakeError('RunPodSandbox', GrpcCode.UNKNOWN, `failed to reserve sandbox name "${key}": name is reserved for "${holder.id}"`);
    const id = fakeId('sandbox', this.nextId++);
    const ip = hostNetwork ? '' : `${this.subnet}.${this.nextIp++}`;
    this.sandboxes.set(id, { id, key, config, createdAt: this.nanos.now(), ip, runtimeHandler: handler, state: 'SANDBOX_READY' });
    return { podSandboxId: id };
  }

  async stopPodSandbox(req: StopPodSandboxRequest, _opts?: CallOptions): Promise<StopPodSandboxResponse> {
    this.recorder.enter('stopPodSandbox', req);
    const s = this.getSandbox('StopPodSandbox', req.podSandboxId);
    for (const c of this.containers.values()) {
      if (c.sandboxId === s.id && c.state === 'CONTAINER_RUNNING') this.finish(c, EXIT_SIGKILL, undefined, '');
    }
    s.state = 'SANDBOX_NOTREADY';
    return {};
  }

  async removePodSandbox(req: RemovePodSandboxRequest, _opts?: CallOptions): Promise<RemovePodSandboxResponse> {
    this.recorder.enter('removePodSandbox', req);
    const s = this.sandboxes.get(req.podSandboxId);
    if (!s) return {};
    for (const c of [...this.containers.values()]) if (c.sandboxId === s.id) this.containers.delete(c.id);
    this.sandboxes.delete(s.id);
    return {};
  }

  async podSandboxStatus(req: PodSandboxStatusRequest, _opts?: CallOptions): Promise<PodSandboxStatusResponse> {
    this.recorder.enter('podSandboxStatus', req);
    const s = this.getSandbox('PodSandboxStatus', req.podSandboxId);
    const nsOpts = s.config.linux?.securityContext?.namespaceOptions;
    const status: PodSandboxStatus = {
      ...this.sandboxSummary(s),
      ...(s.ip ? { network: { ip: s.ip, additionalIps: [] } } : {}),
      linux: { namespaces: { options: { network: nsOpts?.network ?? 'POD', pid: nsOpts?.pid ?? 'POD', ipc: nsOpts?.ipc ?? 'POD', targetId: nsOpts?.targetId ?? '' } } },
    };
    return { status, info: {}, containersStatuses: [], timestamp: this.nanos.now() };
  }

  async listPodSandbox(req: ListPodSandboxRequest, _opts?: CallOptions): Promise<ListPodSandboxResponse> {
    this.recorder.enter('listPodSandbox', req);
    const f = req.filter;
    const items = [...this.sandboxes.values()]
      .filter((s) => matchesId(s.id, f?.id) && (!f?.state || f.state.state === s.state) && matchesLabels(s.config.labels ?? {}, f?.labelSelector))
      .map((s) => this.sandboxSummary(s));
    return { items };
  }

  async createContainer(req: CreateContainerRequest, _opts?: CallOptions): Promise<CreateContainerResponse> {
    this.recorder.enter('createContainer', req);
    const s = this.getSandbox('CreateContainer', req.podSandboxId);
    if (s.state !== 'SANDBOX_READY') throw fakeError('CreateContainer', GrpcCode.FAILED_PRECONDITION, `sandbox ${s.id} is not ready (${s.state})`);
    const { config } = req;
    if (!config.metadata?.name) throw fakeError('CreateContainer', GrpcCode.INVALID_ARGUMENT, 'container config must include metadata with a name');
    let imageRef = config.image.image;
    if (this.images) {
      const image = this.images.resolve(config.image.image);
      if (!image) throw fakeError('CreateContainer', GrpcCode.NOT_FOUND, `failed to get image "${config.image.image}": not found`);
      imageRef = image.id;
    }
    const key = `${config.metadata.name}_${s.id}_${config.metadata.attempt}`;
    const holder = [...this.containers.values()].find((c) => c.key === key);
    if (holder) throw fakeError('CreateContainer', GrpcCode.UNKNOWN, `failed to reserve container name "${key}": name is reserved for "${holder.id}"`);
    const id = fakeId('container', this.nextId++);
    const dir = s.config.logDirectory ?? '';
    const logPath = config.logPath ? (dir ? `${dir.replace(/\/$/, '')}/${config.logPath}` : config.logPath) : '';
    this.containers.set(id, {
      id,
      key,
      sandboxId: s.id,
      config,
      image: config.image,
      imageRef,
      createdAt: this.nanos.now(),
      logPath,
      state: 'CONTAINER_CREATED',
      startedAt: 0n,
      finishedAt: 0n,
      exitCode: 0,
      reason: '',
      message: '',
      resources: config.linux?.resources,
    });
    return { containerId: id };
  }

  async startContainer(req: StartContainerRequest, _opts?: CallOptions): Promise<EmptyResponse> {
    this.recorder.enter('startContainer', req);
    const c = this.getContainer('StartContainer', req.containerId);
    if (c.state !== 'CONTAINER_CREATED') throw fakeError('StartContainer', GrpcCode.FAILED_PRECONDITION, `container ${c.id} is in ${c.state} state`);
    const s = this.sandboxes.get(c.sandboxId);
    if (s?.state !== 'SANDBOX_READY') throw fakeError('StartContainer', GrpcCode.FAILED_PRECONDITION, `sandbox ${c.sandboxId} is not ready`);
    c.state = 'CONTAINER_RUNNING';
    c.startedAt = this.nanos.now();
    return {};
  }

  async stopContainer(req: StopContainerRequest, _opts?: CallOptions): Promise<EmptyResponse> {
    this.recorder.enter('stopContainer', req);
    const c = this.getContainer('StopContainer', req.containerId);
    // a grace period lets the process exit on SIGTERM; none means SIGKILL
    if (c.state === 'CONTAINER_RUNNING') this.finish(c, (req.timeout ?? 0) > 0 ? 0 : EXIT_SIGKILL, undefined, '');
    return {};
  }

  async removeContainer(req: RemoveContainerRequest, _opts?: CallOptions): Promise<EmptyResponse> {
    this.recorder.enter('removeContainer', req);
    this.containers.delete(req.containerId);
    return {};
  }

  async listContainers(req: ListContainersRequest, _opts?: CallOptions): Promise<ListContainersResponse> {
    this.recorder.enter('listContainers', req);
    const f = req.filter;
    const containers = [...this.containers.values()]
      .filter(
        (c) =>
          matchesId(c.id, f?.id) &&
          (!f?.podSandboxId || c.sandboxId === f.podSandboxId) &&
          (!f?.state || f.state.state === c.state) &&
          matchesLabels(c.config.labels ?? {}, f?.labelSelector),
      )
      .map((c): Container => ({
        id: c.id,
        podSandboxId: c.sandboxId,
        metadata: c.config.metadata,
        image: c.image,
        imageRef: c.imageRef,
        imageId: c.imageRef,
        state: c.state,
        createdAt: c.createdAt,
        labels: c.config.labels ?? {},
        annotations: c.config.annotations ?? {},
      }));
    return { containers };
  }

  async containerStatus(req: ContainerStatusRequest, _opts?: CallOptions): Promise<ContainerStatusResponse> {
    this.recorder.enter('containerStatus', req);
    const c = this.getContainer('ContainerStatus', req.containerId);
    const status: ContainerStatus = {
      id: c.id,
      metadata: c.config.metadata,
      state: c.state,
      createdAt: c.createdAt,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      exitCode: c.exitCode,
      image: c.image,
      imageRef: c.imageRef,
      imageId: c.imageRef,
      reason: c.reason,
      message: c.message,
      labels: c.config.labels ?? {},
      annotations: c.config.annotations ?? {},
      mounts: c.config.mounts ?? [],
      logPath: c.logPath,
      ...(c.resources ? { resources: { linux: c.resources } } : {}),
    };
    return { status, info: {} };
  }

  async updateContainerResources(req: UpdateContainerResourcesRequest, _opts?: CallOptions): Promise<EmptyResponse> {
    this.recorder.enter('updateContainerResources', req);
    const c = this.getContainer('UpdateContainerResources', req.containerId);
    if (c.state === 'CONTAINER_EXITED') throw fakeError('UpdateContainerResources', GrpcCode.FAILED_PRECONDITION, `container ${c.id} is in CONTAINER_EXITED state`);
    c.resources = { ...c.resources, ...req.linux };
    return {};
  }

  async reopenContainerLog(req: ReopenContainerLogRequest, _opts?: CallOptions): Promise<EmptyResponse> {
    this.recorder.enter('reopenContainerLog', req);
    this.requireRunning('ReopenContainerLog', req.containerId);
    return {};
  }

  async execSync(req: ExecSyncRequest, _opts?: CallOptions): Promise<ExecSyncResponse> {
    this.recorder.enter('execSync', req);
    this.requireRunning('ExecSync', req.containerId);
    const r = await this.execHandler(req);
    const bytes = (v: string | Uint8Array | undefined): Uint8Array => (typeof v === 'string' ? Buffer.from(v) : (v ?? Buffer.alloc(0)));
    return { stdout: bytes(r.stdout), stderr: bytes(r.stderr), exitCode: r.exitCode ?? 0 };
  }

  async exec(req: ExecRequest, _opts?: CallOptions): Promise<StreamingUrlResponse> {
    this.recorder.enter('exec', req);
    this.requireRunning('Exec', req.containerId);
    return { url: `http://127.0.0.1:10010/exec/${fakeId('token', this.nextId++).slice(0, 8)}` };
  }

  async attach(req: AttachRequest, _opts?: CallOptions): Promise<StreamingUrlResponse> {
    this.recorder.enter('attach', req);
    this.requireRunning('Attach', req.containerId);
    return { url: `http://127.0.0.1:10010/attach/${fakeId('token', this.nextId++).slice(0, 8)}` };
  }

  async portForward(req: PortForwardRequest, _opts?: CallOptions): Promise<StreamingUrlResponse> {
    this.recorder.enter('portForward', req);
    const s = this.getSandbox('PortForward', req.podSandboxId);
    if (s.state !== 'SANDBOX_READY') throw fakeError('PortForward', GrpcCode.FAILED_PRECONDITION, `sandbox ${s.id} is not ready`);
    return { url: `http://127.0.0.1:10010/portforward/${fakeId('token', this.nextId++).slice(0, 8)}` };
  }

  async containerStats(req: ContainerStatsRequest, _opts?: CallOptions): Promise<ContainerStatsResponse> {
    this.recorder.enter('containerStats', req);
    return { stats: this.statsOf(this.getContainer('ContainerStats', req.containerId)) };
  }

  async listContainerStats(req: ListContainerStatsRequest, _opts?: CallOptions): Promise<ListContainerStatsResponse> {
    this.recorder.enter('listContainerStats', req);
    const f = req.filter;
    const stats = [...this.containers.values()]
      .filter((c) => c.state === 'CONTAINER_RUNNING' && matchesId(c.id, f?.id) && (!f?.podSandboxId || c.sandboxId === f.podSandboxId) && matchesLabels(c.config.labels ?? {}, f?.labelSelector))
      .map((c) => this.statsOf(c));
    return { stats };
  }

  // ---- internals -----------------------------------------------------------------------------

  private finish(c: ContainerRecord, exitCode: number, reason: string | undefined, message: string): void {
    c.state = 'CONTAINER_EXITED';
    c.finishedAt = this.nanos.now();
    c.exitCode = exitCode;
    c.reason = reason ?? (exitCode === 0 ? 'Completed' : 'Error');
    c.message = message;
  }

  private getSandbox(op: string, id: string): SandboxRecord {
    const s = this.sandboxes.get(id);
    if (!s) throw fakeError(op, GrpcCode.NOT_FOUND, `an error occurred when try to find sandbox "${id}": not found`);
    return s;
  }

  private getContainer(op: string, id: string): ContainerRecord {
    const c = this.containers.get(id);
    if (!c) throw fakeError(op, GrpcCode.NOT_FOUND, `an error occurred when try to find container "${id}": not found`);
    return c;
  }

  private requireRunning(op: string, id: string): ContainerRecord {
    const c = this.getContainer(op, id);
    if (c.state !== 'CONTAINER_RUNNING') throw fakeError(op, GrpcCode.UNKNOWN, `container ${id} is in ${c.state} state`);
    return c;
  }

  private sandboxSummary(s: SandboxRecord): PodSandbox {
    return {
      id: s.id,
      metadata: s.config.metadata,
      state: s.state,
      createdAt: s.createdAt,
      labels: s.config.labels ?? {},
      annotations: s.config.annotations ?? {},
      runtimeHandler: s.runtimeHandler,
    };
  }

  private statsOf(c: ContainerRecord): NonNullable<ContainerStatsResponse['stats']> {
    const timestamp = this.nanos.now();
    return {
      attributes: { id: c.id, metadata: c.config.metadata, labels: c.config.labels ?? {}, annotations: c.config.annotations ?? {} },
      cpu: { timestamp, usageCoreNanoSeconds: { value: 0 }, usageNanoCores: { value: 0 } },
      memory: { timestamp, workingSetBytes: { value: 0 } },
    };
  }
}
