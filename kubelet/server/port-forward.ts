/**
 * GET|POST /portForward/{ns}/{pod}[/{uid}]: the kubelet end of `kubectl port-forward`.
 *
 * Design: byte relay, no SPDY termination. The SPDY/3.1 session (`portforward.k8s.io`) runs end to
 * end between kubectl and containerd's streaming server; nothing on the way parses it:
 *
 *   kubectl --WS(SPDY bytes)|SPDY--> apiserver (splices bytes, node-stream.ts)
 *           --same bytes--> kubelet (this file) --SPDY/3.1 (raw socket)--> containerd streaming server
 *
 * kubectl opens, per accepted local connection, an `error` and a `data` stream with `port` and
 * `requestid` headers; containerd answers each, dials the port inside the pod's netns, copies bytes
 * and writes dial failures as text on the error stream. The only translation needed is the
 * WebSocket tunnel (subprotocol `SPDY/3.1+portforward.k8s.io`, kubectl 1.31+): each binary message
 * is a slice of the SPDY byte stream, so the kubelet unwraps messages to bytes and wraps bytes in
 * messages. A plain SPDY upgrade (kubectl's fallback) is spliced socket to socket.
 *
 * Why not terminate SPDY here and open matching streams to containerd (server + client roles)? It
 * would be a second SPDY implementation (zlib header blocks with the dictionary in both directions,
 * stream ids, FIN/RST bookkeeping, flow control) to produce the same bytes: upstream does the same
 * relay (apiserver's tunnelling handler + the kubelet's upgrade-aware proxy to the runtime's URL).
 * Cost: one CRI PortForward call and one TCP connection to containerd per `kubectl port-forward`
 * session (not per forwarded connection); data is copied once per hop with socket backpressure.
 *
 * Every refusal (no pod, no ready sandbox, no usable upgrade, CRI error, streaming server down)
 * happens before the caller's upgrade is accepted, as plain HTTP text the apiserver turns into a
 * Status, so kubectl's fallback from WebSocket to SPDY sees the same error again.
 */
import { request as httpRequest } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Pod } from '../../api/core/pod.js';
import type { Logger } from '../../lib/log.js';
import { serverHandshakeResponse, takeOverSocket, upgradeOf, WebSocketConnection } from '../../lib/websocket/index.js';
import { CriNotFoundError } from '../cri/errors.js';
import type { RuntimeService } from '../cri/services.js';
import type { RuntimePod } from '../types.js';
import { chooseSandbox, parsePortForwardTarget, parsePortList, planClientUpgrade, PORT_FORWARD_PROTOCOL, PortForwardRequestError, spdyUpgradeResponse } from './port-forward-protocol.js';
import type { PortForwardTarget } from './port-forward-protocol.js';

export interface RuntimeConnection {
  readonly socket: Duplex;
  /** Bytes read past the 101. */
  readonly head: Buffer;
}

export interface PortForwardDeps {
  readonly pods: () => readonly Pod[] | Promise<readonly Pod[]>;
  readonly runtimePod: (uid: string) => RuntimePod | undefined | Promise<RuntimePod | undefined>;
  readonly runtime: Partial<Pick<RuntimeService, 'portForward'>>;
  /** Opens the SPDY connection to the runtime's streaming URL; tests replace it. */
  readonly dial?: (url: URL) => Promise<RuntimeConnection>;
  readonly log?: Logger;
}

export class RuntimeDialError extends Error {
  readonly code = 'ERR_KUBELET_PORT_FORWARD_DIAL';
}

function writeText(res: ServerResponse, code: number, text: string): void {
  const body = `${text}\n`;
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** SPDY/3.1 upgrade to containerd's streaming server, as client-go's spdy round tripper does it. */
export function dialRuntimePortForward(url: URL, timeoutMs = 10_000): Promise<RuntimeConnection> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, {
      method: 'POST',
      agent: false,
      headers: { Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': PORT_FORWARD_PROTOCOL },
    });
    req.setTimeout(timeoutMs, () => req.destroy(new RuntimeDialError(`no answer from ${url.origin} within ${timeoutMs} ms`)));
    req.on('upgrade', (res: IncomingMessage, socket: Duplex, head: Buffer) => {
      req.setTimeout(0);
      const chosen = res.headers['x-stream-protocol-version'];
      if (chosen !== PORT_FORWARD_PROTOCOL) {
        socket.destroy();
        reject(new RuntimeDialError(`the runtime chose stream protocol ${JSON.stringify(chosen ?? '')}, not ${PORT_FORWARD_PROTOCOL}`));
        return;
      }
      resolve({ socket, head });
    });
    req.on('response', (res: IncomingMessage) => {
      res.resume();
      reject(new RuntimeDialError(`${url.origin} refused the SPDY upgrade with status ${res.statusCode ?? 0}`));
    });
    req.on('error', reject);
    req.end();
  });
}

