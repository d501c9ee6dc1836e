import { describe, expect, it } from 'vitest';
import { renderTable } from './table.js';

describe('renderTable', () => {
  it('pads columns to the widest cell, right-aligning where asked, with a rule under the header', () => {
    const text = renderTable(['phase', 'p99 ms'], [['create', '12'], ['delete', '7.5']], ['left', 'right']);
    expect(text.split('\n')).toEqual(['phase   p99 ms', '------  ------', 'create      12', 'delete     7.5']);
  });

  it('widens a column to fit a cell longer than its header and fills missing cells', () => {
    const text = renderTable(['a', 'b'], [['longer cell'], ['x', 'y']]);
    expect(text.split('\n')).toEqual(['a            b', '-----------  -', 'longer cell', 'x            y']);
  });
});
