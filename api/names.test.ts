import { describe, expect, it } from 'vitest';
import { FieldPath } from './field-errors.js';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isHTTPHeaderName,
  isPathSegmentName,
  isQualifiedName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  regexError,
  utf8Length,
  validateAnnotations,
  validateLabels,
} from './names.js';

const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe('regexError', () => {
  it("words examples like upstream, double space included", () => {
    expect(regexError('bad', 'x+', 'a', 'b')).toBe("bad (e.g. 'a',  or 'b', regex used for validation is 'x+')");
  });
});

describe('isDNS1123Label', () => {
  it.each(['a', 'my-name', '123-abc', 'a'.repeat(63)])('accepts %s', (v) => expect(isDNS1123Label(v)).toEqual([]));
  it('rejects upper case with the upstream sentence', () => expect(isDNS1123Label('My-Name')).toEqual([LABEL_MSG]));
  it('says "must not contain dots" for a valid subdomain', () => expect(isDNS1123Label('a.b')).toEqual(['must not contain dots']));
  it('reports length and format separately', () => {
    expect(isDNS1123Label('a'.repeat(64))).toEqual(['must be no more than 63 characters']);
    expect(isDNS1123Label('-'.repeat(64))).toEqual(['must be no more than 63 characters', LABEL_MSG]);
  });
  it.each(['', '-a', 'a-', 'a_b'])('rejects %j', (v) => expect(isDNS1123Label(v)).toHaveLength(1));
});

