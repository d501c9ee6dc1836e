/**
 * Connects a kubelet to its CRI runtime, the way upstream does at start-up: open the socket, call
 * Version with our API version and refuse a runtime that does not answer `0.1.0` (or does not serve
 * runtime.v1 at all). The returned services are instrumented (instrumented.ts) and share one
 * channel; grpc-js keeps reconnecting it when the runtime restarts, so a connection lives as long
 * as the kubelet. Cost: one connect plus one Version round trip (~1 ms on a local socket).
 */
import { CriUnimplementedError, CriUnsupportedVersionError } from './errors.js';
import { CriMetrics, instrumentImageService, instrumentRuntimeService } from './instrumented.js';
import { RemoteImageService } from './remote-image.js';
import { RemoteRuntimeService } from './remote-runtime.js';
import { CRI_API_VERSION } from './services.js';
import type { ImageService, RuntimeService } from './services.js';
import { CriTransport } from './transport.js';
import type { CriTimeouts } from './transport.js';
import type { VersionResponse } from './types-sandbox.js';

export interface ConnectCriOptions {
  /** `unix:///run/containerd/containerd.sock` or a bare socket path. */
  readonly endpoint: string;
  /** Overrides of the per-call deadlines (transport.ts has upstream's defaults). */
  readonly timeouts?: Partial<CriTimeouts>;
  /** How long to wait for the socket to accept a connection; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Where the operation metrics go; a private CriMetrics by default. */
  readonly metrics?: CriMetrics;
}

export interface CriConnection {
  readonly endpoint: string;
  readonly runtime: RuntimeService;
  readonly image: ImageService;
  /** The runtime's answer to Version at connect time. */
  readonly version: VersionResponse;
  readonly metrics: CriMetrics;
  /** Closes the channel; calls made afterwards fail. */
  close(): void;
}

/**
 * Rejects with CriUnavailableError (ERR_CRI_UNAVAILABLE, naming the socket) when nothing answers,
 * and with CriUnsupportedVersionError (ERR_CRI_UNSUPPORTED_VERSION) for a runtime we cannot drive.
 */
export async function connectCri(opts: ConnectCriOptions): Promise<CriConnection> {
  const transport = new CriTransport(opts.endpoint, opts.timeouts);
  const metrics = opts.metrics ?? new CriMetrics();
  try {
    await transport.waitForReady(opts.connectTimeoutMs ?? 10_000);
    const runtime = instrumentRuntimeService(new RemoteRuntimeService(transport), metrics);
    const image = instrumentImageService(new RemoteImageService(transport), metrics);
    const version = await checkVersion(runtime, transport.endpoint);
    return { endpoint: transport.endpoint, runtime, image, version, metrics, close: () => transport.close() };
  } catch (err) {
    transport.close();
    throw err;
  }
}

/** Calls Version and enforces the CRI API version; exported for kubelet health checks. */
export async function checkVersion(runtime: RuntimeService, endpoint: string): Promise<VersionResponse> {
  let v: VersionResponse;
  try {
    v = await runtime.version({ version: CRI_API_VERSION });
  } catch (err) {
    if (err instanceof CriUnimplementedError) {
      throw new CriUnsupportedVersionError(endpoint, '', 'it does not serve the CRI runtime.v1 API (runtime.v1.RuntimeService/Version is unimplemented)', err);
    }
    throw err;
  }
  if (v.version !== CRI_API_VERSION) {
    throw new CriUnsupportedVersionError(
      endpoint,
      v.version,
      `it speaks CRI API version ${JSON.stringify(v.version)} (${v.runtimeName} ${v.runtimeVersion}), knode requires ${CRI_API_VERSION}`,
    );
  }
  return v;
}
