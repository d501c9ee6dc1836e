/**
 * One gRPC channel to a CRI runtime over its unix socket, shared by the runtime and image clients.
 *
 * Every call gets a deadline (upstream kubelet's defaults: a 2 minute runtime request timeout,
 * twice that for sandbox calls, the container's grace period on top for StopContainer and the
 * command's timeout on top for ExecSync; status and list calls get a short one so a wedged
 * runtime surfaces quickly). Calls do not wait for the channel to be ready: when the runtime is
 * down they fail at once with CriUnavailableError and the kubelet's loops retry. grpc-js
 * reconnects on its own; the reconnect backoff is capped at 5 s (grpc's default cap is 120 s) so
 * a restarted containerd is picked up within seconds.
 */
import { Client, Metadata, credentials, status as grpcStatus } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { existsSync } from 'node:fs';
import { CriCancelledError, CriInvalidEndpointError, CriUnavailableError, criErrorFromStatus } from './errors.js';
import type { CriError } from './errors.js';
import { criProto } from './proto.js';
import type { CriProto } from './proto.js';
import type { DeadlineClass, OperationInfo } from './services.js';
import type { CallOptions } from './types-common.js';

export interface CriTimeouts {
  /** Create/start/remove container, exec, attach: upstream `--runtime-request-timeout`, 2 min. */
  readonly runtimeRequestTimeoutMs: number;
  /** Version, Status, *Status and List* calls. */
  readonly statusTimeoutMs: number;
  /** PullImage; upstream leaves pulls unbounded, we bound them. */
  readonly imagePullTimeoutMs: number;
}

export const defaultCriTimeouts: CriTimeouts = {
  runtimeRequestTimeoutMs: 120_000,
  statusTimeoutMs: 15_000,
  imagePullTimeoutMs: 600_000,
};

/** 16 MiB, as upstream: ExecSync output and big List responses must fit. */
const MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export interface ParsedEndpoint {
  /** The grpc-js target, `unix:///abs/path`. */
  readonly target: string;
  /** The socket's path on disk. */
  readonly socketPath: string;
}

/** Accepts `unix:///abs/path`, `unix:/abs/path` or a bare absolute path. */
export function parseCriEndpoint(endpoint: string): ParsedEndpoint {
  let path: string;
  if (endpoint.startsWith('unix://')) path = endpoint.slice('unix://'.length);
  else if (endpoint.startsWith('unix:')) path = endpoint.slice('unix:'.length);
  else if (endpoint.startsWith('/')) path = endpoint;
  else throw new CriInvalidEndpointError(endpoint, 'only unix sockets are supported (unix:///path/to/runtime.sock)');
  if (!path.startsWith('/')) throw new CriInvalidEndpointError(endpoint, 'the socket path must be absolute');
  return { target: `unix://${path}`, socketPath: path };
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && 'code' in err && typeof (err as { code: unknown }).code === 'number';
}

export class CriTransport {
  readonly endpoint: string;
  readonly socketPath: string;
  readonly timeouts: CriTimeouts;
  private readonly client: Client;
  private readonly proto: CriProto;

  constructor(endpoint: string, timeouts: Partial<CriTimeouts> = {}, proto: CriProto = criProto()) {
    const parsed = parseCriEndpoint(endpoint);
    this.endpoint = parsed.target;
    this.socketPath = parsed.socketPath;
    this.timeouts = { ...defaultCriTimeouts, ...timeouts };
    this.proto = proto;
    this.client = new Client(parsed.target, credentials.createInsecure(), {
      'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
      'grpc.initial_reconnect_backoff_ms': 250,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
  }

  /** The deadline a call of this class gets, before a per-call override. */
  deadlineMs(cls: DeadlineClass, req: unknown): number {
    const t = this.timeouts;
    const seconds = (): number => {
      const v = typeof req === 'object' && req !== null ? (req as { timeout?: unknown }).timeout : undefined;
      return typeof v === 'number' && v > 0 ? v * 1000 : 0;
    };
    switch (cls) {
      case 'status':
        return t.statusTimeoutMs;
      case 'default':
        return t.runtimeRequestTimeoutMs;
      case 'sandbox':
        return 2 * t.runtimeRequestTimeoutMs;
      case 'stopContainer':
      case 'exec':
        return t.runtimeRequestTimeoutMs + seconds();
      case 'pull':
        return t.imagePullTimeoutMs;
      default: {
        const never: never = cls;
        return never;
      }
    }
  }

  /** Resolves once the socket answers, or rejects with CriUnavailableError naming the socket. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.waitForReady(Date.now() + timeoutMs, (err) => {
        if (!err) {
          resolve();
          return;
        }
        const why = existsSync(this.socketPath)
          ? `${this.socketPath} exists but refuses connections`
          : `no socket at ${this.socketPath}`;
        reject(
          new CriUnavailableError(
            { operation: '', details: `${why} (waited ${timeoutMs} ms)`, endpoint: this.endpoint, cause: err },
          ),
        );
      });
    });
  }

  call<Res>(service: 'RuntimeService' | 'ImageService', op: OperationInfo, req: unknown, opts: CallOptions = {}): Promise<Res> {
    const method = this.proto.method(service, op.rpc);
    const reqType = this.proto.messageType(service, op.rpc, 'request');
    const resType = this.proto.messageType(service, op.rpc, 'response');
    const timeoutMs = opts.timeoutMs ?? this.deadlineMs(op.deadline, req);
    return new Promise<Res>((resolve, reject) => {
      let wire: Record<string, unknown>;
      try {
        wire = this.proto.encode(reqType, req);
      } catch (err) {
        reject(err);
        return;
      }
      if (opts.signal?.aborted) {
        reject(new CriCancelledError({ operation: op.rpc, details: 'aborted before the call started', cause: opts.signal.reason }));
        return;
      }
      const onAbort = (): void => call.cancel();
      const call = this.client.makeUnaryRequest<object, object>(
        method.path,
        method.requestSerialize,
        method.responseDeserialize,
        wire,
        new Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          opts.signal?.removeEventListener('abort', onAbort);
          if (err) reject(this.toCriError(op.rpc, err, timeoutMs, opts.signal));
          else resolve(this.proto.decode<Res>(resType, res));
        },
      );
      opts.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private toCriError(operation: string, err: unknown, timeoutMs: number, signal: AbortSignal | undefined): CriError {
    if (!isServiceError(err)) return criErrorFromStatus(operation, grpcStatus.UNKNOWN, String(err), { cause: err });
    if (err.code === grpcStatus.CANCELLED && signal?.aborted) {
      return new CriCancelledError({ operation, details: 'aborted by the caller', cause: signal.reason });
    }
    return criErrorFromStatus(operation, err.code, err.details || err.message, {
      endpoint: this.endpoint,
      timeoutMs,
      cause: err,
    });
  }

  close(): void {
    this.client.close();
  }
}
