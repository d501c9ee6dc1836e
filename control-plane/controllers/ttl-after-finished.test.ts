import { describe, expect, it } from 'vitest';
import type { Job } from '../../api/batch/job.js';
import { jobExpiresAt } from './ttl-after-finished.js';

function job(ttl: number | undefined, conditions: Array<{ type: string; status: string; lastTransitionTime?: string }>, deleting = false): Job {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'ns', ...(deleting ? { deletionTimestamp: '2026-12-06T12:00:00Z' } : {}) },
    spec: { ...(ttl !== undefined ? { ttlSecondsAfterFinished: ttl } : {}), template: { spec: { containers: [] } } },
    status: { conditions } as Job['status'],
  } as Job;
}

describe('ttl-after-finished', () => {
  it('expires a finished Job ttl seconds after its terminal condition', () => {
    expect(jobExpiresAt(job(30, [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-12-06T12:00:00Z' }]))).toBe(Date.parse('2026-12-06T12:00:30Z'));
    expect(jobExpiresAt(job(0, [{ type: 'Failed', status: 'True', lastTransitionTime: '2026-12-06T12:00:00Z' }]))).toBe(Date.parse('2026-12-06T12:00:00Z'));
  });

  it('leaves alone Jobs without a TTL, not finished, or already being deleted', () => {
    expect(jobExpiresAt(job(undefined, [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-12-06T12:00:00Z' }]))).toBeUndefined();
    expect(jobExpiresAt(job(30, [{ type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: '2026-12-06T12:00:00Z' }]))).toBeUndefined();
    expect(jobExpiresAt(job(30, [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-12-06T12:00:00Z' }], true))).toBeUndefined();
  });
});
