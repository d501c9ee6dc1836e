import { describe, expect, it } from 'vitest';
import { ClientDecodeError } from './errors.js';
import { LineSplitter, parseWatchEvent } from './watch-decoder.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('LineSplitter', () => {
  const cases: Array<[string, string[], string[], string[]]> = [
    ['one whole line', ['{"a":1}\n'], ['{"a":1}'], []],
    ['a line cut in two chunks', ['{"a"', ':1}\n'], ['{"a":1}'], []],
    ['two lines in one chunk', ['{"a":1}\n{"b":2}\n'], ['{"a":1}', '{"b":2}'], []],
    ['blank keep-alive lines are skipped', ['\n\n{"a":1}\n\n'], ['{"a":1}'], []],
    ['a last line without newline is given at the end', ['{"a":1}\n{"b"', ':2}'], ['{"a":1}'], ['{"b":2}']],
  ];
  it.each(cases)('%s', (_name, chunks, lines, rest) => {
    const s = new LineSplitter();
    expect(chunks.flatMap((c) => s.push(enc(c)))).toEqual(lines);
    expect(s.end()).toEqual(rest);
  });

  it('keeps a multi-byte character cut between chunks', () => {
    const bytes = enc('{"n":"é"}\n');
    const cut = bytes.indexOf(0xc3) + 1;
    const s = new LineSplitter();
    expect([...s.push(bytes.subarray(0, cut)), ...s.push(bytes.subarray(cut))]).toEqual(['{"n":"é"}']);
  });
});

describe('parseWatchEvent', () => {
  it.each([
    ['{"type":"ADDED","object":{"metadata":{"name":"a"}}}', 'ADDED'],
    ['{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"5"}}}', 'BOOKMARK'],
    ['{"type":"ERROR","object":{"kind":"Status","code":410}}', 'ERROR'],
  ])('parses %s', (line, type) => {
    expect(parseWatchEvent(line).type).toBe(type);
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['no object', '{"type":"ADDED"}', /without an object/],
    ['unknown type', '{"type":"SYNC","object":{}}', /unknown watch event type "SYNC"/],
    ['object without metadata', '{"type":"ADDED","object":{}}', /no metadata/],
    ['bookmark without resourceVersion', '{"type":"BOOKMARK","object":{"metadata":{}}}', /resourceVersion/],
  ])('refuses %s', (_name, line, message) => {
    expect(() => parseWatchEvent(line)).toThrow(ClientDecodeError);
    expect(() => parseWatchEvent(line)).toThrow(message);
  });
});
