/**
 * control-plane/apiserver/auth: who is calling the apiserver.
 *   types.ts            Authenticator, UserInfo, bearer-token parsing, well-known users and groups
 *   client-cert.ts      X.509 client certificates (CN = user, O = groups)
 *   bootstrap-token.ts  bootstrap tokens stored as kube-system Secrets
 *   static-token.ts     fixed tokens (loopback client, tests)
 *   union.ts            first match of several
 */
export * from './types.js';
export * from './client-cert.js';
export * from './bootstrap-token.js';
export * from './static-token.js';
export * from './union.js';
