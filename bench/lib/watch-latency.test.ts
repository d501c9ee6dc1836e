import { describe, expect, it } from 'vitest';
import { writeIndexOf } from './watch-latency.js';

const obj = (name: string) => ({ kind: 'ConfigMap', apiVersion: 'v1', metadata: { name, namespace: 'bench', resourceVersion: '7' }, data: { a: 'b' } });

describe('writeIndexOf', () => {
  it.each([
    { name: 'an ADDED event of a watched write', line: JSON.stringify({ type: 'ADDED', object: obj('watch-000042') }), expected: 42 },
    {
      name: 'an ADDED event whose metadata lists other keys first',
      line: JSON.stringify({ type: 'ADDED', object: { kind: 'ConfigMap', metadata: { namespace: 'bench', name: 'watch-000007' } } }),
      expected: 7,
    },
    { name: 'a MODIFIED event', line: JSON.stringify({ type: 'MODIFIED', object: obj('watch-000042') }), expected: undefined },
    { name: 'an object that is not a watched write', line: JSON.stringify({ type: 'ADDED', object: obj('cm-000001') }), expected: undefined },
    { name: 'a BOOKMARK', line: JSON.stringify({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '9' } } }), expected: undefined },
    { name: 'a line that is not JSON', line: 'garbage', expected: undefined },
  ])('reads $name as $expected', ({ line, expected }) => {
    expect(writeIndexOf(line)).toBe(expected);
  });
});
