import { describe, expect, it } from 'vitest';
import { tableFor } from './table.js';

const now = new Date('2026-01-01T12:00:00Z');
const metadata = { name: 'pi', namespace: 'default', creationTimestamp: '2025-12-29T08:00:00Z' }; // 3d4h before now
const template = { spec: { containers: [{ name: 'pi', image: 'perl' }, { name: 'side', image: 'busybox' }] } };
const selector = { matchLabels: { 'batch.kubernetes.io/controller-uid': 'u1' } };

describe('jobs printer', () => {
  const printer = tableFor('jobs');
  const job = (spec: object, status: object = {}, meta: object = {}): unknown => ({ metadata: { ...metadata, ...meta }, spec: { template, selector, ...spec }, status });
  const cells = (j: unknown): unknown[] => printer.cells(j, now);

  it('prints NAME STATUS COMPLETIONS DURATION AGE, and CONTAINERS IMAGES SELECTOR with -o wide', () => {
    expect(printer.columns.map((c) => c.name.toUpperCase()).join(' ')).toBe('NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR');
    expect(printer.columns.map((c) => c.priority)).toEqual([0, 0, 0, 0, 0, 1, 1, 1]);
    expect(cells(job({ completions: 1, parallelism: 1 }))).toEqual(['pi', 'Running', '0/1', '', '3d4h', 'pi,side', 'perl,busybox', 'batch.kubernetes.io/controller-uid=u1']);
  });

  it('prints succeeded/completions, succeeded/1 and succeeded/1 of parallelism', () => {
    expect(cells(job({ completions: 5 }, { succeeded: 3 }))[2]).toBe('3/5');
    expect(cells(job({ parallelism: 4 }, { succeeded: 2 }))[2]).toBe('2/1 of 4');
    expect(cells(job({ parallelism: 1 }))[2]).toBe('0/1');
    expect(cells(job({}))[2]).toBe('0/1');
  });

  it('prints the duration from start to completion, or to now while running', () => {
    expect(cells(job({ completions: 1 }, { startTime: '2026-01-01T11:58:00Z' }))[3]).toBe('2m');
    expect(cells(job({ completions: 1 }, { startTime: '2026-01-01T10:00:00Z', completionTime: '2026-01-01T10:00:42Z' }))[3]).toBe('42s');
  });

  it('prints the status from the conditions in upstream order', () => {
    const cond = (type: string, status = 'True'): object => ({ type, status });
    const statusOf = (conditions: object[], meta: object = {}): unknown => cells(job({}, { conditions }, meta))[1];
    expect(statusOf([cond('Complete'), cond('SuccessCriteriaMet')])).toBe('Complete');
    expect(statusOf([cond('FailureTarget'), cond('Failed')])).toBe('Failed');
    expect(statusOf([cond('Suspended')], { deletionTimestamp: '2026-01-01T11:00:00Z' })).toBe('Terminating');
    expect(statusOf([cond('Suspended')])).toBe('Suspended');
    expect(statusOf([cond('Suspended', 'False')])).toBe('Running');
    expect(statusOf([cond('FailureTarget')])).toBe('FailureTarget');
    expect(statusOf([cond('SuccessCriteriaMet')])).toBe('SuccessCriteriaMet');
    expect(statusOf([])).toBe('Running');
  });

  it('never throws on odd shapes', () => {
    expect(cells({ metadata })).toEqual(['pi', 'Running', '0/1', '', '3d4h', '', '', '<none>']);
    expect(cells({ metadata, spec: 'x', status: { conditions: 'y', startTime: 'nope' } })).toEqual(['pi', 'Running', '0/1', '', '3d4h', '', '', '<none>']);
  });
});

describe('cronjobs printer', () => {
  const printer = tableFor('cronjobs');
  const cronJob = (spec: object, status: object = {}): unknown => ({ metadata, spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template } }, ...spec }, status });

  it('prints NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE, and CONTAINERS IMAGES SELECTOR with -o wide', () => {
    expect(printer.columns.map((c) => c.name.toUpperCase()).join(' ')).toBe('NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE CONTAINERS IMAGES SELECTOR');
    expect(printer.columns.map((c) => c.type)).toEqual(['string', 'string', 'string', 'boolean', 'integer', 'string', 'string', 'string', 'string', 'string']);
    expect(printer.cells(cronJob({ suspend: false }), now)).toEqual(['pi', '*/5 * * * *', '<none>', 'False', 0, '<none>', '3d4h', 'pi,side', 'perl,busybox', '<none>']);
  });

  it('prints the time zone, suspend, active jobs and the last schedule', () => {
    const row = printer.cells(
      cronJob({ timeZone: 'Europe/Paris', suspend: true }, { active: [{ kind: 'Job', name: 'a' }, { kind: 'Job', name: 'b' }], lastScheduleTime: '2026-01-01T11:55:00Z' }),
      now,
    );
    expect(row.slice(0, 6)).toEqual(['pi', '*/5 * * * *', 'Europe/Paris', 'True', 2, '5m']);
    expect(printer.cells(cronJob({}), now)[3]).toBe('<unset>');
  });

  it('never throws on odd shapes', () => {
    expect(printer.cells({ metadata }, now)).toEqual(['pi', '', '<none>', '<unset>', 0, '<none>', '3d4h', '', '', '<none>']);
  });
});
