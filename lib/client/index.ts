/**
 * lib/client: how knode's agents (and CLI commands) talk to an apiserver.
 *
 *   config.ts                  ClientConfig, from a kubeconfig (file references resolved) or by hand
 *   transport.ts               HTTPS with a keep-alive agent, timeouts, cancellation, error mapping
 *   resource.ts                ResourceRef (group, version, plural, namespaced), URL paths, queries
 *   client.ts                  KubeClient: get/list/watch/create/update/updateStatus/patch/delete
 *   watch-decoder.ts           newline-delimited JSON watch events, typed (BOOKMARK, ERROR included)
 *   errors.ts                  ClientApiError (the server's Status) and isNotFound/isConflict/...
 *   informer.ts                list+watch cache with handlers, re-list on 410, jittered back-off
 *   list-watch.ts              the informer's source over KubeClient (paginated list, bookmarks)
 *   shared-informer-factory.ts one informer per selection, shared by its consumers
 *   cluster-info.ts            kube-public/cluster-info (server + CA) and kubeadm's CA hash
 *   bootstrap-plan.ts          pure: reuse stored node credentials? is an issued certificate ours?
 *   bootstrap.ts               node TLS bootstrap: bootstrap token -> CSR -> kubelet.kubeconfig
 *
 * Cost model: one pooled TLS connection per concurrent request, one held socket per watch; informers
 * keep their selection in memory. Nothing here retries ordinary calls on its own: callers decide
 * (isRetryable), informers retry their list/watch themselves.
 */
export * from './errors.js';
export * from './config.js';
export * from './resource.js';
export * from './transport.js';
export * from './watch-decoder.js';
export * from './client.js';
export * from './informer.js';
export * from './list-watch.js';
export * from './shared-informer-factory.js';
export * from './cluster-info.js';
export * from './bootstrap-plan.js';
export * from './bootstrap.js';
