import { describe, expect, it } from 'vitest';
import { LogOptionsError } from './errors.js';
import { parsePodLogQuery, toReadOptions } from './options.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('parsePodLogQuery', () => {
  it('defaults to everything, no follow', () => {
    expect(parsePodLogQuery(q(''))).toEqual({ follow: false, previous: false, timestamps: false });
  });

  it('decodes every option', () => {
    expect(parsePodLogQuery(q('follow=true&previous=1&timestamps=True&tailLines=10&sinceSeconds=60&limitBytes=500'))).toEqual({
      follow: true,
      previous: true,
      timestamps: true,
      tailLines: 10,
      sinceSeconds: 60,
      limitBytes: 500,
    });
    expect(parsePodLogQuery(q('sinceTime=2024-05-01T10:00:00Z')).sinceTime).toBe('2024-05-01T10:00:00Z');
  });

  it('honours the legacy tail parameter, where all means no limit', () => {
    expect(parsePodLogQuery(q('tail=5')).tailLines).toBe(5);
    expect(parsePodLogQuery(q('tailLines=5&tail=all')).tailLines).toBeUndefined();
  });

  it.each([
    ['follow=maybe', 400, 'follow'],
    ['tailLines=ten', 400, 'tailLines'],
    ['sinceTime=yesterday', 400, 'sinceTime'],
    ['tailLines=-1', 422, 'tailLines: Invalid value: -1: must be greater than or equal to 0'],
    ['limitBytes=0', 422, 'limitBytes: Invalid value: 0: must be greater than 0'],
    ['sinceSeconds=0', 422, 'sinceSeconds: Invalid value: 0: must be greater than 0'],
    ['sinceSeconds=5&sinceTime=2024-05-01T10:00:00Z', 422, 'at most one of `sinceTime` or `sinceSeconds` may be specified'],
  ])('rejects %s with %i', (query, status, text) => {
    let err: unknown;
    try {
      parsePodLogQuery(q(query));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LogOptionsError);
    expect((err as LogOptionsError).httpStatus).toBe(status);
    expect((err as Error).message).toContain(text);
  });
});

describe('toReadOptions', () => {
  const now = new Date('2024-05-01T10:00:00Z');
  it('turns sinceSeconds into an absolute time', () => {
    expect(toReadOptions({ follow: false, previous: false, timestamps: true, sinceSeconds: 60 }, now)).toEqual({
      follow: false,
      timestamps: true,
      since: Date.parse('2024-05-01T09:59:00Z'),
    });
  });

  it('passes sinceTime, tailLines and limitBytes through', () => {
    expect(toReadOptions({ follow: true, previous: false, timestamps: false, sinceTime: '2024-05-01T09:00:00Z', tailLines: 3, limitBytes: 10 }, now)).toEqual({
      follow: true,
      timestamps: false,
      tailLines: 3,
      since: Date.parse('2024-05-01T09:00:00Z'),
      limitBytes: 10,
    });
  });
});
