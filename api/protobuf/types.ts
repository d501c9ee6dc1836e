/**
 * The shape of our protobuf message tables, and small constructors so the tables read like upstream's
 * `generated.proto` files: one line per field, `number: kind('jsonName', ...)`.
 *
 * Why tables and not generated code: Kubernetes' protobuf is a mirror of the Go structs, and the JSON we
 * must produce depends on Go facts a .proto file does not carry (is the field a pointer? is the struct
 * embedded inline?). One declarative row per field holds both the wire fact (number, type) and the Go
 * fact (pointer, inline), and one generic walker (./decode.ts) turns any message into the JSON object the
 * rest of the apiserver already understands.
 */

/** Protobuf scalars as Kubernetes uses them (no floats, no zigzag, no fixed-width numbers). */
export type ScalarType = 'string' | 'bytes' | 'bool' | 'int32' | 'int64';

/**
 * apimachinery value types whose JSON form is a scalar:
 * - Time: {seconds int64 = 1, nanos int32 = 2} -> `2026-01-01T00:00:00Z` (whole seconds, as upstream's JSON);
 * - MicroTime: same message -> `2026-01-01T00:00:00.000000Z`;
 * - Quantity: {string = 1} -> `"100m"`;
 * - IntOrString: {type int64 = 1 (0 int, 1 string), intVal int32 = 2, strVal string = 3} -> 8080 or "http";
 * - FieldsV1: {bytes Raw = 1} holding JSON text -> that JSON value;
 * - Duration: {duration int64 = 1} nanoseconds -> Go's `1h2m3s` form.
 */
export type ValueType = 'Time' | 'MicroTime' | 'Quantity' | 'IntOrString' | 'FieldsV1' | 'Duration';

/**
 * Values of the maps Kubernetes uses: map<string, string>, map<string, bytes>, map<string, Quantity>,
 * map<string, Time> (PodDisruptionBudget disruptedPods), and map<string, ExtraValue> where ExtraValue is
 * {repeated string items = 1} printed as a JSON list.
 */
export type MapValueType = 'string' | 'bytes' | 'Quantity' | 'Time' | 'StringList';

export type FieldType =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'value'; readonly value: ValueType }
  | { readonly kind: 'message'; readonly message: string }
  | { readonly kind: 'map'; readonly values: MapValueType }
  /**
   * An upstream field this server does not model (e.g. cloud volume sources). Its content is skipped but
   * the key is kept as `{}`, so the schema checks report it as an unknown field, exactly as they would
   * for the same JSON body, instead of the field silently vanishing.
   */
  | { readonly kind: 'opaque' };

export interface FieldSpec {
  /** The JSON name (upstream's `json:"..."` tag). */
  readonly json: string;
  readonly type: FieldType;
  readonly repeated?: boolean;
  /**
   * The Go field is a pointer (`*int32`, `*bool`, `*Struct`): present on the wire only when set, so a zero
   * value is meaningful and kept (`replicas: 0`, `runAsUser: 0`, `emptyDir: {}`). Non-pointer fields are
   * always written by Go's marshaller, so their zero values are dropped as `omitempty` JSON would.
   */
  readonly pointer?: boolean;
  /** A Go embedded struct (`json:",inline"`): its fields are merged into the enclosing object. */
  readonly inline?: boolean;
}

/** Field number -> field. */
export type MessageSpec = Readonly<Record<number, FieldSpec>>;

/** Message name (`core.v1.Pod`, `meta.v1.ObjectMeta`) -> message. */
export type MessageTable = Readonly<Record<string, MessageSpec>>;

// ---- constructors ---------------------------------------------------------------------------------

interface Opts {
  readonly pointer?: boolean;
  readonly repeated?: boolean;
  readonly inline?: boolean;
}

/** Options for a Go pointer field. */
export const PTR: Opts = { pointer: true };

const field = (json: string, type: FieldType, o: Opts = {}): FieldSpec => ({
  json,
  type,
  ...(o.repeated ? { repeated: true } : {}),
  ...(o.pointer ? { pointer: true } : {}),
  ...(o.inline ? { inline: true } : {}),
});

const scalar = (s: ScalarType) => (json: string, o?: Opts): FieldSpec => field(json, { kind: 'scalar', scalar: s }, o);
const value = (v: ValueType) => (json: string, o?: Opts): FieldSpec => field(json, { kind: 'value', value: v }, o);

export const str = scalar('string');
export const bytes = scalar('bytes');
export const bool = scalar('bool');
export const int32 = scalar('int32');
export const int64 = scalar('int64');
export const time = value('Time');
export const microTime = value('MicroTime');
export const quantity = value('Quantity');
export const intOrString = value('IntOrString');
export const fieldsV1 = value('FieldsV1');
export const duration = value('Duration');

/** `repeated string` */
export const strs = (json: string): FieldSpec => field(json, { kind: 'scalar', scalar: 'string' }, { repeated: true });
/** `repeated int64` / `repeated int32` */
export const int64s = (json: string): FieldSpec => field(json, { kind: 'scalar', scalar: 'int64' }, { repeated: true });
export const int32s = (json: string): FieldSpec => field(json, { kind: 'scalar', scalar: 'int32' }, { repeated: true });

/** An embedded message (non-pointer struct unless `PTR`). */
export const msg = (json: string, message: string, o?: Opts): FieldSpec => field(json, { kind: 'message', message }, o);
/** `repeated Message` */
export const msgs = (json: string, message: string): FieldSpec => field(json, { kind: 'message', message }, { repeated: true });
/** A Go embedded struct whose fields appear in the parent's JSON (`json:",inline"`). */
export const inline = (json: string, message: string): FieldSpec => field(json, { kind: 'message', message }, { inline: true });
export const map = (json: string, values: MapValueType): FieldSpec => field(json, { kind: 'map', values });
export const opaque = (json: string): FieldSpec => field(json, { kind: 'opaque' });
