/**
 * The gRPC probe: one `grpc.health.v1.Health/Check` call over an insecure channel, as upstream's
 * prober does (SERVING is success, anything else a failure with upstream's wording).
 *
 * The two messages are tiny, so they are encoded by hand instead of loading a .proto:
 *   HealthCheckRequest  { string service = 1; }
 *   HealthCheckResponse { ServingStatus status = 1; }  UNKNOWN=0 SERVING=1 NOT_SERVING=2 SERVICE_UNKNOWN=3
 * The same codec serves the test server (healthServiceDefinition).
 *
 * Cost: one channel (TCP connect + HTTP/2 handshake) per probe, closed right after.
 */
import { Client, Metadata, credentials, status as grpcStatus } from '@grpc/grpc-js';
import type { ServiceError, ServiceDefinition } from '@grpc/grpc-js';
import { varintBytes } from '../../api/protobuf/wire.js';
import { joinHostPort } from './net-errors.js';
import { KUBE_MAJOR_MINOR, goDuration } from './settings.js';
import type { ProbeOutcome } from './settings.js';

export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

export const SERVING_STATUS_NAMES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

export interface HealthCheckRequest {
  readonly service: string;
}

export interface HealthCheckResponse {
  /** The enum number; see SERVING_STATUS_NAMES. */
  readonly status: number;
}

function readVarint(buf: Buffer, pos: number): [number, number] {
  let result = 0;
  let mul = 1;
  for (let i = pos; i < buf.length; i++) {
    const b = buf[i] ?? 0;
    result += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return [result, i + 1];
    mul *= 128;
  }
  throw new Error('truncated varint');
}

/** Skips one field of the given wire type; returns the position after it. */
function skipField(buf: Buffer, pos: number, wireType: number): number {
  switch (wireType) {
    case 0:
      return readVarint(buf, pos)[1];
    case 1:
      return pos + 8;
    case 2: {
      const [len, p] = readVarint(buf, pos);
      return p + len;
    }
    case 5:
      return pos + 4;
    default:
      throw new Error(`unsupported wire type ${wireType}`);
  }
}

/** Calls `onField(number, wireType, pos)`; the callback returns the position after the field. */
function walkFields(buf: Buffer, onField: (field: number, wireType: number, pos: number) => number | undefined): void {
  let pos = 0;
  while (pos < buf.length) {
    const [key, p] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wireType = key & 7;
    pos = onField(field, wireType, p) ?? skipField(buf, p, wireType);
  }
}

export function encodeHealthCheckRequest(req: HealthCheckRequest): Buffer {
  if (req.service === '') return Buffer.alloc(0);
  const s = Buffer.from(req.service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...varintBytes(s.length)]), s]);
}

export function decodeHealthCheckRequest(buf: Buffer): HealthCheckRequest {
  let service = '';
  walkFields(buf, (field, wireType, pos) => {
    if (field !== 1 || wireType !== 2) return undefined;
    const [len, p] = readVarint(buf, pos);
    service = buf.subarray(p, p + len).toString('utf8');
    return p + len;
  });
  return { service };
}

export function encodeHealthCheckResponse(res: HealthCheckResponse): Buffer {
  return res.status === 0 ? Buffer.alloc(0) : Buffer.from([0x08, ...varintBytes(res.status)]);
}

export function decodeHealthCheckResponse(buf: Buffer): HealthCheckResponse {
  let status = 0;
  walkFields(buf, (field, wireType, pos) => {
    if (field !== 1 || wireType !== 0) return undefined;
    const [v, p] = readVarint(buf, pos);
    status = v;
    return p;
  });
  return { status };
}

/** The Health service with only Check, for grpc-js servers (tests, sample workloads). */
export const healthServiceDefinition: ServiceDefinition = {
  Check: {
    path: HEALTH_CHECK_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: (v: HealthCheckRequest) => encodeHealthCheckRequest(v),
    requestDeserialize: (b: Buffer) => decodeHealthCheckRequest(b),
    responseSerialize: (v: HealthCheckResponse) => encodeHealthCheckResponse(v),
    responseDeserialize: (b: Buffer) => decodeHealthCheckResponse(b),
  },
};

function statusName(n: number): string {
  return SERVING_STATUS_NAMES[n] ?? String(n);
}

function grpcCodeName(code: number): string {
  for (const [name, value] of Object.entries(grpcStatus)) {
    if (value === code) return name.split('_').map((w) => w.charAt(0) + w.slice(1).toLowerCase()).join('');
  }
  return `Code(${code})`;
}

/** Runs one gRPC health check against host:port with upstream's outcome wording. */
export function runGrpcProbe(host: string, port: number, service: string, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  const timeout = goDuration(timeoutSeconds);
  const deadline = new Date(Date.now() + timeoutSeconds * 1000);
  const client = new Client(addr, credentials.createInsecure(), {
    'grpc.primary_user_agent': `kube-probe/${KUBE_MAJOR_MINOR}`,
    // one probe, one connection: never reuse a channel another probe opened
    'grpc.use_local_subchannel_pool': 1,
  });
  return new Promise<ProbeOutcome>((resolve) => {
    let settled = false;
    const finish = (o: ProbeOutcome): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      client.close();
      resolve(o);
    };
    const onAbort = (): void => finish({ result: 'unknown', output: '', error: new Error('probe cancelled') });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    client.waitForReady(deadline, (err) => {
      if (err) {
        finish({ result: 'failure', output: `timeout: failed to connect service "${addr}" within ${timeout}: context deadline exceeded` });
        return;
      }
      client.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(
        HEALTH_CHECK_PATH,
        encodeHealthCheckRequest,
        decodeHealthCheckResponse,
        { service },
        new Metadata(),
        { deadline },
        (callErr: ServiceError | null, res?: HealthCheckResponse) => {
          if (callErr) {
            if (callErr.code === grpcStatus.UNIMPLEMENTED) {
              finish({ result: 'failure', output: `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${callErr.details}` });
            } else if (callErr.code === grpcStatus.DEADLINE_EXCEEDED) {
              finish({ result: 'failure', output: `timeout: health rpc did not complete within ${timeout}` });
            } else {
              finish({ result: 'failure', output: `error: health rpc probe failed: rpc error: code = ${grpcCodeName(callErr.code)} desc = ${callErr.details}` });
            }
            return;
          }
          const st = res?.status ?? 0;
          if (st !== 1) finish({ result: 'failure', output: `service unhealthy (responded with "${statusName(st)}")` });
          else finish({ result: 'success', output: 'service healthy' });
        },
      );
    });
  });
}
