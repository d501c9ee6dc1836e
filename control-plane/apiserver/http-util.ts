/**
 * HTTP plumbing of the apiserver: bounded body reading, JSON responses, Status errors and the
 * content negotiation kubectl relies on (`as=Table`, `as=PartialObjectMetadata`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Status } from '../../api/meta.js';
import { ApiError, notAcceptable, tooLarge } from './errors.js';

/** Upstream's limit for a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export function writeJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...headers,
  });
  res.end(text);
}

/**
 * Writes a list response item by item instead of as one string: a LIST of 10,000 objects would
 * otherwise hold the whole document (and its UTF-8 copy) in memory at once, doubling the peak RSS.
 */
export async function writeJsonList(
  res: ServerResponse,
  head: Record<string, unknown>,
  items: readonly unknown[],
  headers: Record<string, string | string[]> = {},
): Promise<void> {
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers });
  const prefix = JSON.stringify({ ...head, items: [] });
  // `{"apiVersion":...,"items":[]}`: open the items array, stream the items, close it
  res.write(prefix.slice(0, -2));
  let chunk = '';
  for (let i = 0; i < items.length; i++) {
    chunk += (i === 0 ? '' : ',') + JSON.stringify(items[i]);
    if (chunk.length >= 64 * 1024) {
      if (!res.write(chunk)) await new Promise<void>((r) => res.once('drain', () => r()));
      chunk = '';
    }
  }
  res.end(`${chunk}]}`);
}

export function writeStatus(res: ServerResponse, err: ApiError): void {
  writeJson(res, err.httpCode, err.toStatus());
}

export function successStatus(details?: Status['details']): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', ...(details ? { details } : {}), code: 200 };
}

export type ResponseShape = 'object' | 'table' | 'metadata';

interface MediaRange {
  readonly type: string;
  readonly params: Readonly<Record<string, string>>;
}

function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [{ type: '*/*', params: {} }];
  return header.split(',').map((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    const p: Record<string, string> = {};
    for (const kv of params) {
      const i = kv.indexOf('=');
      if (i > 0) p[kv.slice(0, i).trim()] = kv.slice(i + 1).trim();
    }
    return { type: (type ?? '').toLowerCase(), params: p };
  });
}

/**
 * The first acceptable representation, in the client's order. We speak JSON only: a client that
 * accepts nothing but protobuf gets 406, as upstream answers for an unsupported media type.
 */
export function negotiate(accept: string | undefined): ResponseShape {
  for (const r of parseAccept(accept)) {
    if (r.type !== 'application/json' && r.type !== '*/*' && r.type !== 'application/*') continue;
    const as = r.params['as'];
    if (as === undefined) return 'object';
    if (r.params['g'] !== 'meta.k8s.io') continue;
    if (as === 'Table' && (r.params['v'] === 'v1' || r.params['v'] === 'v1beta1')) return 'table';
    if ((as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') && (r.params['v'] === 'v1' || r.params['v'] === 'v1beta1')) {
      return 'metadata';
    }
  }
  throw notAcceptable(`only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io, application/json;as=PartialObjectMetadata;v=v1;g=meta.k8s.io`);
}

/** Query parameters as a plain map (last value wins). */
export function queryOf(url: URL): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of url.searchParams) q[k] = v;
  return q;
}

export function boolParam(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}
