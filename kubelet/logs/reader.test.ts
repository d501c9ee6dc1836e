import { appendFile, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findTailStart, readContainerLog } from './reader.js';
import type { LogReadOptions } from './options.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'knode-logs-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const line = (sec: number, msg: string, tag: 'F' | 'P' = 'F', stream = 'stdout'): string =>
  `2024-05-01T10:00:${String(sec).padStart(2, '0')}.000000000Z ${stream} ${tag} ${msg}\n`;

async function logFile(content: string): Promise<string> {
  const p = join(dir, '0.log');
  await writeFile(p, content);
  return p;
}

function collector(): { chunks: Buffer[]; text: () => string; write: (b: Buffer) => void } {
  const chunks: Buffer[] = [];
  return { chunks, text: () => Buffer.concat(chunks).toString(), write: (b) => void chunks.push(b) };
}

async function read(path: string, opts: Partial<LogReadOptions> = {}): Promise<string> {
  const out = collector();
  await readContainerLog(path, { follow: false, timestamps: false, ...opts }, out);
  return out.text();
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('readContainerLog', () => {
  const content = line(1, 'one') + line(2, 'two', 'F', 'stderr') + line(3, 'thr', 'P') + line(4, 'ee') + line(5, 'four');

  it('reads the whole file, joining partial lines', async () => {
    expect(await read(await logFile(content))).toBe('one\ntwo\nthree\nfour\n');
  });

  it.each([
    [0, ''],
    [1, 'four\n'],
    [2, 'three\nfour\n'],
    [3, 'two\nthree\nfour\n'],
    [10, 'one\ntwo\nthree\nfour\n'],
  ])('tailLines=%i counts logical lines', async (n, want) => {
    expect(await read(await logFile(content), { tailLines: n })).toBe(want);
  });

  it('combines tail, since, timestamps and limitBytes', async () => {
    const p = await logFile(content);
    expect(await read(p, { since: Date.parse('2024-05-01T10:00:03Z'), timestamps: true })).toBe(
      '2024-05-01T10:00:03.000000000Z three\n2024-05-01T10:00:05.000000000Z four\n',
    );
    expect(await read(p, { tailLines: 2, limitBytes: 8 })).toBe('three\nfo');
  });

  it('shows a last line that lacks its newline', async () => {
    expect(await read(await logFile(line(1, 'one') + line(2, 'cut').trimEnd()))).toBe('one\ncut\n');
  });

  it('an empty file gives nothing, for tail too', async () => {
    const p = await logFile('');
    expect(await read(p)).toBe('');
    expect(await read(p, { tailLines: 5 })).toBe('');
  });

  it('finds the tail of a file larger than one read chunk', async () => {
    const big = Array.from({ length: 3000 }, (_, i) => line(i % 60, `line ${i} ${'x'.repeat(40)}`)).join('');
    const p = await logFile(big);
    const fh = await open(p, 'r');
    try {
      const size = (await fh.stat()).size;
      const start = await findTailStart(fh, size, 2);
      expect(big.slice(Buffer.byteLength(big) - (size - start))).toBe(line(58, `line 2998 ${'x'.repeat(40)}`) + line(59, `line 2999 ${'x'.repeat(40)}`));
    } finally {
      await fh.close();
    }
    expect((await read(p, { tailLines: 1 })).trim()).toBe(`line 2999 ${'x'.repeat(40)}`);
  });

  it('follow streams appended lines until the container stops, then drains the file', async () => {
    const p = await logFile(line(1, 'before'));
    let running = true;
    const out = collector();
    const done = readContainerLog(p, { follow: true, timestamps: false }, out, { isRunning: async () => running, pollIntervalMs: 20 });
    await waitFor(() => out.text() === 'before\n', 'the existing line');
    await appendFile(p, line(2, 'half', 'P'));
    await appendFile(p, line(3, ' done'));
    await waitFor(() => out.text() === 'before\nhalf done\n', 'the appended line');
    // an incomplete line is held back while the container still writes
    await appendFile(p, '2024-05-01T10:00:04.000000000Z stdout F lat');
    await new Promise((r) => setTimeout(r, 60));
    expect(out.text()).toBe('before\nhalf done\n');
    await appendFile(p, 'er\n' + line(5, 'last'));
    running = false;
    await done;
    expect(out.text()).toBe('before\nhalf done\nlater\nlast\n');
  });

  it('follow ends when the caller aborts (client went away)', async () => {
    const p = await logFile(line(1, 'x'));
    const ac = new AbortController();
    const out = collector();
    const done = readContainerLog(p, { follow: true, timestamps: false }, out, { isRunning: async () => true, signal: ac.signal, pollIntervalMs: 10_000 });
    await waitFor(() => out.text() === 'x\n', 'the first line');
    ac.abort();
    await done;
    expect(out.text()).toBe('x\n');
  });

  it('follow with tailLines=0 shows only new lines', async () => {
    const p = await logFile(line(1, 'old'));
    let running = true;
    const out = collector();
    const done = readContainerLog(p, { follow: true, timestamps: false, tailLines: 0 }, out, { isRunning: async () => running, pollIntervalMs: 20 });
    await new Promise((r) => setTimeout(r, 30));
    await appendFile(p, line(2, 'new'));
    await waitFor(() => out.text() === 'new\n', 'the new line');
    running = false;
    await done;
    expect(out.text()).toBe('new\n');
  });

  it('a missing file rejects with ENOENT', async () => {
    await expect(read(join(dir, 'nope.log'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
