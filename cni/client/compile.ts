/**
 * Compiles the C thin client the way scripts/build.mjs does (static when libc.a allows, else dynamic),
 * into a directory of the caller's: host tests and the bench use a fresh build, never a stale dist.
 * Resolves to undefined when gcc is not installed (the sh client is then what the agent installs).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CLIENT_BINARY_NAME } from './embed.js';

export const CLIENT_SOURCE = join(import.meta.dirname, 'knode-cni-client.c');

function gcc(args: readonly string[]): Promise<{ code: number; stderr: string } | undefined> {
  return new Promise((resolve) => {
    const child = spawn('gcc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', () => resolve(undefined));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
  });
}

/** `source`: the C file (default: beside this module, right when run from source, as tests do). */
export async function compileClient(dir: string, source = CLIENT_SOURCE): Promise<string | undefined> {
  const out = join(dir, CLIENT_BINARY_NAME);
  const flags = ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-o', out, source];
  let r = await gcc(['-static', ...flags]);
  if (r === undefined) return undefined;
  if (r.code !== 0) r = await gcc(flags);
  if (r === undefined || r.code !== 0) throw new Error(`gcc could not compile ${source}: ${r?.stderr.trim() ?? ''}`);
  return out;
}
