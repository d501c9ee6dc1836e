import { describe, expect, it } from 'vitest';
import { nodeReadiness } from './kube-api.js';

describe('nodeReadiness', () => {
  it('reads the Ready condition of each node, Unknown when absent', () => {
    const items = [
      { metadata: { name: 'w1' }, status: { conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }] } },
      { metadata: { name: 'w2' }, status: {} },
      { metadata: { name: 'w3' }, status: { conditions: [{ type: 'Ready', status: 'False' }] } },
      null,
    ];
    expect(nodeReadiness(items)).toEqual([
      { name: 'w1', ready: 'True' },
      { name: 'w2', ready: 'Unknown' },
      { name: 'w3', ready: 'False' },
      { name: '?', ready: 'Unknown' },
    ]);
  });
});
