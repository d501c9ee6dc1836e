import { describe, expect, it } from 'vitest';
import type { FilterFailure } from './filters.js';
import { buildFitErrorMessage, reasonHistogram } from './fit-error.js';

const cpu: FilterFailure = { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu'], resolvable: true };
const cpuMem: FilterFailure = { plugin: 'NodeResourcesFit', reasons: ['Insufficient cpu', 'Insufficient memory'], resolvable: true };
const taint: FilterFailure = { plugin: 'TaintToleration', reasons: ['node(s) had untolerated taint {key: value}'], resolvable: false };
const selector: FilterFailure = { plugin: 'NodeAffinity', reasons: ["node(s) didn't match Pod's node affinity/selector"], resolvable: false };

describe('buildFitErrorMessage', () => {
  it.each([
    [
      'counts and sorts reasons, then the preemption part',
      3,
      [cpu, taint, taint],
      false,
      '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {key: value}. preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.',
    ],
    [
      'unresolvable failures only (the issue example wording)',
      3,
      [taint, taint, selector],
      false,
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint {key: value}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    ],
    [
      'one node with two shortfalls counts each reason once',
      2,
      [cpuMem, cpu],
      false,
      '0/2 nodes are available: 1 Insufficient memory, 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.',
    ],
    ['preemptionPolicy Never', 1, [cpu], true, '0/1 nodes are available: 1 Insufficient cpu. preemption: not eligible due to preemptionPolicy=Never.'],
    ['no nodes at all', 0, [], false, 'no nodes available to schedule pods'],
  ])('%s', (_name, n, failures, never, want) => {
    expect(buildFitErrorMessage(n, failures, never)).toBe(want);
  });
});

describe('reasonHistogram', () => {
  it('sorts the formatted entries as strings, like Go sort.Strings ("10 x" before "2 y")', () => {
    const reasons = [...Array<string>(10).fill('x'), 'y', 'y'];
    expect(reasonHistogram(reasons)).toBe('10 x, 2 y');
  });
});
