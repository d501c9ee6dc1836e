/**
 * The dispatcher every invocation goes through, in the shape of the reference plugins' skel: the
 * environment, stdin and stdout are injected, the request is parsed by pure code (request.ts), one
 * handler runs, and the answer is rendered for the config's spec version. Any failure becomes the
 * spec's error JSON on stdout and exit code 1; logs go to stderr only.
 */
import { peekVersion } from './config.js';
import { errorToJson } from './errors.js';
import { parseRequest, type CniEnv } from './request.js';
import type { AddRequest, CheckRequest, CniResult, DelRequest, GcRequest, StatusRequest } from './types.js';
import { LATEST_VERSION, renderResult, renderVersionInfo } from './version.js';

export interface PluginIo {
  readonly env: CniEnv;
  readonly stdin: string;
  /** stdout: the result or the error JSON, nothing else. */
  write(text: string): void;
}

export interface PluginHandlers {
  add(req: AddRequest): Promise<CniResult>;
  del(req: DelRequest): Promise<void>;
  check(req: CheckRequest): Promise<void>;
  gc(req: GcRequest): Promise<void>;
  status(req: StatusRequest): Promise<void>;
}

/** Runs one CNI invocation; resolves to the process exit code. */
export async function dispatch(io: PluginIo, handlers: PluginHandlers): Promise<number> {
  try {
    const req = parseRequest(io.env, io.stdin);
    switch (req.command) {
      case 'VERSION':
        io.write(`${JSON.stringify(renderVersionInfo())}\n`);
        return 0;
      case 'ADD': {
        const result = await handlers.add(req);
        io.write(`${JSON.stringify(renderResult(result, req.conf.cniVersion))}\n`);
        return 0;
      }
      case 'DEL':
        await handlers.del(req);
        return 0;
      case 'CHECK':
        await handlers.check(req);
        return 0;
      case 'GC':
        await handlers.gc(req);
        return 0;
      case 'STATUS':
        await handlers.status(req);
        return 0;
      default: {
        const never: never = req;
        return never;
      }
    }
  } catch (err) {
    io.write(`${JSON.stringify(errorToJson(err, peekVersion(io.stdin) ?? LATEST_VERSION))}\n`);
    return 1;
  }
}
