/**
 * kubelet/cri: the kubelet's view of a CRI runtime.
 *
 *   services.ts      RuntimeService / ImageService interfaces (+ operation table)
 *   types-*.ts       hand-written camelCase request/response types
 *   connect.ts       connectCri(): socket, Version check, instrumented services
 *   transport.ts     one grpc-js channel, deadlines, error mapping
 *   proto.ts         loads proto/runtime/v1/api.proto, strict encoder, int64/null-aware decoder
 *   instrumented.ts  upstream-named prom-client metrics around any implementation
 *   fake-*.ts        FakeRuntimeService / FakeImageService for kubelet unit tests
 *   errors.ts        CriError and subclasses (CriNotFoundError: "already gone")
 */
export * from './types-common.js';
export * from './types-sandbox.js';
export * from './types-container.js';
export * from './types-image.js';
export * from './services.js';
export * from './errors.js';
export { connectCri, connectCri as connect, checkVersion } from './connect.js';
export type { ConnectCriOptions, CriConnection } from './connect.js';
export { CriTransport, defaultCriTimeouts, parseCriEndpoint } from './transport.js';
export type { CriTimeouts, ParsedEndpoint } from './transport.js';
export { CriMetrics, instrumentImageService, instrumentRuntimeService } from './instrumented.js';
export { RemoteRuntimeService } from './remote-runtime.js';
export { RemoteImageService } from './remote-image.js';
export { CriProto, CriCodecError, criProto, findProtoPath } from './proto.js';
export { FakeRuntimeService } from './fake-runtime.js';
export type { FakeExecHandler, FakeExecResult, FakeRuntimeOptions, RuntimeMethod } from './fake-runtime.js';
export { FakeImageService, normalizeImageRef } from './fake-image.js';
export type { FakeImageInit, ImageMethod } from './fake-image.js';
export type { FakeCall } from './fake-support.js';
export { CallRecorder } from './fake-support.js';
export * from './time.js';
