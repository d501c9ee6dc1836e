/**
 * lib/websocket: a small RFC 6455 implementation of our own (no npm dependency), enough for the
 * Kubernetes streaming protocols (exec, attach): binary messages, fragmentation, ping/pong, the
 * closing handshake, subprotocol negotiation. No extensions (permessage-deflate is never offered
 * nor accepted).
 *
 *   frame.ts       pure codec: frames, masking, fragments -> messages, close payloads
 *   handshake.ts   pure: upgrade request checks, Sec-WebSocket-Accept, subprotocol choice
 *   connection.ts  one open WebSocket over a socket: events, ping answers, close handshake
 *   client.ts      dialing ws:// or wss:// URLs
 *   upgrade.ts     answering 'upgrade' requests through ordinary request handlers
 */
export * from './errors.js';
export * from './frame.js';
export * from './handshake.js';
export * from './connection.js';
export * from './client.js';
export * from './upgrade.js';
