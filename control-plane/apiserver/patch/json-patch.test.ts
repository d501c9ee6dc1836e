import { describe, expect, it } from 'vitest';
import type { PatchErrorCode } from './errors.js';
import { PatchError } from './errors.js';
import { applyJsonPatch, applyJsonPatchToObject, formatPointer, parseJsonPatch, parsePointer } from './json-patch.js';
import { deepFreeze } from './test-schemas.js';

function failure(fn: () => unknown): PatchError {
  try {
    fn();
  } catch (e) {
    if (e instanceof PatchError) return e;
    throw e;
  }
  throw new Error('expected a PatchError');
}

describe('JSON pointers (RFC 6901)', () => {
  it.each([
    ['', []],
    ['/', ['']],
    ['/foo/0', ['foo', '0']],
    ['/a~1b', ['a/b']],
    ['/m~0n', ['m~n']],
    ['/~01', ['~1']],
    ['/metadata/annotations/example.com~1team', ['metadata', 'annotations', 'example.com/team']],
  ])('%j decodes to %j and back', (pointer, tokens) => {
    expect(parsePointer(pointer)).toEqual(tokens);
    expect(formatPointer(tokens)).toBe(pointer);
  });

  it.each(['foo', '/a~2b', '/a~'])('rejects %j', (pointer) => {
    expect(failure(() => parsePointer(pointer)).code).toBe('ERR_PATCH_INVALID_POINTER');
  });
});

