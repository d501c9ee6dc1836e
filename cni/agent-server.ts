/**
 * knode-cni served by the node agent: an HTTP server on a unix socket that runs CNI commands in the
 * agent's process, so a pod's CNI call no longer pays a Node start (~27 ms of the binary's ~46 ms ADD,
 * CPU-heavy: it was what made sandbox creation 1.3-1.7x slower than the Go reference under load). The
 * runtime still runs `knode-cni` from its bin dir, now a thin client: the C one of client/ (one small
 * exec) when the build had gcc, else the sh + curl script of thin-client.ts. Both send the same request.
 *
 * Same code as the binary: `createCniHandlers` is the composition main.ts uses too (real `ip`/`nft`,
 * the node's /proc, the file store; here the node's part of ADD over netlink instead of `ip -batch`,
 * the one difference, plus the pod fast path when the agent has one) and `runCni` goes through the same skel dispatcher, so the answer
 * body is byte for byte the binary's stdout. It lives here, not in main.ts, because importing main.ts
 * runs the binary; node:http is loaded only when a server starts, so the binary's start-up is unchanged.
 *
 * Protocol: `POST /cni`, the CNI variables as headers (thin-client.ts's CNI_ENV_HEADERS; an absent
 * header is an unset variable), the network config as the body. 200 + stdout on success (empty for
 * DEL), 400 + the spec's error JSON otherwise (whatever the binary's exit code, 1 today).
 *
 * Many requests share one process, which the plugin allows: it keeps no state between calls (each
 * opens its store; the tools are resolved once, here), the file store is safe for concurrent writers
 * (link(2) reservations, temp file + rename; its sync calls never interleave within one process), and
 * the races it already handles between processes (a bridge created by a concurrent ADD, host ports
 * re-read after applying) are the same between requests. The process must sit in the node's network
 * namespace, as the agent does: the plugin acts on the namespace it runs in.
 *
 * The socket is mode 0600 (root's runtime only), a stale file is replaced at start, and the file is
 * removed on close. Close lets requests in flight finish.
 */
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { realExec } from '../lib/exec.js';
import { CniIoError, errorToJson } from './errors.js';
import { NetExecutor, resolveTools } from './executor.js';
import type { PodFastPath } from './fastpath/fastpath.js';
import { FileStore } from './ipam/file-store.js';
import { NetlinkNodeNet } from './netlink-node.js';
import { realNodeHost } from './node-host.js';
import { createPlugin } from './plugin.js';
import { dispatch, type PluginHandlers } from './skel.js';
import { CNI_ENV_HEADERS, CNI_URL_PATH, type CniEnvName } from './thin-client.js';
import { LATEST_VERSION } from './version.js';

/** sun_path is 108 bytes including the terminating NUL. */
export const MAX_SOCKET_PATH = 107;
/** A config with prevResult or many valid attachments is a few KiB; this is far above any. */
const MAX_BODY_BYTES = 4 << 20;

/**
 * The plugin as the binary runs it; `pathEnv` is where `ip`, `nft`, `nsenter` are looked for. Every
 * change is an `ip`/`nft` exec: loading the netlink module would cost more than the exec it saves in a
 * process that lives for one call.
 */
export function createBinaryCniHandlers(pathEnv: string | undefined): PluginHandlers {
  return createPlugin({
    net: new NetExecutor(realExec, resolveTools(pathEnv)),
    host: realNodeHost,
    openStore: (dir) => new FileStore(dir),
  });
}

/**
 * The plugin as a long-lived server (the agent) runs it: the same, except that ADD's node-namespace
 * changes go over one netlink socket of this process (netlink-node.ts) instead of an `ip -batch` exec
 * each (measured 56 -> 41 ms per ADD through the C client, bench/cni-add.ts). The answers are the
 * binary's (same plan, same result code); netlink loads once, in the background from here. The binary never
 * calls this, so esbuild leaves it (and netlink) out of dist/cni/knode-cni.js.
 */
export function createCniHandlers(pathEnv: string | undefined, fastPath?: PodFastPath): PluginHandlers {
  return createPlugin({
    net: new NetExecutor(realExec, resolveTools(pathEnv)),
    host: realNodeHost,
    openStore: (dir) => new FileStore(dir),
    nodeNet: new NetlinkNodeNet().preload(),
    ...(fastPath !== undefined ? { fastPath } : {}),
  });
}

export interface CniAnswer {
  /** The binary's exit code. */
  readonly code: number;
  /** The binary's stdout. */
  readonly stdout: string;
}

