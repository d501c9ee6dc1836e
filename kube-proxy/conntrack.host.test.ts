/**
 * ConntrackCli against the real conntrack table of a throwaway network namespace (`knode-kpc-<random>`,
 * deleted in afterAll): entries are inserted with `conntrack -I` as DNATed flows would leave them, then
 * the proxy's filters must delete exactly the stale UDP ones and leave TCP and other endpoints alone.
 * Needs root.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { mustRun, realExec } from '../lib/exec.js';
import { ConntrackCli } from './conntrack.js';

const isRoot = process.getuid?.() === 0;
const namespaces: string[] = [];

afterAll(async () => {
  for (const n of namespaces) await realExec.run(['ip', 'netns', 'del', n]);
});

/** A flow client:sport -> vip:vport DNATed to ep:eport, as conntrack keeps it. */
function insert(path: string, proto: 'udp' | 'tcp', sport: number, vip: string, vport: number, ep: string, eport: number): Promise<unknown> {
  const client = '10.244.1.5';
  return mustRun(realExec, [
    'nsenter', `--net=${path}`, 'conntrack', '-I', '-p', proto, '-s', client, '-d', vip, '--sport', String(sport), '--dport', String(vport),
    '-r', ep, '-q', client, '--reply-port-src', String(eport), '--reply-port-dst', String(sport), '-t', '120',
    ...(proto === 'tcp' ? ['--state', 'ESTABLISHED'] : []),
  ]);
}

async function flows(path: string): Promise<string[]> {
  const r = await mustRun(realExec, ['nsenter', `--net=${path}`, 'conntrack', '-L', '-o', 'extended']);
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const proto = /\b(udp|tcp)\b/.exec(l)?.[1];
      const sport = /sport=(\d+)/.exec(l)?.[1];
      return `${proto}:${sport}`;
    })
    .sort();
}

describe.skipIf(!isRoot)('ConntrackCli in a namespace', () => {
  it('deletes stale UDP flows by endpoint and by service port, and nothing else', async () => {
    const name = `knode-kpc-${randomBytes(4).toString('hex')}`;
    await mustRun(realExec, ['ip', 'netns', 'add', name]);
    namespaces.push(name);
    const path = `/run/netns/${name}`;
    await insert(path, 'udp', 1001, '10.96.0.10', 53, '10.244.2.7', 5353); // to the endpoint that goes
    await insert(path, 'udp', 1002, '10.96.0.10', 53, '10.244.2.8', 5353); // to the one that stays
    await insert(path, 'tcp', 1003, '10.96.0.10', 53, '10.244.2.7', 5353); // TCP to the one that goes
    await insert(path, 'udp', 1004, '10.96.0.11', 80, '10.244.2.9', 8080); // a port that is removed
    await insert(path, 'udp', 1005, '10.96.0.12', 80, '10.244.2.9', 8080); // another Service
    const ct = new ConntrackCli({ netnsPath: path });
    expect(await ct.delete({ protocol: 'udp', origDst: '10.96.0.10', replySrc: '10.244.2.7' })).toBe(1);
    expect(await ct.delete({ protocol: 'udp', origDst: '10.96.0.11', origDstPort: 80 })).toBe(1);
    expect(await ct.delete({ protocol: 'udp', origDst: '10.96.0.11', origDstPort: 80 })).toBe(0);
    expect(await flows(path)).toEqual(['tcp:1003', 'udp:1002', 'udp:1005']);
  });
});
