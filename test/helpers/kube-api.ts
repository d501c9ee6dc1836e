/**
 * A raw HTTPS client for e2e tests that must see exact status codes and bodies, which kubectl hides
 * behind its own wording. Credentials come from the admin kubeconfig the server wrote (inline CA, client
 * certificate and key). One TLS connection per request: cheap enough for tests, and it keeps each request
 * independent of the previous one.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { parse } from 'yaml';

export interface ApiCredentials {
  readonly server: string;
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  readonly body: unknown;
}

function field(obj: unknown, key: string): unknown {
  return typeof obj === 'object' && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

function first(list: unknown): unknown {
  return Array.isArray(list) ? (list as unknown[])[0] : undefined;
}

function b64(value: unknown, what: string): Buffer {
  if (typeof value !== 'string') throw new Error(`kubeconfig has no inline ${what}`);
  return Buffer.from(value, 'base64');
}

/** Reads the first cluster and user of a kubeconfig with inline (`*-data`) credentials. */
export async function loadCredentials(kubeconfigPath: string): Promise<ApiCredentials> {
  const doc: unknown = parse(await readFile(kubeconfigPath, 'utf8'));
  const cluster = field(first(field(doc, 'clusters')), 'cluster');
  const user = field(first(field(doc, 'users')), 'user');
  const server = field(cluster, 'server');
  if (typeof server !== 'string') throw new Error('kubeconfig has no cluster server');
  return {
    server,
    ca: b64(field(cluster, 'certificate-authority-data'), 'certificate-authority-data'),
    cert: b64(field(user, 'client-certificate-data'), 'client-certificate-data'),
    key: b64(field(user, 'client-key-data'), 'client-key-data'),
  };
}

/** Sends one request; `body` objects are sent as JSON unless `contentType` says otherwise. */
export function apiRequest(
  creds: ApiCredentials,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<ApiResponse> {
  const url = new URL(path, creds.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((res, rej) => {
    const req = request(
      url,
      {
        method,
        ca: creds.ca,
        cert: creds.cert,
        key: creds.key,
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (resp) => {
        const chunks: Buffer[] = [];
        resp.on('data', (c: Buffer) => chunks.push(c));
        resp.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          res({ status: resp.statusCode ?? 0, headers: resp.headers, text, body: parsed });
        });
        resp.on('error', rej);
      },
    );
    req.on('error', rej);
    req.end(payload);
  });
}
