/**
 * A typed Kubernetes REST client: get, list, watch, create (+ subresources such as serviceaccounts/token),
 * update (+status and other subresources), patch (merge, strategic, JSON, server-side apply) and delete
 * of any resource named by a ResourceRef.
 * Objects are plain JSON typed by the caller (`client.get<Node>(resources.nodes, 'w1')`); no codegen.
 *
 * Every non-2xx answer becomes a ClientApiError holding the server's Status; a watch yields its events,
 * ERROR events included, and leaves reconnecting to the caller (see informer.ts).
 * Cost model: one HTTPS request per call over a shared keep-alive pool (transport.ts); a watch holds
 * one socket until it ends or its signal aborts.
 */
import type { KubeObject, ObjectList, Status } from '../../api/meta.js';
import type { ClientConfig } from './config.js';
import { loadClientConfig } from './config.js';
import type { KubeconfigLoadOptions } from './config.js';
import { ClientApiError, ClientConnectionError, ClientDecodeError, ClientError, statusFromResponse } from './errors.js';
import type { ResourceRef } from './resource.js';
import { apiVersionOfRef, buildQuery, resourcePath } from './resource.js';
import type { HttpMethod, Transport } from './transport.js';
import { HttpsTransport } from './transport.js';
import type { WatchEvent } from './watch-decoder.js';
import { LineSplitter, parseWatchEvent } from './watch-decoder.js';

export interface RequestOptions {
  /** Overrides the client's default timeout for this call; 0 disables it. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface GetOptions extends RequestOptions {
  readonly namespace?: string;
  readonly subresource?: string;
}

export interface ListOptions extends RequestOptions {
  /** Omit for all namespaces. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions {
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Deliver changes after this version; omit (or "0") to start with the current objects as ADDED. */
  readonly resourceVersion?: string;
  readonly allowWatchBookmarks?: boolean;
  /** Ask the server to end the watch after this long (it picks 30-60 min otherwise). */
  readonly timeoutSeconds?: number;
  /** How long to wait for the response headers (default: the client's timeout). */
  readonly connectTimeoutMs?: number;
  readonly signal?: AbortSignal;
}

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions extends RequestOptions {
  readonly dryRun?: boolean;
  readonly fieldManager?: string;
  readonly fieldValidation?: FieldValidation;
}

export interface CreateOptions extends WriteOptions {
  /** Defaults to the object's metadata.namespace. */
  readonly namespace?: string;
}

export interface UpdateOptions extends WriteOptions {
  /** `status`, `approval`, `scale`...; updateStatus is update with `status`. */
  readonly subresource?: string;
}

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

export const PATCH_CONTENT_TYPES: Readonly<Record<PatchType, string>> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface PatchOptions extends WriteOptions {
  readonly type: PatchType;
  readonly namespace?: string;
  readonly subresource?: string;
  /** Server-side apply: take over fields owned by other managers. */
  readonly force?: boolean;
}

export type PropagationPolicy = 'Orphan' | 'Background' | 'Foreground';

export interface DeleteOptions extends RequestOptions {
  readonly namespace?: string;
  readonly gracePeriodSeconds?: number;
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly propagationPolicy?: PropagationPolicy;
  readonly dryRun?: boolean;
}

export interface KubeClientOptions {
  /** Replaces the HTTPS transport built from the config (tests). */
  readonly transport?: Transport;
}

export class KubeClient {
  readonly transport: Transport;

  constructor(
    readonly config: ClientConfig,
    opts: KubeClientOptions = {},
  ) {
    this.transport = opts.transport ?? new HttpsTransport(config);
  }

  /** A client for the (current or named) context of a kubeconfig file. */
  static async fromKubeconfigFile(path: string, opts: Omit<KubeconfigLoadOptions, 'baseDir'> = {}): Promise<KubeClient> {
    return new KubeClient(await loadClientConfig(path, opts));
  }

  close(): void {
    this.transport.close();
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts: GetOptions = {}): Promise<T> {
    return this.call<T>('GET', resourcePath(ref, opts.namespace, name, opts.subresource), opts);
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: ListOptions = {}): Promise<ObjectList<T>> {
    const query = buildQuery({
      labelSelector: opts.labelSelector,
      fieldSelector: opts.fieldSelector,
      limit: opts.limit,
      continue: opts.continue,
      resourceVersion: opts.resourceVersion,
      resourceVersionMatch: opts.resourceVersionMatch,
    });
    return this.call<ObjectList<T>>('GET', resourcePath(ref, opts.namespace) + query, opts);
  }

