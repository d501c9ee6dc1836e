/**
 * ServiceAccount controller (upstream pkg/controller/serviceaccount, "serviceaccount"): every active
 * namespace has the ServiceAccounts named in `serviceAccounts` (upstream's default: just `default`),
 * created if missing and recreated if deleted. Namespaces being deleted are skipped; a create refused
 * because the namespace started terminating meanwhile is dropped, not retried.
 *
 * Loop: namespace add/update and ServiceAccount delete events -> KeyQueue of namespace names ->
 * sync(ns) -> planServiceAccounts -> one create per missing account.
 * Cost: O(1) per event; one create per missing account.
 */
import type { Namespace } from '../../api/core/namespace.js';
import type { ServiceAccount } from '../../api/core/serviceaccount.js';
import type { Informer } from '../../lib/client/informer.js';
import { isAlreadyExists, isNotFound } from '../../lib/client/errors.js';
import { resources } from '../../lib/client/resource.js';
import type { Controller, ControllerContext } from '../controller-manager/controller.js';
import { KeyQueue } from '../controller-manager/controller.js';
import { isNamespaceTerminatingError } from './endpoints-common.js';

export const DEFAULT_SERVICE_ACCOUNTS: readonly string[] = ['default'];

export interface ServiceAccountControllerOptions {
  /** The accounts every namespace gets; default ['default']. */
  readonly serviceAccounts?: readonly string[];
}

/** An active namespace: exists, not being deleted, phase Active (or not yet set). */
export function isActiveNamespace(ns: Namespace | undefined): boolean {
  if (ns === undefined || ns.metadata.deletionTimestamp !== undefined) return false;
  const phase = ns.status?.phase;
  return phase === undefined || phase === 'Active';
}

/** The ServiceAccounts to create in one namespace (pure). */
export function planServiceAccounts(ns: Namespace | undefined, existing: ReadonlySet<string>, wanted: readonly string[] = DEFAULT_SERVICE_ACCOUNTS): ServiceAccount[] {
  if (!isActiveNamespace(ns)) return [];
  const namespace = ns?.metadata.name ?? '';
  return wanted.filter((name) => !existing.has(name)).map((name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } }));
}

export class ServiceAccountController implements Controller {
  readonly name = 'serviceaccount';
  private readonly queue: KeyQueue;
  private readonly namespaces: Informer<Namespace>;
  private readonly accounts: Informer<ServiceAccount>;
  private readonly wanted: readonly string[];

  constructor(
    private readonly ctx: ControllerContext,
    opts: ServiceAccountControllerOptions = {},
  ) {
    this.wanted = opts.serviceAccounts ?? DEFAULT_SERVICE_ACCOUNTS;
    this.queue = new KeyQueue(this.name, ctx);
    this.namespaces = ctx.informers.informerFor<Namespace>(resources.namespaces);
    this.accounts = ctx.informers.informerFor<ServiceAccount>(resources.serviceAccounts);
    const queueNs = (ns: Namespace): void => this.queue.add(ns.metadata.name ?? '');
    this.namespaces.addEventHandler({ onAdd: queueNs, onUpdate: (_old, ns) => queueNs(ns) });
    this.accounts.addEventHandler({
      onDelete: (sa) => {
        if (this.wanted.includes(sa.metadata.name ?? '')) this.queue.add(sa.metadata.namespace ?? '');
      },
    });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ctx.informers.waitForCacheSync(signal).catch(() => undefined);
    if (signal.aborted) return;
    await this.queue.run(signal, (ns) => this.sync(ns));
  }

  async sync(namespace: string): Promise<void> {
    const ns = this.namespaces.getByName(namespace);
    const existing = new Set(this.wanted.filter((name) => this.accounts.getByName(name, namespace) !== undefined));
    for (const sa of planServiceAccounts(ns, existing, this.wanted)) {
      try {
        await this.ctx.client.create(resources.serviceAccounts, sa, { namespace });
      } catch (err) {
        // already there (our cache lags), or the namespace is going or gone: nothing to do
        if (isAlreadyExists(err) || isNamespaceTerminatingError(err) || isNotFound(err)) continue;
        throw err;
      }
    }
  }
}
