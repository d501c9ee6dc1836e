/**
 * Turns a request path into what it addresses, as upstream's RequestInfoFactory does:
 *   /api/v1/namespaces/ns/pods/web/status  ->  { group '', version v1, namespace ns, resource pods, name web, subresource status }
 *   /apis/apps/v1/deployments              ->  all-namespaces list of deployments
 *   /api/v1/namespaces/ns/pods/web:80/proxy/a/b  ->  subresource proxy (the path below it is the
 *                                                 proxied request's, read from the raw URL)
 * Pure; the caller decides what the verb means for that target.
 */

export interface ResourceRequest {
  readonly kind: 'resource';
  readonly group: string;
  readonly version: string;
  /** Absent for cluster-scoped resources and for all-namespaces lists. */
  readonly namespace?: string;
  readonly resource: string;
  readonly name?: string;
  readonly subresource?: string;
  /** The legacy `/watch/` path prefix was used. */
  readonly legacyWatch: boolean;
}

export interface GroupVersionRequest {
  readonly kind: 'group-version';
  readonly group: string;
  readonly version: string;
}

export interface GroupRequest {
  readonly kind: 'group';
  readonly group: string;
}

export interface OtherRequest {
  readonly kind: 'other';
  readonly path: string;
}

export type RequestInfo = ResourceRequest | GroupVersionRequest | GroupRequest | OtherRequest;

/** Subresources of the `namespaces` resource itself, which must not be mistaken for namespaced resources. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestPath(rawPath: string): RequestInfo {
  const path = rawPath.split('?')[0] ?? '';
  const parts = path.split('/').filter((p) => p !== '').map(safeDecode);
  if (parts[0] === 'api') {
    if (parts.length === 1) return { kind: 'other', path };
    const version = parts[1] ?? '';
    if (parts.length === 2) return { kind: 'group-version', group: '', version };
    return resourceParts('', version, parts.slice(2)) ?? { kind: 'other', path };
  }
  if (parts[0] === 'apis') {
    if (parts.length === 1) return { kind: 'other', path };
    const group = parts[1] ?? '';
    if (parts.length === 2) return { kind: 'group', group };
    const version = parts[2] ?? '';
    if (parts.length === 3) return { kind: 'group-version', group, version };
    return resourceParts(group, version, parts.slice(3)) ?? { kind: 'other', path };
  }
  return { kind: 'other', path };
}

function resourceParts(group: string, version: string, rest: string[]): ResourceRequest | undefined {
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest.length === 0) return undefined;
  const base = { kind: 'resource' as const, group, version, legacyWatch };
  if (rest[0] === 'namespaces' && rest.length >= 3 && !(rest.length === 3 && NAMESPACE_SUBRESOURCES.has(rest[2] ?? ''))) {
    // /namespaces/{ns}/{resource}[/{name}[/{subresource}]]
    const [, namespace, resource, name, subresource, ...extra] = rest;
    if ((extra.length > 0 && subresource !== 'proxy') || !namespace || !resource) return undefined;
    return {
      ...base,
      namespace,
      resource,
      ...(name !== undefined ? { name } : {}),
      ...(subresource !== undefined ? { subresource } : {}),
    };
  }
  const [resource, name, subresource, ...extra] = rest;
  if ((extra.length > 0 && subresource !== 'proxy') || !resource) return undefined;
  return {
    ...base,
    resource,
    ...(name !== undefined ? { name } : {}),
    ...(subresource !== undefined ? { subresource } : {}),
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
