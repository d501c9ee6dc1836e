/**
 * Root CA publisher (upstream's root-ca-cert-publisher): every active namespace has a ConfigMap
 * `kube-root-ca.crt` whose `ca.crt` is the cluster CA (and upstream's description annotation), created
 * when the namespace appears, put back when deleted or edited. Pods read it through their kube-api-access volume to verify the apiserver
 * (plugins/service-account.ts).
 *
 * Runs inside `knode server` (upstream: kube-controller-manager), beside the CA it publishes. Loop:
 * store mirrors (list + watch, relisting after a failed watch) of namespaces and ConfigMaps ->
 * WorkQueue of namespace names -> sync.
 */
import type { KubeObject } from '../../api/meta.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { WorkQueue } from '../../lib/work-queue.js';
import { ApiError } from '../apiserver/errors.js';
import type { Registry } from '../apiserver/registry.js';
import type { ResourceEntry, ResourceIndex } from '../apiserver/resource-table.js';
import { StoreMirror } from '../apiserver/authz/store-mirror.js';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const DESCRIPTION_KEY = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

interface ConfigMapShape {
  readonly metadata: KubeObject['metadata'];
  readonly data?: Readonly<Record<string, string>>;
}

export class RootCAPublisher {
  private readonly namespaces: ResourceEntry;
  private readonly configMaps: ResourceEntry;
  private readonly queue: WorkQueue<string>;

  constructor(
    private readonly registry: Registry,
    index: ResourceIndex,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly caPem: string,
  ) {
    const ns = index.find('', 'v1', 'namespaces');
    const cm = index.find('', 'v1', 'configmaps');
    if (ns === undefined || cm === undefined) throw new Error('namespaces and configmaps must be served');
    this.namespaces = ns;
    this.configMaps = cm;
    this.queue = new WorkQueue<string>(clock, 100, 10_000);
  }

  async run(signal: AbortSignal): Promise<void> {
    // StoreMirror lists, follows, and lists again after a failed watch (compaction, a lost etcd member)
    const deps = { clock: this.clock, log: this.log };
    const cmPrefix = this.configMaps.storagePrefix;
    await new StoreMirror<KubeObject>(this.registry.store, this.namespaces.storagePrefix, {
      reset: () => undefined,
      apply: (_key, ns) => {
        if (ns?.metadata.name !== undefined) this.queue.add(ns.metadata.name);
      },
    }, deps).start(signal);
    await new StoreMirror<KubeObject>(this.registry.store, cmPrefix, {
      reset: () => undefined,
      // deletions arrive without a value: the key says /registry/configmaps/<ns>/<name>
      apply: (key) => {
        const [ns, name] = key.slice(cmPrefix.length).split('/');
        if (name === ROOT_CA_CONFIGMAP && ns !== undefined) this.queue.add(ns);
      },
    }, deps).start(signal);
    await this.queue.process(signal, (ns) => this.sync(ns), (ns, err) =>
      this.log.warn({ namespace: ns, err: err instanceof Error ? err.message : String(err) }, 'publishing the root CA failed; will retry'),
    );
  }

  /** Creates or repairs `kube-root-ca.crt` in `namespace` when it is active. */
  async sync(namespace: string): Promise<void> {
    const ns = await this.getOrUndefined(this.namespaces, undefined, namespace);
    if (ns === undefined || ns.metadata.deletionTimestamp !== undefined) return;
    const current = (await this.getOrUndefined(this.configMaps, namespace, ROOT_CA_CONFIGMAP)) as ConfigMapShape | undefined;
    const data = { 'ca.crt': this.caPem };
    try {
      if (current === undefined) {
        await this.registry.create(this.configMaps, namespace, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { [DESCRIPTION_KEY]: DESCRIPTION } },
          data,
        } as KubeObject);
      } else if (current.data?.['ca.crt'] !== this.caPem || Object.keys(current.data ?? {}).length !== 1 || current.metadata.annotations?.[DESCRIPTION_KEY] !== DESCRIPTION) {
        await this.registry.update(this.configMaps, namespace, ROOT_CA_CONFIGMAP, (cur) =>
          ({ ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, [DESCRIPTION_KEY]: DESCRIPTION } }, data }) as KubeObject,
        );
      }
    } catch (err) {
      // raced with another writer or with the namespace's deletion: the watch brings us back if needed
      if (err instanceof ApiError && (err.httpCode === 409 || err.httpCode === 404 || err.httpCode === 403)) return;
      throw err;
    }
  }

  private async getOrUndefined(e: ResourceEntry, ns: string | undefined, name: string): Promise<KubeObject | undefined> {
    try {
      return await this.registry.get(e, ns, name);
    } catch (err) {
      if (err instanceof ApiError && err.httpCode === 404) return undefined;
      throw err;
    }
  }
}
