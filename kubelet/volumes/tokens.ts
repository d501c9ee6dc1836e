/**
 * Bound service account tokens for projected serviceAccountToken volumes, as upstream's kubelet token
 * manager (pkg/kubelet/token):
 * - a token is a TokenRequest (POST /api/v1/namespaces/<ns>/serviceaccounts/<sa>/token) bound to the
 *   pod (name + uid), for the projection's audience (none: the apiserver's) and
 *   max(expirationSeconds, 600) seconds, through an injected `request` (the KubeClient in main.ts);
 * - it is cached per (pod uid, namespace, service account, audience, expirationSeconds) and reused until
 *   it is older than 80% of its lifetime or older than 24 h (or issued "after now": the clock went
 *   back). The lifetime is what the apiserver granted: from the request to status.expirationTimestamp,
 *   which may differ from what was asked;
 * - a refresh that fails keeps serving the cached token while it has not expired (logged); without a
 *   cached token, or once it expired, `get` rejects with ServiceAccountTokenError saying why
 *   (`failed to fetch token: serviceaccounts "x" not found`, upstream's words);
 * - concurrent `get`s of one key share one request; `forget(podUid)` drops a pod's tokens (and any
 *   answer still in flight for it) when the pod goes.
 * Unlike upstream there is no random jitter on the refresh point: knode re-checks every pod sync (10 s).
 *
 * Cost model: a cache hit is one Map lookup; a miss or refresh is one POST. One entry (~1 KiB) per
 * distinct projection of each pod on the node.
 */
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import { KubeletError } from '../errors.js';

/** Upstream's floor on what the kubelet asks for (the API refuses less than 10 minutes). */
export const MIN_TOKEN_EXPIRATION_SECONDS = 600;
/** What a projection without expirationSeconds gets (API defaulting sets the same). */
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 3600;
/** A cached token older than this is refreshed whatever its lifetime (upstream maxTTL). */
export const MAX_TOKEN_AGE_MS = 24 * 60 * 60 * 1000;
/** A cached token is refreshed once this fraction of its lifetime has passed. */
export const TOKEN_REFRESH_FRACTION = 0.8;

/** authentication.k8s.io/v1 TokenRequest, the part the kubelet sends and reads. */
export interface TokenRequest {
  readonly apiVersion: 'authentication.k8s.io/v1';
  readonly kind: 'TokenRequest';
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly spec: {
    readonly audiences: readonly string[];
    readonly expirationSeconds: number;
    readonly boundObjectRef: { readonly kind: 'Pod'; readonly apiVersion: 'v1'; readonly name: string; readonly uid: string };
  };
  readonly status?: { readonly token?: string; readonly expirationTimestamp?: string };
}

/** Sends a TokenRequest for `serviceAccount` in `namespace`; resolves to the apiserver's answer. */
export type RequestToken = (namespace: string, serviceAccount: string, request: TokenRequest) => Promise<TokenRequest>;

/** What a serviceAccountToken projection asks for. */
export interface TokenOptions {
  /** '' or absent: the apiserver's default audience. */
  readonly audience?: string;
  /** Absent: 3600. Raised to 600 when lower. */
  readonly expirationSeconds?: number;
}

/** The token source the volume manager uses (ServiceAccountTokenManager; fakes in tests). */
export interface ServiceAccountTokens {
  get(pod: Pod, opts: TokenOptions): Promise<string>;
  forget(podUid: string): void;
}

/** No token for the pod: the message says why (it becomes the FailedMount message of the volume). */
export class ServiceAccountTokenError extends KubeletError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_KUBELET_SERVICE_ACCOUNT_TOKEN', message, options);
  }
}

export interface TokenManagerOptions {
  readonly request: RequestToken;
  readonly clock: Clock;
  readonly log?: Logger;
}

interface CachedToken {
  readonly podUid: string;
  readonly token: string;
  /** Node clock when the request was sent. */
  readonly issuedAtMs: number;
  /** status.expirationTimestamp. */
  readonly expiresAtMs: number;
}

interface InFlight {
  readonly podUid: string;
  readonly promise: Promise<string>;
}

/** The expirationSeconds the kubelet asks for: the projection's (default 3600), at least 600. */
export function requestedExpirationSeconds(expirationSeconds: number | undefined): number {
  return Math.max(expirationSeconds ?? DEFAULT_TOKEN_EXPIRATION_SECONDS, MIN_TOKEN_EXPIRATION_SECONDS);
}

