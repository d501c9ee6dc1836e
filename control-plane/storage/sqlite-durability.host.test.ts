/**
 * An acknowledged write survives kill -9: a child process writes keys and prints each acknowledged
 * revision; the test SIGKILLs it mid-stream, reopens the file and finds every acknowledged key.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from './sqlite-store.js';

const WRITER = fileURLToPath(new URL('./testdata/durability-writer.ts', import.meta.url));

describe('SqliteStore durability', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('keeps every acknowledged write after the writer is killed with SIGKILL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'knode-durability-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'state.db');

    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });

    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const acked = new Map<string, number>();
    let pending = '';
    const target = 300;
    // Kill as soon as `target` acknowledgements arrived, while the writer is mid-stream.
    const reachedTarget = new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        pending += chunk.toString();
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          const [key, revision] = line.split(' ');
          if (key !== undefined && revision !== undefined) acked.set(key, Number(revision));
        }
        if (acked.size >= target) resolve();
      });
      void exited.then(({ code, signal }) => reject(new Error(`writer exited early (${code ?? signal}): ${stderr}`)));
    });
    await reachedTarget;
    child.kill('SIGKILL');
    const { signal } = await exited;
    expect(signal).toBe('SIGKILL');
    // Lines already in the pipe when the writer died were acknowledged too.
    await new Promise<void>((resolve) => (child.stdout.readableEnded ? resolve() : child.stdout.once('end', resolve)));

    expect(acked.size).toBeGreaterThanOrEqual(target);
    const store = SqliteStore.open(path);
    cleanups.push(() => store.close());
    for (const [key, revision] of acked) {
      const kv = await store.get(key);
      expect(kv, key).toBeDefined();
      expect(kv?.modRevision, key).toBe(revision);
      expect(kv?.value, key).toBe(`value-${Number(key.slice('/durability/'.length))}`);
    }
    // At most the one write in flight at the kill may have committed without being acknowledged.
    const lastAcked = Math.max(...acked.values());
    const current = await store.currentRevision();
    expect(current === lastAcked || current === lastAcked + 1).toBe(true);
    expect(await store.count('/durability/')).toBe(current);
  });
});
