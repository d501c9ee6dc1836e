/**
 * Loads proto/runtime/v1/api.proto at run time (@grpc/proto-loader, no code generation) and
 * converts between the kubelet's TypeScript shapes and what protobufjs reads and writes.
 *
 * Why a codec on top of proto-loader:
 * - proto-loader silently drops request keys it does not know (a snake_case `pod_sandbox_id` is
 *   sent as an empty id). The encoder rejects any key the .proto does not declare, naming the path.
 * - int64 arrive as decimal strings (`longs: String`), exact; the decoder turns timestamps into
 *   `bigint` nanoseconds and every other 64-bit integer into a `number`.
 * - Absent nested messages arrive as `null`; the decoder deletes them so optional fields are
 *   really absent (`exactOptionalPropertyTypes`).
 * The field plan per message is computed once from the descriptors proto-loader already parsed;
 * a decode walks only the fields that need work. Cost: one recursive pass per call, microseconds.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync } from '@grpc/proto-loader';
import type { MethodDefinition, PackageDefinition, ServiceDefinition } from '@grpc/proto-loader';
import { KnodeError } from '../../lib/errors.js';

const PACKAGE = 'runtime.v1';
const PROTO_RELATIVE = join('proto', 'runtime', 'v1', 'api.proto');
const LONG_TYPES = new Set(['TYPE_INT64', 'TYPE_UINT64', 'TYPE_SINT64', 'TYPE_FIXED64', 'TYPE_SFIXED64']);
/** int64 fields holding nanoseconds since the epoch: decoded to bigint, all others to number. */
const TIMESTAMP_FIELDS = new Set(['createdAt', 'startedAt', 'finishedAt', 'timestamp']);

export class CriCodecError extends KnodeError {
  constructor(message: string) {
    super('ERR_CRI_INVALID_REQUEST', message);
  }
}

type FieldKind =
  | { readonly kind: 'scalar' }
  | { readonly kind: 'map' }
  | { readonly kind: 'long'; readonly timestamp: boolean }
  | { readonly kind: 'message'; readonly type: string };

interface DescriptorField {
  readonly name: string;
  readonly type: string;
  readonly typeName: string;
}
interface DescriptorNested {
  readonly name: string;
  readonly options?: { readonly mapEntry?: boolean } | null;
}