/** `segments` are the decoded path parts after /portForward. */
export async function servePortForward(deps: PortForwardDeps, req: IncomingMessage, res: ServerResponse, segments: readonly string[], query: URLSearchParams): Promise<void> {
  let target: PortForwardTarget;
  let ports: number[];
  try {
    target = parsePortForwardTarget(segments);
    ports = parsePortList(query.getAll('port'));
  } catch (err) {
    if (err instanceof PortForwardRequestError) return writeText(res, err.httpStatus, err.message);
    throw err;
  }
  const pod = (await deps.pods()).find((p) => p.metadata.namespace === target.namespace && p.metadata.name === target.pod && (target.uid === undefined || p.metadata.uid === target.uid));
  if (!pod) return writeText(res, 404, `pod ${JSON.stringify(target.pod)} does not exist`);
  const sandbox = chooseSandbox((await deps.runtimePod(pod.metadata.uid ?? ''))?.sandboxes ?? []);
  if (!sandbox) return writeText(res, 404, `no ready sandbox for pod ${JSON.stringify(target.pod)}: cannot forward ports into it`);

  const upgrade = planClientUpgrade(req.method ?? 'GET', req.headers);
  if (upgrade.type === 'reject' || !upgradeOf(res)) {
    return writeText(res, upgrade.type === 'reject' ? upgrade.status : 400, upgrade.type === 'reject' ? upgrade.message : 'port forwarding needs an upgrade request');
  }
  const portForward = deps.runtime.portForward?.bind(deps.runtime);
  if (!portForward) return writeText(res, 501, 'this kubelet runtime does not support port forwarding');

  let streamUrl: string;
  try {
    streamUrl = (await portForward({ podSandboxId: sandbox.id, ...(ports.length > 0 ? { port: ports } : {}) })).url;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return writeText(res, err instanceof CriNotFoundError ? 404 : 500, `failed to forward ports of pod ${JSON.stringify(target.pod)}: ${message}`);
  }
  // the caller may have left while we waited: then there is nobody to forward for
  if (upgradeOf(res)?.socket.destroyed ?? true) return;
  let runtimeConn: RuntimeConnection;
  try {
    runtimeConn = await (deps.dial ?? dialRuntimePortForward)(new URL(streamUrl, 'http://127.0.0.1'));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return writeText(res, 500, `cannot reach the runtime's streaming server for port forwarding: ${message}`);
  }

  if (upgradeOf(res)?.socket.destroyed ?? true) {
    // its 'close' already fired: a splice or relay would never end the runtime connection
    runtimeConn.socket.destroy();
    return;
  }
  const log = deps.log?.child({ kind: 'portforward', namespace: target.namespace, pod: target.pod, transport: upgrade.type });
  const client = takeOverSocket(res);
  switch (upgrade.type) {
    case 'websocket': {
      client.socket.write(serverHandshakeResponse(upgrade.key, upgrade.protocol));
      relayTunnel(new WebSocketConnection(client.socket, { role: 'server', head: client.head }), runtimeConn, log);
      return;
    }
    case 'spdy':
      client.socket.write(spdyUpgradeResponse());
      if (runtimeConn.head.length > 0) client.socket.write(runtimeConn.head);
      if (client.head.length > 0) runtimeConn.socket.write(client.head);
      spliceSockets(client.socket, runtimeConn.socket);
      return;
    default: {
      const never: never = upgrade;
      throw new Error(`unreachable ${String(never)}`);
    }
  }
}

/** WebSocket binary messages <-> the runtime's byte stream, with backpressure both ways. */
export function relayTunnel(ws: WebSocketConnection, runtime: RuntimeConnection, log?: Logger): void {
  const { socket } = runtime;
  const toClient = (chunk: Buffer): void => {
    if (ws.send(chunk, true)) return;
    socket.pause();
    void ws.drained().then(() => socket.resume());
  };
  socket.on('data', toClient);
  if (runtime.head.length > 0) queueMicrotask(() => toClient(runtime.head));
  ws.onMessage((data, binary) => {
    if (!binary) {
      // client-go's tunnelling connection sends binary only; text would corrupt the SPDY stream
      log?.warn({}, 'text message on a SPDY tunnel; closing');
      ws.close(1003, 'binary messages only');
      return;
    }
    if (socket.destroyed || socket.writableEnded) return;
    if (socket.write(data)) return;
    ws.pause();
    socket.once('drain', () => ws.resume());
  });
  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    ws.close(1000);
    if (!socket.destroyed) socket.end();
    setTimeout(() => socket.destroy(), 5_000).unref();
  };
  socket.on('error', (err: Error) => {
    log?.debug({ err: err.message }, 'runtime connection failed');
    socket.destroy();
  });
  socket.on('end', finish);
  socket.on('close', finish);
  ws.onClose(finish);
}

/** Two raw connections, each end closing the other. */
export function spliceSockets(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const end = (): void => {
    a.destroy();
    b.destroy();
  };
  for (const s of [a, b]) {
    s.on('error', end);
    s.on('close', end);
  }
}
