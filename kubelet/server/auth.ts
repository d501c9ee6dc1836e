/**
 * Who is calling the kubelet and what they may do. The TLS server requests a client certificate and
 * lets OpenSSL verify it against the cluster CA (`requestCert`, `rejectUnauthorized: false`), so a
 * verified certificate is the only credential: CN is the user, O the groups, as the apiserver reads
 * them. Anonymous callers get 401, callers the optional authorizer refuses 403, both as
 * meta/v1 Status JSON. Requests map to the attributes upstream authorizes on (resource `nodes`,
 * subresource proxy/log/metrics/stats/spec). Pure apart from reading the socket.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface KubeletUser {
  readonly name: string;
  readonly groups: readonly string[];
}

export interface RequestAttributes {
  readonly verb: string;
  readonly resource: 'nodes';
  readonly subresource: string;
  readonly path: string;
}

export type Authorizer = (user: KubeletUser, attrs: RequestAttributes) => boolean | Promise<boolean>;

function values(v: string | string[] | undefined): string[] {
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** The user of a request whose client certificate the cluster CA signed, else undefined. */
export function authenticate(req: IncomingMessage): KubeletUser | undefined {
  const socket = req.socket as Partial<TLSSocket>;
  if (socket.authorized !== true || typeof socket.getPeerCertificate !== 'function') return undefined;
  const subject = socket.getPeerCertificate().subject as { CN?: string | string[]; O?: string | string[] } | undefined;
  const name = values(subject?.CN)[0];
  if (name === undefined || name === '') return undefined;
  return { name, groups: [...values(subject?.O), 'system:authenticated'] };
}

/** Upstream's mapping of kubelet paths to node subresources. */
export function requestAttributes(method: string, path: string): RequestAttributes {
  const verb = ({ GET: 'get', HEAD: 'get', POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? method.toLowerCase();
  const first = path.split('/')[1] ?? '';
  let subresource = 'proxy';
  if (first === 'stats') subresource = 'stats';
  else if (first === 'metrics') subresource = 'metrics';
  else if (first === 'logs') subresource = 'log';
  else if (first === 'spec') subresource = 'spec';
  return { verb, resource: 'nodes', subresource, path };
}

export function writeStatus(res: ServerResponse, code: number, reason: string, message: string): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function writeUnauthorized(res: ServerResponse): void {
  writeStatus(res, 401, 'Unauthorized', 'Unauthorized');
}

export function writeForbidden(res: ServerResponse, user: KubeletUser, a: RequestAttributes): void {
  writeStatus(res, 403, 'Forbidden', `Forbidden (user=${user.name}, verb=${a.verb}, resource=${a.resource}, subresource=${a.subresource})`);
}

/**
 * The kubelet's authorizer until the apiserver can answer SubjectAccessReviews: `nodes/proxy` (exec,
 * attach, portForward, containerLogs, pods: everything that reaches into pods) only for
 * system:masters, which is the apiserver's kubelet-client certificate (and the cluster admin); other
 * subresources (metrics, stats, healthz) for any certificate the cluster CA signed. So another node's
 * kubelet identity, or any other CA-signed client, cannot open a shell in this node's pods.
 */
export const defaultKubeletAuthorizer: Authorizer = (user, attrs) => attrs.subresource !== 'proxy' || user.groups.includes('system:masters');
