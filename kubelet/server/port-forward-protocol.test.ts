import { describe, expect, it } from 'vitest';
import type { IncomingHttpHeaders } from 'node:http';
import { chooseSandbox, parsePortForwardTarget, parsePortList, planClientUpgrade, PortForwardRequestError, spdyUpgradeResponse, TUNNEL_PROTOCOL } from './port-forward-protocol.js';

const wsBase: IncomingHttpHeaders = {
  connection: 'Upgrade',
  upgrade: 'websocket',
  'sec-websocket-version': '13',
  'sec-websocket-key': Buffer.alloc(16, 7).toString('base64'),
  'sec-websocket-protocol': TUNNEL_PROTOCOL,
};
const spdyBase: IncomingHttpHeaders = { connection: 'Upgrade', upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' };

describe('parsePortForwardTarget', () => {
  it.each([
    [['ns', 'pod'], { namespace: 'ns', pod: 'pod' }],
    [['ns', 'pod', 'uid-1'], { namespace: 'ns', pod: 'pod', uid: 'uid-1' }],
  ])('%j -> %j', (segments, want) => expect(parsePortForwardTarget(segments)).toEqual(want));

  it.each([[[]], [['ns']], [['ns', '']], [['', 'pod']], [['ns', 'pod', 'uid', 'extra']]])('%j is refused', (segments) => {
    expect(() => parsePortForwardTarget(segments)).toThrow(PortForwardRequestError);
  });
});

describe('parsePortList', () => {
  it('takes repeated and comma-separated ports, and nothing', () => {
    expect(parsePortList(['80', '8080,9090'])).toEqual([80, 8080, 9090]);
    expect(parsePortList([])).toEqual([]);
    expect(parsePortList([''])).toEqual([]);
  });
  it.each(['0', '65536', 'http', '-1', '1.5', '123456'])('refuses %j', (v) => {
    expect(() => parsePortList([v])).toThrow(/invalid port/);
  });
});

describe('planClientUpgrade', () => {
  it('takes kubectl 1.31+ SPDY-in-WebSocket tunnel, answering its subprotocol', () => {
    expect(planClientUpgrade('GET', wsBase)).toEqual({ type: 'websocket', key: wsBase['sec-websocket-key'], protocol: 'SPDY/3.1+portforward.k8s.io' });
    expect(planClientUpgrade('GET', { ...wsBase, 'sec-websocket-protocol': `v4.channel.k8s.io, ${TUNNEL_PROTOCOL}` })).toMatchObject({ type: 'websocket' });
  });
  it('refuses a WebSocket without the tunnel subprotocol (kubectl then falls back to SPDY)', () => {
    expect(planClientUpgrade('GET', { ...wsBase, 'sec-websocket-protocol': 'portforward.k8s.io' })).toMatchObject({ type: 'reject', status: 400, message: expect.stringContaining(TUNNEL_PROTOCOL) });
  });
  it('refuses a malformed WebSocket handshake with its status', () => {
    expect(planClientUpgrade('POST', wsBase)).toMatchObject({ type: 'reject', status: 405 });
    expect(planClientUpgrade('GET', { ...wsBase, 'sec-websocket-version': '8' })).toMatchObject({ type: 'reject', status: 426 });
  });
  it('takes plain SPDY/3.1 with portforward.k8s.io, by GET or POST', () => {
    expect(planClientUpgrade('POST', spdyBase)).toEqual({ type: 'spdy' });
    expect(planClientUpgrade('GET', { ...spdyBase, upgrade: 'spdy/3.1' })).toEqual({ type: 'spdy' });
  });
  it('refuses SPDY for another stream protocol as upstream words it', () => {
    expect(planClientUpgrade('POST', { ...spdyBase, 'x-stream-protocol-version': 'v4.channel.k8s.io' })).toEqual({
      type: 'reject',
      status: 403,
      message: 'unable to upgrade: unable to negotiate protocol: client supports ["v4.channel.k8s.io"], server supports ["portforward.k8s.io"]',
    });
  });
  it('refuses a request without an upgrade', () => {
    expect(planClientUpgrade('GET', {})).toMatchObject({ type: 'reject', status: 400, message: expect.stringMatching(/needs an upgrade/) });
  });
});

describe('spdyUpgradeResponse', () => {
  it('is the 101 client-go checks: Connection/Upgrade and the negotiated protocol', () => {
    expect(spdyUpgradeResponse()).toBe('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n');
  });
});

describe('chooseSandbox', () => {
  it('picks the newest ready sandbox (the list is newest first)', () => {
    expect(chooseSandbox([{ id: 'new', state: 'notready' }, { id: 'old', state: 'ready' }, { id: 'older', state: 'ready' }])?.id).toBe('old');
    expect(chooseSandbox([{ id: 'x', state: 'notready' }])).toBeUndefined();
  });
});
