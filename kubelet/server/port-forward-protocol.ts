/**
 * The kubelet's `/portForward` endpoint, the pure part: the request path, the `port` list, and which
 * of the two upgrades kubectl offers is taken (see port-forward.ts for the design).
 *
 * - `SPDY/3.1+portforward.k8s.io` over WebSocket (kubectl >= 1.31, PortForwardWebsockets): a GET
 *   upgrade to WebSocket whose binary messages carry the bytes of a SPDY/3.1 connection, nothing else
 *   (no channel byte). Offered first.
 * - Plain SPDY/3.1 (`Upgrade: SPDY/3.1`, `X-Stream-Protocol-Version: portforward.k8s.io`): kubectl's
 *   fallback when the WebSocket upgrade fails, and what older clients send.
 *
 * The plain-WebSocket `portforward.k8s.io` channel protocol (kubelet-side v4 port forwarding with
 * `?port=`) is not offered: no kubectl since 1.6 uses it.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { isWebSocketUpgrade, parseUpgradeRequest, WebSocketHandshakeError } from '../../lib/websocket/index.js';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** client-go's prefix for SPDY tunnelled in WebSocket messages. */
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';
export const TUNNEL_PROTOCOL = `${SPDY_TUNNEL_PREFIX}${PORT_FORWARD_PROTOCOL}`;

export class PortForwardRequestError extends Error {
  readonly code = 'ERR_KUBELET_PORT_FORWARD_REQUEST';
  constructor(
    message: string,
    readonly httpStatus = 400,
  ) {
    super(message);
  }
}

export interface PortForwardTarget {
  readonly namespace: string;
  readonly pod: string;
  readonly uid?: string;
}

/** Path segments after /portForward: {ns}/{pod} or {ns}/{pod}/{uid}, as upstream routes them. */
export function parsePortForwardTarget(segments: readonly string[]): PortForwardTarget {
  const [namespace, pod, uid] = segments;
  if (!segments.some((s) => s === '') && namespace && pod) {
    if (segments.length === 2) return { namespace, pod };
    if (segments.length === 3 && uid) return { namespace, pod, uid };
  }
  throw new PortForwardRequestError('expected /portForward/{podNamespace}/{podID} or /portForward/{podNamespace}/{podID}/{uid}');
}

/** `port=80&port=8080` or `port=80,8080`; every entry a TCP port. Empty is allowed (SPDY names ports per stream). */
export function parsePortList(values: readonly string[], name = 'port'): number[] {
  const out: number[] = [];
  for (const v of values) {
    for (const part of v.split(',')) {
      const s = part.trim();
      if (s === '') continue;
      const n = /^[0-9]{1,5}$/.test(s) ? Number(s) : NaN;
      if (!(n >= 1 && n <= 65535)) throw new PortForwardRequestError(`invalid ${name} ${JSON.stringify(s)}: must be an integer between 1 and 65535`);
      out.push(n);
    }
  }
  return out;
}

export type ClientUpgrade =
  | { readonly type: 'websocket'; readonly key: string; readonly protocol: string }
  | { readonly type: 'spdy' }
  | { readonly type: 'reject'; readonly status: number; readonly message: string };

function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** Which upgrade a request asks for, and whether we can take it. */
export function planClientUpgrade(method: string, headers: IncomingHttpHeaders): ClientUpgrade {
  if (isWebSocketUpgrade(headers)) {
    let up: ReturnType<typeof parseUpgradeRequest>;
    try {
      up = parseUpgradeRequest(method, headers);
    } catch (err) {
      if (err instanceof WebSocketHandshakeError) return { type: 'reject', status: err.httpStatus, message: err.message };
      throw err;
    }
    if (!up.protocols.includes(TUNNEL_PROTOCOL)) {
      return { type: 'reject', status: 400, message: `none of the offered subprotocols is supported; supported: ${TUNNEL_PROTOCOL}` };
    }
    return { type: 'websocket', key: up.key, protocol: TUNNEL_PROTOCOL };
  }
  const upgrade = header(headers, 'upgrade').toLowerCase();
  if (upgrade.split(',').some((t) => t.trim() === 'spdy/3.1')) {
    const offered = header(headers, 'x-stream-protocol-version')
      .split(',')
      .map((t) => t.trim());
    if (!offered.includes(PORT_FORWARD_PROTOCOL)) {
      return { type: 'reject', status: 403, message: `unable to upgrade: unable to negotiate protocol: client supports ${JSON.stringify(offered.filter((t) => t !== ''))}, server supports ["${PORT_FORWARD_PROTOCOL}"]` };
    }
    return { type: 'spdy' };
  }
  return { type: 'reject', status: 400, message: `port forwarding needs an upgrade: WebSocket (${TUNNEL_PROTOCOL}) or SPDY/3.1 (${PORT_FORWARD_PROTOCOL})` };
}

/** The 101 a SPDY client (client-go's spdy round tripper) accepts. */
export function spdyUpgradeResponse(): string {
  return ['HTTP/1.1 101 Switching Protocols', 'Connection: Upgrade', 'Upgrade: SPDY/3.1', `X-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}`, '', ''].join('\r\n');
}

/** The sandbox to forward into: the newest ready one (a pod's ports live in its sandbox's netns). */
export function chooseSandbox<S extends { readonly id: string; readonly state: string }>(sandboxes: readonly S[]): S | undefined {
  return sandboxes.find((s) => s.state === 'ready');
}
