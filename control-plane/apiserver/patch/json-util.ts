/**
 * JSON helpers the patch engines share. Patches come from request bodies, so keys such as `__proto__`
 * are ordinary data here: `put` defines them as own properties instead of touching the prototype.
 */

export type JsonObject = { readonly [k: string]: unknown };
type MutableJsonObject = { [k: string]: unknown };

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function hasOwn(o: JsonObject, k: string): boolean {
  return Object.prototype.hasOwnProperty.call(o, k);
}

/** Sets an own property, safe for any key (a plain assignment of `__proto__` would change the prototype). */
export function put(o: MutableJsonObject, k: string, v: unknown): void {
  if (k === '__proto__') {
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  } else {
    o[k] = v;
  }
}

/** A shallow copy that keeps every own enumerable key (including `__proto__`). */
export function copyObject(o: JsonObject): MutableJsonObject {
  const out: MutableJsonObject = {};
  for (const k of Object.keys(o)) put(out, k, o[k]);
  return out;
}

/** The JSON type name used in messages: `object`, `array`, `string`, `number`, `boolean`, `null`. */
export function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Removes `null` members from objects, recursively (arrays keep their items: RFC 7386 treats them as values). */
export function dropNulls(v: unknown): unknown {
  if (!isJsonObject(v)) return v;
  const out: MutableJsonObject = {};
  for (const k of Object.keys(v)) {
    const child = v[k];
    if (child !== null && child !== undefined) put(out, k, dropNulls(child));
  }
  return out;
}
