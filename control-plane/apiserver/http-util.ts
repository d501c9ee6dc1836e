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
 * A JSON document whose big array is written element by element: a LIST of 10,000 objects would
 * otherwise hold every object and the whole document (plus its UTF-8 copy) in memory at once.
 * Headers go out with the first element (or at the end), so an error before that can still be
 * answered with a proper Status.
 */
export class JsonArrayStream {
  private started = false;
  private count = 0;
  private buf = '';

  /** `open` ends with `[` (e.g. `{"kind":"PodList","apiVersion":"v1","items":[`). */
  constructor(
    private readonly res: ServerResponse,
    private readonly open: string,
  ) {}

  private start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    this.buf = this.open + this.buf;
  }

  async push(value: unknown): Promise<void> {
    this.start();
    this.buf += (this.count++ === 0 ? '' : ',') + JSON.stringify(value);
    if (this.buf.length >= 64 * 1024) {
      const chunk = this.buf;
      this.buf = '';
      if (!this.res.write(chunk)) await new Promise<void>((r) => this.res.once('drain', () => r()));
    }
  }

  /** `close` starts with `]` (e.g. `],"metadata":{...}}`). */
  end(close: string): void {
    this.start();
    this.res.end(this.buf + close);
  }
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
/**
 * The query parameters, the FIRST value of a repeated one (as upstream's url.Values.Get). Authorization
 * (authz/attributes.ts) reads the same values, so `?fieldSelector=a&fieldSelector=` cannot be
 * authorized as one thing and served as another.
 */
export function queryOf(url: URL): Record<string, string> {
  const q: Record<string, string> = {};
  for (const [k, v] of url.searchParams) if (!Object.hasOwn(q, k)) q[k] = v;
  return q;
}

export function boolParam(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}
