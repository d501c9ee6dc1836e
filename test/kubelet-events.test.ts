/**
 * The kubelet's probe and back-off Events on a real lab (`knode lab up --nodes 1`), read back the way
 * a user reads them: `kubectl get events --field-selector involvedObject.name=POD -o json`.
 *   - a failing liveness probe: Warning Unhealthy `Liveness probe failed: <output>` about the
 *     container, then Normal Killing `Container app failed liveness probe, will be restarted`;
 *   - a failing readiness probe: Warning Unhealthy `Readiness probe failed: ...`, counted up by the
 *     recorder instead of one Event per failure, and no Killing;
 *   - a crash-looping container: Warning BackOff `Back-off restarting failed container app in pod
 *     <name>_<ns>(<uid>)`;
 *   - an image nobody can pull: Normal BackOff `Back-off pulling image "<ref>"`.
 * Every wait is on a condition; `lab down` runs in afterAll whatever happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labName, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('pe'));
const IMAGE = 'knode.local/testserver:1.0';

interface EventView {
  type: string;
  reason: string;
  message: string;
  count?: number;
  involvedObject: { kind: string; name: string; uid?: string; fieldPath?: string };
  source?: { component?: string; host?: string };
}

async function eventsOf(pod: string): Promise<EventView[]> {
  const out = await lab.kubectlOk(['get', 'events', '--field-selector', `involvedObject.name=${pod}`, '-o', 'json']);
  return (JSON.parse(out) as { items: EventView[] }).items;
}

/** Waits until every predicate matches some event of the pod; answers the events then. */
function waitEvents(pod: string, what: string, wanted: ReadonlyArray<(e: EventView) => boolean>, timeoutMs = 90_000): Promise<EventView[]> {
  let last: EventView[] = [];
  return waitFor(
    () => `${pod}: ${what} (events so far: ${JSON.stringify(last.map((e) => [e.type, e.reason, e.message, e.count]))})`,
    async () => {
      last = await eventsOf(pod);
      return wanted.every((w) => last.some(w)) ? last : undefined;
    },
    { timeoutMs, intervalMs: 500 },
  );
}

const is = (type: string, reason: string, message: RegExp | string) => (e: EventView): boolean =>
  e.type === type && e.reason === reason && (typeof message === 'string' ? e.message === message : message.test(e.message));

function pod(name: string, spec: Record<string, unknown>): unknown {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { nodeName: 'w1', terminationGracePeriodSeconds: 1, ...spec } };
}

async function uidOf(name: string): Promise<string> {
  return (await lab.kubectlOk(['get', 'pod', name, '-o', 'jsonpath={.metadata.uid}'])).trim();
}

beforeAll(async () => {
  await lab.up(1);
  await waitFor('w1 Ready', async () => /\bw1\s+Ready\s/.test(await lab.kubectlOk(['get', 'nodes', '--no-headers'])), { timeoutMs: 60_000, intervalMs: 500 });
}, 240_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('kubelet events', () => {
  it('records Unhealthy then Killing "failed liveness probe, will be restarted" for a failing liveness probe', async () => {
    await lab.apply(
      pod('live-ev', {
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sh', '-c', 'sleep 2; touch /tmp/dead; sleep 3600'],
            livenessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/dead || { echo dead-marker; exit 1; }'] }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
      }),
    );
    const events = await waitEvents('live-ev', 'Unhealthy and Killing', [
      is('Warning', 'Unhealthy', 'Liveness probe failed: dead-marker\n'),
      is('Normal', 'Killing', 'Container app failed liveness probe, will be restarted'),
    ]);
    const unhealthy = events.find(is('Warning', 'Unhealthy', /^Liveness probe failed: /));
    expect(unhealthy?.involvedObject).toMatchObject({ kind: 'Pod', name: 'live-ev', fieldPath: 'spec.containers{app}' });
    expect(unhealthy?.source).toMatchObject({ component: 'kubelet', host: 'w1' });
    // the restart itself: a second Started after the kill
    await waitEvents('live-ev', 'Started twice', [(e) => e.reason === 'Started' && (e.count ?? 1) >= 2]);
  });

  it('records Unhealthy for a failing readiness probe, counted up, and never Killing', async () => {
    await lab.apply(
      pod('ready-ev', {
        containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'sleep 3600'], readinessProbe: { exec: { command: ['sh', '-c', 'echo not-yet; exit 1'] }, periodSeconds: 1 } }],
      }),
    );
    const events = await waitEvents('ready-ev', 'Unhealthy counted at least 3 times', [(e) => is('Warning', 'Unhealthy', 'Readiness probe failed: not-yet\n')(e) && (e.count ?? 1) >= 3]);
    expect(events.filter((e) => e.reason === 'Unhealthy')).toHaveLength(1);
    expect(events.some((e) => e.reason === 'Killing')).toBe(false);
  });

  it('records Warning BackOff "Back-off restarting failed container" for a crash-looping container', async () => {
    await lab.apply(pod('crash-ev', { containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'exit 3'] }] }));
    const uid = await uidOf('crash-ev');
    const events = await waitEvents('crash-ev', 'BackOff', [is('Warning', 'BackOff', `Back-off restarting failed container app in pod crash-ev_default(${uid})`)]);
    expect(events.find((e) => e.reason === 'BackOff')?.involvedObject.fieldPath).toBe('spec.containers{app}');
  });

  it('records Normal BackOff "Back-off pulling image" for an image nobody can pull', async () => {
    await lab.apply(pod('pull-ev', { containers: [{ name: 'app', image: 'knode.local/absent:1.0', imagePullPolicy: 'IfNotPresent' }] }));
    await waitEvents('pull-ev', 'pull BackOff', [
      is('Normal', 'BackOff', 'Back-off pulling image "knode.local/absent:1.0"'),
      is('Warning', 'Failed', 'Error: ImagePullBackOff'),
      is('Warning', 'Failed', 'Error: ErrImagePull'),
    ]);
  });
});
