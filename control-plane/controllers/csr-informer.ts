/**
 * What the CSR approver and signer share: an informer over the in-process Registry (the same list +
 * watch the HTTP API serves, without HTTP) and a one-worker queue of CSR names. Each controller only
 * supplies `handle(csr)`; a failed handle is retried with the queue's back-off, and the informer
 * re-lists by itself when its watch fails (lib/client/informer.ts).
 *
 * Cost: one store watch per controller on the CSR prefix; memory = the CSRs (few: one per node join
 * or renewal, removed by whoever cleans them up).
 */
import type { CertificateSigningRequest } from '../../api/certificates/csr.js';
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { ListerWatcher } from '../../lib/client/informer.js';
import { Informer } from '../../lib/client/informer.js';
import type { WatchEvent } from '../../lib/client/watch-decoder.js';
import type { Logger } from '../../lib/log.js';
import { WorkQueue } from '../../lib/work-queue.js';
import { everything } from '../apiserver/filter.js';
import type { Registry } from '../apiserver/registry.js';
import type { ApiWatchEvent } from '../apiserver/registry-read.js';
import { listObjects, watchObjects } from '../apiserver/registry-read.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';

/** List + watch of one resource straight from the Registry, in the shape informers consume. */
export function registryListerWatcher<T extends KubeObject>(registry: Registry, entry: ResourceEntry): ListerWatcher<T> {
  return {
    async list() {
      const listed = await listObjects(registry, entry, { filter: everything });
      return { items: listed.items as unknown as T[], resourceVersion: listed.metadata.resourceVersion ?? '' };
    },
    watch(resourceVersion, signal) {
      return registryWatch<T>(registry, entry, resourceVersion, signal);
    },
  };
}

async function* registryWatch<T extends KubeObject>(registry: Registry, entry: ResourceEntry, rv: string, signal: AbortSignal): AsyncGenerator<WatchEvent<T>> {
  const inner = new AbortController();
  const stop = (): void => inner.abort();
  signal.addEventListener('abort', stop, { once: true });
  const queue: ApiWatchEvent[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  try {
    await watchObjects(
      registry,
      entry,
      { filter: everything, ...(rv !== '' ? { resourceVersion: rv } : {}), signal: inner.signal },
      {
        send: (ev) => {
          queue.push(ev);
          poke();
        },
        end: (err) => {
          ended = true;
          failure = err;
          poke();
        },
      },
      () => undefined,
    );
    for (;;) {
      const ev = queue.shift();
      if (ev !== undefined) {
        yield ev as unknown as WatchEvent<T>;
        continue;
      }
      if (ended) {
        if (failure !== undefined) throw failure;
        return;
      }
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        const onAbort = (): void => resolve();
        // one listener per wait, removed on wake, so a long watch does not accumulate them
        wake = () => {
          inner.signal.removeEventListener('abort', onAbort);
          resolve();
        };
        inner.signal.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    signal.removeEventListener('abort', stop);
    inner.abort();
  }
}

export interface CsrControllerDeps {
  readonly registry: Registry;
  readonly index: ResourceIndex;
  readonly clock: Clock;
  readonly log: Logger;
}

export function csrEntry(index: ResourceIndex): ResourceEntry {
  const e = index.find('certificates.k8s.io', 'v1', 'certificatesigningrequests');
  if (!e) throw new Error('certificatesigningrequests are not served');
  return e;
}

/**
 * Runs `handle` for every CSR that is added or changes, one at a time, until `signal` aborts.
 * `handle` sees the informer's copy; it must re-check what it relies on inside its Registry update.
 */
export async function runCsrWorker(
  deps: CsrControllerDeps,
  handle: (csr: CertificateSigningRequest) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  const entry = csrEntry(deps.index);
  const informer = new Informer<CertificateSigningRequest>(registryListerWatcher(deps.registry, entry), {
    clock: deps.clock,
    log: deps.log,
    name: 'certificatesigningrequests',
  });
  const queue = new WorkQueue<string>(deps.clock, 200, 30_000);
  const enqueue = (csr: CertificateSigningRequest): void => queue.add(csr.metadata.name ?? '');
  informer.addEventHandler({ onAdd: enqueue, onUpdate: (_old, csr) => enqueue(csr) });
  const informing = informer.run(signal);
  await queue.process(
    signal,
    async (name) => {
      const csr = informer.getByName(name);
      if (csr !== undefined) await handle(csr);
    },
    (name, err) => deps.log.warn({ csr: name, err: err instanceof Error ? err.message : String(err) }, 'certificate signing request not processed; will retry'),
  );
  await informing;
}
