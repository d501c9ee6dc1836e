/**
 * The controller manager: a set of controllers behind one leader lease, as kube-controller-manager runs
 * them (`kube-system/kube-controller-manager`; the scheduler uses its own lease `kube-scheduler`).
 *
 * Controllers must ask `ctx.informers` for their informers in their constructors: the factory is
 * started right after they are built. While this process leads, the shared informers and every controller run on a signal that aborts when
 * leadership is lost; a process that loses the lease stops acting at once and campaigns again, so two
 * control planes never both act. `knode server` runs one in-process (through a loopback client); any
 * number of `knode controller-manager --kubeconfig ...` processes may stand by against the same cluster.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Registry } from 'prom-client';
import type { Clock } from '../../lib/clock.js';
import type { KubeClient } from '../../lib/client/client.js';
import { clientEventSink, EventRecorder } from '../../lib/client/events.js';
import type { LeaderElectionConfig } from '../../lib/client/leader-election.js';
import { LeaderElector } from '../../lib/client/leader-election.js';
import { SharedInformerFactory } from '../../lib/client/shared-informer-factory.js';
import type { Logger } from '../../lib/log.js';
import type { Controller, ControllerContext } from './controller.js';
import { ControllerMetrics } from './controller.js';

/** A candidate identity unique per process, like upstream's `<hostname>_<uuid>`. */
export function candidateIdentity(): string {
  return `${hostname()}_${randomBytes(8).toString('hex')}`;
}

export interface ManagerOptions {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly log: Logger;
  readonly registry: Registry;
  /** The component name for events and logs, e.g. `kube-controller-manager`. */
  readonly component: string;
  /** Without it, the controllers run at once (no election: one process only). */
  readonly leaderElection?: Omit<LeaderElectionConfig, 'identity'> & { readonly identity?: string };
  /** Builds the controllers from the context (called once per term of leadership). */
  readonly controllers: (ctx: ControllerContext) => readonly Controller[];
}

export interface ManagerHandle {
  isLeader(): boolean;
  readonly identity: string;
}

/** Runs until `signal` aborts. */
export function runControllerManager(opts: ManagerOptions, signal: AbortSignal): { done: Promise<void>; handle: ManagerHandle } {
  const identity = opts.leaderElection?.identity ?? candidateIdentity();
  const metrics = new ControllerMetrics(opts.registry);
  const events = new EventRecorder(clientEventSink(opts.client), opts.component, opts.clock, opts.log);
  let leading = opts.leaderElection === undefined;

  const lead = async (work: AbortSignal): Promise<void> => {
    // every controller and informer waits on this one signal
    setMaxListeners(0, work);
    const informers = new SharedInformerFactory(opts.client, { clock: opts.clock, log: opts.log });
    const ctx: ControllerContext = { client: opts.client, informers, clock: opts.clock, log: opts.log, metrics, events };
    const controllers = opts.controllers(ctx);
    informers.start(work);
    opts.log.info({ component: opts.component, controllers: controllers.map((c) => c.name) }, 'starting controllers');
    await Promise.all(
      controllers.map((c) =>
        c.run(work).catch((err: unknown) => opts.log.error({ controller: c.name, err: err instanceof Error ? err.message : String(err) }, 'controller stopped with an error')),
      ),
    );
    await informers.stopped().catch(() => undefined);
    await events.flush();
  };

  let done: Promise<void>;
  if (opts.leaderElection === undefined) {
    done = lead(signal);
  } else {
    const elector = new LeaderElector(opts.client, { ...opts.leaderElection, identity }, opts.clock, opts.log);
    done = elector.run(signal, {
      onStartedLeading: async (work) => {
        leading = true;
        try {
          await lead(work);
        } finally {
          leading = false;
        }
      },
    });
  }
  return { done, handle: { identity, isLeader: () => leading } };
}
