/**
 * kubelet/node: the kubelet's Node in the API.
 *
 *   config.ts           NodeConfig (names, IPs, labels, taints, reservations), timings, upstream constants
 *   host-info.ts        MachineInfo and pressure figures from /proc, /sys, /etc (LinuxHostProbe); parsers
 *   pressure.ts         thresholds crossed? with the pressure transition period (pure)
 *   runtime-health.ts   CRI Status -> runtime/network errors with upstream's messages (pure)
 *   conditions.ts       computeNodeConditions: Ready and the pressure conditions (pure)
 *   node-object.ts      buildNode / buildNodeStatus / allocatable / label reconcile / status patch (pure)
 *   status-reporter.ts  NodeStatusReporter: registration, status every 10 s, patch on change or each minute
 *   lease-renewer.ts    LeaseRenewer: kube-node-lease/<node> every 10 s
 *   retry.ts            back-off, jitter, abortable sleep
 *   fake-api.ts         in-memory KubeClient subset for tests (not exported here: it pulls control-plane code)
 *
 * Cost model: one GET (+ a PATCH when changed or due) of the Node every 10 s, one PUT of the Lease every
 * 10 s, a few small /proc reads and two CRI calls per status check.
 */
export * from './config.js';
export * from './host-info.js';
export * from './pressure.js';
export * from './runtime-health.js';
export * from './conditions.js';
export * from './node-object.js';
export * from './status-reporter.js';
export * from './lease-renewer.js';
export { backoffDelay, jittered, pause } from './retry.js';
export type { BackoffPolicy } from './retry.js';
