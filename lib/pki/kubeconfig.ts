/**
 * kubeconfig files (clientcmd v1 `Config`): build the text kubectl reads, write it with mode 0600,
 * and parse one back for our own agent.
 *
 * We only write embedded credentials (`*-data`, base64 of the PEM text) so a kubeconfig can be copied
 * to another machine as one file. Parsing accepts what kubectl accepts for the fields we use, keeps
 * file references (`certificate-authority`, `client-key`, `tokenFile`) as paths for the caller to read,
 * and reports the first problem with its field path. Cost: one YAML parse/stringify.
 */
import { parse, stringify } from 'yaml';
import { InvalidKubeconfigError } from './errors.js';
import { PRIVATE_MODE, writeFileAtomic } from './files.js';

export interface KubeconfigParams {
  readonly clusterName: string;
  /** `https://host:port` of the apiserver. */
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly clientCertPem?: string;
  readonly clientKeyPem?: string;
  readonly token?: string;
  readonly contextName: string;
  readonly namespace?: string;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

/** The YAML text of a single-cluster, single-user, single-context kubeconfig selecting that context. */
export function buildKubeconfig(p: KubeconfigParams): string {
  if ((p.clientCertPem === undefined) !== (p.clientKeyPem === undefined)) {
    throw new InvalidKubeconfigError(`users[0].user`, 'a client certificate needs its key and the other way round');
  }
  const user: Record<string, string> = {};
  if (p.clientCertPem !== undefined) user['client-certificate-data'] = b64(p.clientCertPem);
  if (p.clientKeyPem !== undefined) user['client-key-data'] = b64(p.clientKeyPem);
  if (p.token !== undefined) user['token'] = p.token;
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: p.clusterName, cluster: { server: p.server, 'certificate-authority-data': b64(p.caPem) } }],
    contexts: [
      {
        name: p.contextName,
        context: { cluster: p.clusterName, user: p.user, ...(p.namespace !== undefined ? { namespace: p.namespace } : {}) },
      },
    ],
    'current-context': p.contextName,
    preferences: {},
    users: [{ name: p.user, user }],
  };
  // lineWidth 0: base64 blobs stay on one line, as kubectl itself writes them.
  return stringify(doc, { lineWidth: 0 });
}

/** buildKubeconfig, written atomically with mode 0600 (it holds a private key or a token). */
export async function writeKubeconfig(path: string, p: KubeconfigParams): Promise<void> {
  await writeFileAtomic(path, buildKubeconfig(p), PRIVATE_MODE);
}

export interface KubeconfigCluster {
  readonly name: string;
  readonly server: string;
  /** Decoded PEM text of certificate-authority-data. */
  readonly certificateAuthorityData?: string;
  /** Path from certificate-authority (relative paths are relative to the kubeconfig file). */
  readonly certificateAuthority?: string;
  readonly insecureSkipTlsVerify?: boolean;
  readonly tlsServerName?: string;
}

export interface KubeconfigUser {
  readonly name: string;
  readonly clientCertificateData?: string;
  readonly clientKeyData?: string;
  readonly clientCertificate?: string;
  readonly clientKey?: string;
  readonly token?: string;
  readonly tokenFile?: string;
}

export interface KubeconfigContext {
  readonly name: string;
  readonly cluster: string;
  readonly user: string;
  readonly namespace?: string;
}

