/**
 * GET|POST /exec/{ns}/{pod}/{container}?command=..&stdin=1&stdout=1&stderr=1&tty=1 and
 * /attach/{ns}/{pod}/{container}?...: the kubelet end of `kubectl exec` and `kubectl attach`.
 *
 * Flow: find the pod and its running container, ask the runtime (CRI Exec/Attach) for a streaming
 * URL, dial it as a WebSocket client (v4.channel.k8s.io), accept the caller's WebSocket upgrade
 * (v5 or v4) and relay messages both ways with backpressure until either side closes.
 * Upstream's kubelet proxies SPDY to the runtime instead; knode speaks WebSocket only, so a SPDY
 * upgrade (kubectl's fallback) is answered 400 after the same checks, which keeps the real error
 * (pod or container missing, container not running) visible to a client that falls back.
 *
 * Towards the runtime (runtime-stream.ts): WebSocket v4 by default; SPDY when stdin is wanted
 * without a tty, because v4 over WebSocket cannot half-close stdin and `echo x | kubectl exec -i
 * .. cat` would otherwise lose its output and exit code. With a tty a v5 stdin close becomes ^D.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Pod } from '../../api/core/pod.js';
import type { Logger } from '../../lib/log.js';
import { chooseProtocol, isWebSocketUpgrade, parseUpgradeRequest, serverHandshakeResponse, takeOverSocket, upgradeOf, WebSocketConnection, WebSocketHandshakeError } from '../../lib/websocket/index.js';
import { CriNotFoundError } from '../cri/errors.js';
import type { RuntimeService } from '../cri/services.js';
import type { RuntimePod } from '../types.js';
import {
  Channel,
  CLIENT_PROTOCOLS,
  failureStatus,
  mapClientMessage,
  mapRuntimeMessage,
  parseStreamOptions,
  parseStreamTarget,
  StreamOptionsError,
} from './remote-command.js';
import type { StreamKind, StreamOptions } from './remote-command.js';
import { dialRuntimeStream } from './runtime-stream.js';
import type { RuntimeStream } from './runtime-stream.js';

export interface RemoteCommandDeps {
  readonly pods: () => readonly Pod[] | Promise<readonly Pod[]>;
  readonly runtimePod: (uid: string) => RuntimePod | undefined | Promise<RuntimePod | undefined>;
  readonly runtime: Pick<RuntimeService, 'exec' | 'attach'>;
  /** Dials the runtime's streaming URL; tests replace it. */
  readonly dial?: (url: URL, opts: StreamOptions) => Promise<RuntimeStream>;
  readonly log?: Logger;
}

function writeText(res: ServerResponse, code: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** `segments` are the decoded path parts after /exec or /attach. */
export async function serveRemoteCommand(deps: RemoteCommandDeps, kind: StreamKind, req: IncomingMessage, res: ServerResponse, segments: readonly string[], query: URLSearchParams): Promise<void> {
  let opts: StreamOptions;
  let target: ReturnType<typeof parseStreamTarget>;
  try {
    target = parseStreamTarget(kind, segments);
    opts = parseStreamOptions(kind, query);
  } catch (err) {
    if (err instanceof StreamOptionsError) return writeText(res, 400, err.message);
    throw err;
  }
  const pod = (await deps.pods()).find((p) => p.metadata.namespace === target.namespace && p.metadata.name === target.pod && (target.uid === undefined || p.metadata.uid === target.uid));
  if (!pod) return writeText(res, 404, `pod ${JSON.stringify(target.pod)} does not exist`);
  const runtimePod = await deps.runtimePod(pod.metadata.uid ?? '');
  const container = runtimePod?.containers.find((c) => c.name === target.container && c.state === 'running');
  if (!container) return writeText(res, 404, `container not found (${JSON.stringify(target.container)})`);

  const upgrade = upgradeOf(res);
  if (!upgrade || !isWebSocketUpgrade(req.headers)) {
    return writeText(res, 400, `${kind} needs a WebSocket upgrade (${CLIENT_PROTOCOLS.join(', ')}); knode does not serve SPDY`);
  }
  let key: string;
  let protocol: string | undefined;
  try {
    const up = parseUpgradeRequest('GET', req.headers);
    key = up.key;
    protocol = chooseProtocol(up.protocols, CLIENT_PROTOCOLS);
  } catch (err) {
    if (err instanceof WebSocketHandshakeError) return writeText(res, err.httpStatus, err.message);
    throw err;
  }
  if (protocol === undefined) return writeText(res, 400, `none of the offered subprotocols is supported; supported: ${CLIENT_PROTOCOLS.join(', ')}`);

  let streamUrl: string;
  try {
    const cri = { containerId: container.id, stdin: opts.stdin, stdout: opts.stdout, stderr: opts.stderr, tty: opts.tty };
    streamUrl = (kind === 'exec' ? await deps.runtime.exec({ ...cri, cmd: opts.command }) : await deps.runtime.attach(cri)).url;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return writeText(res, err instanceof CriNotFoundError ? 404 : 500, `failed to ${kind} in container ${JSON.stringify(target.container)}: ${message}`);
  }
  // the caller may have left while we waited: then there is nobody to relay for
  if (upgrade.socket.destroyed) return;
  let runtimeConn: RuntimeStream;
  try {
    runtimeConn = await (deps.dial ?? dialRuntimeStream)(new URL(streamUrl, 'http://127.0.0.1'), opts);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return writeText(res, 500, `cannot reach the runtime's streaming server for ${kind}: ${message}`);
  }

  if (upgrade.socket.destroyed) {
    // its 'close' already fired: nothing would ever close the runtime stream (and the process's stdio)
    runtimeConn.close();
    return;
  }
  // the caller's upgrade is accepted only once the runtime side is open: every failure above is an HTTP error
  const { socket, head } = takeOverSocket(res);
  socket.write(serverHandshakeResponse(key, protocol));
  const client = new WebSocketConnection(socket, { role: 'server', head });
  relay(client, runtimeConn, protocol, deps.log?.child({ kind, namespace: target.namespace, pod: target.pod, container: target.container }));
}

/** Relays until either side closes; the other side is then closed too. */
export function relay(client: WebSocketConnection, runtime: RuntimeStream, protocol: string, log?: Logger): void {
  // a slow receiver pauses reading from the sender until it drains
  let statusSent = false;
  runtime.onMessage((data) => {
    const out = mapRuntimeMessage(data);
    if (out?.[0] === Channel.Error) statusSent = true;
    if (!out || client.send(out)) return;
    runtime.pause();
    void client.drained().then(() => runtime.resume());
  });
  client.onMessage((data) => {
    const action = mapClientMessage(protocol, data);
    switch (action.type) {
      case 'forward':
        if (runtime.send(action.data)) return;
        client.pause();
        void runtime.drained().then(() => client.resume());
        return;
      case 'close-stdin':
        runtime.closeStdin();
        return;
      case 'ignore':
        log?.debug({ why: action.why }, 'ignored a client message');
        return;
      default: {
        const never: never = action;
        throw new Error(`unreachable ${String(never)}`);
      }
    }
  });
  runtime.onClose((abnormal) => {
    // the error channel carries one Status: add ours only when the runtime sent none
    if (abnormal !== undefined && !statusSent && client.isOpen) {
      log?.warn({ abnormal }, 'runtime stream ended abnormally');
      client.send(failureStatus(`the runtime's stream ended abnormally: ${abnormal}`));
    }
    client.close(1000);
  });
  client.onClose(() => runtime.close());
}
