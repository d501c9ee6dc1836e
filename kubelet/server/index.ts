/**
 * kubelet/server: the kubelet's HTTPS endpoint on :10250.
 *
 *   server.ts          KubeletServer: TLS, routing, /healthz, /pods, /metrics
 *   container-logs.ts  /containerLogs/{ns}/{pod}/{container}
 *   auth.ts            client-certificate authentication, optional authorizer, Status errors
 *   tls.ts             serving certificates (cluster-CA signed or self-signed per node)
 */
export * from './server.js';
export * from './container-logs.js';
export * from './auth.js';
export * from './tls.js';
