import { describe, expect, it } from 'vitest';
import { CniTryAgainError } from '../errors.js';
import { allocateIp, planGc, releaseIps } from './allocator.js';
import { parseCidr, podRangeOf } from './ipv4.js';
import { FakeStore, type AttachmentRecord } from './store.js';

const range = podRangeOf(parseCidr('10.244.1.0/29')!)!; // pods .2 - .6
const a = { containerId: 'a', ifname: 'eth0' };
const b = { containerId: 'b', ifname: 'eth0' };

function record(key: { containerId: string; ifname: string }, ip: string): AttachmentRecord {
  return { ...key, ip, podCidr: '10.244.1.0/29', hostVeth: 'vethx', netns: '/run/netns/x', portMappings: [], createdAt: 1 };
}

describe('allocateIp', () => {
  it('hands out the first pod address on an empty node, never the gateway', () => {
    const s = new FakeStore();
    expect(allocateIp(s, range, a)).toEqual({ ip: '10.244.1.2', reused: false });
    expect(s.ipOwner('10.244.1.2')).toEqual(a);
  });

  it('continues round-robin after the last reserved address, so a freed IP is not reused at once', () => {
    const s = new FakeStore();
    allocateIp(s, range, a);
    releaseIps(s, a, '10.244.1.2');
    expect(allocateIp(s, range, b).ip).toBe('10.244.1.3');
  });

  it('skips held addresses and wraps around the end of the range', () => {
    const s = new FakeStore();
    s.last = '10.244.1.5';
    s.reserveIp('10.244.1.6', { containerId: 'x', ifname: 'eth0' });
    expect(allocateIp(s, range, a).ip).toBe('10.244.1.2');
  });

  it('gives an attachment that already has a record its same address back (ADD retried)', () => {
    const s = new FakeStore();
    const first = allocateIp(s, range, a);
    s.putAttachment(record(a, first.ip));
    expect(allocateIp(s, range, a)).toEqual({ ip: first.ip, reused: true });
    expect(s.ips.size).toBe(1);
  });

  it('fails with code 11 naming the CIDR when every pod address is taken', () => {
    const s = new FakeStore();
    for (let i = 0; i < 5; i++) allocateIp(s, range, { containerId: `c${i}`, ifname: 'eth0' });
    const err = (() => {
      try {
        allocateIp(s, range, a);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(CniTryAgainError);
    expect((err as CniTryAgainError).cniCode).toBe(11);
    expect((err as Error).message).toContain('10.244.1.0/29');
  });
});

describe('releaseIps', () => {
  it('frees only the address its owner holds', () => {
    const s = new FakeStore();
    s.reserveIp('10.244.1.2', a);
    expect(releaseIps(s, b, '10.244.1.2')).toEqual([]);
    expect(releaseIps(s, a, '10.244.1.2')).toEqual(['10.244.1.2']);
    expect(releaseIps(s, a, '10.244.1.2')).toEqual([]);
  });
  it('without a record, finds the owner\'s reservations by scanning', () => {
    const s = new FakeStore();
    s.reserveIp('10.244.1.2', a);
    s.reserveIp('10.244.1.3', b);
    expect(releaseIps(s, a)).toEqual(['10.244.1.2']);
    expect([...s.ips.keys()]).toEqual(['10.244.1.3']);
  });
});

describe('planGc', () => {
  const cases: { name: string; valid: string[]; records: [string, string][]; ips: [string, string | undefined][]; stale: string[]; orphans: string[] }[] = [
    { name: 'keeps valid attachments and their addresses', valid: ['a'], records: [['a', '10.244.1.2']], ips: [['10.244.1.2', 'a']], stale: [], orphans: [] },
    { name: 'removes attachments the runtime no longer lists', valid: [], records: [['a', '10.244.1.2']], ips: [['10.244.1.2', 'a']], stale: ['a'], orphans: ['10.244.1.2'] },
    { name: 'frees a reservation with no record (ADD killed before writing it)', valid: [], records: [], ips: [['10.244.1.3', 'b']], stale: [], orphans: ['10.244.1.3'] },
    { name: 'frees a valid owner\'s extra address its record does not name', valid: ['a'], records: [['a', '10.244.1.2']], ips: [['10.244.1.2', 'a'], ['10.244.1.4', 'a']], stale: [], orphans: ['10.244.1.4'] },
    { name: 'frees a reservation whose owner cannot be read', valid: ['a'], records: [], ips: [['10.244.1.5', undefined]], stale: [], orphans: ['10.244.1.5'] },
  ];
  it.each(cases)('$name', (c) => {
    const key = (id: string) => ({ containerId: id, ifname: 'eth0' });
    const plan = planGc(
      c.valid.map(key),
      c.records.map(([id, ip]) => record(key(id), ip)),
      c.ips.map(([ip, id]) => (id !== undefined ? { ip, owner: key(id) } : { ip })),
    );
    expect(plan.staleAttachments.map((r) => r.containerId)).toEqual(c.stale);
    expect(plan.orphanIps.map((r) => r.ip)).toEqual(c.orphans);
  });

  it('keeps records younger than the minimum age (an ADD may still be running for them) and their addresses', () => {
    const key = (id: string) => ({ containerId: id, ifname: 'eth0' });
    const old = { ...record(key('old'), '10.244.1.2'), createdAt: 1_000 };
    const young = { ...record(key('young'), '10.244.1.3'), createdAt: 5_000 };
    const ips = [{ ip: '10.244.1.2', owner: key('old') }, { ip: '10.244.1.3', owner: key('young') }];
    const plan = planGc([], [old, young], ips, 5_000);
    expect(plan.staleAttachments.map((r) => r.containerId)).toEqual(['old']);
    expect(plan.orphanIps.map((r) => r.ip)).toEqual(['10.244.1.2']);
    expect(planGc([], [old, young], ips).staleAttachments.map((r) => r.containerId)).toEqual(['old', 'young']);
  });
});