export interface Kubeconfig {
  readonly currentContext?: string;
  readonly clusters: readonly KubeconfigCluster[];
  readonly users: readonly KubeconfigUser[];
  readonly contexts: readonly KubeconfigContext[];
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optString(o: Obj, key: string, path: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new InvalidKubeconfigError(`${path}.${key}`, 'must be a string');
  return v;
}

function reqString(o: Obj, key: string, path: string): string {
  const v = optString(o, key, path);
  if (v === undefined) throw new InvalidKubeconfigError(`${path}.${key}`, 'required');
  return v;
}

function optData(o: Obj, key: string, path: string): string | undefined {
  const v = optString(o, key, path);
  if (v === undefined) return undefined;
  if (!/^[A-Za-z0-9+/\s]*={0,2}\s*$/.test(v)) throw new InvalidKubeconfigError(`${path}.${key}`, 'must be base64');
  return Buffer.from(v, 'base64').toString('utf8');
}

/** The named entries of a top-level list (`clusters`, `users`, `contexts`), each with its inner object. */
function namedList(doc: Obj, list: string, inner: string): { name: string; body: Obj; path: string }[] {
  const v = doc[list];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new InvalidKubeconfigError(list, 'must be a list');
  return v.map((entry: unknown, i) => {
    const path = `${list}[${i}]`;
    if (!isObj(entry)) throw new InvalidKubeconfigError(path, 'must be a mapping');
    const body = entry[inner];
    if (!isObj(body)) throw new InvalidKubeconfigError(`${path}.${inner}`, 'required mapping');
    return { name: reqString(entry, 'name', path), body, path: `${path}.${inner}` };
  });
}

function opt<K extends string, V>(key: K, v: V | undefined): { [P in K]?: V } {
  return (v !== undefined ? { [key]: v } : {}) as { [P in K]?: V };
}

/** Parses kubeconfig YAML; throws InvalidKubeconfigError naming the first bad field. */
export function parseKubeconfig(text: string): Kubeconfig {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new InvalidKubeconfigError('(document)', 'not valid YAML', { cause: err });
  }
  if (!isObj(doc)) throw new InvalidKubeconfigError('(document)', 'must be a mapping');
  const kind = optString(doc, 'kind', '(document)');
  if (kind !== undefined && kind !== 'Config') throw new InvalidKubeconfigError('kind', `must be Config, not ${kind}`);

  const clusters = namedList(doc, 'clusters', 'cluster').map(({ name, body, path }): KubeconfigCluster => {
    const skip = body['insecure-skip-tls-verify'];
    if (skip !== undefined && typeof skip !== 'boolean') throw new InvalidKubeconfigError(`${path}.insecure-skip-tls-verify`, 'must be a boolean');
    return {
      name,
      server: reqString(body, 'server', path),
      ...opt('certificateAuthorityData', optData(body, 'certificate-authority-data', path)),
      ...opt('certificateAuthority', optString(body, 'certificate-authority', path)),
      ...opt('insecureSkipTlsVerify', skip),
      ...opt('tlsServerName', optString(body, 'tls-server-name', path)),
    };
  });
  const users = namedList(doc, 'users', 'user').map(({ name, body, path }): KubeconfigUser => ({
    name,
    ...opt('clientCertificateData', optData(body, 'client-certificate-data', path)),
    ...opt('clientKeyData', optData(body, 'client-key-data', path)),
    ...opt('clientCertificate', optString(body, 'client-certificate', path)),
    ...opt('clientKey', optString(body, 'client-key', path)),
    ...opt('token', optString(body, 'token', path)),
    ...opt('tokenFile', optString(body, 'tokenFile', path)),
  }));
  const contexts = namedList(doc, 'contexts', 'context').map(({ name, body, path }): KubeconfigContext => ({
    name,
    cluster: reqString(body, 'cluster', path),
    user: optString(body, 'user', path) ?? '',
    ...opt('namespace', optString(body, 'namespace', path)),
  }));
  return { ...opt('currentContext', optString(doc, 'current-context', '(document)')), clusters, users, contexts };
}

/** One context with its cluster and user looked up: what a client needs to connect. */
export interface ResolvedKubeconfig {
  readonly context: KubeconfigContext;
  readonly cluster: KubeconfigCluster;
  readonly user: KubeconfigUser;
  /** The context's namespace, `default` when unset (as kubectl does). */
  readonly namespace: string;
}

/** Looks up `contextName` (default: current-context); throws InvalidKubeconfigError on dangling names. */
export function resolveKubeconfig(config: Kubeconfig, contextName?: string): ResolvedKubeconfig {
  const name = contextName ?? config.currentContext;
  if (name === undefined) throw new InvalidKubeconfigError('current-context', 'not set and no context was named');
  const context = config.contexts.find((c) => c.name === name);
  if (context === undefined) throw new InvalidKubeconfigError('contexts', `no context named "${name}"`);
  const cluster = config.clusters.find((c) => c.name === context.cluster);
  if (cluster === undefined) throw new InvalidKubeconfigError('clusters', `no cluster named "${context.cluster}" (context "${name}")`);
  const user = config.users.find((u) => u.name === context.user) ?? { name: context.user };
  return { context, cluster, user, namespace: context.namespace ?? 'default' };
}
