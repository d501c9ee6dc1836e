import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../api/meta.js';
import { FakeClock } from '../../lib/clock.js';
import { SpamFilteredEvents } from './replicaset-events.js';

const RS: KubeObject = { metadata: { name: 'web', namespace: 'ns', uid: 'u1' } };
const REF = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };

function setup(): { clock: FakeClock; sent: string[]; events: SpamFilteredEvents } {
  const clock = new FakeClock();
  const sent: string[] = [];
  const events = new SpamFilteredEvents({ record: (_o, _i, _t, reason, message) => void sent.push(`${reason}: ${message}`), flush: () => Promise.resolve() }, clock);
  return { clock, sent, events };
}

describe('SpamFilteredEvents', () => {
  it('lets 25 events per object and reason through, then one per 5 minutes', async () => {
    const { clock, sent, events } = setup();
    for (let i = 0; i < 1000; i++) events.record(RS, REF, 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`);
    expect(sent).toHaveLength(25);
    expect(sent[24]).toBe('SuccessfulCreate: Created pod: web-24');
    await clock.advance(5 * 60_000);
    events.record(RS, REF, 'Normal', 'SuccessfulCreate', 'Created pod: later');
    events.record(RS, REF, 'Normal', 'SuccessfulCreate', 'Created pod: dropped');
    expect(sent.slice(25)).toEqual(['SuccessfulCreate: Created pod: later']);
  });
  it('counts each reason and each object on its own', () => {
    const { sent, events } = setup();
    for (let i = 0; i < 30; i++) events.record(RS, REF, 'Normal', 'SuccessfulCreate', `c${i}`);
    events.record(RS, REF, 'Normal', 'SuccessfulDelete', 'd');
    events.record({ metadata: { ...RS.metadata, name: 'other', uid: 'u2' } }, REF, 'Normal', 'SuccessfulCreate', 'o');
    expect(sent).toHaveLength(27);
  });
});
