import { describe, expect, it } from 'vitest';
import type { CpuProfile } from './cpu-profile.js';
import { summarizeProfile } from './cpu-profile.js';

const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });

// Samples: root(idle) x2, encode x3, parse x1, encode again (second node, same function) x1.
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(idle)') },
    { id: 2, callFrame: frame('encode', 'file:///work/main/dist/cli/main.js', 41) },
    { id: 3, callFrame: frame('parse', 'file:///work/main/node_modules/yaml/dist/parse.js', 9) },
    { id: 4, callFrame: frame('encode', 'file:///work/main/dist/cli/main.js', 41) },
    { id: 5, callFrame: frame('') },
  ],
  samples: [1, 1, 2, 2, 2, 3, 4, 5],
  // timeDeltas[i] is the gap before sample i: each sample here lasts 1000 us (1 ms).
  timeDeltas: [0, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000],
};

describe('summarizeProfile', () => {
  const s = summarizeProfile(profile);

  it('ranks functions by self time, merging nodes of the same function', () => {
    expect(s.hot.map((h) => [h.functionName, h.selfMs])).toEqual([
      ['encode', 4],
      ['parse', 1],
      ['(anonymous)', 1],
    ]);
  });

  it('leaves idle time out of the ranking and the percentages', () => {
    expect(s.totalMs).toBe(8);
    expect(s.idleMs).toBe(2);
    expect(s.hot[0]?.selfPercent).toBeCloseTo((100 * 4) / 6);
  });

  it('names where a function lives relative to dist/ or node_modules/, 1-based line', () => {
    expect(s.hot[0]?.location).toBe('dist/cli/main.js:42');
    expect(s.hot[1]?.location).toBe('node_modules/yaml/dist/parse.js:10');
  });

  it('keeps only the requested number of functions', () => {
    expect(summarizeProfile(profile, 1).hot).toHaveLength(1);
  });
});
