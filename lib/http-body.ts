/**
 * Reading an error answer's body without trusting its size: the first `max` bytes as UTF-8, then the
 * response is destroyed (a peer that streams forever costs at most `max` bytes of memory).
 */
import type { IncomingMessage } from 'node:http';

export async function readBodyPrefix(res: IncomingMessage, max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of res as AsyncIterable<Buffer>) {
    chunks.push(c);
    size += c.length;
    if (size >= max) break;
  }
  res.destroy();
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}
