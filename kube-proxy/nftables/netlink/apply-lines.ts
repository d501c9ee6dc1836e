/**
 * A small process for host tests and benches: started INSIDE a network namespace (`ip netns exec NS
 * node --import tsx apply-lines.ts`), it reads one JSON `NftCommand[]` per stdin line, applies it as
 * one netlink batch in its own namespace and answers one JSON line: {"ok":true,"ms":N} or
 * {"ok":false,"code":...,"message":...}.
 */
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import type { NftCommand } from '../ir.js';
import { NftNetlink } from './socket.js';

export async function serveLines(input: NodeJS.ReadableStream, write: (line: string) => void): Promise<void> {
  const nl = new NftNetlink();
  for await (const line of createInterface({ input })) {
    if (line.trim() === '') continue;
    const t0 = performance.now();
    try {
      await nl.applyCommands(JSON.parse(line) as NftCommand[]);
      write(`${JSON.stringify({ ok: true, ms: performance.now() - t0 })}\n`);
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown };
      write(`${JSON.stringify({ ok: false, code: String(e.code ?? ''), message: String(e.message ?? err) })}\n`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  serveLines(process.stdin, (l) => process.stdout.write(l)).catch((err: unknown) => {
    process.stderr.write(`apply-lines: ${String(err)}\n`);
    process.exitCode = 1;
  });
}
