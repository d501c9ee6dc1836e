/**
 * The only code of the plugin that starts processes: `ip -batch -` in the node namespace (the plugin's
 * own), the same in the pod's, and `nft -f -`. In the pod's namespace `ip -n <name>` when the netns path
 * is one `ip` finds by name (/run/netns/<name>, where runtimes put them), else `nsenter --net=<netns> ip`:
 * one exec fewer per ADD and CHECK (measured ~4 ms from Node on the 2-core VM). Every call is one exec
 * with the whole script on stdin. Failures become `CniNetworkSetupError` (code 101) carrying the argv,
 * the script and ip's or nft's own message. `Rollback` is ADD's undo list.
 */
import { existsSync, realpathSync } from 'node:fs';
import { ExecError, formatArgv, type Exec } from '../lib/exec.js';
import { CniNetworkSetupError } from './errors.js';

export interface Tools {
  readonly ip: string;
  readonly nft: string;
  readonly nsenter: string;
  /**
   * Directories in which `ip -n NAME` finds the namespace NAME (iproute2's NETNS_RUN_DIR, /var/run/netns,
   * and what it resolves to). Absent or empty: every pod-namespace call goes through nsenter.
   */
  readonly ipNetnsDirs?: readonly string[];
}

/** iproute2 opens `ip -n NAME` as /var/run/netns/NAME; on Debian /var/run is a link to /run. */
export function ipNetnsDirs(): string[] {
  const dirs = ['/var/run/netns'];
  try {
    dirs.push(`${realpathSync('/var/run')}/netns`);
  } catch {
    // no /var/run: only the literal directory
  }
  return [...new Set(dirs)];
}

/** The name to give `ip -n` for `netns`, when `ip` resolves that name to exactly this path. */
export function ipNetnsName(netns: string, dirs: readonly string[]): string | undefined {
  const slash = netns.lastIndexOf('/');
  const dir = netns.slice(0, slash);
  const name = netns.slice(slash + 1);
  if (!dirs.includes(dir) || name === '' || name === '.' || name === '..' || name.startsWith('-')) return undefined;
  return name;
}

/**
 * Absolute paths of the tools: a runtime may run plugins with a PATH that lacks /usr/sbin, so the
 * usual Debian locations are tried after PATH.
 */
export function resolveTools(pathEnv: string | undefined): Tools {
  const dirs = [...(pathEnv ?? '').split(':').filter((d) => d.startsWith('/')), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  const find = (name: string): string => dirs.map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? name;
  return { ip: find('ip'), nft: find('nft'), nsenter: find('nsenter'), ipNetnsDirs: ipNetnsDirs() };
}

export class NetExecutor {
  constructor(
    private readonly exec: Exec,
    private readonly tools: Tools,
  ) {}

  private argvIn(netns: string | undefined, argv: readonly string[]): string[] {
    if (netns === undefined) return [...argv];
    const name = argv[0] === this.tools.ip ? ipNetnsName(netns, this.tools.ipNetnsDirs ?? []) : undefined;
    if (name !== undefined) return [this.tools.ip, '-n', name, ...argv.slice(1)];
    return [this.tools.nsenter, `--net=${netns}`, '--', ...argv];
  }

  private async run(argv: readonly string[], script: string, what: string): Promise<string> {
    let r;
    try {
      r = await this.exec.run(argv, { stdin: script, timeoutMs: 30_000 });
    } catch (err) {
      throw new CniNetworkSetupError(`${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    if (r.code !== 0) {
      const detail = r.stderr.trim().split('\n').join(' | ');
      throw new CniNetworkSetupError(`${what} failed: ${detail || `exit code ${r.code}`}`, {
        cause: new ExecError(argv, r.code, r.stderr),
        details: `${formatArgv(argv)} <<EOF\n${script}EOF`,
      });
    }
    return r.stdout;
  }

  /**
   * Runs `ip` commands in one exec. With `force`, ip goes on after a failing line (GC removes many
   * links, some of which may be gone already) and the call still reports the failure.
   */
  async ipBatch(lines: readonly string[], opts: { netns?: string; force?: boolean; what: string }): Promise<void> {
    if (lines.length === 0) return;
    const argv = this.argvIn(opts.netns, [this.tools.ip, ...(opts.force ? ['-force'] : []), '-batch', '-']);
    await this.run(argv, `${lines.join('\n')}\n`, opts.what);
  }

  /** `ip -j -batch -`: one JSON array per command, one per line. */
  async ipJson(lines: readonly string[], opts: { netns?: string; what: string }): Promise<string> {
    return this.run(this.argvIn(opts.netns, [this.tools.ip, '-j', '-d', '-batch', '-']), `${lines.join('\n')}\n`, opts.what);
  }

  async nft(script: string, what: string): Promise<void> {
    await this.run([this.tools.nft, '-f', '-'], script, what);
  }
}

/** ADD's undo list: steps run newest first; a failing step does not stop the others. */
export class Rollback {
  private readonly steps: { readonly what: string; readonly undo: () => unknown }[] = [];

  push(what: string, undo: () => unknown): void {
    this.steps.push({ what, undo });
  }

  /** Returns the failures, as "what: message" lines, for the error's details. */
  async run(): Promise<string[]> {
    const failures: string[] = [];
    for (const s of this.steps.reverse()) {
      try {
        await s.undo();
      } catch (err) {
        failures.push(`${s.what}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    this.steps.length = 0;
    return failures;
  }
}
