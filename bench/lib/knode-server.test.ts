import { describe, expect, it } from 'vitest';
import { parseProcStatus } from './knode-server.js';

describe('parseProcStatus', () => {
  it('reads VmRSS and VmHWM in bytes', () => {
    const text = 'Name:\tnode\nVmPeak:\t 1200000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads:\t11\n';
    expect(parseProcStatus(text)).toEqual({ rss: 100 * 1024 * 1024, hwm: 200 * 1024 * 1024 });
  });

  it('is undefined when either line is missing (a zombie has no VmRSS)', () => {
    expect(parseProcStatus('Name:\tnode\nState:\tZ (zombie)\n')).toBeUndefined();
  });
});
