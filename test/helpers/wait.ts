/**
 * Condition waits for e2e tests: poll a probe until it yields a value or the deadline passes, so tests
 * never sleep a fixed time. Cost: one probe per interval (default 100 ms); the failure message carries
 * the description and the probe's last value or error, which is what a reader needs to see why.
 */
export interface WaitOptions {
  readonly timeoutMs?: number;
  readonly intervalMs?: number;
}

/**
 * Calls `probe` until it returns something other than `undefined`/`false` and returns that value.
 * A probe that throws counts as "not yet"; its last error is reported on timeout.
 */
export async function waitFor<T>(
  description: string | (() => string),
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let last: unknown = undefined;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() >= deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      const what = typeof description === 'function' ? description() : description;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last: ${detail}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
