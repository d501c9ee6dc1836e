import { describe, expect, it } from 'vitest';
import { PatchError } from './errors.js';
import { applyMergePatch, applyObjectMergePatch } from './json-merge-patch.js';
import { deepFreeze } from './test-schemas.js';

describe('applyMergePatch (RFC 7386)', () => {
  const cases: { name: string; target: unknown; patch: unknown; want: unknown }[] = [
    { name: 'replaces a member', target: { a: 'b' }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'adds a member', target: { a: 'b' }, patch: { b: 'c' }, want: { a: 'b', b: 'c' } },
    { name: 'null removes a member', target: { a: 'b' }, patch: { a: null }, want: {} },
    { name: 'null removes only that member', target: { a: 'b', b: 'c' }, patch: { a: null }, want: { b: 'c' } },
    { name: 'a scalar replaces an array', target: { a: ['b'] }, patch: { a: 'c' }, want: { a: 'c' } },
    { name: 'an array replaces a scalar', target: { a: 'c' }, patch: { a: ['b'] }, want: { a: ['b'] } },
    {
      name: 'nested objects merge, nested null removes',
      target: { a: { b: 'c' } },
      patch: { a: { b: 'd', c: null } },
      want: { a: { b: 'd' } },
    },
    { name: 'arrays are replaced, never merged', target: { a: [{ b: 'c' }] }, patch: { a: [1] }, want: { a: [1] } },
    { name: 'an array patch replaces an array', target: ['a', 'b'], patch: ['c', 'd'], want: ['c', 'd'] },
    { name: 'an array patch replaces an object', target: { a: 'b' }, patch: ['c'], want: ['c'] },
    { name: 'a null patch replaces the document', target: { a: 'foo' }, patch: null, want: null },
    { name: 'a string patch replaces the document', target: { a: 'foo' }, patch: 'bar', want: 'bar' },
    { name: 'nulls already in the target stay', target: { e: null }, patch: { a: 1 }, want: { e: null, a: 1 } },
    { name: 'an object patch on an array starts from {}', target: [1, 2], patch: { a: 'b', c: null }, want: { a: 'b' } },
    {
      name: 'nulls inside newly added objects are dropped',
      target: {},
      patch: { a: { bb: { ccc: null } } },
      want: { a: { bb: {} } },
    },
    {
      name: 'a kubectl-style label removal',
      target: { metadata: { name: 'web', labels: { app: 'web', tier: 'fe' } } },
      patch: { metadata: { labels: { tier: null } } },
      want: { metadata: { name: 'web', labels: { app: 'web' } } },
    },
  ];

  it.each(cases)('$name', ({ target, patch, want }) => {
    expect(applyMergePatch(deepFreeze(target), deepFreeze(patch))).toEqual(want);
  });

  it('treats __proto__ as an ordinary member', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}}') as unknown;
    const out = applyMergePatch({}, patch) as Record<string, unknown>;
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('shares untouched subtrees and leaves the target unchanged', () => {
    const target = deepFreeze({ spec: { a: 1 }, status: { big: [1, 2, 3] } });
    const out = applyMergePatch(target, { spec: { a: 2 } }) as typeof target;
    expect(out.status).toBe(target.status);
    expect(target.spec.a).toBe(1);
  });
});

describe('applyObjectMergePatch', () => {
  it('patches an API object', () => {
    expect(applyObjectMergePatch({ spec: { replicas: 1 } }, { spec: { replicas: 3 } })).toEqual({ spec: { replicas: 3 } });
  });

  it.each([['an array', ['x']], ['a string', 'x'], ['null', null]])('rejects %s with a 400 PatchError', (_, patch) => {
    let err: unknown;
    try {
      applyObjectMergePatch({}, patch);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as PatchError).code).toBe('ERR_PATCH_MALFORMED');
    expect((err as PatchError).httpStatus).toBe(400);
    expect((err as PatchError).message).toMatch(/merge patch must be a JSON object/);
  });
});
