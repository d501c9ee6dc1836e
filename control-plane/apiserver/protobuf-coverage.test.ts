/**
 * Every field of every served kind's schema must have a row in the protobuf tables, with a compatible
 * type: otherwise a Go client's value for that field would be skipped as an unknown field number and
 * silently lost. Walks each schema (thunks resolved) side by side with the kind's top message.
 */
import { describe, expect, it } from 'vitest';
import { apiVersionOf } from '../../api/kind.js';
import { scaleSchema } from '../../api/autoscaling/scale.js';
import { allMessages, messageFor } from '../../api/protobuf/kinds.js';
import type { FieldSpec, MessageTable } from '../../api/protobuf/types.js';
import { resolveSchema } from '../../api/schema.js';
import type { ObjectSchema, Schema } from '../../api/schema.js';
import { servedResources } from './resources.js';

/**
 * Intentional gaps. Our schemas give every condition list one generic shape (conditionFields), while
 * each upstream condition message has only some of those timestamps; Go clients cannot send the others.
 */
const EXCEPTIONS: readonly RegExp[] = [/\.conditions\[\]\.(lastUpdateTime|lastHeartbeatTime|lastProbeTime|observedGeneration)$/];

interface Found {
  readonly missing: string[];
  readonly mismatched: string[];
}

/** A message's fields by JSON name, inline (embedded) structs flattened as their JSON is. */
function fieldsByJson(table: MessageTable, message: string): Map<string, FieldSpec> {
  const out = new Map<string, FieldSpec>();
  const spec = table[message];
  if (spec === undefined) throw new Error(`no table for ${message}`);
  for (const f of Object.values(spec)) {
    if (f.inline && f.type.kind === 'message') for (const [k, v] of fieldsByJson(table, f.type.message)) out.set(k, v);
    else out.set(f.json, f);
  }
  return out;
}

function scalarFits(schemaType: string, f: FieldSpec): boolean {
  const t = f.type;
  switch (schemaType) {
    case 'any':
      return true;
    case 'string':
      return t.kind === 'scalar' && t.scalar === 'string';
    case 'bytes':
      return t.kind === 'scalar' && t.scalar === 'bytes';
    case 'integer':
    case 'number':
      return t.kind === 'scalar' && (t.scalar === 'int32' || t.scalar === 'int64');
    case 'boolean':
      return t.kind === 'scalar' && t.scalar === 'bool';
    case 'quantity':
      return t.kind === 'value' && t.value === 'Quantity';
    case 'int-or-string':
      return t.kind === 'value' && t.value === 'IntOrString';
    case 'date-time':
      return t.kind === 'value' && (t.value === 'Time' || t.value === 'MicroTime');
    default:
      return false;
  }
}

function walkObject(schema: ObjectSchema, message: string, path: string, found: Found, seen: Set<string>): void {
  const key = `${message}@${path}`;
  if (seen.has(key)) return;
  seen.add(key);
  const fields = fieldsByJson(allMessages, message);
  for (const [name, fs] of Object.entries(schema.fields)) {
    if (path === '' && (name === 'apiVersion' || name === 'kind')) continue; // carried by the envelope
    const at = `${path}.${name}`;
    const f = fields.get(name);
    if (f === undefined) found.missing.push(at);
    else walkField(resolveSchema(fs), f, at, found, seen);
  }
}

function walkField(s: Schema, f: FieldSpec, path: string, found: Found, seen: Set<string>): void {
  const t = f.type;
  switch (s.type) {
    case 'array': {
      if (!f.repeated) return void found.mismatched.push(`${path} (schema list, table single)`);
      const items = resolveSchema(s.items);
      if (items.type === 'object') {
        if (t.kind === 'message') walkObject(items, t.message, `${path}[]`, found, seen);
        else found.mismatched.push(`${path}[] (schema object, table ${t.kind})`);
      } else if (items.type !== 'any' && !scalarFits(items.type, f)) found.mismatched.push(`${path}[] (schema ${items.type})`);
      return;
    }
    case 'map': {
      if (t.kind !== 'map') return void found.mismatched.push(`${path} (schema map, table ${t.kind})`);
      const v = resolveSchema(s.values);
      const fits =
        (v.type === 'string' && t.values === 'string') ||
        (v.type === 'bytes' && t.values === 'bytes') ||
        (v.type === 'quantity' && t.values === 'Quantity') ||
        (v.type === 'date-time' && t.values === 'Time') ||
        (v.type === 'array' && t.values === 'StringList');
      if (!fits) found.mismatched.push(`${path}{} (schema ${v.type}, table ${t.values})`);
      return;
    }
    case 'object':
      if (f.repeated || t.kind !== 'message') return void found.mismatched.push(`${path} (schema object, table ${t.kind})`);
      walkObject(s, t.message, path, found, seen);
      return;
    default:
      if (f.repeated || !scalarFits(s.type, f)) found.mismatched.push(`${path} (schema ${s.type}, table ${t.kind})`);
  }
}

const served = servedResources().entries.map((e) => ({ apiVersion: apiVersionOf(e.def), kind: e.def.kind, schema: e.def.schema }));
const kinds = [...served, { apiVersion: 'autoscaling/v1', kind: 'Scale', schema: scaleSchema }];

describe('protobuf tables cover the schemas', () => {
  const exceptionsUsed = new Set<RegExp>();

  it.each(kinds.map((k) => [`${k.apiVersion} ${k.kind}`, k] as const))('%s: every schema field has a table row of a fitting type', (_, k) => {
    const message = messageFor(k.apiVersion, k.kind);
    expect(message, `no top message for ${k.apiVersion} ${k.kind}`).toBeDefined();
    const found: Found = { missing: [], mismatched: [] };
    walkObject(k.schema, message ?? '', '', found, new Set());
    const missing = found.missing.filter((p) => {
      const rule = EXCEPTIONS.find((re) => re.test(p));
      if (rule) exceptionsUsed.add(rule);
      return rule === undefined;
    });
    expect(missing).toEqual([]);
    expect(found.mismatched).toEqual([]);
  });

  it('every listed exception is still needed', () => {
    expect(EXCEPTIONS.filter((re) => !exceptionsUsed.has(re))).toEqual([]);
  });

  it('every message a table refers to exists', () => {
    const dangling: string[] = [];
    for (const [name, spec] of Object.entries(allMessages)) {
      for (const [num, f] of Object.entries(spec)) {
        if (f.type.kind === 'message' && allMessages[f.type.message] === undefined) dangling.push(`${name}.${num} -> ${f.type.message}`);
      }
    }
    expect(dangling).toEqual([]);
  });
});
