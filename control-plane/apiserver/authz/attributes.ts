/**
 * A request's authorization attributes, as upstream's RequestInfoFactory derives them:
 *   GET  .../pods          list      GET .../pods?watch=1        watch
 *   GET  .../pods/web      get       GET .../pods/web?watch=1    watch (named)
 *   POST .../pods          create    PUT  .../pods/web           update
 *   PATCH .../pods/web     patch     DELETE .../pods/web         delete
 *   DELETE .../pods        deletecollection
 *   pods/exec, pods/attach, pods/portforward: create, whatever the method (a WebSocket upgrade is a
 *   GET; upstream asks for create since 1.31)
 * A list or watch narrowed by `fieldSelector=metadata.name=X` is treated as naming X (so a role
 * limited by resourceNames can watch its one object). A request on the `namespaces` resource is in
 * the namespace it names. Other paths are non-resource requests with the lower-case method as verb.
 */
import type { UserInfo } from '../auth/types.js';
import { boolParam, queryOf } from '../http-util.js';
import type { RequestInfo } from '../request-info.js';
import type { Attributes } from './types.js';

const STREAMS = new Set(['exec', 'attach', 'portforward']);

/** `metadata.name=X` (or `==`) from a field selector, when it is one of its terms. */
export function nameFromFieldSelector(selector: string | null): string | undefined {
  for (const term of (selector ?? '').split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (m !== null && m[1] !== undefined && m[1] !== '') return m[1];
  }
  return undefined;
}

export function requestAttributes(user: UserInfo, method: string, info: RequestInfo, url: URL): Attributes {
  const m = method.toUpperCase();
  if (info.kind !== 'resource') {
    return { user, verb: m.toLowerCase(), resourceRequest: false, apiGroup: '', resource: '', subresource: '', namespace: '', name: '', path: url.pathname };
  }
  const sub = info.subresource ?? '';
  let name = info.name ?? '';
  // the same parsing as the handlers (http-util queryOf: first value; boolParam)
  const query = queryOf(url);
  const watch = info.legacyWatch || boolParam(query['watch']);
  let verb: string;
  if (STREAMS.has(sub) && info.resource === 'pods') verb = 'create';
  else if (m === 'GET' || m === 'HEAD') verb = watch ? 'watch' : name !== '' ? 'get' : 'list';
  else if (m === 'POST') verb = 'create';
  else if (m === 'PUT') verb = 'update';
  else if (m === 'PATCH') verb = 'patch';
  else if (m === 'DELETE') verb = name !== '' ? 'delete' : 'deletecollection';
  else verb = m.toLowerCase();
  if (name === '' && (verb === 'list' || verb === 'watch')) name = nameFromFieldSelector(query['fieldSelector'] ?? null) ?? '';
  const namespace = info.resource === 'namespaces' && info.group === '' && info.namespace === undefined ? (info.name ?? '') : (info.namespace ?? '');
  return {
    user,
    verb,
    resourceRequest: true,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: sub,
    namespace,
    name,
    path: url.pathname,
  };
}