/** Finds api.proto walking up from this module (works from the source tree and from dist/). */
export function findProtoPath(start = dirname(fileURLToPath(import.meta.url))): string {
  const override = process.env['KNODE_CRI_PROTO'];
  if (override) return override;
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, PROTO_RELATIVE);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new KnodeError('ERR_CRI_PROTO_MISSING', `cannot find ${PROTO_RELATIVE} above ${start}`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

export class CriProto {
  readonly definition: PackageDefinition;
  private readonly plans = new Map<string, ReadonlyMap<string, FieldKind>>();

  constructor(path = findProtoPath()) {
    this.definition = loadSync(path, {
      keepCase: false,
      longs: String,
      enums: String,
      defaults: true,
      arrays: true,
      objects: true,
    });
  }

  method(service: 'RuntimeService' | 'ImageService', rpc: string): MethodDefinition<object, object> {
    const svc = this.definition[`${PACKAGE}.${service}`];
    if (svc === undefined || 'format' in svc) throw new KnodeError('ERR_CRI_PROTO_MISSING', `${PACKAGE}.${service} is not a service`);
    const m = (svc as ServiceDefinition)[rpc];
    if (m === undefined) throw new KnodeError('ERR_CRI_PROTO_MISSING', `${PACKAGE}.${service} has no method ${rpc}`);
    return m;
  }

  /** The service definition for @grpc/grpc-js servers (in-process test runtimes). */
  service(service: 'RuntimeService' | 'ImageService'): ServiceDefinition {
    const svc = this.definition[`${PACKAGE}.${service}`];
    if (svc === undefined || 'format' in svc) throw new KnodeError('ERR_CRI_PROTO_MISSING', `${PACKAGE}.${service} is not a service`);
    return svc as ServiceDefinition;
  }

  /** Message type name (without package) of a method's request or response. */
  messageType(service: 'RuntimeService' | 'ImageService', rpc: string, side: 'request' | 'response'): string {
    const m = this.method(service, rpc);
    const def = side === 'request' ? m.requestType : m.responseType;
    const name = (def.type as { name?: unknown }).name;
    if (typeof name !== 'string') throw new KnodeError('ERR_CRI_PROTO_MISSING', `no type name for ${rpc} ${side}`);
    return name;
  }

  private plan(type: string): ReadonlyMap<string, FieldKind> {
    const cached = this.plans.get(type);
    if (cached) return cached;
    const def = this.definition[`${PACKAGE}.${type}`];
    if (def === undefined || !('format' in def)) throw new KnodeError('ERR_CRI_PROTO_MISSING', `unknown message ${type}`);
    const desc = def.type as { field?: readonly DescriptorField[]; nestedType?: readonly DescriptorNested[] };
    const mapEntries = new Set((desc.nestedType ?? []).filter((n) => n.options?.mapEntry).map((n) => n.name));
    const plan = new Map<string, FieldKind>();
    for (const f of desc.field ?? []) {
      const short = f.typeName.replace(/^\./, '').replace(`${PACKAGE}.`, '');
      const local = short.startsWith(`${type}.`) ? short.slice(type.length + 1) : short;
      if (LONG_TYPES.has(f.type)) plan.set(f.name, { kind: 'long', timestamp: TIMESTAMP_FIELDS.has(f.name) });
      else if (f.type === 'TYPE_MESSAGE' && mapEntries.has(local)) plan.set(f.name, { kind: 'map' });
      else if (f.type === 'TYPE_MESSAGE') plan.set(f.name, { kind: 'message', type: short });
      else plan.set(f.name, { kind: 'scalar' });
    }
    this.plans.set(type, plan);
    return plan;
  }

  /**
   * Checks a request against the .proto (unknown keys are errors, so nothing is silently
   * dropped) and returns a copy protobufjs encodes exactly (bigint becomes a decimal string).
   */
  encode(type: string, value: unknown, path = type): Record<string, unknown> {
    if (!isObject(value)) throw new CriCodecError(`${path} must be an object`);
    const plan = this.plan(type);
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      if (v === undefined) continue;
      const field = plan.get(key);
      if (field === undefined) throw new CriCodecError(`${path}.${key} is not a field of runtime.v1.${type}`);
      out[key] = this.encodeField(field, v, `${path}.${key}`);
    }
    return out;
  }

  private encodeField(field: FieldKind, v: unknown, path: string): unknown {
    if (Array.isArray(v)) return v.map((item, i) => this.encodeField(field, item, `${path}[${i}]`));
    switch (field.kind) {
      case 'message':
        return this.encode(field.type, v, path);
      case 'long':
        return typeof v === 'bigint' ? v.toString() : v;
      case 'map':
      case 'scalar':
        return v;
      default: {
        const never: never = field;
        return never;
      }
    }
  }

  /** Converts a decoded response in place to the kubelet's shapes (see the design note). */
  decode<T>(type: string, value: unknown): T {
    if (isObject(value)) this.decodeInPlace(type, value);
    return value as T;
  }

  private decodeInPlace(type: string, obj: Record<string, unknown>): void {
    for (const [key, field] of this.plan(type)) {
      if (!(key in obj)) continue;
      const v = obj[key];
      switch (field.kind) {
        case 'long':
          obj[key] = Array.isArray(v) ? v.map((x) => toLong(x, field.timestamp)) : toLong(v, field.timestamp);
          break;
        case 'message':
          if (v === null || v === undefined) delete obj[key];
          else if (Array.isArray(v)) v.forEach((x) => isObject(x) && this.decodeInPlace(field.type, x));
          else if (isObject(v)) this.decodeInPlace(field.type, v);
          break;
        case 'map':
        case 'scalar':
          break;
        default: {
          const never: never = field;
          throw new Error(`unreachable ${String(never)}`);
        }
      }
    }
  }
}

function toLong(v: unknown, timestamp: boolean): unknown {
  if (typeof v !== 'string' && typeof v !== 'number') return v;
  return timestamp ? BigInt(v) : Number(v);
}

let shared: CriProto | undefined;

/** The process-wide parsed proto (parsing takes ~20 ms; do it once). */
export function criProto(): CriProto {
  shared ??= new CriProto();
  return shared;
}
