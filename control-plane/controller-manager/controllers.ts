/**
 * The controllers `knode server` and `knode controller-manager` run, by name (upstream's
 * --controllers names). Each entry builds one controller from the shared context; a controller asks the
 * informer factory for its informers in its constructor, so they start together.
 */
import { DaemonSetController } from '../controllers/daemonset.js';
import { EndpointsController } from '../controllers/endpoints.js';
import { NodeLifecycleController } from '../controllers/node-lifecycle.js';
import { EndpointSliceController } from '../controllers/endpointslice.js';
import { PodGCController } from '../controllers/podgc.js';
import { ServiceAccountController } from '../controllers/serviceaccount.js';
import type { Controller, ControllerContext } from './controller.js';

export interface ControllersConfig {
  /** Names to run; default all. */
  readonly enabled?: readonly string[];
}

type Factory = (ctx: ControllerContext, cfg: ControllersConfig) => Controller;

/** Registered controllers, in start order. */
export const CONTROLLERS: ReadonlyArray<readonly [string, Factory]> = [
  ['endpointslice', (ctx) => new EndpointSliceController(ctx)],
  ['endpoints', (ctx) => new EndpointsController(ctx)],
  ['serviceaccount', (ctx) => new ServiceAccountController(ctx)],
  ['podgc', (ctx) => new PodGCController(ctx)],
  ['nodelifecycle', (ctx) => new NodeLifecycleController(ctx)],
  ['daemonset', (ctx) => new DaemonSetController(ctx)],
];

export function buildControllers(ctx: ControllerContext, cfg: ControllersConfig = {}): Controller[] {
  const enabled = cfg.enabled !== undefined ? new Set(cfg.enabled) : undefined;
  return CONTROLLERS.filter(([name]) => enabled === undefined || enabled.has(name)).map(([, make]) => make(ctx, cfg));
}
