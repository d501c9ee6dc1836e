/**
 * WebSocket errors. `WebSocketProtocolError` carries the RFC 6455 close code the peer must be sent
 * (1002 protocol error, 1009 too big); `WebSocketHandshakeError` is a refused or malformed upgrade.
 */
import { KnodeError } from '../errors.js';

export class WebSocketProtocolError extends KnodeError {
  constructor(
    message: string,
    /** RFC 6455 section 7.4.1 close code to send before closing. */
    readonly closeCode = 1002,
  ) {
    super('ERR_WEBSOCKET_PROTOCOL', message);
  }
}

export class WebSocketHandshakeError extends KnodeError {
  constructor(
    message: string,
    /** The HTTP status a server should answer with, or the one a client received. */
    readonly httpStatus = 400,
    /** The body the server answered with (client side), for error reporting. */
    readonly body = '',
  ) {
    super('ERR_WEBSOCKET_HANDSHAKE', message);
  }
}
