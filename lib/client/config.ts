/**
 * Where and how to connect: the apiserver URL, the CA to verify it with, and the credentials (client
 * certificate + key, or a bearer token). Built by hand (the node agent during TLS bootstrap) or from a
 * kubeconfig, whose file references (`certificate-authority`, `client-key`, `tokenFile`) are read
 * relative to the kubeconfig's directory, as kubectl does.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseKubeconfig, resolveKubeconfig } from '../pki/kubeconfig.js';
import { ClientConfigError } from './errors.js';

export interface ClientConfig {
  /** `https://host:port`, optionally with a path prefix. */
  readonly server: string;
  /** PEM CA bundle the server certificate must chain to; the system roots when omitted. */
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
  /**
   * Accept any server certificate. Only for the one trust-on-first-use read in lib/client/bootstrap.ts;
   * every credential sent over such a connection can be read by whoever answers.
   */
  readonly insecureSkipTlsVerify?: boolean;
  /** Server name to verify the certificate against, when it differs from the URL's host. */
  readonly tlsServerName?: string;
  /** Default per-request timeout (not for watches); 30 s when omitted. */
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

export const DEFAULT_TIMEOUT_MS = 30_000;

export interface KubeconfigLoadOptions {
  /** Context to use instead of current-context. */
  readonly context?: string;
  /** Directory relative file references are resolved against (the kubeconfig's own directory). */
  readonly baseDir?: string;
  readonly timeoutMs?: number;
  readonly userAgent?: string;
}

async function readRef(path: string, baseDir: string, what: string): Promise<string> {
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    return await readFile(full, 'utf8');
  } catch (err) {
    throw new ClientConfigError(`cannot read the ${what} file ${full} named in the kubeconfig: ${(err as Error).message}`, { cause: err });
  }
}

/** A ClientConfig from kubeconfig text; inline `*-data` wins over a file reference, as in kubectl. */
export async function clientConfigFromKubeconfig(text: string, opts: KubeconfigLoadOptions = {}): Promise<ClientConfig> {
  const resolved = resolveKubeconfig(parseKubeconfig(text), opts.context);
  const { cluster, user } = resolved;
  const baseDir = opts.baseDir ?? process.cwd();
  const caPem = cluster.certificateAuthorityData ?? (cluster.certificateAuthority ? await readRef(cluster.certificateAuthority, baseDir, 'certificate-authority') : undefined);
  const certPem = user.clientCertificateData ?? (user.clientCertificate ? await readRef(user.clientCertificate, baseDir, 'client-certificate') : undefined);
  const keyPem = user.clientKeyData ?? (user.clientKey ? await readRef(user.clientKey, baseDir, 'client-key') : undefined);
  const token = user.token ?? (user.tokenFile ? (await readRef(user.tokenFile, baseDir, 'tokenFile')).trim() : undefined);
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new ClientConfigError(`kubeconfig user "${user.name}" has a client certificate without its key or the other way round`);
  }
  return {
    server: cluster.server,
    ...(caPem !== undefined ? { caPem } : {}),
    ...(certPem !== undefined ? { certPem } : {}),
    ...(keyPem !== undefined ? { keyPem } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(cluster.insecureSkipTlsVerify === true ? { insecureSkipTlsVerify: true } : {}),
    ...(cluster.tlsServerName !== undefined ? { tlsServerName: cluster.tlsServerName } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.userAgent !== undefined ? { userAgent: opts.userAgent } : {}),
  };
}

/** Reads a kubeconfig file (file references resolve against its directory). */
export async function loadClientConfig(path: string, opts: Omit<KubeconfigLoadOptions, 'baseDir'> = {}): Promise<ClientConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ClientConfigError(`cannot read kubeconfig ${path}: ${(err as Error).message}`, { cause: err });
  }
  return clientConfigFromKubeconfig(text, { ...opts, baseDir: dirname(resolve(path)) });
}

/** Checks what every request needs, so a bad flag fails at startup with one sentence. */
export function validateClientConfig(c: ClientConfig): void {
  let url: URL;
  try {
    url = new URL(c.server);
  } catch {
    throw new ClientConfigError(`server ${JSON.stringify(c.server)} is not a URL such as https://10.0.0.1:6443`);
  }
  if (url.protocol !== 'https:') throw new ClientConfigError(`server ${c.server} must use https://`);
  if ((c.certPem === undefined) !== (c.keyPem === undefined)) {
    throw new ClientConfigError('a client certificate needs its key and the other way round');
  }
}
