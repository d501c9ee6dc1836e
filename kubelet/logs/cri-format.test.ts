import { describe, expect, it } from 'vitest';
import { LogFormatError } from './errors.js';
import { parseCriLogLine, parseLogTimestamp, renderLogLines } from './cri-format.js';
import type { RenderOptions } from './cri-format.js';

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('parseCriLogLine', () => {
  it('reads timestamp, stream, tag and message', () => {
    const e = parseCriLogLine(b('2016-10-06T00:17:09.669794202Z stdout F log content 1'));
    expect(e).toMatchObject({ stream: 'stdout', partial: false, timestamp: '2016-10-06T00:17:09.669794202Z', time: Date.parse('2016-10-06T00:17:09.669Z') });
    expect(e.message.toString()).toBe('log content 1');
  });

  it('marks P entries partial and keeps further tags forward-compatible', () => {
    expect(parseCriLogLine(b('2016-10-06T00:17:09.5Z stderr P:x part')).partial).toBe(true);
    expect(parseCriLogLine(b('2016-10-06T00:17:09.5Z stderr F:x whole')).partial).toBe(false);
  });

  it('keeps spaces inside the message and accepts an empty message', () => {
    expect(parseCriLogLine(b('2016-10-06T00:17:09Z stdout F  two  spaces ')).message.toString()).toBe(' two  spaces ');
    expect(parseCriLogLine(b('2016-10-06T00:17:09Z stdout F ')).message.length).toBe(0);
  });

  it.each([
    ['no delimiter', 'garbage', 'timestamp is not found'],
    ['a bad timestamp', '2016-13-99 stdout F x', 'unexpected timestamp format'],
    ['an unknown stream', '2016-10-06T00:17:09Z stdin F x', 'unexpected stream type "stdin"'],
    ['no tag', '2016-10-06T00:17:09Z stdout', 'stream type is not found'],
  ])('rejects %s', (_name, line, msg) => {
    expect(() => parseCriLogLine(b(line))).toThrow(LogFormatError);
    expect(() => parseCriLogLine(b(line))).toThrow(msg);
  });
});

describe('parseLogTimestamp', () => {
  it('pads fractions to nine digits and keeps the zone as written', () => {
    expect(parseLogTimestamp('2024-05-01T10:00:00.5Z')?.fixed).toBe('2024-05-01T10:00:00.500000000Z');
    expect(parseLogTimestamp('2024-05-01T10:00:00Z')?.fixed).toBe('2024-05-01T10:00:00.000000000Z');
    expect(parseLogTimestamp('2024-05-01T12:00:00.25+02:00')).toEqual({ time: Date.parse('2024-05-01T10:00:00.250Z'), fixed: '2024-05-01T12:00:00.250000000+02:00' });
  });
});

describe('renderLogLines', () => {
  const file = [
    '2024-05-01T10:00:00.000000001Z stdout F first',
    '2024-05-01T10:00:01Z stderr F second (stderr)',
    '2024-05-01T10:00:02.1Z stdout P long li',
    '2024-05-01T10:00:02.2Z stdout P ne split in',
    '2024-05-01T10:00:02.3Z stdout F  three parts',
    'not a cri line',
    '2024-05-01T10:00:03Z stdout F last',
  ].map(b);

  const cases: Array<{ name: string; opts: RenderOptions; want: string }> = [
    {
      name: 'interleaves stdout and stderr, joins partial entries, skips bad lines',
      opts: { timestamps: false },
      want: 'first\nsecond (stderr)\nlong line split in three parts\nlast\n',
    },
    {
      name: 'prefixes each logical line once with its first timestamp, nine fraction digits',
      opts: { timestamps: true },
      want:
        '2024-05-01T10:00:00.000000001Z first\n' +
        '2024-05-01T10:00:01.000000000Z second (stderr)\n' +
        '2024-05-01T10:00:02.100000000Z long line split in three parts\n' +
        '2024-05-01T10:00:03.000000000Z last\n',
    },
    {
      name: 'since drops whole logical lines older than the time',
      opts: { timestamps: false, since: Date.parse('2024-05-01T10:00:01Z') },
      want: 'second (stderr)\nlong line split in three parts\nlast\n',
    },
    {
      name: 'a joined line is kept or dropped by its first entry',
      opts: { timestamps: false, since: Date.parse('2024-05-01T10:00:02.2Z') },
      want: 'last\n',
    },
    {
      name: 'limitBytes cuts the output, timestamps included',
      opts: { timestamps: true, limitBytes: 40 },
      want: '2024-05-01T10:00:00.000000001Z first\n202',
    },
    {
      name: 'limitBytes can end inside a joined line',
      opts: { timestamps: false, limitBytes: 31 },
      want: 'first\nsecond (stderr)\nlong line',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(renderLogLines(file, c.opts).toString()).toBe(c.want);
    });
  }
});
