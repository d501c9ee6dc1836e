/**
 * The controllers `knode server` and `knode controller-manager` run, by name (upstream's
 * --controllers names). Each entry builds one controller from the shared context; a controller asks the
 * informer factory for its informers in its constructor, so they start together.
 */
import { DaemonSetController } from '../controllers/daemonset.js';
import { DeploymentController } from '../controllers/deployment.js';
import { ReplicaSetController } from '../controllers/replicaset.js';
import { EndpointsController } from '../controllers/endpoints.js';
import { NodeLifecycleController } from '../controllers/node-lifecycle.js';
import { EndpointSliceController } from '../controllers/endpointslice.js';
import { PodGCController } from '../controllers/podgc.js';
import { ServiceAccountController } from '../controllers/serviceaccount.js';
import { DisruptionController } from '../controllers/disruption.js';
import { JobController } from '../controllers/job.js';
import { CronJobController } from '../controllers/cronjob.js';
import { StatefulSetController } from '../controllers/statefulset.js';
import { TTLAfterFinishedController } from '../controllers/ttl-after-finished.js';
import type { Controller, ControllerContext } from './controller.js';

export interface ControllersConfig {
  /** Names to run; default all. */
  readonly enabled?: readonly string[];
  /** --node-monitor-grace-period: a node not heard from for this long is Unknown (default 40 s). */
  readonly nodeMonitorGracePeriodMs?: number;
  /** --terminated-pod-gc-threshold (default 12500; 0 disables). */
  readonly terminatedPodGCThreshold?: number;
}

type Factory = (ctx: ControllerContext, cfg: ControllersConfig) => Controller;

/** Registered controllers, in start order. */
export const CONTROLLERS: ReadonlyArray<readonly [string, Factory]> = [
  ['replicaset', (ctx) => new ReplicaSetController(ctx)],
  ['deployment', (ctx) => new DeploymentController(ctx)],
  ['endpointslice', (ctx) => new EndpointSliceController(ctx)],
  ['endpoints', (ctx) => new EndpointsController(ctx)],
  ['serviceaccount', (ctx) => new ServiceAccountController(ctx)],
  ['podgc', (ctx, cfg) => new PodGCController(ctx, cfg.terminatedPodGCThreshold !== undefined ? { terminatedPodThreshold: cfg.terminatedPodGCThreshold } : {})],
  ['nodelifecycle', (ctx, cfg) => new NodeLifecycleController(ctx, cfg.nodeMonitorGracePeriodMs !== undefined ? { nodeMonitorGracePeriodMs: cfg.nodeMonitorGracePeriodMs } : {})],
  ['daemonset', (ctx) => new DaemonSetController(ctx)],
  ['statefulset', (ctx) => new StatefulSetController(ctx)],
  ['disruption', (ctx) => new DisruptionController(ctx)],
  ['job', (ctx) => new JobController(ctx)],
  ['ttl-after-finished', (ctx) => new TTLAfterFinishedController(ctx)],
  ['cronjob', (ctx) => new CronJobController(ctx)],
];

export function buildControllers(ctx: ControllerContext, cfg: ControllersConfig = {}): Controller[] {
  const enabled = cfg.enabled !== undefined ? new Set(cfg.enabled) : undefined;
  return CONTROLLERS.filter(([name]) => enabled === undefined || enabled.has(name)).map(([, make]) => make(ctx, cfg));
}