  /**
   * Streams the events of one watch. Ends when the server closes the stream (timeout) or the signal
   * aborts; throws ClientApiError when the server refuses the watch, and yields in-band ERROR events
   * (e.g. 410 Expired) for the caller to act on.
   */
  async *watch<T extends KubeObject = KubeObject>(ref: ResourceRef, opts: WatchOptions = {}): AsyncGenerator<WatchEvent<T>, void, undefined> {
    const path =
      resourcePath(ref, opts.namespace) +
      buildQuery({
        watch: 1,
        labelSelector: opts.labelSelector,
        fieldSelector: opts.fieldSelector,
        resourceVersion: opts.resourceVersion,
        allowWatchBookmarks: opts.allowWatchBookmarks === true ? true : undefined,
        timeoutSeconds: opts.timeoutSeconds,
      });
    const res = await this.transport.stream({
      method: 'GET',
      path,
      ...(opts.connectTimeoutMs !== undefined ? { timeoutMs: opts.connectTimeoutMs } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    try {
      if (res.status < 200 || res.status > 299) {
        const chunks: Buffer[] = [];
        for await (const c of res.body) chunks.push(c);
        throw new ClientApiError(statusFromResponse(res.status, Buffer.concat(chunks).toString('utf8')), 'GET', path);
      }
      const lines = new LineSplitter();
      try {
        for await (const chunk of res.body) {
          for (const line of lines.push(chunk)) yield parseWatchEvent<T>(line);
        }
      } catch (err) {
        if (opts.signal?.aborted) return;
        if (err instanceof ClientError) throw err;
        throw new ClientConnectionError('GET', path, { cause: err });
      }
      for (const line of lines.end()) yield parseWatchEvent<T>(line);
    } finally {
      res.close();
    }
  }

  async create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: CreateOptions = {}): Promise<T> {
    const ns = ref.namespaced ? (opts.namespace ?? obj.metadata.namespace) : undefined;
    if (ref.namespaced && ns === undefined) throw new ClientError('ERR_CLIENT_CONFIG', `creating ${ref.plural} needs a namespace (option or metadata.namespace)`);
    return this.call<T>('POST', resourcePath(ref, ns) + writeQuery(opts), opts, withTypeMeta(ref, obj));
  }

  /**
   * POST to a subresource of a named object: a TokenRequest to `serviceaccounts/<name>/token`, an
   * Eviction to `pods/<name>/eviction`. `body` and the answer are the subresource's own kinds, sent
   * as given (no apiVersion/kind filled in).
   */
  async createSubresource<TBody, TResult = TBody>(ref: ResourceRef, name: string, subresource: string, body: TBody, opts: CreateOptions = {}): Promise<TResult> {
    return this.call<TResult>('POST', resourcePath(ref, opts.namespace, name, subresource) + writeQuery(opts), opts, body);
  }

  /** PUT of the whole object; metadata.resourceVersion, when set, makes it conditional (409 on change). */
  async update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: UpdateOptions = {}): Promise<T> {
    const name = obj.metadata.name;
    if (name === undefined || name === '') throw new ClientError('ERR_CLIENT_CONFIG', `updating ${ref.plural} needs metadata.name`);
    const ns = ref.namespaced ? obj.metadata.namespace : undefined;
    return this.call<T>('PUT', resourcePath(ref, ns, name, opts.subresource) + writeQuery(opts), opts, withTypeMeta(ref, obj));
  }

  async updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, opts: WriteOptions = {}): Promise<T> {
    return this.update(ref, obj, { ...opts, subresource: 'status' });
  }

  /** `patch` is the patch document: an object for merge/strategic/apply, an operation array for json. */
  async patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, patch: unknown, opts: PatchOptions): Promise<T> {
    if (opts.type === 'apply' && (opts.fieldManager === undefined || opts.fieldManager === '')) {
      throw new ClientError('ERR_CLIENT_CONFIG', 'server-side apply needs a fieldManager');
    }
    const query = writeQuery(opts, opts.type === 'apply' && opts.force === true ? { force: true } : {});
    return this.call<T>('PATCH', resourcePath(ref, opts.namespace, name, opts.subresource) + query, opts, patch, PATCH_CONTENT_TYPES[opts.type]);
  }

  /** Returns the object as it is after the call (being deleted or gone), or the server's Status. */
  async delete<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, opts: DeleteOptions = {}): Promise<T | Status> {
    const body = {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      ...(opts.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: opts.gracePeriodSeconds } : {}),
      ...(opts.preconditions !== undefined ? { preconditions: opts.preconditions } : {}),
      ...(opts.propagationPolicy !== undefined ? { propagationPolicy: opts.propagationPolicy } : {}),
      ...(opts.dryRun === true ? { dryRun: ['All'] } : {}),
    };
    return this.call<T | Status>('DELETE', resourcePath(ref, opts.namespace, name), opts, body);
  }

  /** A request to any path (e.g. `/version`), answered as parsed JSON. */
  async request<T = unknown>(method: HttpMethod, path: string, opts: RequestOptions & { body?: unknown; contentType?: string } = {}): Promise<T> {
    return this.call<T>(method, path, opts, opts.body, opts.contentType);
  }

  private async call<T>(method: HttpMethod, path: string, opts: RequestOptions, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.transport.request({
      method,
      path,
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    if (res.status < 200 || res.status > 299) throw new ClientApiError(statusFromResponse(res.status, res.text), method, path);
    try {
      return JSON.parse(res.text) as T;
    } catch (err) {
      throw new ClientDecodeError(`${method} ${path} answered ${res.status} with a body that is not JSON`, { cause: err });
    }
  }
}

function writeQuery(opts: WriteOptions, extra: Readonly<Record<string, boolean>> = {}): string {
  return buildQuery({
    dryRun: opts.dryRun === true ? 'All' : undefined,
    fieldManager: opts.fieldManager,
    fieldValidation: opts.fieldValidation,
    ...extra,
  });
}

/** Fills apiVersion/kind when the caller left them out, as typed clients do. */
function withTypeMeta<T extends KubeObject>(ref: ResourceRef, obj: T): T {
  if (obj.apiVersion !== undefined && obj.kind !== undefined) return obj;
  return { apiVersion: apiVersionOfRef(ref), ...(ref.kind !== undefined ? { kind: ref.kind } : {}), ...obj };
}
