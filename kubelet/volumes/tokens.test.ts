import { describe, expect, it } from 'vitest';
import type { Pod } from '../../api/core/pod.js';
import type { Clock } from '../../lib/clock.js';
import { FakeClock, rfc3339 } from '../../lib/clock.js';
import { ServiceAccountTokenError, ServiceAccountTokenManager, requestedExpirationSeconds, tokenRefreshAt } from './tokens.js';
import type { TokenRequest } from './tokens.js';

const S = 1000;
const H = 3600 * S;

const pod = (uid = 'uid-1', serviceAccountName = 'robot'): Pod => ({
  metadata: { name: `web-${uid}`, namespace: 'shop', uid },
  spec: { containers: [{ name: 'app' }], serviceAccountName },
});

/** A TokenRequest endpoint: answers `tok-<n>` valid for what was asked (or `grantSeconds`), or fails. */
class FakeTokenApi {
  readonly calls: Array<{ ns: string; sa: string; body: TokenRequest }> = [];
  grantSeconds: number | undefined;
  failWith: Error | undefined;
  answer: ((req: TokenRequest) => TokenRequest) | undefined;
  private pending: Array<() => void> = [];
  hold = false;
  constructor(private readonly clock: Clock) {}
  readonly request = async (ns: string, sa: string, body: TokenRequest): Promise<TokenRequest> => {
    this.calls.push({ ns, sa, body });
    if (this.hold) await new Promise<void>((r) => this.pending.push(r));
    if (this.failWith) throw this.failWith;
    if (this.answer) return this.answer(body);
    const seconds = this.grantSeconds ?? body.spec.expirationSeconds;
    return { ...body, status: { token: `tok-${this.calls.length}`, expirationTimestamp: rfc3339(new Date(this.clock.now().getTime() + seconds * S)) } };
  };
  release(): void {
    this.hold = false;
    for (const r of this.pending.splice(0)) r();
  }
}

function setup(clock: Clock = new FakeClock()) {
  const api = new FakeTokenApi(clock);
  const mgr = new ServiceAccountTokenManager({ request: api.request, clock });
  return { api, mgr };
}

