/**
 * kubelet/logs: container logs for `kubectl logs`.
 *
 *   cri-format.ts  the CRI log line format, rendering (partial lines joined, timestamps, since, limit)
 *   options.ts     PodLogOptions from the query string, upstream validation, read options
 *   locate.ts      /var/log/pods layout and which instance (current, --previous) to read
 *   reader.ts      streaming a file with tail, limit and follow
 *   errors.ts      errors carrying the HTTP status the kubelet server answers with
 */
export * from './errors.js';
export * from './cri-format.js';
export * from './options.js';
export * from './locate.js';
export * from './reader.js';
