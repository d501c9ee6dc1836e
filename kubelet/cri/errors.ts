/**
 * Errors of the CRI client and fakes. Runtime errors keep the gRPC status code and the runtime's
 * own message; the class says what a caller can do about it:
 *   CriNotFoundError          the object is gone (on remove/stop this is success for a kubelet)
 *   CriUnavailableError       the runtime socket does not answer (retry later)
 *   CriDeadlineExceededError  the call outlived its deadline
 *   CriCancelledError         the caller's AbortSignal fired
 *   CriUnimplementedError     the runtime lacks the method
 *   CriUnsupportedVersionError the runtime is not CRI v1 / 0.1.0 (connect() rejects it)
 *   CriError                  anything else the runtime refused (code ERR_CRI_RUNTIME)
 */
import { KnodeError } from '../../lib/errors.js';

/** gRPC status codes (https://grpc.github.io/grpc/core/md_doc_statuscodes.html). */
export const GrpcCode = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;
export type GrpcCode = (typeof GrpcCode)[keyof typeof GrpcCode];

export function grpcCodeName(code: number): string {
  for (const [name, value] of Object.entries(GrpcCode)) if (value === code) return name;
  return `CODE_${code}`;
}

export interface CriErrorInit {
  /** The RPC, e.g. `ContainerStatus`; empty for connection-level errors. */
  readonly operation: string;
  readonly grpcCode: number;
  /** The runtime's own words (gRPC status details). */
  readonly details: string;
  readonly cause?: unknown;
}

export class CriError extends KnodeError {
  readonly operation: string;
  readonly grpcCode: number;
  readonly details: string;
  constructor(init: CriErrorInit, code = 'ERR_CRI_RUNTIME', message?: string) {
    super(
      code,
      message ?? `CRI ${init.operation || 'call'} failed: ${init.details} (${grpcCodeName(init.grpcCode)})`,
      init.cause !== undefined ? { cause: init.cause } : undefined,
    );
    this.operation = init.operation;
    this.grpcCode = init.grpcCode;
    this.details = init.details;
  }
  get grpcStatus(): string {
    return grpcCodeName(this.grpcCode);
  }
}

export class CriNotFoundError extends CriError {
  constructor(init: Omit<CriErrorInit, 'grpcCode'>) {
    super({ ...init, grpcCode: GrpcCode.NOT_FOUND }, 'ERR_CRI_NOT_FOUND');
  }
}

export class CriUnavailableError extends CriError {
  readonly endpoint: string;
  constructor(init: Omit<CriErrorInit, 'grpcCode'> & { readonly endpoint: string }, message?: string) {
    super(
      { ...init, grpcCode: GrpcCode.UNAVAILABLE },
      'ERR_CRI_UNAVAILABLE',
      message ?? `CRI runtime at ${init.endpoint} is unavailable${init.operation ? ` (${init.operation})` : ''}: ${init.details}`,
    );
    this.endpoint = init.endpoint;
  }
}

export class CriDeadlineExceededError extends CriError {
  readonly timeoutMs: number;
  constructor(init: Omit<CriErrorInit, 'grpcCode'> & { readonly timeoutMs: number }) {
    super(
      { ...init, grpcCode: GrpcCode.DEADLINE_EXCEEDED },
      'ERR_CRI_DEADLINE_EXCEEDED',
      `CRI ${init.operation} did not finish within ${init.timeoutMs} ms: ${init.details}`,
    );
    this.timeoutMs = init.timeoutMs;
  }
}

export class CriCancelledError extends CriError {
  constructor(init: Omit<CriErrorInit, 'grpcCode'>) {
    super({ ...init, grpcCode: GrpcCode.CANCELLED }, 'ERR_CRI_CANCELLED', `CRI ${init.operation} was cancelled: ${init.details}`);
  }
}

export class CriUnimplementedError extends CriError {
  constructor(init: Omit<CriErrorInit, 'grpcCode'>) {
    super({ ...init, grpcCode: GrpcCode.UNIMPLEMENTED }, 'ERR_CRI_UNIMPLEMENTED');
  }
}

export class CriUnsupportedVersionError extends CriError {
  readonly endpoint: string;
  readonly runtimeVersion: string;
  constructor(endpoint: string, runtimeVersion: string, details: string, cause?: unknown) {
    super(
      { operation: 'Version', grpcCode: GrpcCode.FAILED_PRECONDITION, details, ...(cause !== undefined ? { cause } : {}) },
      'ERR_CRI_UNSUPPORTED_VERSION',
      `CRI runtime at ${endpoint} is not supported: ${details}`,
    );
    this.endpoint = endpoint;
    this.runtimeVersion = runtimeVersion;
  }
}

export class CriInvalidEndpointError extends KnodeError {
  constructor(endpoint: string, why: string) {
    super('ERR_CRI_INVALID_ENDPOINT', `CRI endpoint ${JSON.stringify(endpoint)} is invalid: ${why}`);
  }
}

/** True for the errors a kubelet treats as "already gone" when stopping or removing. */
export function isCriNotFound(err: unknown): boolean {
  return err instanceof CriNotFoundError;
}

/**
 * Builds the error for a failed call from a gRPC status. Shared by the remote client and the
 * fakes so both reject with the same classes.
 */
export function criErrorFromStatus(
  operation: string,
  grpcCode: number,
  details: string,
  ctx: { readonly endpoint?: string; readonly timeoutMs?: number; readonly cause?: unknown } = {},
): CriError {
  const base = { operation, details, ...(ctx.cause !== undefined ? { cause: ctx.cause } : {}) };
  switch (grpcCode) {
    case GrpcCode.NOT_FOUND:
      return new CriNotFoundError(base);
    case GrpcCode.UNAVAILABLE:
      return new CriUnavailableError({ ...base, endpoint: ctx.endpoint ?? 'the runtime endpoint' });
    case GrpcCode.DEADLINE_EXCEEDED:
      return new CriDeadlineExceededError({ ...base, timeoutMs: ctx.timeoutMs ?? 0 });
    case GrpcCode.CANCELLED:
      return new CriCancelledError(base);
    case GrpcCode.UNIMPLEMENTED:
      return new CriUnimplementedError(base);
    default:
      return new CriError({ ...base, grpcCode });
  }
}
