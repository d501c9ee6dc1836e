import { describe, expect, it } from 'vitest';
import { chooseRuntimeTransport } from './runtime-stream.js';

describe('chooseRuntimeTransport', () => {
  it('uses SPDY only for stdin without a tty', () => {
    expect(chooseRuntimeTransport({ stdin: true, tty: false })).toBe('spdy');
    expect(chooseRuntimeTransport({ stdin: true, tty: true })).toBe('websocket');
    expect(chooseRuntimeTransport({ stdin: false, tty: false })).toBe('websocket');
  });
});
