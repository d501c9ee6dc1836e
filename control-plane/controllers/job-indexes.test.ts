import { describe, expect, it } from 'vitest';
import { formatIndexes, indexOf, parseIndexes } from './job-indexes.js';

describe('completion index lists', () => {
  it('formats runs of three or more as ranges, pairs and singles as they are', () => {
    expect(formatIndexes([])).toBe('');
    expect(formatIndexes([7, 1, 3, 4, 5])).toBe('1,3-5,7');
    expect(formatIndexes([1, 2])).toBe('1,2');
    expect(formatIndexes([0, 1, 2, 2, 9, 10])).toBe('0-2,9,10');
  });

  it('parses what it formats, dropping malformed parts and indexes beyond completions', () => {
    expect([...parseIndexes('1,3-5,7', 10)].sort()).toEqual([1, 3, 4, 5, 7]);
    expect([...parseIndexes('0-2,x,9-12', 10)].sort((a, b) => a - b)).toEqual([0, 1, 2, 9]);
    expect(parseIndexes(undefined, 5).size).toBe(0);
    expect(parseIndexes('', 5).size).toBe(0);
  });

  it('reads an index annotation only when it is a plain non-negative integer', () => {
    expect(indexOf({ k: '3' }, 'k')).toBe(3);
    expect(indexOf({ k: '-1' }, 'k')).toBeUndefined();
    expect(indexOf({ k: '1e3' }, 'k')).toBeUndefined();
    expect(indexOf(undefined, 'k')).toBeUndefined();
  });
});