describe('ServiceAccountTokenManager', () => {
  it('asks for a token bound to the pod, then serves it from the cache', async () => {
    const { api, mgr } = setup();
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-1');
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-1');
    expect(api.calls).toEqual([
      {
        ns: 'shop',
        sa: 'robot',
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          metadata: {},
          spec: { audiences: [], expirationSeconds: 3607, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-uid-1', uid: 'uid-1' } },
        },
      },
    ]);
  });

  it('asks for the audience, at least 600 s, 3600 s by default', async () => {
    const { api, mgr } = setup();
    await mgr.get(pod(), { audience: 'vault', expirationSeconds: 60 });
    await mgr.get(pod(), {});
    expect(api.calls.map((c) => c.body.spec.audiences)).toEqual([['vault'], []]);
    expect(api.calls.map((c) => c.body.spec.expirationSeconds)).toEqual([600, 3600]);
    expect([requestedExpirationSeconds(undefined), requestedExpirationSeconds(599), requestedExpirationSeconds(7200)]).toEqual([3600, 600, 7200]);
  });

  it('caches per pod uid, audience and expirationSeconds', async () => {
    const { api, mgr } = setup();
    const got = [
      await mgr.get(pod('a'), { expirationSeconds: 3600 }),
      await mgr.get(pod('b'), { expirationSeconds: 3600 }),
      await mgr.get(pod('a'), { audience: 'vault', expirationSeconds: 3600 }),
      await mgr.get(pod('a'), { expirationSeconds: 7200 }),
      await mgr.get(pod('a'), { expirationSeconds: 3600 }),
      await mgr.get(pod('a'), { audience: '', expirationSeconds: 3600 }),
    ];
    expect(got).toEqual(['tok-1', 'tok-2', 'tok-3', 'tok-4', 'tok-1', 'tok-1']);
    expect(mgr.size).toBe(4);
  });

  it('refreshes once 80% of the lifetime passed (3607 s: after 2885.6 s)', async () => {
    const clock = new FakeClock();
    const { api, mgr } = setup(clock);
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-1');
    await clock.advance(2885 * S);
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-1');
    await clock.advance(1 * S);
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-2');
    expect(await mgr.get(pod(), { expirationSeconds: 3607 })).toBe('tok-2');
    expect(api.calls).toHaveLength(2);
  });

  it('trusts the expiry the apiserver granted over the one asked for', async () => {
    const clock = new FakeClock();
    const { mgr, api } = setup(clock);
    api.grantSeconds = 1200;
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-1');
    await clock.advance(959 * S);
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-1');
    await clock.advance(1 * S);
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-2');
  });

  it('refreshes a long-lived token after 24 h', async () => {
    const clock = new FakeClock();
    const { mgr } = setup(clock);
    expect(await mgr.get(pod(), { expirationSeconds: 48 * 3600 })).toBe('tok-1');
    await clock.advance(24 * H - S);
    expect(await mgr.get(pod(), { expirationSeconds: 48 * 3600 })).toBe('tok-1');
    await clock.advance(S);
    expect(await mgr.get(pod(), { expirationSeconds: 48 * 3600 })).toBe('tok-2');
    expect(tokenRefreshAt(0, 48 * H)).toBe(24 * H);
    expect(tokenRefreshAt(0, H)).toBe(0.8 * H);
  });

  it('refreshes when the clock went back before the token was issued', async () => {
    let now = Date.UTC(2026, 0, 1, 12);
    const clock: Clock = { now: () => new Date(now), sleep: async () => undefined };
    const { mgr } = setup(clock);
    expect(await mgr.get(pod(), {})).toBe('tok-1');
    now -= 60 * S;
    expect(await mgr.get(pod(), {})).toBe('tok-2');
  });

  it('keeps serving the cached token while a refresh fails, until it expires', async () => {
    const clock = new FakeClock();
    const { api, mgr } = setup(clock);
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-1');
    await clock.advance(0.9 * H);
    api.failWith = new Error('connect ECONNREFUSED 10.0.0.1:6443');
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-1');
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-1');
    expect(api.calls).toHaveLength(3);
    await clock.advance(0.1 * H);
    const err = await mgr.get(pod(), { expirationSeconds: 3600 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceAccountTokenError);
    expect((err as Error).message).toBe('token expired and refresh failed: connect ECONNREFUSED 10.0.0.1:6443');
    api.failWith = undefined;
    expect(await mgr.get(pod(), { expirationSeconds: 3600 })).toBe('tok-5');
  });

  it('fails with the reason when there is no token to fall back on', async () => {
    const { api, mgr } = setup();
    api.failWith = new Error('serviceaccounts "robot" not found');
    await expect(mgr.get(pod(), {})).rejects.toThrow(new ServiceAccountTokenError('failed to fetch token: serviceaccounts "robot" not found'));
    await expect(mgr.get(pod('uid-2', ''), {})).rejects.toThrow(/needs a uid, a namespace and spec.serviceAccountName/);
    expect(mgr.size).toBe(0);
  });

  it('refuses an answer without a token or a usable expiry', async () => {
    const { api, mgr } = setup();
    api.answer = (req) => ({ ...req, status: { expirationTimestamp: '2026-01-01T01:00:00Z' } });
    await expect(mgr.get(pod(), {})).rejects.toThrow('failed to fetch token: the apiserver answered the TokenRequest without a token');
    api.answer = (req) => ({ ...req, status: { token: 'x', expirationTimestamp: 'soon' } });
    await expect(mgr.get(pod(), {})).rejects.toThrow('failed to fetch token: the apiserver answered the TokenRequest with expirationTimestamp "soon"');
  });

  it('shares one request between concurrent callers', async () => {
    const { api, mgr } = setup();
    api.hold = true;
    const both = Promise.all([mgr.get(pod(), {}), mgr.get(pod(), {})]);
    await new Promise((r) => setImmediate(r));
    api.release();
    expect(await both).toEqual(['tok-1', 'tok-1']);
    expect(api.calls).toHaveLength(1);
  });

  it('forgets a pod: its tokens, and an answer still in flight', async () => {
    const { api, mgr } = setup();
    await mgr.get(pod('a'), {});
    await mgr.get(pod('b'), {});
    mgr.forget('a');
    expect(mgr.size).toBe(1);
    expect(await mgr.get(pod('a'), {})).toBe('tok-3');
    expect(await mgr.get(pod('b'), {})).toBe('tok-2');

    api.hold = true;
    const late = mgr.get(pod('c'), {});
    await new Promise((r) => setImmediate(r));
    mgr.forget('c');
    api.release();
    expect(await late).toBe('tok-4');
    expect(mgr.size).toBe(2);
  });
});
