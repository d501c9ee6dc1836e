import { describe, expect, it } from 'vitest';
import type { EtcdEvent } from './client.js';
import { byRevision, prefixEnd, toWatchEvent } from './watch-feed.js';

const kv = (key: string, value: string, create: number, mod: number) => ({ key: Buffer.from(key), value: Buffer.from(value), create_revision: create, mod_revision: mod, version: 1 });

describe('etcd store mapping', () => {
  it.each([
    ['/registry/pods/', '/registry/pods0'],
    ['a', 'b'],
    ['', '\u0000'],
  ])('the range end of prefix %j is %j', (prefix, end) => {
    expect(prefixEnd(Buffer.from(prefix)).toString('utf8')).toBe(end);
  });

  it('increments the last UTF-8 byte, not the last character', () => {
    // 'aÿ' is 61 c3 bf in UTF-8: the end is 61 c3 c0, which sorts after every key starting with it.
    expect([...prefixEnd(Buffer.from('a\u00ff'))]).toEqual([0x61, 0xc3, 0xc0]);
  });

  it('the range end of a prefix of 0xff bytes is the end of the key space', () => {
    expect([...prefixEnd(Buffer.from([0x61, 0xff, 0xff]))]).toEqual([0x62]);
    expect([...prefixEnd(Buffer.from([0xff]))]).toEqual([0]);
  });

  it('maps etcd revisions to knode revisions (minus one) in put and delete events', () => {
    const put: EtcdEvent = { type: 'PUT', kv: kv('/a', '2', 2, 5), prev_kv: kv('/a', '1', 2, 2) };
    expect(toWatchEvent(put)).toEqual({ type: 'put', kv: { key: '/a', value: '2', createRevision: 1, modRevision: 4 }, prev: { key: '/a', value: '1', createRevision: 1, modRevision: 1 } });
    const created: EtcdEvent = { type: 'PUT', kv: kv('/b', 'x', 7, 7), prev_kv: null };
    expect(toWatchEvent(created)).toEqual({ type: 'put', kv: { key: '/b', value: 'x', createRevision: 6, modRevision: 6 } });
    // etcd's delete event has only the key and the deletion revision; the value comes from prev_kv.
    const del: EtcdEvent = { type: 'DELETE', kv: { ...kv('/a', '', 0, 9), version: 0 }, prev_kv: kv('/a', '2', 2, 5) };
    expect(toWatchEvent(del)).toEqual({ type: 'delete', kv: { key: '/a', value: '2', createRevision: 1, modRevision: 8 }, prev: { key: '/a', value: '2', createRevision: 1, modRevision: 4 } });
  });

  it('hands events over one revision at a time, in order', () => {
    const e = (key: string, rev: number) => toWatchEvent({ type: 'PUT', kv: kv(key, 'v', rev + 1, rev + 1), prev_kv: null });
    const groups = byRevision([e('/a', 1), e('/b', 2), e('/c', 2), e('/d', 3)]);
    expect(groups.map((g) => g.map((x) => x.kv.key))).toEqual([['/a'], ['/b', '/c'], ['/d']]);
    expect(byRevision([])).toEqual([]);
  });
});
