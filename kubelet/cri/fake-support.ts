/**
 * What both fakes share: call recording, scripted failures, id generation and CRI-style errors,
 * so kubelet tests can assert "RemoveContainer was called once with id X" or make the next
 * RunPodSandbox fail exactly like a real runtime would (same error classes as the remote client).
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../lib/clock.js';
import { criErrorFromStatus } from './errors.js';
import type { CriError } from './errors.js';
import { dateToNs } from './time.js';

export interface FakeCall<M extends string = string> {
  readonly method: M;
  readonly request: unknown;
}

export class CallRecorder<M extends string> {
  private readonly log: FakeCall<M>[] = [];
  private readonly failures = new Map<M, unknown[]>();

  /** Every call so far, oldest first. */
  get calls(): readonly FakeCall<M>[] {
    return this.log;
  }

  /** Requests of one method, oldest first. */
  requestsOf(method: M): readonly unknown[] {
    return this.log.filter((c) => c.method === method).map((c) => c.request);
  }

  clear(): void {
    this.log.length = 0;
  }

  /** The next `times` calls of `method` reject with `error` (after being recorded). */
  failNext(method: M, error: unknown, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(error);
    this.failures.set(method, queue);
  }

  /** Records the call and throws a scripted failure if one is queued. */
  enter(method: M, request: unknown): void {
    this.log.push({ method, request: structuredClone(request) });
    const queue = this.failures.get(method);
    if (queue && queue.length > 0) throw queue.shift();
  }
}

/** 64 hex digits like containerd's ids, deterministic per fake instance and kind. */
export function fakeId(kind: string, n: number): string {
  return createHash('sha256').update(`${kind}-${n}`).digest('hex');
}

/**
 * Nanosecond timestamps that never repeat within one fake even when a FakeClock stands still:
 * real runtimes never hand out two equal creation times, and kubelets sort by them.
 */
export class FakeNanoClock {
  private seq = 0n;
  constructor(private readonly clock: Clock) {}
  now(): bigint {
    this.seq = (this.seq + 1n) % 1_000_000n;
    return dateToNs(this.clock.now()) + this.seq;
  }
}

export function fakeError(operation: string, grpcCode: number, details: string): CriError {
  return criErrorFromStatus(operation, grpcCode, details);
}

export function matchesLabels(labels: Readonly<Record<string, string>>, selector: Readonly<Record<string, string>> | undefined): boolean {
  if (!selector) return true;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** containerd accepts an id or any unique prefix of one; a filter with no match lists nothing. */
export function matchesId(id: string, wanted: string | undefined): boolean {
  return !wanted || id.startsWith(wanted);
}
