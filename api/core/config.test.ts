import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import { base64Error } from './config-data.js';
import type { ConfigMap } from './configmap.js';
import { configMapKind } from './configmap.js';
import type { Secret } from './secret.js';
import { defaultSecret, secretKind } from './secret.js';

const meta = { name: 'cfg', namespace: 'default' };
const cm = (over: Partial<ConfigMap> = {}): ConfigMap => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta, ...over });
const secret = (over: Partial<Secret> = {}): Secret => defaultSecret({ apiVersion: 'v1', kind: 'Secret', metadata: meta, ...over });
const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('base64Error', () => {
  it.each(['', 'YQ==', 'YWI=', 'YWJj', 'YW\nJj'])('accepts %j', (s) => expect(base64Error(s)).toBeUndefined());
  it.each([
    ['YQ', 'illegal base64 data at input byte 2'],
    ['Y===', 'illegal base64 data at input byte 1'],
    ['YQ=a', 'illegal base64 data at input byte 3'],
    ['a b=', 'illegal base64 data at input byte 1'],
  ])('rejects %j', (s, msg) => expect(base64Error(s)).toBe(msg));
});

describe('ConfigMap', () => {
  it('accepts data and binaryData', () => expect(configMapKind.validate(cm({ data: { 'app.conf': 'x' }, binaryData: { 'logo.png': 'AAEC' } }))).toEqual([]));
  it.each<[string, Partial<ConfigMap>, string[]]>([
    ['a key with a slash', { data: { 'a/b': 'x' } }, ['data[a/b]']],
    ['a key in both maps', { data: { k: 'x' }, binaryData: { k: 'AA==' } }, ['data[k]']],
    ['binaryData that is not base64', { binaryData: { k: '***' } }, ['binaryData[k]']],
    ['more than 1 MiB', { data: { a: 'x'.repeat(1024 * 1024), b: 'y' } }, ['']],
  ])('reports %s', (_n, over, expected) => expect(configMapKind.validate(cm(over)).map((e) => e.field)).toEqual(expected));

  it('freezes data once immutable', () => {
    const stored = cm({ data: { a: '1' }, immutable: true });
    const errs = configMapKind.validateUpdate(cm({ data: { a: '2' }, immutable: true }), stored);
    expect(errs.map(formatFieldError)).toEqual(['data: Forbidden: field is immutable when `immutable` is set']);
    expect(configMapKind.validateUpdate(cm({ data: { a: '1' } }), stored).map((e) => e.field)).toEqual(['immutable']);
    expect(configMapKind.validateUpdate(cm({ data: { a: '1' }, immutable: true, metadata: { ...meta, labels: { x: 'y' } } }), stored)).toEqual([]);
  });
  it('lets a mutable ConfigMap change', () => expect(configMapKind.validateUpdate(cm({ data: { a: '2' } }), cm({ data: { a: '1' } }))).toEqual([]));
  it('is registered like upstream', () => expect(configMapKind).toMatchObject({ plural: 'configmaps', shortNames: ['cm'], hasStatusSubresource: false }));
});

describe('Secret', () => {
  it('defaults the type to Opaque', () => expect(secret().type).toBe('Opaque'));
  it('folds stringData into data, stringData winning', () => {
    const s = secret({ data: { a: b64('old'), b: b64('keep') }, stringData: { a: 'new' } });
    expect(s.data).toEqual({ a: b64('new'), b: b64('keep') });
    expect('stringData' in s).toBe(false);
  });
  it('accepts an Opaque secret', () => expect(secretKind.validate(secret({ data: { password: b64('hunter2') } }))).toEqual([]));
  it.each<[string, Partial<Secret>, string[]]>([
    ['a value that is not base64', { data: { k: 'not base64!' } }, ['data[k]']],
    ['a bad key', { data: { 'a b': b64('x') } }, ['data[a b]']],
    ['a TLS secret without key', { type: 'kubernetes.io/tls', data: { 'tls.crt': b64('c') } }, ['data[tls.key]']],
    ['a dockerconfigjson that is not JSON', { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('nope') } }, ['data[.dockerconfigjson]']],
    ['a basic-auth secret with neither field', { type: 'kubernetes.io/basic-auth', data: {} }, ['data[username]', 'data[password]']],
    ['a token secret without its account', { type: 'kubernetes.io/service-account-token' }, ['metadata.annotations[kubernetes.io/service-account.name]']],
  ])('reports %s', (_n, over, expected) => expect(secretKind.validate(secret(over)).map((e) => e.field)).toEqual(expected));
  it('limits the decoded size to 1 MiB', () => {
    const big = b64('x'.repeat(1024 * 1024 + 1));
    expect(secretKind.validate(secret({ data: { big } })).map(formatFieldError)).toEqual(['data: Too long: may not be more than 1048576 bytes']);
  });
  it('keeps the type and, when immutable, the data', () => {
    const stored = secret({ data: { a: b64('1') }, immutable: true });
    expect(secretKind.validateUpdate(secret({ data: { a: b64('1') }, immutable: true, type: 'Other' }), stored).map((e) => e.field)).toEqual(['type']);
    expect(secretKind.validateUpdate(secret({ data: { a: b64('2') }, immutable: true }), stored).map((e) => e.field)).toEqual(['data']);
  });
  it('selects by type', () => expect(secretKind.selectableFields?.(secret())).toEqual({ type: 'Opaque' }));
});
