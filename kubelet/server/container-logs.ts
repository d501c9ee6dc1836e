/**
 * GET /containerLogs/{namespace}/{pod}/{container}?follow&tailLines&timestamps&previous&sinceSeconds
 * &sinceTime&limitBytes: the kubelet end of `kubectl logs`. Answers as upstream's kubelet does:
 * 404 `pod "x" does not exist` / `container "c" not found in pod "x"`, 400 with the reason there is no
 * log, 400/422 for bad options, else 200 text/plain streamed (chunked, flushed per write) until the
 * file is read or, with follow, until the container stops or the client goes away.
 */
import { access } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { RuntimeService } from '../cri/services.js';
import { LogError } from '../logs/errors.js';
import { findContainerSpec, locateContainerLog } from '../logs/locate.js';
import { parsePodLogQuery, toReadOptions } from '../logs/options.js';
import type { LogReadOptions } from '../logs/options.js';
import { readContainerLog } from '../logs/reader.js';
import type { LogSink } from '../logs/reader.js';
import type { RuntimePod } from '../types.js';

export interface ContainerLogDeps {
  readonly pods: () => readonly Pod[] | Promise<readonly Pod[]>;
  readonly runtimePod: (uid: string) => RuntimePod | undefined | Promise<RuntimePod | undefined>;
  readonly runtime: Pick<RuntimeService, 'containerStatus'>;
  readonly clock: Clock;
  readonly podLogsRoot?: string;
  readonly logPollIntervalMs?: number;
  readonly log?: Logger;
}

function writeText(res: ServerResponse, code: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** A sink that honours backpressure and never waits on a closed response. */
export function responseSink(res: ServerResponse): LogSink {
  return {
    write(chunk) {
      if (res.destroyed || res.writableEnded) return;
      if (res.write(chunk)) return;
      return new Promise<void>((resolve) => {
        const done = (): void => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    },
  };
}

async function isRunning(runtime: Pick<RuntimeService, 'containerStatus'>, containerId: string): Promise<boolean> {
  try {
    return (await runtime.containerStatus({ containerId })).status?.state === 'CONTAINER_RUNNING';
  } catch {
    return false;
  }
}

/** `segments` are the decoded path parts after /containerLogs. */
export async function serveContainerLogs(deps: ContainerLogDeps, req: IncomingMessage, res: ServerResponse, segments: readonly string[], query: URLSearchParams): Promise<void> {
  const [namespace, podName, containerName] = segments;
  if (segments.length !== 3 || !namespace || !podName || !containerName) {
    writeText(res, 400, 'expected /containerLogs/{podNamespace}/{podID}/{containerName}');
    return;
  }
  const pod = (await deps.pods()).find((p) => p.metadata.namespace === namespace && p.metadata.name === podName);
  if (!pod) return writeText(res, 404, `pod ${JSON.stringify(podName)} does not exist`);
  if (!findContainerSpec(pod, containerName)) return writeText(res, 404, `container ${JSON.stringify(containerName)} not found in pod ${JSON.stringify(podName)}`);

  let path: string;
  let containerId: string;
  let options: LogReadOptions;
  try {
    const opts = parsePodLogQuery(query);
    options = toReadOptions(opts, deps.clock.now());
    const target = locateContainerLog(pod, await deps.runtimePod(pod.metadata.uid ?? ''), containerName, opts.previous, deps.podLogsRoot);
    path = target.path;
    containerId = target.containerId;
    await access(path).catch((err: unknown) => {
      throw new LogError('ERR_LOGS_FILE', 400, `failed to open log file ${JSON.stringify(path)}: ${err instanceof Error ? err.message : String(err)}`);
    });
  } catch (err) {
    if (err instanceof LogError) return writeText(res, err.httpStatus, err.message);
    throw err;
  }

  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  res.on('close', onClose);
  req.socket.setNoDelay(true);
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  // send the headers now: a follower may wait long for the first line
  res.flushHeaders();
  try {
    await readContainerLog(path, options, responseSink(res), {
      isRunning: () => isRunning(deps.runtime, containerId),
      signal: gone.signal,
      clock: deps.clock,
      ...(deps.logPollIntervalMs !== undefined ? { pollIntervalMs: deps.logPollIntervalMs } : {}),
    });
    res.end();
  } catch (err) {
    deps.log?.warn({ err, namespace, pod: podName, container: containerName }, 'reading container log failed');
    res.destroy();
  } finally {
    res.off('close', onClose);
  }
}
