/**
 * The ServiceAccount admission plugin (upstream plugin/pkg/admission/serviceaccount), on Pod create:
 * unless the pod or its service account says `automountServiceAccountToken: false`, the pod gets
 * upstream's `kube-api-access-<5 random>` projected volume
 *   token      a bound service account token (serviceAccountToken, 3607 s, audience = the API's)
 *   ca.crt     from ConfigMap kube-root-ca.crt (published in every namespace, root-ca-publisher.ts)
 *   namespace  the pod's namespace (downward API)
 * mounted read-only at /var/run/secrets/kubernetes.io/serviceaccount in every container and init
 * container that does not mount something there already. That is what in-cluster clients read
 * (client-go's rest.InClusterConfig, kubectl in a pod). The kubelet fetches the token through
 * serviceaccounts/token and refreshes it.
 *
 * Choices: mirror pods (static pods of a kubelet) get nothing, as upstream. A pod whose service
 * account does not exist yet is admitted (upstream refuses it until the ServiceAccount controller made
 * it); its kubelet then cannot get a token and retries until the account exists.
 */
import { randomBytes } from 'node:crypto';
import type { Container, Pod, Volume } from '../../../api/core/pod.js';
import type { KubeObject } from '../../../api/meta.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';
import { ApiError } from '../errors.js';
import type { ResourceEntry } from '../resource-table.js';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const API_ACCESS_VOLUME_PREFIX = 'kube-api-access-';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Upstream's kubelet-friendly token lifetime for the projected volume (one hour and seven seconds). */
export const API_ACCESS_TOKEN_SECONDS = 3607;
const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(): string {
  return [...randomBytes(5)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length]).join('');
}

/** The projected volume, as upstream's admission writes it. */
export function apiAccessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: API_ACCESS_TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  } as Volume;
}

function withMount(c: Container, volume: string): Container {
  if ((c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) return c;
  return { ...c, volumeMounts: [...(c.volumeMounts ?? []), { name: volume, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] };
}

/** The pod with the API access volume and its mounts, or undefined when it gets none (pure). */
export function mountServiceAccountToken(pod: Pod, accountAutomount: boolean | undefined, suffix: string = randomSuffix()): Pod | undefined {
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return undefined;
  const spec = pod.spec;
  if (spec === undefined) return undefined;
  const automount = spec.automountServiceAccountToken ?? accountAutomount ?? true;
  if (!automount) return undefined;
  if ((spec.volumes ?? []).some((v) => v.name.startsWith(API_ACCESS_VOLUME_PREFIX))) return undefined;
  const name = `${API_ACCESS_VOLUME_PREFIX}${suffix}`;
  const needs = (c: Container): boolean => !(c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH);
  // as upstream: no volume when every container already mounts something there
  if (!spec.containers.some(needs) && !(spec.initContainers ?? []).some(needs)) return undefined;
  return {
    ...pod,
    spec: {
      ...spec,
      volumes: [...(spec.volumes ?? []), apiAccessVolume(name)],
      containers: spec.containers.map((c) => withMount(c, name)),
      ...(spec.initContainers !== undefined ? { initContainers: spec.initContainers.map((c) => withMount(c, name)) } : {}),
    },
  };
}

export class ServiceAccountAdmission implements AdmissionPlugin {
  readonly name = 'ServiceAccount';

  /** `serviceAccounts()`: the ServiceAccount resource, to read an account's automountServiceAccountToken. */
  constructor(private readonly serviceAccounts: () => ResourceEntry | undefined) {}

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    if (ctx.entry.def.group !== '' || ctx.entry.def.plural !== 'pods' || ctx.subresource !== undefined) return undefined;
    const pod = obj as unknown as Pod;
    const account = pod.spec?.serviceAccountName || 'default';
    let accountAutomount: boolean | undefined;
    const saEntry = this.serviceAccounts();
    if (saEntry !== undefined && pod.spec?.automountServiceAccountToken === undefined) {
      try {
        const sa = (await ctx.registry.get(saEntry, pod.metadata.namespace, account)) as { automountServiceAccountToken?: boolean };
        accountAutomount = sa.automountServiceAccountToken;
      } catch (err) {
        if (!(err instanceof ApiError && err.httpCode === 404)) throw err;
      }
    }
    const next = mountServiceAccountToken(pod, accountAutomount);
    return next === undefined ? undefined : { obj: next as unknown as KubeObject };
  }
}