describe('applyJsonPatch (RFC 6902)', () => {
  const ok: { name: string; doc: unknown; patch: unknown[]; want: unknown }[] = [
    { name: 'add an object member', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz', value: 'qux' }], want: { foo: 'bar', baz: 'qux' } },
    {
      name: 'add inserts into an array at the index',
      doc: { foo: ['bar', 'baz'] },
      patch: [{ op: 'add', path: '/foo/1', value: 'qux' }],
      want: { foo: ['bar', 'qux', 'baz'] },
    },
    { name: 'add at index == length appends', doc: { a: [1] }, patch: [{ op: 'add', path: '/a/1', value: 2 }], want: { a: [1, 2] } },
    { name: 'add with "-" appends', doc: { a: [1] }, patch: [{ op: 'add', path: '/a/-', value: 2 }], want: { a: [1, 2] } },
    {
      name: 'add an array value as one element',
      doc: { foo: ['bar'] },
      patch: [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
      want: { foo: ['bar', ['abc', 'def']] },
    },
    { name: 'add replaces an existing member', doc: { a: 1 }, patch: [{ op: 'add', path: '/a', value: 2 }], want: { a: 2 } },
    {
      name: 'add a nested object',
      doc: { foo: 'bar' },
      patch: [{ op: 'add', path: '/child', value: { grandchild: {} } }],
      want: { foo: 'bar', child: { grandchild: {} } },
    },
    { name: 'add at the root replaces the document', doc: { a: 1 }, patch: [{ op: 'add', path: '', value: [1] }], want: [1] },
    {
      name: 'unknown operation members are ignored',
      doc: { foo: 'bar' },
      patch: [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
      want: { foo: 'bar', baz: 'qux' },
    },
    { name: 'remove an object member', doc: { baz: 'qux', foo: 'bar' }, patch: [{ op: 'remove', path: '/baz' }], want: { foo: 'bar' } },
    {
      name: 'remove an array element shifts the rest',
      doc: { foo: ['bar', 'qux', 'baz'] },
      patch: [{ op: 'remove', path: '/foo/1' }],
      want: { foo: ['bar', 'baz'] },
    },
    { name: 'replace a value', doc: { baz: 'qux', foo: 'bar' }, patch: [{ op: 'replace', path: '/baz', value: 'boo' }], want: { baz: 'boo', foo: 'bar' } },
    { name: 'replace an array element', doc: { a: [1, 2, 3] }, patch: [{ op: 'replace', path: '/a/1', value: 9 }], want: { a: [1, 9, 3] } },
    { name: 'replace the root', doc: { a: 1 }, patch: [{ op: 'replace', path: '', value: { b: 2 } }], want: { b: 2 } },
    {
      name: 'move a value between objects',
      doc: { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
      patch: [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
      want: { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
    },
    {
      name: 'move an array element',
      doc: { foo: ['all', 'grass', 'cows', 'eat'] },
      patch: [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
      want: { foo: ['all', 'cows', 'eat', 'grass'] },
    },
    { name: 'move onto itself is a no-op', doc: { a: 1 }, patch: [{ op: 'move', from: '/a', path: '/a' }], want: { a: 1 } },
    { name: 'copy a value', doc: { a: { x: 1 } }, patch: [{ op: 'copy', from: '/a', path: '/b' }], want: { a: { x: 1 }, b: { x: 1 } } },
    {
      name: 'test passes on equal values (key order ignored)',
      doc: { baz: 'qux', foo: ['a', 2, 'c'], o: { x: 1, y: 2 } },
      patch: [
        { op: 'test', path: '/baz', value: 'qux' },
        { op: 'test', path: '/foo/1', value: 2 },
        { op: 'test', path: '/o', value: { y: 2, x: 1 } },
      ],
      want: { baz: 'qux', foo: ['a', 2, 'c'], o: { x: 1, y: 2 } },
    },
    {
      name: 'test decodes ~01 as ~1, not /',
      doc: { '/': 9, '~1': 10 },
      patch: [{ op: 'test', path: '/~01', value: 10 }],
      want: { '/': 9, '~1': 10 },
    },
    {
      name: 'operations apply in sequence',
      doc: { metadata: { labels: { a: '1' } } },
      patch: [
        { op: 'test', path: '/metadata/labels/a', value: '1' },
        { op: 'remove', path: '/metadata/labels/a' },
        { op: 'add', path: '/metadata/labels/b', value: '2' },
        { op: 'copy', from: '/metadata/labels/b', path: '/metadata/labels/c' },
      ],
      want: { metadata: { labels: { b: '2', c: '2' } } },
    },
  ];

  it.each(ok)('$name', ({ doc, patch, want }) => {
    expect(applyJsonPatch(deepFreeze(doc), deepFreeze(patch))).toEqual(want);
  });

  const bad: { name: string; doc: unknown; patch: unknown; code: PatchErrorCode; status: number; message: RegExp }[] = [
    {
      name: 'add to a missing parent',
      doc: { foo: 'bar' },
      patch: [{ op: 'add', path: '/baz/bat', value: 'qux' }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /operation 0 \(add \/baz\/bat\): path \/baz does not exist/,
    },
    {
      name: 'add past the end of an array',
      doc: { a: [1] },
      patch: [{ op: 'add', path: '/a/3', value: 2 }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /index 3 is out of bounds/,
    },
    {
      name: 'an index with a leading zero',
      doc: { a: [1, 2] },
      patch: [{ op: 'replace', path: '/a/01', value: 2 }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /path \/a\/01 does not exist/,
    },
    {
      name: 'remove a missing member',
      doc: { a: 1 },
      patch: [{ op: 'remove', path: '/b' }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /operation 0 \(remove \/b\)/,
    },
    {
      name: 'remove "-" of an array',
      doc: { a: [1] },
      patch: [{ op: 'remove', path: '/a/-' }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /\/a\/- does not exist/,
    },
    {
      name: 'replace a missing member',
      doc: {},
      patch: [{ op: 'replace', path: '/spec/replicas', value: 3 }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /\/spec/,
    },
    {
      name: 'move from a missing member',
      doc: {},
      patch: [{ op: 'move', from: '/x', path: '/y' }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /\/x does not exist/,
    },
    {
      name: 'add under a scalar',
      doc: { a: 'text' },
      patch: [{ op: 'add', path: '/a/b', value: 1 }],
      code: 'ERR_PATCH_TYPE_MISMATCH',
      status: 422,
      message: /parent of \/a\/b is a string/,
    },
    {
      name: 'a failing test (number is not string)',
      doc: { '/': 9, '~1': 10 },
      patch: [{ op: 'test', path: '/~01', value: '10' }],
      code: 'ERR_PATCH_TEST_FAILED',
      status: 422,
      message: /^testing value \/~01 failed: test failed$/,
    },
    {
      name: 'a test on a missing path',
      doc: {},
      patch: [{ op: 'test', path: '/metadata/resourceVersion', value: '5' }],
      code: 'ERR_PATCH_PATH_NOT_FOUND',
      status: 422,
      message: /does not exist/,
    },
    { name: 'a patch that is not an array', doc: {}, patch: { op: 'add' }, code: 'ERR_PATCH_MALFORMED', status: 400, message: /JSON array/ },
    { name: 'an unknown op', doc: {}, patch: [{ op: 'frob', path: '/a' }], code: 'ERR_PATCH_INVALID_OPERATION', status: 400, message: /operation 0: unknown op "frob"/ },
    { name: 'add without value', doc: {}, patch: [{ op: 'add', path: '/a' }], code: 'ERR_PATCH_INVALID_OPERATION', status: 400, message: /needs a "value"/ },
    { name: 'copy without from', doc: {}, patch: [{ op: 'copy', path: '/a' }], code: 'ERR_PATCH_INVALID_OPERATION', status: 400, message: /needs a string "from"/ },
    { name: 'a missing path', doc: {}, patch: [{ op: 'remove' }], code: 'ERR_PATCH_INVALID_OPERATION', status: 400, message: /needs a string "path"/ },
    {
      name: 'a move into its own child',
      doc: { a: { b: 1 } },
      patch: [{ op: 'move', from: '/a', path: '/a/b/c' }],
      code: 'ERR_PATCH_INVALID_OPERATION',
      status: 400,
      message: /cannot move \/a into its own child/,
    },
    { name: 'a malformed pointer', doc: {}, patch: [{ op: 'remove', path: 'a' }], code: 'ERR_PATCH_INVALID_POINTER', status: 400, message: /must be empty or start with "\/"/ },
  ];

  it.each(bad)('fails on $name', ({ doc, patch, code, status, message }) => {
    const err = failure(() => applyJsonPatch(deepFreeze(doc), patch));
    expect(err.code).toBe(code);
    expect(err.httpStatus).toBe(status);
    expect(err.message).toMatch(message);
  });

  it('applies all or nothing: a late failure leaves no trace', () => {
    const doc = { a: 1 };
    const err = failure(() =>
      applyJsonPatch(doc, [
        { op: 'add', path: '/b', value: 2 },
        { op: 'test', path: '/a', value: 2 },
      ]),
    );
    expect(err.code).toBe('ERR_PATCH_TEST_FAILED');
    expect(err.message).toBe('testing value /a failed: test failed');
    expect(doc).toEqual({ a: 1 });
  });

  it('does not alias patch values into the result', () => {
    const value = { x: [1] };
    const out = applyJsonPatch({}, [{ op: 'add', path: '/v', value }]) as { v: { x: number[] } };
    out.v.x.push(2);
    expect(value.x).toEqual([1]);
  });

  it('parses operations into typed form', () => {
    expect(parseJsonPatch([{ op: 'move', from: '/a', path: '/b' }, { op: 'remove', path: '/c' }])).toEqual([
      { op: 'move', from: '/a', path: '/b' },
      { op: 'remove', path: '/c' },
    ]);
  });

  it('applyJsonPatchToObject refuses a result that is no longer an object', () => {
    expect(failure(() => applyJsonPatchToObject({ a: 1 }, [{ op: 'replace', path: '', value: 3 }])).code).toBe('ERR_PATCH_TYPE_MISMATCH');
    expect(applyJsonPatchToObject({ a: 1 }, [{ op: 'replace', path: '/a', value: 3 }])).toEqual({ a: 3 });
  });
});
