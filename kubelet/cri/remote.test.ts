import { Server, ServerCredentials, status } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connectCri } from './connect.js';
import {
  CriCancelledError,
  CriDeadlineExceededError,
  CriError,
  CriNotFoundError,
  CriUnavailableError,
  CriUnsupportedVersionError,
} from './errors.js';
import { CriMetrics } from './instrumented.js';
import { CriCodecError, criProto } from './proto.js';
import { RemoteImageService } from './remote-image.js';
import { RemoteRuntimeService } from './remote-runtime.js';
import { CriTransport, parseCriEndpoint } from './transport.js';

type Handler = (req: Record<string, unknown>) => unknown | Promise<unknown>;
type Handlers = Record<string, Handler>;

/** An in-process CRI runtime serving our .proto with proto-loader's own (de)serialisers. */
async function startServer(sock: string, runtime: Handlers, image: Handlers = {}): Promise<Server> {
  const server = new Server();
  const wrap = (hs: Handlers): UntypedServiceImplementation =>
    Object.fromEntries(
      Object.entries(hs).map(([name, h]) => [
        name,
        (call: ServerUnaryCall<Record<string, unknown>, unknown>, cb: sendUnaryData<unknown>) => {
          Promise.resolve()
            .then(() => h(call.request))
            .then(
              (res) => cb(null, res),
              (err: { code?: number; details?: string }) => cb({ code: err.code ?? status.UNKNOWN, details: err.details ?? String(err) }),
            );
        },
      ]),
    );
  server.addService(criProto().service('RuntimeService'), wrap(runtime));
  server.addService(criProto().service('ImageService'), wrap(image));
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`unix://${sock}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())),
  );
  return server;
}

const stop = (s: Server): Promise<void> => new Promise((r) => s.tryShutdown(() => r()));

// ---- a minimal protobuf wire reader/writer, to check field numbers against upstream's CRI ----
function varint(n: bigint): number[] {
  const out: number[] = [];
  do {
    let b = Number(n & 0x7fn);
    n >>= 7n;
    if (n > 0n) b |= 0x80;
    out.push(b);
  } while (n > 0n);
  return out;
}
const fVarint = (no: number, v: bigint | number): number[] => [...varint(BigInt(no << 3)), ...varint(BigInt(v))];
const fBytes = (no: number, payload: number[] | string): number[] => {
  const bytes = typeof payload === 'string' ? [...Buffer.from(payload)] : payload;
  return [...varint(BigInt((no << 3) | 2)), ...varint(BigInt(bytes.length)), ...bytes];
};
/** Field number -> raw values (bigint for varints, Buffer for length-delimited). */
function readFields(buf: Uint8Array): Map<number, (bigint | Buffer)[]> {
  const out = new Map<number, (bigint | Buffer)[]>();
  let i = 0;
  const rv = (): bigint => {
    let shift = 0n;
    let v = 0n;
    for (;;) {
      const b = buf[i++] ?? 0;
      v |= BigInt(b & 0x7f) << shift;
      shift += 7n;
      if (!(b & 0x80)) return v;
    }
  };
  while (i < buf.length) {
    const tag = rv();
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    let value: bigint | Buffer;
    if (wire === 0) value = rv();
    else if (wire === 2) {
      const len = Number(rv());
      value = Buffer.from(buf.subarray(i, i + len));
      i += len;
    } else throw new Error(`unexpected wire type ${wire}`);
    out.set(no, [...(out.get(no) ?? []), value]);
  }
  return out;
}

describe('CRI wire format matches upstream runtime.v1 field numbers', () => {
  it('decodes a ContainerStatusResponse built by hand with upstream numbers, timestamps exact, unknown fields skipped', () => {
    const status = [
      ...fBytes(1, 'c1'),
      ...fBytes(2, [...fBytes(1, 'web'), ...fVarint(2, 3)]),
      ...fVarint(3, 2), // CONTAINER_EXITED
      ...fVarint(4, 1_800_000_000_123_456_789n),
      ...fVarint(5, 1_800_000_001_000_000_001n),
      ...fVarint(7, 3),
      ...fBytes(10, 'Error'),
      ...fBytes(12, [...fBytes(1, 'app'), ...fBytes(2, 'web')]),
      ...fBytes(15, '/var/log/pods/x/web/3.log'),
      ...fBytes(17, 'sha256:abc'),
      ...fBytes(19, 'registry.mirror'), // image_source: newer than our proto, must be skipped
    ];
    const bytes = Buffer.from([...fBytes(1, status)]);
    const proto = criProto();
    const raw = proto.method('RuntimeService', 'ContainerStatus').responseDeserialize(bytes);
    const res = proto.decode<import('./types-container.js').ContainerStatusResponse>('ContainerStatusResponse', raw);
    expect(res.status).toMatchObject({
      id: 'c1',
      metadata: { name: 'web', attempt: 3 },
      state: 'CONTAINER_EXITED',
      createdAt: 1_800_000_000_123_456_789n,
      startedAt: 1_800_000_001_000_000_001n,
      finishedAt: 0n,
      exitCode: 3,
      reason: 'Error',
      labels: { app: 'web' },
      logPath: '/var/log/pods/x/web/3.log',
      imageId: 'sha256:abc',
    });
    expect(res.status && 'image' in res.status).toBe(false);
  });

  it('encodes a RunPodSandboxRequest with upstream numbers (hostname 2, linux 8 > security_context 2 > namespace_options 1 > network 1)', () => {
    const proto = criProto();
    const wire = proto.encode('RunPodSandboxRequest', {
      config: {
        metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 1 },
        hostname: 'p',
        logDirectory: '/var/log/pods/n_p_u',
        portMappings: [{ protocol: 'UDP', containerPort: 8081, hostPort: 54323, hostIp: '10.0.0.1' }],
        linux: { securityContext: { namespaceOptions: { network: 'NODE' }, runAsUser: { value: 65535 } } },
      },
      runtimeHandler: 'runc',
    });
    const bytes = proto.method('RuntimeService', 'RunPodSandbox').requestSerialize(wire);
    const top = readFields(bytes);
    expect(top.get(2)?.[0]?.toString()).toBe('runc');
    const config = readFields(top.get(1)?.[0] as Buffer);
    expect(config.get(2)?.[0]?.toString()).toBe('p');
    expect(config.get(3)?.[0]?.toString()).toBe('/var/log/pods/n_p_u');
    const meta = readFields(config.get(1)?.[0] as Buffer);
    expect([meta.get(1)?.[0]?.toString(), meta.get(2)?.[0]?.toString(), meta.get(3)?.[0]?.toString(), meta.get(4)?.[0]]).toEqual(['p', 'u', 'n', 1n]);
    const port = readFields(config.get(5)?.[0] as Buffer);
    expect([port.get(1)?.[0], port.get(2)?.[0], port.get(3)?.[0], port.get(4)?.[0]?.toString()]).toEqual([1n, 8081n, 54323n, '10.0.0.1']);
    const sc = readFields(readFields(config.get(8)?.[0] as Buffer).get(2)?.[0] as Buffer);
    expect(readFields(sc.get(1)?.[0] as Buffer).get(1)?.[0]).toBe(2n); // NODE
    expect(readFields(sc.get(3)?.[0] as Buffer).get(1)?.[0]).toBe(65535n);
  });

  it.each([
    ['a snake_case key', { pod_sandbox_id: 'x' }, 'PodSandboxStatusRequest.pod_sandbox_id'],
    ['a typo in a nested message', { podSandboxId: 'x', verbose: true, filter: {} }, 'PodSandboxStatusRequest.filter'],
  ])('rejects a request with %s instead of silently dropping it', (_name, req, path) => {
    expect(() => criProto().encode('PodSandboxStatusRequest', req)).toThrow(CriCodecError);
    expect(() => criProto().encode('PodSandboxStatusRequest', req)).toThrow(path);
  });
});

describe('remote CRI client against an in-process runtime', () => {
  let dir: string;
  let sock: string;
  let server: Server | undefined;
  let transport: CriTransport | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-cri-'));
    sock = join(dir, 'cri.sock');
  });
  afterEach(async () => {
    transport?.close();
    transport = undefined;
    if (server) await stop(server);
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends camelCase requests the runtime reads field by field, and returns typed responses', async () => {
    const seen: Record<string, unknown>[] = [];
    server = await startServer(sock, {
      RunPodSandbox: (req) => {
        seen.push(req);
        return { podSandboxId: 'sb1' };
      },
      ExecSync: (req) => {
        seen.push(req);
        return { stdout: Buffer.from('pod-a\n'), stderr: Buffer.alloc(0), exitCode: 0 };
      },
      ListContainers: () => ({
        containers: [{ id: 'c1', podSandboxId: 'sb1', state: 'CONTAINER_RUNNING', createdAt: '1800000000000000001', labels: { a: 'b' } }],
      }),
    });
    transport = new CriTransport(sock);
    const rt = new RemoteRuntimeService(transport);
    const run = await rt.runPodSandbox({
      config: {
        metadata: { name: 'pod-a', uid: 'u1', namespace: 'default', attempt: 0 },
        hostname: 'pod-a',
        dnsConfig: { servers: ['10.96.0.10'], searches: ['default.svc.cluster.local'], options: ['ndots:5'] },
        labels: { 'io.kubernetes.pod.name': 'pod-a' },
        linux: { cgroupParent: '/kubepods/pod-u1', sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } },
      },
    });
    expect(run).toEqual({ podSandboxId: 'sb1' });
    expect(seen[0]).toMatchObject({
      config: {
        metadata: { name: 'pod-a', uid: 'u1', namespace: 'default' },
        hostname: 'pod-a',
        dnsConfig: { servers: ['10.96.0.10'], options: ['ndots:5'] },
        labels: { 'io.kubernetes.pod.name': 'pod-a' },
        linux: { cgroupParent: '/kubepods/pod-u1', sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } },
      },
    });

    const exec = await rt.execSync({ containerId: 'c1', cmd: ['hostname'], timeout: 5 });
    expect(Buffer.from(exec.stdout).toString()).toBe('pod-a\n');
    expect(seen[1]).toMatchObject({ containerId: 'c1', cmd: ['hostname'], timeout: '5' });

    const list = await rt.listContainers({ filter: { podSandboxId: 'sb1' } });
    expect(list.containers[0]).toMatchObject({ id: 'c1', state: 'CONTAINER_RUNNING', createdAt: 1_800_000_000_000_000_001n, labels: { a: 'b' } });
    expect(list.containers[0] && 'metadata' in list.containers[0]).toBe(false);
  });

  it('reports an absent image as a response without image, not an error', async () => {
    server = await startServer(sock, {}, { ImageStatus: () => ({}) });
    transport = new CriTransport(sock);
    const res = await new RemoteImageService(transport).imageStatus({ image: { image: 'knode.local/none:1' } });
    expect(res.image).toBeUndefined();
    expect(res.info).toEqual({});
  });

  it.each([
    [status.NOT_FOUND, CriNotFoundError, 'ERR_CRI_NOT_FOUND'],
    [status.UNKNOWN, CriError, 'ERR_CRI_RUNTIME'],
    [status.FAILED_PRECONDITION, CriError, 'ERR_CRI_RUNTIME'],
  ] as const)('keeps gRPC code %i and the runtime message, as %o', async (code, cls, errCode) => {
    server = await startServer(sock, {
      ContainerStatus: () => Promise.reject({ code, details: 'an error occurred when try to find container "x": not found' }),
    });
    transport = new CriTransport(sock);
    const err = await new RemoteRuntimeService(transport).containerStatus({ containerId: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({ code: errCode, grpcCode: code, operation: 'ContainerStatus', details: expect.stringContaining('not found') });
  });

  it('gives every call a deadline and reports it exceeded', async () => {
    server = await startServer(sock, { ContainerStatus: () => new Promise((r) => setTimeout(() => r({}), 1_000)) });
    transport = new CriTransport(sock, { statusTimeoutMs: 100 });
    const t0 = Date.now();
    const err = await new RemoteRuntimeService(transport).containerStatus({ containerId: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriDeadlineExceededError);
    expect(err).toMatchObject({ code: 'ERR_CRI_DEADLINE_EXCEEDED', timeoutMs: 100 });
    expect(Date.now() - t0).toBeLessThan(900);
  });

  it.each([
    ['status calls', 'status', {}, 15_000],
    ['container calls', 'default', {}, 120_000],
    ['sandbox calls (twice the runtime timeout)', 'sandbox', {}, 240_000],
    ['StopContainer (plus the grace period)', 'stopContainer', { timeout: 30 }, 150_000],
    ['ExecSync (plus the command timeout)', 'exec', { timeout: 10 }, 130_000],
    ['ExecSync without a timeout', 'exec', {}, 120_000],
    ['PullImage', 'pull', {}, 600_000],
  ] as const)('derives deadlines like upstream for %s', (_name, cls, req, expected) => {
    transport = new CriTransport(sock);
    expect(transport.deadlineMs(cls, req)).toBe(expected);
  });

  it('cancels a call when the caller aborts', async () => {
    server = await startServer(sock, { ListPodSandbox: () => new Promise((r) => setTimeout(() => r({}), 2_000)) });
    transport = new CriTransport(sock);
    const ac = new AbortController();
    const p = new RemoteRuntimeService(transport).listPodSandbox({}, { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(p).rejects.toBeInstanceOf(CriCancelledError);
  });

  it('fails fast with CriUnavailableError while the runtime is down, and recovers when it returns', async () => {
    server = await startServer(sock, { Version: () => ({ version: '0.1.0', runtimeName: 'a' }) });
    transport = new CriTransport(sock);
    const rt = new RemoteRuntimeService(transport);
    expect((await rt.version({})).runtimeName).toBe('a');
    server.forceShutdown();
    server = undefined;
    const err = await rt.version({}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriUnavailableError);
    expect((err as Error).message).toContain(sock);
    server = await startServer(sock, { Version: () => ({ version: '0.1.0', runtimeName: 'b' }) });
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await rt.version({}).catch((e: unknown) => e);
      if (!(r instanceof Error)) {
        expect(r).toMatchObject({ runtimeName: 'b' });
        break;
      }
      expect(r).toBeInstanceOf(CriUnavailableError);
      if (Date.now() > deadline) throw r;
      await new Promise((res) => setTimeout(res, 100));
    }
  });
});

describe('connectCri', () => {
  let dir: string;
  let sock: string;
  let server: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'knode-cri-'));
    sock = join(dir, 'cri.sock');
  });
  afterEach(async () => {
    if (server) await stop(server);
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('connects to a 0.1.0 runtime, sends our API version and counts operations', async () => {
    let asked = '';
    server = await startServer(sock, {
      Version: (req) => {
        asked = String(req['version']);
        return { version: '0.1.0', runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' };
      },
      ContainerStatus: () => Promise.reject({ code: status.NOT_FOUND, details: 'gone' }),
    });
    const metrics = new CriMetrics();
    const conn = await connectCri({ endpoint: `unix://${sock}`, metrics });
    try {
      expect(asked).toBe('0.1.0');
      expect(conn.version).toEqual({ version: '0.1.0', runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' });
      await expect(conn.runtime.containerStatus({ containerId: 'x' })).rejects.toBeInstanceOf(CriNotFoundError);
      const text = await metrics.registry.metrics();
      expect(text).toContain('kubelet_runtime_operations_duration_seconds_count{operation_type="version"} 1');
      expect(text).toContain('kubelet_runtime_operations_total{operation_type="container_status"} 1');
      expect(text).toContain('kubelet_runtime_operations_errors_total{operation_type="container_status"} 1');
      expect(text).not.toContain('kubelet_runtime_operations_errors_total{operation_type="version"}');
    } finally {
      conn.close();
    }
  });

  it.each([
    ['a different CRI API version', { Version: () => ({ version: '0.2.0', runtimeName: 'x', runtimeVersion: '9' }) }, '"0.2.0"'],
    ['no runtime.v1 service at all', {}, 'does not serve the CRI runtime.v1 API'],
  ])('rejects a runtime with %s as ERR_CRI_UNSUPPORTED_VERSION', async (_name, handlers, text) => {
    server = await startServer(sock, handlers);
    const err = await connectCri({ endpoint: sock }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriUnsupportedVersionError);
    expect(err).toMatchObject({ code: 'ERR_CRI_UNSUPPORTED_VERSION' });
    expect((err as Error).message).toContain(text);
    expect((err as Error).message).toContain(sock);
  });

  it('rejects an unreachable socket with ERR_CRI_UNAVAILABLE naming its path', async () => {
    const err = await connectCri({ endpoint: `unix://${sock}`, connectTimeoutMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CriUnavailableError);
    expect(err).toMatchObject({ code: 'ERR_CRI_UNAVAILABLE' });
    expect((err as Error).message).toContain(`no socket at ${sock}`);
  });

  it.each([
    ['unix:///run/containerd/containerd.sock', '/run/containerd/containerd.sock'],
    ['unix:/run/k.sock', '/run/k.sock'],
    ['/run/k.sock', '/run/k.sock'],
  ])('accepts endpoint %s', (endpoint, path) => {
    expect(parseCriEndpoint(endpoint)).toEqual({ target: `unix://${path}`, socketPath: path });
  });

  it.each(['tcp://127.0.0.1:1234', 'unix://relative.sock', 'containerd.sock'])('refuses endpoint %s with ERR_CRI_INVALID_ENDPOINT', (endpoint) => {
    expect(() => parseCriEndpoint(endpoint)).toThrow(expect.objectContaining({ code: 'ERR_CRI_INVALID_ENDPOINT' }));
  });
});
