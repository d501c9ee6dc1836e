/**
 * The four probe handlers, each one effect returning a ProbeOutcome worded as upstream words it:
 *   exec       RuntimeService.execSync with timeout = timeoutSeconds; exit 0 is success, a runtime
 *              deadline is a failure (`command "..." timed out`), any other runtime error unknown
 *   httpGet    200-399 success (a redirect to another host: warning), else failure
 *   tcpSocket  a connection opened within the timeout
 *   grpc       grpc.health.v1 Health/Check answers SERVING (grpc-health.ts)
 * Network probes connect from the node to the pod IP (or `host`), as upstream's do.
 */
import { connect } from 'node:net';
import { CriDeadlineExceededError } from '../cri/errors.js';
import type { RuntimeService } from '../cri/services.js';
import { HttpGetError, httpGet } from './http-get.js';
import type { HttpGetRequest } from './http-get.js';
import { runGrpcProbe } from './grpc-health.js';
import { dialErrorText, joinHostPort } from './net-errors.js';
import { limitOutput } from './settings.js';
import type { ProbeOutcome } from './settings.js';

/** The handlers behind an interface so workers can be tested without a runtime or a network. */
export interface ProbeRunners {
  exec(containerId: string, command: readonly string[], timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome>;
  http(req: HttpGetRequest, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome>;
  tcp(host: string, port: number, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome>;
  grpc(host: string, port: number, service: string, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome>;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

export async function runExecProbe(
  runtime: Pick<RuntimeService, 'execSync'>,
  containerId: string,
  command: readonly string[],
  timeoutSeconds: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  try {
    const res = await runtime.execSync({ containerId, cmd: command, timeout: timeoutSeconds }, signal ? { signal } : {});
    // stdout then stderr, as upstream concatenates them; the whole capped at 10 KiB
    const output = limitOutput(Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]));
    return { result: res.exitCode === 0 ? 'success' : 'failure', output };
  } catch (err) {
    if (err instanceof CriDeadlineExceededError) return { result: 'failure', output: `command "${command.join(' ')}" timed out` };
    return { result: 'unknown', output: '', error: asError(err) };
  }
}

export async function runHttpProbe(req: HttpGetRequest, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  try {
    const res = await httpGet(req, { timeoutMs: timeoutSeconds * 1000, ...(signal ? { signal } : {}) });
    if (res.statusCode >= 200 && res.statusCode < 400) {
      if (res.statusCode >= 300) return { result: 'warning', output: `Probe terminated redirects, Response body: ${res.body}` };
      return { result: 'success', output: res.body };
    }
    return { result: 'failure', output: `HTTP probe failed with statuscode: ${res.statusCode}` };
  } catch (err) {
    if (err instanceof HttpGetError && !err.cancelled) return { result: 'failure', output: err.message };
    return { result: 'unknown', output: '', error: asError(err) };
  }
}

export function runTcpProbe(host: string, port: number, timeoutSeconds: number, signal?: AbortSignal): Promise<ProbeOutcome> {
  const addr = joinHostPort(host, port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let done = false;
    const finish = (o: ProbeOutcome): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ result: 'failure', output: `dial tcp ${addr}: i/o timeout` }), timeoutSeconds * 1000);
    const onAbort = (): void => finish({ result: 'unknown', output: '', error: new Error('probe cancelled') });
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ result: 'success', output: '' }));
    socket.once('error', (err) => finish({ result: 'failure', output: dialErrorText(err, addr) }));
  });
}

/** The real handlers: exec through the runtime, the rest over the node's network. */
export function defaultProbeRunners(runtime: Pick<RuntimeService, 'execSync'>): ProbeRunners {
  return {
    exec: (id, cmd, t, signal) => runExecProbe(runtime, id, cmd, t, signal),
    http: (req, t, signal) => runHttpProbe(req, t, signal),
    tcp: (host, port, t, signal) => runTcpProbe(host, port, t, signal),
    grpc: (host, port, service, t, signal) => runGrpcProbe(host, port, service, t, signal),
  };
}