describe('isDNS1123Subdomain', () => {
  it.each(['example.com', 'a', 'a-b.c-d', `${'a'.repeat(63)}.${'b'.repeat(63)}`])('accepts %s', (v) => expect(isDNS1123Subdomain(v)).toEqual([]));
  it.each(['Example.com', 'a..b', '.a', 'a.', 'a_b'])('rejects %s', (v) => {
    expect(isDNS1123Subdomain(v)[0]).toMatch(/^a lowercase RFC 1123 subdomain must consist of .*\(e\.g\. 'example\.com', regex used/);
  });
  it('limits length to 253', () => expect(isDNS1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']));
});

describe('isDNS1035Label', () => {
  it('requires a leading letter', () => {
    expect(isDNS1035Label('my-svc')).toEqual([]);
    expect(isDNS1035Label('1svc')[0]).toContain('a DNS-1035 label must consist of lower case alphanumeric characters');
  });
});

describe('isQualifiedName', () => {
  it.each(['app', 'MyName', 'my.name', '123-abc', 'example.com/MyName', 'kubernetes.io/metadata.name'])('accepts %s', (v) =>
    expect(isQualifiedName(v)).toEqual([]),
  );
  it('reports an empty prefix', () => expect(isQualifiedName('/name')).toEqual(['prefix part must be non-empty']));
  it('reports a bad prefix with the subdomain message', () => expect(isQualifiedName('Bad_Prefix/name')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/));
  it('reports an empty name', () => expect(isQualifiedName('example.com/')).toEqual(['name part must be non-empty', expect.stringMatching(/^name part must consist of/)]));
  it('limits the name to 63 characters', () => expect(isQualifiedName('a'.repeat(64))).toEqual(['name part must be no more than 63 characters']));
  it('rejects two slashes as a whole', () => {
    expect(isQualifiedName('a/b/c')).toEqual([
      "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ]);
  });
});

describe('isValidLabelValue', () => {
  it.each(['', 'v1', 'my_value', 'A.b-C'])('accepts %j', (v) => expect(isValidLabelValue(v)).toEqual([]));
  it.each(['-x', 'x-', 'a b', 'a/b'])('rejects %j', (v) => expect(isValidLabelValue(v)[0]).toMatch(/^a valid label must be an empty string/));
  it('limits to 63 characters', () => expect(isValidLabelValue('a'.repeat(64))).toContain('must be no more than 63 characters'));
});

describe('isEnvVarName', () => {
  it.each(['HOME', 'my.env-name', 'MY_ENV.NAME', '_x', '-x'])('accepts %s', (v) => expect(isEnvVarName(v)).toEqual([]));
  it('rejects a leading digit with the upstream sentence', () => {
    expect(isEnvVarName('1A')[0]).toBe(
      "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')",
    );
  });
  it.each([
    ['.', "must not be '.'"],
    ['..', "must not be '..'"],
    ['..x', "must not start with '..'"],
  ])('rejects directory names: %s', (v, msg) => expect(isEnvVarName(v)).toContain(msg));
});

describe('isConfigMapKey', () => {
  it.each(['key.name', 'KEY_NAME', 'key-name', '.dotfile'])('accepts %s', (v) => expect(isConfigMapKey(v)).toEqual([]));
  it('rejects slashes', () => expect(isConfigMapKey('a/b')[0]).toMatch(/^a valid config key must consist of alphanumeric characters/));
  it('rejects ..', () => expect(isConfigMapKey('..')).toEqual(["must not be '..'"]));
});

describe('isValidPortName', () => {
  it.each(['http', 'web-8080', 'a1'])('accepts %s', (v) => expect(isValidPortName(v)).toEqual([]));
  it.each([
    ['a'.repeat(16), 'must be no more than 15 characters'],
    ['HTTP', 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)'],
    ['8080', 'must contain at least one letter (a-z)'],
    ['a--b', 'must not contain consecutive hyphens'],
    ['-ab', 'must not begin or end with a hyphen'],
  ])('rejects %s: %s', (v, msg) => expect(isValidPortName(v)).toContain(msg));
});

describe('isValidPortNum and others', () => {
  it('accepts 1-65535 only', () => {
    expect(isValidPortNum(1)).toEqual([]);
    expect(isValidPortNum(65535)).toEqual([]);
    expect(isValidPortNum(0)).toEqual(['must be between 1 and 65535, inclusive']);
    expect(isValidPortNum(65536)).toHaveLength(1);
  });
  it('checks HTTP header names', () => {
    expect(isHTTPHeaderName('X-Custom')).toEqual([]);
    expect(isHTTPHeaderName('X Custom')).toHaveLength(1);
  });
  it('checks path segment names', () => {
    expect(isPathSegmentName('pod.1234.abc')).toEqual([]);
    expect(isPathSegmentName('..')).toEqual(["may not be '..'"]);
    expect(isPathSegmentName('a/b%')).toEqual(["may not contain '/'", "may not contain '%'"]);
  });
  it('counts UTF-8 bytes', () => expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4));
});

describe('validateLabels', () => {
  const path = FieldPath.root('metadata').child('labels');
  it('accepts good labels', () => expect(validateLabels({ app: 'web', 'example.com/tier': '' }, path)).toEqual([]));
  it('reports bad keys and values on the map path', () => {
    const errs = validateLabels({ 'bad key': 'ok', ok: 'bad value' }, path);
    expect(errs.map((e) => [e.field, e.value])).toEqual([
      ['metadata.labels', 'bad key'],
      ['metadata.labels', 'bad value'],
    ]);
  });
});

describe('validateAnnotations', () => {
  const path = FieldPath.root('metadata').child('annotations');
  it('checks keys lower-cased, so capitals are fine', () => expect(validateAnnotations({ 'Example.COM/Key': 'x' }, path)).toEqual([]));
  it('rejects bad keys', () => expect(validateAnnotations({ 'a b': 'x' }, path)[0]?.field).toBe('metadata.annotations'));
  it('limits the total size to 256 KiB', () => {
    expect(validateAnnotations({ k: 'x'.repeat(256 * 1024 - 1) }, path)).toEqual([]);
    expect(validateAnnotations({ k: 'x'.repeat(256 * 1024) }, path)).toEqual([
      { type: 'FieldValueTooLong', field: 'metadata.annotations', value: '', detail: 'may not be more than 262144 bytes' },
    ]);
  });
});
