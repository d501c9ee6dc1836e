import { describe, expect, it } from 'vitest';
import { mapClientMessage, parseStreamOptions, parseStreamTarget, planStdinClose, StreamOptionsError, V4_PROTOCOL, V5_PROTOCOL } from './remote-command.js';

const q = (s: string): URLSearchParams => new URLSearchParams(s);

describe('parseStreamOptions', () => {
  const cases: { name: string; kind: 'exec' | 'attach'; query: string; want: unknown }[] = [
    { name: 'exec with repeated command and "1" flags', kind: 'exec', query: 'command=sh&command=-c&command=echo%20hi&stdin=1&stdout=1&stderr=1', want: { command: ['sh', '-c', 'echo hi'], stdin: true, stdout: true, stderr: true, tty: false } },
    { name: '"true" flags too', kind: 'exec', query: 'command=ls&stdout=true', want: { command: ['ls'], stdin: false, stdout: true, stderr: false, tty: false } },
    { name: 'a tty drops stderr', kind: 'exec', query: 'command=sh&stdin=1&stdout=1&stderr=1&tty=1', want: { command: ['sh'], stdin: true, stdout: true, stderr: false, tty: true } },
    { name: 'attach ignores command', kind: 'attach', query: 'command=x&stdout=1', want: { command: [], stdin: false, stdout: true, stderr: false, tty: false } },
  ];
  for (const c of cases) it(c.name, () => expect(parseStreamOptions(c.kind, q(c.query))).toEqual(c.want));

  it('needs a stream, and a command for exec', () => {
    expect(() => parseStreamOptions('exec', q('command=ls'))).toThrow('you must specify at least 1 of stdin, stdout, stderr');
    expect(() => parseStreamOptions('exec', q('stdout=1'))).toThrow('you must specify at least one command for the container');
    expect(() => parseStreamOptions('attach', q('stderr=1&tty=1'))).toThrow(StreamOptionsError);
  });
});

describe('parseStreamTarget', () => {
  it('reads ns/pod/container and ns/pod/uid/container', () => {
    expect(parseStreamTarget('exec', ['ns', 'p', 'c'])).toEqual({ namespace: 'ns', pod: 'p', container: 'c' });
    expect(parseStreamTarget('exec', ['ns', 'p', 'u', 'c'])).toEqual({ namespace: 'ns', pod: 'p', uid: 'u', container: 'c' });
  });
  it('refuses other shapes', () => {
    for (const s of [['ns', 'p'], ['ns', '', 'c'], ['a', 'b', 'c', 'd', 'e']]) expect(() => parseStreamTarget('attach', s)).toThrow(/expected \/attach/);
  });
});

describe('mapClientMessage', () => {
  const b = (...bytes: number[]): Buffer => Buffer.from(bytes);
  const cases: { name: string; protocol: string; data: Buffer; want: unknown }[] = [
    { name: 'stdin is forwarded', protocol: V5_PROTOCOL, data: b(0, 65), want: { type: 'forward', data: b(0, 65) } },
    { name: 'resize is forwarded', protocol: V4_PROTOCOL, data: b(4, 123), want: { type: 'forward', data: b(4, 123) } },
    { name: 'v5 close of stdin', protocol: V5_PROTOCOL, data: b(255, 0), want: { type: 'close-stdin' } },
    { name: 'v5 close of another channel is ignored', protocol: V5_PROTOCOL, data: b(255, 1), want: { type: 'ignore', why: 'close of channel 1' } },
    { name: 'channel 255 outside v5 is ignored', protocol: V4_PROTOCOL, data: b(255, 0), want: { type: 'ignore', why: 'channel 255 outside v5' } },
    { name: 'a client writing stdout is ignored', protocol: V5_PROTOCOL, data: b(1, 65), want: { type: 'ignore', why: 'client wrote on channel 1' } },
    { name: 'an empty message is ignored', protocol: V5_PROTOCOL, data: b(), want: { type: 'ignore', why: 'empty message' } },
  ];
  for (const c of cases) it(c.name, () => expect(mapClientMessage(c.protocol, c.data)).toEqual(c.want));
});

describe('planStdinClose (v4 over WebSocket)', () => {
  it('sends ^D to a tty and ends the connection otherwise', () => {
    expect(planStdinClose({ tty: true })).toEqual({ type: 'send', data: Buffer.from([0, 4]) });
    expect(planStdinClose({ tty: false })).toEqual({ type: 'end-runtime-connection' });
  });
});
