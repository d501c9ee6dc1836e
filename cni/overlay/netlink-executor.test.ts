import { describe, expect, it } from 'vitest';
import { FakeExec } from '../../lib/exec.js';
import { OverlayApplyError, OverlayObserveError } from './errors.js';
import { IpBatchOverlayExecutor, batchLine, parseFdb, parseNeighbours, parseRoutes, planBatches } from './netlink-executor.js';
import type { Op, PeerNode } from './plan.js';
import { diff, planPeers } from './plan.js';

// IP plan: pod CIDRs 10.244.N.0/24, underlay 192.168.77.N. The JSON below was printed by iproute2 6.1
// (Debian 12) inside a throwaway namespace holding a `nolearning` VXLAN device.
const DEV = 'knode.1';
const route = { dst: '10.244.2.0/24', via: '10.244.2.0', dev: DEV, onlink: true };
const neighbour = { ip: '10.244.2.0', mac: '02:00:00:00:00:02', dev: DEV, permanent: true };
const fdb = { mac: '02:00:00:00:00:02', dst: '192.168.77.2', dev: DEV };
const peer = (n: number): PeerNode => ({ name: `node-${n}`, podCIDR: `10.244.${n}.0/24`, underlayIP: `192.168.77.${n}`, vtepMAC: `02:00:00:00:00:0${n}` });

describe('batchLine', () => {
  it.each<[Op, string, string]>([
    [{ kind: 'route', action: 'add', entry: route }, 'ip', 'route replace 10.244.2.0/24 via 10.244.2.0 dev knode.1 onlink'],
    [{ kind: 'route', action: 'replace', entry: { ...route, onlink: false } }, 'ip', 'route replace 10.244.2.0/24 via 10.244.2.0 dev knode.1'],
    [{ kind: 'route', action: 'delete', entry: route }, 'ip', 'route del 10.244.2.0/24 dev knode.1'],
    [{ kind: 'neighbour', action: 'add', entry: neighbour }, 'ip', 'neigh replace 10.244.2.0 lladdr 02:00:00:00:00:02 dev knode.1 nud permanent'],
    [{ kind: 'neighbour', action: 'delete', entry: neighbour }, 'ip', 'neigh del 10.244.2.0 dev knode.1'],
    [{ kind: 'fdb', action: 'replace', entry: fdb }, 'bridge', 'fdb replace 02:00:00:00:00:02 dev knode.1 dst 192.168.77.2 self permanent'],
    [{ kind: 'fdb', action: 'delete', entry: fdb }, 'bridge', 'fdb del 02:00:00:00:00:02 dev knode.1 dst 192.168.77.2 self'],
  ])('writes %j as `%s %s`', (op, tool, line) => expect(batchLine(op)).toEqual({ tool, line }));
});

describe('planBatches', () => {
  it('needs one ip and one bridge batch to add peers, in FDB-then-ip order', () => {
    const batches = planBatches(diff(planPeers('node-1', [peer(2), peer(3)], DEV), { routes: [], neighbours: [], fdb: [] }));
    expect(batches.map((b) => [b.tool, b.lines.length])).toEqual([['bridge', 2], ['ip', 4]]);
  });
  it('needs at most four batches for a mixed diff', () => {
    const observed = planPeers('node-1', [peer(2), peer(3)], DEV);
    const desired = planPeers('node-1', [peer(2), peer(4)], DEV);
    expect(planBatches(diff(desired, observed)).map((b) => b.tool)).toEqual(['ip', 'bridge', 'ip', 'bridge']);
  });
  it('needs none when nothing changed', () => expect(planBatches([])).toEqual([]));
});

