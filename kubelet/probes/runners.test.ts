import { createServer } from 'node:net';
import { Server, ServerCredentials, status as grpcStatus } from '@grpc/grpc-js';
import type { ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { CriDeadlineExceededError } from '../cri/errors.js';
import { FakeRuntimeService } from '../cri/fake-runtime.js';
import {
  decodeHealthCheckRequest,
  decodeHealthCheckResponse,
  encodeHealthCheckRequest,
  encodeHealthCheckResponse,
  healthServiceDefinition,
  runGrpcProbe,
} from './grpc-health.js';
import type { HealthCheckRequest, HealthCheckResponse } from './grpc-health.js';
import { runExecProbe, runTcpProbe } from './runners.js';
import { ServerPool, runningFakeContainer } from './test-support.js';

const pool = new ServerPool();
afterEach(() => pool.closeAll());

describe('exec probe through RuntimeService.execSync', () => {
  it('succeeds on exit 0 and passes timeoutSeconds to the runtime', async () => {
    const rt = new FakeRuntimeService();
    const { containerId } = await runningFakeContainer(rt);
    rt.onExecSync(() => ({ stdout: 'ok\n', exitCode: 0 }));
    expect(await runExecProbe(rt, containerId, ['cat', '/tmp/healthy'], 5)).toEqual({ result: 'success', output: 'ok\n' });
    expect(rt.recorder.requestsOf('execSync')[0]).toEqual({ containerId, cmd: ['cat', '/tmp/healthy'], timeout: 5 });
  });

  it('fails on a non-zero exit with stdout then stderr as output', async () => {
    const rt = new FakeRuntimeService();
    const { containerId } = await runningFakeContainer(rt);
    rt.onExecSync(() => ({ stdout: 'out ', stderr: 'cat: /tmp/healthy: No such file', exitCode: 1 }));
    expect(await runExecProbe(rt, containerId, ['cat', '/tmp/healthy'], 1)).toEqual({ result: 'failure', output: 'out cat: /tmp/healthy: No such file' });
  });

  it('a runtime deadline is a timed-out failure', async () => {
    const rt = new FakeRuntimeService();
    const { containerId } = await runningFakeContainer(rt);
    rt.onExecSync(() => {
      throw new CriDeadlineExceededError({ operation: 'ExecSync', details: 'timeout 1s exceeded', timeoutMs: 1000 });
    });
    expect(await runExecProbe(rt, containerId, ['sleep', '10'], 1)).toEqual({ result: 'failure', output: 'command "sleep 10" timed out' });
  });

  it('any other runtime error is unknown (the worker discards it)', async () => {
    const rt = new FakeRuntimeService();
    const out = await runExecProbe(rt, 'missing', ['true'], 1);
    expect(out.result).toBe('unknown');
    expect(out.result === 'unknown' && out.error.message).toMatch(/not found/);
  });
});

describe('tcpSocket probe', () => {
  it('succeeds when a connection opens', async () => {
    const port = await pool.listen(createServer((s) => s.end()));
    expect(await runTcpProbe('127.0.0.1', port, 1)).toEqual({ result: 'success', output: '' });
  });

  it('fails with connection refused worded as Go does', async () => {
    const port = await pool.listen(createServer());
    await pool.closeAll();
    expect(await runTcpProbe('127.0.0.1', port, 1)).toEqual({ result: 'failure', output: `dial tcp 127.0.0.1:${port}: connect: connection refused` });
  });
});

describe('grpc health codec', () => {
  it('round-trips requests and responses, omitting proto3 defaults', () => {
    expect(encodeHealthCheckRequest({ service: '' })).toHaveLength(0);
    expect(decodeHealthCheckRequest(encodeHealthCheckRequest({ service: 'etcd' }))).toEqual({ service: 'etcd' });
    expect(encodeHealthCheckResponse({ status: 1 })).toEqual(Buffer.from([0x08, 0x01]));
    expect(decodeHealthCheckResponse(Buffer.from([0x08, 0x02]))).toEqual({ status: 2 });
    expect(decodeHealthCheckResponse(Buffer.alloc(0))).toEqual({ status: 0 });
  });

  it('skips unknown fields', () => {
    // field 2 (string "x") then field 1 = SERVING
    expect(decodeHealthCheckResponse(Buffer.from([0x12, 0x01, 0x78, 0x08, 0x01]))).toEqual({ status: 1 });
  });
});

describe('grpc probe against a loopback grpc-js server', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.tryShutdown(() => r()))));
  });

  async function healthServer(statusOf: (service: string) => number | 'unimplemented'): Promise<number> {
    const server = new Server();
    servers.push(server);
    server.addService(healthServiceDefinition, {
      Check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, cb: sendUnaryData<HealthCheckResponse>) => {
        const s = statusOf(call.request.service);
        if (s === 'unimplemented') cb({ code: grpcStatus.UNIMPLEMENTED, details: 'unknown service' });
        else cb(null, { status: s });
      },
    });
    return new Promise((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))));
  }

  it('SERVING is success; the service name is sent', async () => {
    let asked = '';
    const port = await healthServer((svc) => {
      asked = svc;
      return 1;
    });
    expect(await runGrpcProbe('127.0.0.1', port, 'liveness', 1)).toEqual({ result: 'success', output: 'service healthy' });
    expect(asked).toBe('liveness');
  });

  it('NOT_SERVING is a failure naming the status', async () => {
    const port = await healthServer(() => 2);
    expect(await runGrpcProbe('127.0.0.1', port, '', 1)).toEqual({ result: 'failure', output: 'service unhealthy (responded with "NOT_SERVING")' });
  });

  it('a server without the health service fails with upstream wording', async () => {
    const port = await healthServer(() => 'unimplemented');
    expect(await runGrpcProbe('127.0.0.1', port, '', 1)).toEqual({
      result: 'failure',
      output: 'error: this server does not implement the grpc health protocol (grpc.health.v1.Health): unknown service',
    });
  });

  it('nothing listening: fails after the timeout', async () => {
    const port = await pool.listen(createServer());
    await pool.closeAll();
    expect(await runGrpcProbe('127.0.0.1', port, '', 0.3)).toEqual({
      result: 'failure',
      output: `timeout: failed to connect service "127.0.0.1:${port}" within 300ms: context deadline exceeded`,
    });
  });
});
