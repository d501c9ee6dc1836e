import { describe, expect, it } from 'vitest';
import { WireReader } from '../../api/protobuf/wire.js';
import type { ServedResource } from './discovery.js';
import type { JsonObject } from './openapi-schema.js';
import { buildOpenAPIV2, buildOpenAPIV2Protobuf, toV2Schema } from './openapi-v2.js';
import { REVIEW_KINDS } from './reviews.js';
import { servedResources } from './resources.js';

const served: ServedResource[] = [
  ...servedResources().entries.map((e) => ({ def: e.def, subresources: e.subresources })),
  ...REVIEW_KINDS.map((def) => ({ def, subresources: [] })),
];

describe('toV2Schema', () => {
  it('points references at definitions, turns a described allOf reference into the reference, and drops what Swagger 2.0 lacks', () => {
    const v3: JsonObject = {
      type: 'object',
      required: ['spec'],
      properties: {
        metadata: { allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }], description: 'meta' },
        port: { format: 'int-or-string', oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true },
        items: { type: 'array', items: { $ref: '#/components/schemas/X' } },
        labels: { type: 'object', additionalProperties: { type: 'string', nullable: true } },
      },
    };
    expect(toV2Schema(v3)).toEqual({
      type: 'object',
      required: ['spec'],
      properties: {
        metadata: { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta', description: 'meta' },
        port: { format: 'int-or-string', 'x-kubernetes-int-or-string': true },
        items: { type: 'array', items: { $ref: '#/definitions/X' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      },
    });
  });
});

type Field = Uint8Array | bigint;

/** A protobuf message as field number -> values (length-delimited ones as their bytes). */
function fields(bytes: Uint8Array): Map<number, Field[]> {
  const r = new WireReader(bytes);
  const out = new Map<number, Field[]>();
  while (!r.done()) {
    const tag = r.tag();
    const list = out.get(tag.field) ?? [];
    if (tag.wireType === 2) list.push(r.bytes());
    else if (tag.wireType === 0) list.push(r.varint());
    else throw new Error(`unexpected wire type ${tag.wireType}`);
    out.set(tag.field, list);
  }
  return out;
}

function bytesOf(f: Field | undefined): Uint8Array {
  if (!(f instanceof Uint8Array)) throw new Error('not a length-delimited field');
  return f;
}

const text = (f: Field | undefined): string => Buffer.from(bytesOf(f)).toString('utf8');
const sub = (f: Field | undefined): Map<number, Field[]> => fields(bytesOf(f));

describe('the document', () => {
  it('has a definition for every kind, with its group-version-kind, the review kinds included', () => {
    const doc = buildOpenAPIV2(served);
    expect(doc.swagger).toBe('2.0');
    const sar = doc.definitions['io.k8s.api.authorization.v1.SelfSubjectAccessReview'];
    expect(sar?.['x-kubernetes-group-version-kind']).toEqual([{ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', version: 'v1' }]);
    expect(doc.definitions['io.k8s.api.core.v1.Pod']?.['type']).toBe('object');
    expect(JSON.stringify(doc)).not.toContain('#/components/');
    expect(buildOpenAPIV2(served)).toBe(doc); // memoized
  });

  it('encodes gnostic\'s openapi_v2.Document: swagger, info, definitions with properties, types, references and extensions', () => {
    const doc = fields(buildOpenAPIV2Protobuf(served));
    expect(text(doc.get(1)?.[0])).toBe('2.0');
    expect(text(sub(doc.get(2)?.[0]).get(1)?.[0])).toBe('Kubernetes');
    const named = (sub(doc.get(9)?.[0]).get(1) ?? []).map((n) => sub(n));
    const names = named.map((n) => text(n.get(1)?.[0]));
    expect(names).toEqual(Object.keys(buildOpenAPIV2(served).definitions));
    const sar = named[names.indexOf('io.k8s.api.authorization.v1.SelfSubjectAccessReview')];
    const schema = sub(sar?.get(2)?.[0]);
    expect(text(sub(schema.get(22)?.[0]).get(1)?.[0])).toBe('object'); // type
    const props = (sub(schema.get(25)?.[0]).get(1) ?? []).map((n) => sub(n));
    const propNames = props.map((p) => text(p.get(1)?.[0]));
    expect(propNames).toEqual(expect.arrayContaining(['apiVersion', 'kind', 'metadata', 'spec', 'status']));
    const metadata = sub(props[propNames.indexOf('metadata')]?.get(2)?.[0]);
    expect(text(metadata.get(1)?.[0])).toBe('#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'); // $ref
    const spec = sub(props[propNames.indexOf('spec')]?.get(2)?.[0]);
    const specProps = (sub(spec.get(25)?.[0]).get(1) ?? []).map((n) => text(sub(n).get(1)?.[0]));
    expect(specProps).toEqual(expect.arrayContaining(['resourceAttributes', 'nonResourceAttributes']));
    const ext = (schema.get(31) ?? []).map((e) => sub(e));
    const gvk = ext.find((e) => text(e.get(1)?.[0]) === 'x-kubernetes-group-version-kind');
    expect(JSON.parse(text(sub(gvk?.get(2)?.[0]).get(2)?.[0]))).toEqual([{ group: 'authorization.k8s.io', kind: 'SelfSubjectAccessReview', version: 'v1' }]);
  });
});
