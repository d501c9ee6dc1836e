/**
 * kubelet/server: the kubelet's HTTPS endpoint on :10250.
 *
 *   server.ts          KubeletServer: TLS, routing, /healthz, /pods, /metrics
 *   container-logs.ts  /containerLogs/{ns}/{pod}/{container}
 *   exec.ts            /exec and /attach: WebSocket relay to the runtime's streaming server
 *   port-forward.ts    /portForward: SPDY (or SPDY in WebSocket) relayed to the runtime's streaming server
 *   port-forward-protocol.ts  its pure part: path, ports, upgrade choice
 *   remote-command.ts  the RemoteCommand protocol's pure part (options, channels, v5 -> v4)
 *   auth.ts            client-certificate authentication, optional authorizer, Status errors
 *   tls.ts             serving certificates (cluster-CA signed or self-signed per node)
 */
export * from './server.js';
export * from './container-logs.js';
export * from './exec.js';
export * from './remote-command.js';
export * from './port-forward.js';
export * from './port-forward-protocol.js';
export * from './auth.js';
export * from './tls.js';