/** When a token issued at `issuedAtMs` and expiring at `expiresAtMs` is due for a refresh (ms). */
export function tokenRefreshAt(issuedAtMs: number, expiresAtMs: number): number {
  return Math.min(issuedAtMs + TOKEN_REFRESH_FRACTION * (expiresAtMs - issuedAtMs), issuedAtMs + MAX_TOKEN_AGE_MS);
}

const errorMessage = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class ServiceAccountTokenManager implements ServiceAccountTokens {
  private readonly cache = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, InFlight>();

  constructor(private readonly opts: TokenManagerOptions) {}

  /** The pod's token for this projection: cached, or requested when there is none or it is due. */
  async get(pod: Pod, opts: TokenOptions): Promise<string> {
    const uid = pod.metadata.uid ?? '';
    const namespace = pod.metadata.namespace ?? '';
    const serviceAccount = pod.spec.serviceAccountName ?? '';
    if (uid === '' || namespace === '' || serviceAccount === '') {
      throw new ServiceAccountTokenError(`failed to fetch token: pod ${namespace}/${pod.metadata.name ?? ''} needs a uid, a namespace and spec.serviceAccountName`);
    }
    const audience = opts.audience ?? '';
    const seconds = requestedExpirationSeconds(opts.expirationSeconds);
    const key = JSON.stringify([uid, namespace, serviceAccount, audience, seconds]);
    const cached = this.cache.get(key);
    if (cached !== undefined && !this.requiresRefresh(cached)) return cached.token;
    const running = this.inflight.get(key);
    if (running !== undefined) return running.promise;
    const request: TokenRequest = {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      spec: {
        audiences: audience === '' ? [] : [audience],
        expirationSeconds: seconds,
        boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: pod.metadata.name ?? '', uid },
      },
    };
    const entry: { podUid: string; promise: Promise<string> } = { podUid: uid, promise: Promise.resolve('') };
    entry.promise = this.fetch(key, namespace, serviceAccount, request, entry).finally(() => {
      if (this.inflight.get(key) === entry) this.inflight.delete(key);
    });
    this.inflight.set(key, entry);
    return entry.promise;
  }

  /** Drops every token of the pod; an answer still in flight for it is not cached. */
  forget(podUid: string): void {
    for (const [k, c] of this.cache) if (c.podUid === podUid) this.cache.delete(k);
    for (const [k, f] of this.inflight) if (f.podUid === podUid) this.inflight.delete(k);
  }

  /** Cached tokens (for tests and metrics). */
  get size(): number {
    return this.cache.size;
  }

  private requiresRefresh(c: CachedToken): boolean {
    const now = this.opts.clock.now().getTime();
    return now < c.issuedAtMs || now >= tokenRefreshAt(c.issuedAtMs, c.expiresAtMs);
  }

  private async fetch(key: string, namespace: string, serviceAccount: string, request: TokenRequest, entry: InFlight): Promise<string> {
    const issuedAtMs = this.opts.clock.now().getTime();
    let fresh: CachedToken;
    try {
      const answer = await this.opts.request(namespace, serviceAccount, request);
      const token = answer.status?.token ?? '';
      const expiresAtMs = Date.parse(answer.status?.expirationTimestamp ?? '');
      if (token === '') throw new Error('the apiserver answered the TokenRequest without a token');
      if (Number.isNaN(expiresAtMs)) {
        throw new Error(`the apiserver answered the TokenRequest with expirationTimestamp ${JSON.stringify(answer.status?.expirationTimestamp ?? '')}`);
      }
      fresh = { podUid: entry.podUid, token, issuedAtMs, expiresAtMs };
    } catch (err) {
      const cached = this.cache.get(key);
      const now = this.opts.clock.now().getTime();
      if (cached === undefined) throw new ServiceAccountTokenError(`failed to fetch token: ${errorMessage(err)}`, { cause: err });
      if (now >= cached.expiresAtMs) throw new ServiceAccountTokenError(`token expired and refresh failed: ${errorMessage(err)}`, { cause: err });
      this.opts.log?.warn(
        { namespace, serviceAccount, pod: request.spec.boundObjectRef.name, audience: request.spec.audiences[0] ?? '', expires: new Date(cached.expiresAtMs).toISOString(), err: errorMessage(err) },
        'cannot refresh a service account token; serving the cached one until it expires',
      );
      return cached.token;
    }
    // the pod went while the request was out: nothing to keep
    if (this.inflight.get(key) === entry) this.cache.set(key, fresh);
    return fresh.token;
  }
}