describe('observe parsers', () => {
  it('keeps our onlink route and drops kernel and local routes', () => {
    const text = JSON.stringify([
      { dst: '10.244.2.0/24', gateway: '10.244.2.0', flags: ['onlink'] },
      { dst: '10.244.3.5', gateway: '10.244.3.0', flags: [] },
      { type: 'local', dst: '10.244.1.0', table: 'local', protocol: 'kernel', scope: 'host', flags: [] },
      { dst: '10.244.1.0/24', protocol: 'kernel', scope: 'link', flags: [] },
    ]);
    expect(parseRoutes(text, DEV)).toEqual([route, { dst: '10.244.3.5/32', via: '10.244.3.0', dev: DEV, onlink: false }]);
  });
  it('reads neighbours with their permanence and skips those without a MAC', () => {
    const text = '[{"dst":"10.244.4.0","lladdr":"02:00:00:00:00:04","state":["REACHABLE"]},{"dst":"10.244.2.0","lladdr":"02:00:00:00:00:02","state":["PERMANENT"]},{"dst":"10.244.5.0","state":["FAILED"]}]';
    expect(parseNeighbours(text, DEV)).toEqual([{ ip: '10.244.4.0', mac: '02:00:00:00:00:04', dev: DEV, permanent: false }, neighbour]);
  });
  it('reads the device\'s own remote FDB entries only', () => {
    const text = JSON.stringify([
      { mac: '02:00:00:00:00:02', dst: '192.168.77.2', flags: ['self'], state: 'permanent' },
      { mac: '00:00:00:00:00:00', dst: '192.168.77.9', flags: ['self'], state: 'permanent' },
      { mac: '02:00:00:00:00:07', flags: ['master'], master: 'br0', state: '' },
    ]);
    expect(parseFdb(text, DEV)).toEqual([fdb]);
  });
  it.each(['', '[]'])('reads %j as an empty table', (text) => expect(parseRoutes(text, DEV)).toEqual([]));
  it('rejects output that is not JSON', () => expect(() => parseFdb('Error: nope', DEV)).toThrow(OverlayObserveError));
});

describe('IpBatchOverlayExecutor', () => {
  it('observes the device inside its namespace through nsenter', async () => {
    const exec = new FakeExec(({ argv }) =>
      argv.includes('route') ? { stdout: '[{"dst":"10.244.2.0/24","gateway":"10.244.2.0","flags":["onlink"]}]' }
      : argv.includes('neigh') ? { stdout: '[{"dst":"10.244.2.0","lladdr":"02:00:00:00:00:02","state":["PERMANENT"]}]' }
      : { stdout: '[{"mac":"02:00:00:00:00:02","dst":"192.168.77.2","flags":["self"],"state":"permanent"}]' });
    const ex = new IpBatchOverlayExecutor({ exec, device: DEV, netns: '/run/netns/lab-n1' });
    expect(await ex.observe()).toEqual({ routes: [route], neighbours: [neighbour], fdb: [fdb] });
    expect(exec.commands().sort()).toEqual([
      'nsenter --net=/run/netns/lab-n1 bridge -j fdb show dev knode.1',
      'nsenter --net=/run/netns/lab-n1 ip -4 -j neigh show dev knode.1',
      'nsenter --net=/run/netns/lab-n1 ip -4 -j route show table main dev knode.1',
    ]);
  });

  it('fails observe with a clear error when the device is missing', async () => {
    const exec = new FakeExec(() => ({ code: 1, stderr: 'Cannot find device "knode.1"' }));
    await expect(new IpBatchOverlayExecutor({ exec, device: DEV }).observe()).rejects.toThrow(/Cannot find device/);
  });

  it('applies a new peer as one bridge batch then one ip batch', async () => {
    const exec = new FakeExec();
    await new IpBatchOverlayExecutor({ exec, device: DEV }).apply(diff(planPeers('node-1', [peer(2)], DEV), { routes: [], neighbours: [], fdb: [] }));
    expect(exec.calls).toEqual([
      { argv: ['bridge', '-force', '-batch', '-'], stdin: 'fdb replace 02:00:00:00:00:02 dev knode.1 dst 192.168.77.2 self permanent\n' },
      { argv: ['ip', '-force', '-batch', '-'], stdin: 'neigh replace 10.244.2.0 lladdr 02:00:00:00:00:02 dev knode.1 nud permanent\nroute replace 10.244.2.0/24 via 10.244.2.0 dev knode.1 onlink\n' },
    ]);
  });

  it('does not add routes after the FDB batch failed', async () => {
    const exec = new FakeExec(({ argv }) => (argv[0] === 'bridge' ? { code: 1, stderr: 'RTNETLINK answers: Invalid argument\nCommand failed -:1' } : undefined));
    const apply = new IpBatchOverlayExecutor({ exec, device: DEV }).apply(diff(planPeers('node-1', [peer(2)], DEV), { routes: [], neighbours: [], fdb: [] }));
    await expect(apply).rejects.toBeInstanceOf(OverlayApplyError);
    expect(exec.calls.map((c) => c.argv[0])).toEqual(['bridge']);
  });

  it('runs nothing when there is nothing to change', async () => {
    const exec = new FakeExec();
    await new IpBatchOverlayExecutor({ exec, device: DEV }).apply([]);
    expect(exec.calls).toEqual([]);
  });
});
