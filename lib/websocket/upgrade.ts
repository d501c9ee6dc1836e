/**
 * Serving HTTP 'upgrade' requests through ordinary request handlers. Node hands an upgrade request
 * to the 'upgrade' event with the raw socket and no ServerResponse; `responseForUpgrade` binds one
 * so the usual code (authentication, routing, Status errors) can answer with a plain HTTP error,
 * and `takeOverSocket` detaches it once a handler accepts the upgrade and writes its own 101.
 */
import { ServerResponse } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface UpgradeContext {
  readonly socket: Duplex;
  /** Bytes the client sent after the request head. */
  readonly head: Buffer;
}

const upgrades = new WeakMap<ServerResponse, UpgradeContext>();

/** A response bound to the upgrade socket: one answer, then the connection closes. */
export function responseForUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket as Socket);
  res.on('finish', () => {
    if (upgrades.has(res)) {
      res.detachSocket(socket as Socket);
      socket.end();
    }
  });
  socket.on('error', () => socket.destroy());
  upgrades.set(res, { socket, head });
  return res;
}

/** The upgrade socket behind a response from `responseForUpgrade` (undefined for plain requests). */
export function upgradeOf(res: ServerResponse): UpgradeContext | undefined {
  return upgrades.get(res);
}

/** Detaches the socket from the response: from here on the caller owns it. */
export function takeOverSocket(res: ServerResponse): UpgradeContext {
  const up = upgrades.get(res);
  if (!up) throw new Error('not an upgrade request');
  if (res.headersSent) throw new Error('a response was already started on this upgrade');
  upgrades.delete(res);
  res.detachSocket(up.socket as Socket);
  return up;
}
