/**
 * kubelet/probes: liveness, readiness and startup probes.
 *
 *   settings.ts     defaults (period 10 s, timeout 1 s, failure 3, success 1), ports, shared types
 *   http-get.ts     the httpGet action (also used by lifecycle hooks): request building, redirects
 *   grpc-health.ts  grpc.health.v1 Health/Check with a hand-written codec
 *   runners.ts      exec / httpGet / tcpSocket / grpc handlers -> ProbeOutcome
 *   prober.ts       one probe run: handler choice, retries on errors, events
 *   decision.ts     pure worker decisions: thresholds, initial delay, startup gating, hold
 *   worker.ts       the per-(pod, container, kind) loop on an injected Clock
 *   manager.ts      ProbeManager: workers per pod, ProbeResults, change callback
 *   results.ts      the results cache (ProbeResults)
 *   metrics.ts      prober_probe_total / prober_probe_duration_seconds
 */
export * from './errors.js';
export * from './settings.js';
export * from './http-get.js';
export * from './grpc-health.js';
export * from './runners.js';
export * from './prober.js';
export * from './decision.js';
export * from './worker.js';
export * from './manager.js';
export * from './results.js';
export * from './metrics.js';
export { joinHostPort } from './net-errors.js';
