/**
 * The watch wire format: one JSON object per line, `{"type":"ADDED","object":{...}}`, arriving in
 * arbitrary chunks (a line may span chunks, a chunk may hold many lines). Pure: the line splitter keeps
 * the unfinished tail, the parser turns a line into a typed event or throws ClientDecodeError.
 */
import type { KubeObject, Status } from '../../api/meta.js';
import { ClientDecodeError } from './errors.js';

/** A BOOKMARK carries only the resourceVersion the watch has reached (kind/apiVersion of the resource). */
export interface BookmarkObject {
  readonly kind?: string;
  readonly apiVersion?: string;
  readonly metadata: { readonly resourceVersion: string; readonly annotations?: Readonly<Record<string, string>> };
}

export type WatchEvent<T extends KubeObject = KubeObject> =
  | { readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: T }
  | { readonly type: 'BOOKMARK'; readonly object: BookmarkObject }
  | { readonly type: 'ERROR'; readonly object: Status };

/** Splits a byte stream into lines; UTF-8 sequences cut between chunks are kept intact. */
export class LineSplitter {
  private tail = '';
  private readonly decoder = new TextDecoder('utf-8');

  push(chunk: Uint8Array): string[] {
    const text = this.tail + this.decoder.decode(chunk, { stream: true });
    const lines = text.split('\n');
    this.tail = lines.pop() ?? '';
    return lines.filter((l) => l.trim() !== '');
  }

  /** What is left when the stream ends (a last line without newline). */
  end(): string[] {
    const rest = this.tail + this.decoder.decode();
    this.tail = '';
    return rest.trim() === '' ? [] : [rest];
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one watch line; anything that is not a well-formed event is a ClientDecodeError. */
export function parseWatchEvent<T extends KubeObject = KubeObject>(line: string): WatchEvent<T> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (err) {
    throw new ClientDecodeError(`watch event is not JSON: ${line.slice(0, 200)}`, { cause: err });
  }
  if (!isRecord(parsed) || !isRecord(parsed['object'])) {
    throw new ClientDecodeError(`watch event without an object: ${line.slice(0, 200)}`);
  }
  const object = parsed['object'];
  const type = parsed['type'];
  switch (type) {
    case 'ADDED':
    case 'MODIFIED':
    case 'DELETED':
      if (!isRecord(object['metadata'])) throw new ClientDecodeError(`${type} event object has no metadata`);
      return { type, object: object as unknown as T };
    case 'BOOKMARK': {
      const rv = isRecord(object['metadata']) ? object['metadata']['resourceVersion'] : undefined;
      if (typeof rv !== 'string') throw new ClientDecodeError('BOOKMARK event without metadata.resourceVersion');
      return { type, object: object as unknown as BookmarkObject };
    }
    case 'ERROR':
      return { type, object: object as unknown as Status };
    default:
      throw new ClientDecodeError(`unknown watch event type ${JSON.stringify(type)}`);
  }
}
