import { describe, expect, it } from 'vitest';
import { obj, int, str, mapOf, listByKey } from '../../api/schema.js';
import { ApiError } from './errors.js';
import { decodeInput, fieldValidationOf, warningHeader } from './input.js';
import { negotiate } from './http-util.js';

const schema = obj({
  apiVersion: str(),
  kind: str(),
  metadata: obj({ name: str(), labels: mapOf(str()) }),
  spec: obj({ replicas: int(), items: listByKey(obj({ name: str(), port: int() }), 'name') }),
});
const expected = { apiVersion: 'apps/v1', kind: 'Thing', schema };
const body = (v: unknown): Buffer => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));

function failure(f: () => unknown): ApiError {
  try {
    f();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

describe('decodeInput', () => {
  it('accepts a valid JSON object and drops null fields', () => {
    const r = decodeInput(body({ apiVersion: 'apps/v1', kind: 'Thing', metadata: { name: 'a', labels: null }, spec: { replicas: 2 } }), 'application/json', expected, 'Strict');
    expect(r.obj).toEqual({ apiVersion: 'apps/v1', kind: 'Thing', metadata: { name: 'a' }, spec: { replicas: 2 } });
    expect(r.warnings).toEqual([]);
  });

  it('accepts YAML', () => {
    const r = decodeInput(body('metadata:\n  name: a\nspec:\n  replicas: 3\n'), 'application/yaml', expected, 'Strict');
    expect(r.obj.metadata.name).toBe('a');
  });

  const bad: Array<[string, Buffer, string, number, RegExp]> = [
    ['malformed JSON', body('{"metadata": '), 'application/json', 400, /not valid JSON/],
    ['malformed YAML', body('metadata: [\n'), 'application/yaml', 400, /not valid YAML/],
    ['an array body', body([1, 2]), 'application/json', 400, /must be a JSON or YAML object, got an array/],
    ['an empty body', body(''), 'application/json', 400, /empty/],
    ['the wrong kind', body({ kind: 'Other' }), 'application/json', 400, /must be of type Thing/],
    ['the wrong apiVersion', body({ apiVersion: 'v1' }), 'application/json', 400, /the API version in the data \(v1\) does not match the expected API version \(apps\/v1\)/],
    ['a wrong type', body({ spec: { replicas: 'three' } }), 'application/json', 400, /spec\.replicas: expected integer, got string/],
    ['a wrong nested type', body({ spec: { items: [{ name: 'a', port: '80' }] } }), 'application/json', 400, /spec\.items\[0\]\.port: expected integer/],
    ['an unknown field (Strict)', body({ spec: { replicaz: 1 } }), 'application/json', 400, /strict decoding error: unknown field "spec\.replicaz"/],
    ['an unsupported content type', body({}), 'text/plain', 415, /unknown format/],
  ];
  it.each(bad)('refuses %s', (_n, b, ct, code, message) => {
    const err = failure(() => decodeInput(b, ct, expected, 'Strict'));
    expect(err.httpCode).toBe(code);
    expect(err.message).toMatch(message);
  });

  it('warns about (and drops) unknown fields under Warn', () => {
    const r = decodeInput(body({ spec: { replicaz: 1 } }), 'application/json', expected, 'Warn');
    expect(r.warnings).toEqual(['unknown field "spec.replicaz"']);
    expect(r.obj['spec']).toEqual({});
  });

  it('validates the fieldValidation parameter', () => {
    expect(fieldValidationOf(undefined)).toBe('Warn');
    expect(failure(() => fieldValidationOf('Loose')).message).toContain('supported values: "Ignore", "Strict", "Warn"');
  });
});

describe('negotiate', () => {
  const cases: Array<[string | undefined, string]> = [
    [undefined, 'object'],
    ['application/json', 'object'],
    ['application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json', 'table'],
    ['application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json', 'metadata'],
    ['application/vnd.kubernetes.protobuf, application/json', 'object'],
    ['application/json;as=Table;v=v2;g=meta.k8s.io,application/json', 'object'],
  ];
  it.each(cases)('%s -> %s', (accept, shape) => {
    expect(negotiate(accept)).toBe(shape);
  });
  it('refuses protobuf only with 406', () => {
    expect(failure(() => negotiate('application/vnd.kubernetes.protobuf')).httpCode).toBe(406);
  });
});

describe('warningHeader', () => {
  it('quotes the text and escapes everything outside printable ASCII, so Node accepts the header', async () => {
    const { validateHeaderValue } = await import('node:http');
    const [value = ''] = warningHeader(['unknown field "spec.na\u20acme\n\u0000"']).Warning ?? [];
    expect(value).toBe('299 - "unknown field \\"spec.na\\u20acme\\n\\u0000\\""');
    expect(() => validateHeaderValue('Warning', value)).not.toThrow();
    expect(warningHeader([])).toEqual({});
  });
});