/** One CNI invocation in-process: what the binary would print and exit with. */
export async function runCni(handlers: PluginHandlers, env: Readonly<Record<string, string | undefined>>, stdin: string): Promise<CniAnswer> {
  let stdout = '';
  const code = await dispatch({ env, stdin, write: (text) => void (stdout += text) }, handlers);
  return { code, stdout };
}

/**
 * The CNI variables of a request. Node decodes header bytes as latin1: re-read them as UTF-8, the
 * way the binary reads its environment. A repeated header is refused (Node would join the values).
 */
export function envFromHeaders(headers: IncomingHttpHeaders): Partial<Record<CniEnvName, string>> {
  const env: Partial<Record<CniEnvName, string>> = {};
  for (const [name, header] of Object.entries(CNI_ENV_HEADERS) as [CniEnvName, string][]) {
    const v = headers[header.toLowerCase()];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new CniIoError(`the request carries header ${header} more than once`);
    env[name] = Buffer.from(v, 'latin1').toString('utf8');
  }
  return env;
}

export interface CniServerLog {
  debug(fields: Record<string, unknown>, msg: string): void;
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

export interface CniServerOptions {
  readonly socketPath: string;
  readonly handlers: PluginHandlers;
  readonly log?: CniServerLog;
}

export interface CniServer {
  readonly socketPath: string;
  /** Stops accepting, waits for requests in flight, removes the socket file. */
  close(): Promise<void>;
}

function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

/** Removes a socket left by an agent that did not close (kill -9); refuses to remove anything else. */
function removeStaleSocket(path: string): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw err;
  }
  if (!st.isSocket()) throw new Error(`${path} exists and is not a socket: refusing to replace it`);
  unlinkSync(path);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new CniIoError(`the network config is larger than ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export async function startCniServer(opts: CniServerOptions): Promise<CniServer> {
  const { socketPath, handlers, log } = opts;
  if (!socketPath.startsWith('/')) throw new Error(`the CNI socket path must be absolute, got ${JSON.stringify(socketPath)}`);
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) {
    throw new Error(`the CNI socket path ${socketPath} is longer than ${MAX_SOCKET_PATH} bytes (the limit of a unix socket path)`);
  }
  const { createServer } = await import('node:http');

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST' || req.url !== CNI_URL_PATH) {
      req.resume();
      reply(res, 404, `${JSON.stringify(errorToJson(new CniIoError(`the agent serves only POST ${CNI_URL_PATH}`), LATEST_VERSION))}\n`);
      return;
    }
    const start = performance.now();
    let env: Partial<Record<CniEnvName, string>> = {};
    let answer: CniAnswer;
    try {
      env = envFromHeaders(req.headers);
      answer = await runCni(handlers, env, await readBody(req));
    } catch (err) {
      // not the plugin's answer (a bad request): still the spec's JSON, as the binary would print it
      answer = { code: 1, stdout: `${JSON.stringify(errorToJson(err, LATEST_VERSION))}\n` };
    }
    reply(res, answer.code === 0 ? 200 : 400, answer.stdout);
    const fields = { command: env.CNI_COMMAND, containerId: env.CNI_CONTAINERID, ms: Math.round(performance.now() - start) };
    if (answer.code === 0) log?.debug(fields, 'CNI call served');
    else log?.info({ ...fields, answer: answer.stdout.trim() }, 'CNI call failed');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.warn({ err: err instanceof Error ? err.message : String(err) }, 'CNI request handling failed');
      if (!res.headersSent) reply(res, 500, `${JSON.stringify(errorToJson(err, LATEST_VERSION))}\n`);
      else res.destroy();
    });
  });

  mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
  removeStaleSocket(socketPath);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // bind(2) happens inside listen(), synchronously: a umask of 0177 makes the socket 0600 from its
    // first instant (no window in which another user could connect), and no other code runs meanwhile
    let oldMask: number | undefined;
    try {
      oldMask = process.umask(0o177);
    } catch {
      // worker threads cannot change the umask: the chmod below still applies
    }
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (oldMask !== undefined) process.umask(oldMask);
    }
  });
  chmodSync(socketPath, 0o600);
  const ino = lstatSync(socketPath).ino;
  log?.info({ socket: socketPath }, 'serving knode-cni');

  let closing: Promise<void> | undefined;
  return {
    socketPath,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }).then(() => {
        // libuv unlinks the path on close; make sure, without removing a newer agent's socket
        try {
          if (lstatSync(socketPath).ino === ino) unlinkSync(socketPath);
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err;
        }
      })),
  };
}
