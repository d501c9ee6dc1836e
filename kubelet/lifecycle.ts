/**
 * Container lifecycle hooks and graceful stops, as upstream's kubelet runs them:
 * - postStart runs right after StartContainer; if it fails the container is killed with reason
 *   FailedPostStartHook and the start reports PostStartHookError (event `FailedPostStartHook`).
 * - preStop runs before StopContainer, bounded by the grace period; whatever grace is left is passed
 *   to StopContainer, never less than 2 s (upstream's minimumGracePeriodInSeconds) unless overridden.
 * - handlers: exec (ExecSync, no timeout), httpGet (any answer is success; HTTPS without
 *   verification, falling back to HTTP when the server speaks plain HTTP), sleep (on the Clock).
 *   tcpSocket is accepted by the API for old objects but never run, as upstream.
 * Grace periods are pure (computeGracePeriod, graceAfterPreStop); the rest are thin effects over
 * RuntimeService. Messages follow upstream's wording because they surface in pod events.
 */
import type { Container, LifecycleHandler, Pod } from '../api/core/pod.js';
import type { Clock } from '../lib/clock.js';
import { realClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import type { RuntimeService } from './cri/services.js';
import { PostStartHookError } from './probes/errors.js';
import { HttpGetError, buildHttpGetRequest, httpGet } from './probes/http-get.js';
import type { HttpGetRequest } from './probes/http-get.js';
import { formatPod } from './probes/settings.js';
import type { ContainerEventSink } from './probes/settings.js';

/** Upstream's minimumGracePeriodInSeconds: a container always gets this long after SIGTERM. */
export const MINIMUM_GRACE_PERIOD_SECONDS = 2;

/** Why a container is killed; probe kills may use the probe's own terminationGracePeriodSeconds. */
export type KillReason = 'StartupProbe' | 'LivenessProbe' | 'FailedPostStartHook' | 'Unknown';

/**
 * The grace period for stopping a container: the pod's deletionGracePeriodSeconds when it is being
 * deleted, else the probe's terminationGracePeriodSeconds for a liveness/startup kill, else the pod's
 * terminationGracePeriodSeconds, else the 2 s minimum.
 */
export function computeGracePeriod(pod: Pod, container: Container | undefined, reason: KillReason): number {
  if (pod.metadata.deletionGracePeriodSeconds !== undefined) return pod.metadata.deletionGracePeriodSeconds;
  const podGrace = pod.spec.terminationGracePeriodSeconds;
  if (podGrace === undefined) return MINIMUM_GRACE_PERIOD_SECONDS;
  if (reason === 'StartupProbe' && container?.startupProbe?.terminationGracePeriodSeconds !== undefined) {
    return container.startupProbe.terminationGracePeriodSeconds;
  }
  if (reason === 'LivenessProbe' && container?.livenessProbe?.terminationGracePeriodSeconds !== undefined) {
    return container.livenessProbe.terminationGracePeriodSeconds;
  }
  return podGrace;
}

/** The timeout StopContainer gets after a preStop hook used `elapsedSeconds` of `grace`. */
export function graceAfterPreStop(grace: number, elapsedSeconds: number, override?: number): number {
  if (override !== undefined) return override;
  return Math.max(grace - elapsedSeconds, MINIMUM_GRACE_PERIOD_SECONDS);
}

export interface LifecycleDeps {
  readonly runtime: Pick<RuntimeService, 'execSync' | 'startContainer' | 'stopContainer'>;
  readonly clock?: Clock;
  readonly events?: ContainerEventSink;
  readonly log?: Logger;
  /** Bounds an httpGet hook that no grace period bounds (postStart); default 2 minutes. */
  readonly httpTimeoutMs?: number;
  /** Replaces the HTTP client (tests). */
  readonly httpGet?: typeof httpGet;
}

export interface HookTarget {
  readonly pod: Pod;
  readonly container: Container;
  readonly containerId: string;
  /** The pod's IP (the node's for hostNetwork); httpGet hooks without `host` need it. */
  readonly podIP?: string;
}

export type HookResult = { readonly ok: true } | { readonly ok: false; readonly message: string; readonly error: Error };

const DEFAULT_HOOK_HTTP_TIMEOUT_MS = 120_000;

const fail = (message: string, error: Error): HookResult => ({ ok: false, message, error });

/** Go's %v of a []string: `[sh -c exit 1]`. */
const goList = (xs: readonly string[]): string => `[${xs.join(' ')}]`;

/** Runs one handler; never throws. `signal` ends a sleep early (the container is going away). */
export async function runLifecycleHandler(deps: LifecycleDeps, handler: LifecycleHandler, target: HookTarget, signal?: AbortSignal): Promise<HookResult> {
  const where = `for Container ${JSON.stringify(target.container.name)} in Pod ${JSON.stringify(formatPod(target.pod))}`;
  if (handler.exec) {
    const cmd = handler.exec.command ?? [];
    const err = await runExecHandler(deps, target.containerId, cmd, signal);
    if (err === undefined) return { ok: true };
    return fail(`Exec lifecycle hook (${goList(cmd)}) ${where} failed - error: ${err.error.message}, message: ${JSON.stringify(err.output)}`, err.error);
  }
  if (handler.httpGet) {
    const err = await runHttpHandler(deps, handler, target, signal);
    if (err === undefined) return { ok: true };
    return fail(`HTTP lifecycle hook (${handler.httpGet.path ?? ''}) ${where} failed - error: ${err.message}`, err);
  }
  if (handler.sleep) {
    const seconds = handler.sleep.seconds;
    try {
      await (deps.clock ?? realClock).sleep(seconds * 1000, signal);
      return { ok: true };
    } catch {
      const error = new Error('container terminated before sleep hook finished');
      return fail(`Sleep lifecycle hook (${seconds}) ${where} failed - error: ${error.message}`, error);
    }
  }
  const error = new Error(`invalid handler: ${JSON.stringify(handler)}`);
  return fail(`Cannot run handler: ${error.message}`, error);
}

async function runExecHandler(deps: LifecycleDeps, containerId: string, cmd: readonly string[], signal?: AbortSignal): Promise<{ error: Error; output: string } | undefined> {
  try {
    const res = await deps.runtime.execSync({ containerId, cmd, timeout: 0 }, signal ? { signal } : {});
    if (res.exitCode === 0) return undefined;
    const stderr = Buffer.from(res.stderr).toString('utf8');
    const output = Buffer.concat([Buffer.from(res.stdout), Buffer.from(res.stderr)]).toString('utf8');
    return { error: new Error(`command '${cmd.join(' ')}' exited with ${res.exitCode}: ${stderr}`), output };
  } catch (err) {
    return { error: err instanceof Error ? err : new Error(String(err)), output: '' };
  }
}

/** A TLS client talking to a plain HTTP server: upstream then retries over HTTP. */
function isPlainHttpAnswer(err: unknown): boolean {
  return err instanceof HttpGetError && /wrong version number|packet length too long|http request|ERR_SSL/i.test(err.message);
}

async function runHttpHandler(deps: LifecycleDeps, handler: LifecycleHandler, target: HookTarget, signal?: AbortSignal): Promise<Error | undefined> {
  const action = handler.httpGet;
  if (!action) return new Error('no httpGet action');
  const hasHost = action.host !== undefined && action.host !== '';
  if (!hasHost && (target.podIP === undefined || target.podIP === '')) return new Error('failed to find networking container: the pod has no IP');
  let req: HttpGetRequest;
  try {
    req = buildHttpGetRequest(action, target.container, target.podIP ?? '', 'lifecycle');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
  const get = deps.httpGet ?? httpGet;
  const opts = { timeoutMs: deps.httpTimeoutMs ?? DEFAULT_HOOK_HTTP_TIMEOUT_MS, ...(signal ? { signal } : {}) };
  try {
    // any answer counts: upstream only fails a hook whose request could not be made
    await get(req, opts);
    return undefined;
  } catch (err) {
    if (req.url.protocol === 'https:' && isPlainHttpAnswer(err)) {
      const url = new URL(req.url.href);
      url.protocol = 'http:';
      const plain: HttpGetRequest = { ...req, url, headers: req.headers.filter(([n]) => n.toLowerCase() !== 'authorization') };
      try {
        await get(plain, opts);
        deps.events?.({
          pod: target.pod,
          containerName: target.container.name,
          type: 'Warning',
          reason: 'LifecycleHTTPFallback',
          message: `request to HTTPS lifecycle hook ${url.host} got HTTP response, retry with HTTP succeeded`,
        });
        return undefined;
      } catch {
        // report the original HTTPS error
      }
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

/**
 * StartContainer followed by the postStart hook. A failing hook kills the container (reason
 * FailedPostStartHook) and rejects with PostStartHookError carrying the hook's message; errors of
 * StartContainer itself propagate unchanged.
 */
export async function startContainerWithHooks(deps: LifecycleDeps, target: HookTarget): Promise<void> {
  await deps.runtime.startContainer({ containerId: target.containerId });
  const postStart = target.container.lifecycle?.postStart;
  if (!postStart) return;
  const result = await runLifecycleHandler(deps, postStart, target);
  if (result.ok) return;
  deps.log?.error({ pod: formatPod(target.pod), container: target.container.name, err: result.error }, 'postStart hook failed');
  // the event leaves the message out: hook output may hold secrets
  deps.events?.({ pod: target.pod, containerName: target.container.name, type: 'Warning', reason: 'FailedPostStartHook', message: 'PostStartHook failed' });
  try {
    await killContainer(deps, target, { reason: 'FailedPostStartHook', message: 'FailedPostStartHook' });
  } catch (err) {
    deps.log?.error({ pod: formatPod(target.pod), container: target.container.name, err }, 'killing the container after a failed postStart hook failed');
  }
  throw new PostStartHookError(result.message, { cause: result.error });
}

/**
 * Runs the preStop hook for at most `graceSeconds`; resolves with the whole seconds it took (what
 * is subtracted from the grace period). A hook still running at the deadline is cancelled.
 */
export async function runPreStopHook(deps: LifecycleDeps, target: HookTarget, handler: LifecycleHandler, graceSeconds: number): Promise<number> {
  const clock = deps.clock ?? realClock;
  const started = clock.now().getTime();
  const cancel = new AbortController();
  const hook = runLifecycleHandler(deps, handler, target, cancel.signal).then((r) => {
    if (!r.ok && !cancel.signal.aborted) {
      deps.log?.error({ pod: formatPod(target.pod), container: target.container.name, err: r.error }, 'preStop hook failed');
      deps.events?.({ pod: target.pod, containerName: target.container.name, type: 'Warning', reason: 'FailedPreStopHook', message: 'PreStopHook failed' });
    }
  });
  const timer = new AbortController();
  const deadline = clock.sleep(graceSeconds * 1000, timer.signal).then(
    () => 'deadline' as const,
    () => 'hook' as const,
  );
  const first = await Promise.race([hook.then(() => 'hook' as const), deadline]);
  if (first === 'deadline') {
    deps.log?.info({ pod: formatPod(target.pod), container: target.container.name, graceSeconds }, 'preStop hook did not complete within the grace period');
    cancel.abort();
  } else {
    timer.abort();
  }
  await deadline;
  return Math.floor((clock.now().getTime() - started) / 1000);
}

export interface KillOptions {
  readonly reason?: KillReason;
  /** The Killing event's message; default `Stopping container <name>`. */
  readonly message?: string;
  /** Replaces the computed grace period for StopContainer (force kills). */
  readonly gracePeriodOverride?: number;
}

/** preStop (within the grace period), then StopContainer with the grace that is left. */
export async function killContainer(deps: LifecycleDeps, target: HookTarget, opts: KillOptions = {}): Promise<{ readonly timeoutSeconds: number }> {
  let grace = computeGracePeriod(target.pod, target.container, opts.reason ?? 'Unknown');
  deps.events?.({
    pod: target.pod,
    containerName: target.container.name,
    type: 'Normal',
    reason: 'Killing',
    message: opts.message ?? `Stopping container ${target.container.name}`,
  });
  const preStop = target.container.lifecycle?.preStop;
  let elapsed = 0;
  if (preStop && grace > 0) elapsed = await runPreStopHook(deps, target, preStop, grace);
  grace = graceAfterPreStop(grace, elapsed, opts.gracePeriodOverride);
  await deps.runtime.stopContainer({ containerId: target.containerId, timeout: grace });
  return { timeoutSeconds: grace };
}
