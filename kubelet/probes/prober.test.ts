import { describe, expect, it } from 'vitest';
import type { Container, Probe } from '../../api/core/pod.js';
import type { ProbeKind } from '../types.js';
import type { HttpGetRequest } from './http-get.js';
import { MAX_PROBE_RETRIES, probeEvent, Prober } from './prober.js';
import type { ProbeEvent } from './prober.js';
import type { ProbeRunners } from './runners.js';
import type { ContainerEvent, ProbeOutcome } from './settings.js';
import { testPod } from './test-support.js';

interface Call {
  readonly handler: string;
  readonly args: readonly unknown[];
}

function fakeRunners(outcomes: ProbeOutcome[]): { runners: ProbeRunners; calls: Call[] } {
  const calls: Call[] = [];
  const next = (handler: string, args: unknown[]): Promise<ProbeOutcome> => {
    calls.push({ handler, args });
    return Promise.resolve(outcomes.length > 1 ? (outcomes.shift() as ProbeOutcome) : (outcomes[0] as ProbeOutcome));
  };
  return {
    calls,
    runners: {
      exec: (id, cmd, t) => next('exec', [id, cmd, t]),
      http: (req: HttpGetRequest, t) => next('http', [req.url.href, t]),
      tcp: (host, port, t) => next('tcp', [host, port, t]),
      grpc: (host, port, svc, t) => next('grpc', [host, port, svc, t]),
    },
  };
}

const container: Container = { name: 'app', ports: [{ name: 'http', containerPort: 8080 }] };
const target = { pod: testPod(), container, containerId: 'c1', podIP: '10.244.0.7' };

async function probeOnce(kind: ProbeKind, probe: Probe, outcomes: ProbeOutcome[]) {
  const events: ContainerEvent[] = [];
  const { runners, calls } = fakeRunners(outcomes);
  const verdict = await new Prober(runners, (e) => events.push(e)).probe(kind, probe, target);
  return { verdict, events, calls };
}

describe('Prober dispatch', () => {
  const cases: Array<{ name: string; probe: Probe; handler: string; args: unknown[] }> = [
    { name: 'exec runs the command in the container with timeoutSeconds', probe: { exec: { command: ['cat', '/ok'] }, timeoutSeconds: 3 }, handler: 'exec', args: ['c1', ['cat', '/ok'], 3] },
    { name: 'httpGet goes to the pod IP and the named port', probe: { httpGet: { port: 'http', path: '/healthz' } }, handler: 'http', args: ['http://10.244.0.7:8080/healthz', 1] },
    { name: 'tcpSocket goes to the pod IP by default', probe: { tcpSocket: { port: 8080 } }, handler: 'tcp', args: ['10.244.0.7', 8080, 1] },
    { name: 'tcpSocket honours host', probe: { tcpSocket: { port: 'http', host: '10.0.0.1' } }, handler: 'tcp', args: ['10.0.0.1', 8080, 1] },
    { name: 'grpc goes to the pod IP with the service name', probe: { grpc: { port: 9000, service: 'ready' }, timeoutSeconds: 2 }, handler: 'grpc', args: ['10.244.0.7', 9000, 'ready', 2] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { verdict, calls } = await probeOnce('readiness', c.probe, [{ result: 'success', output: '' }]);
      expect(verdict.result).toBe('success');
      expect(calls).toEqual([{ handler: c.handler, args: c.args }]);
    });
  }
});

describe('Prober verdicts and events', () => {
  it('a failure records Warning Unhealthy "<Kind> probe failed: <output>"', async () => {
    const { verdict, events } = await probeOnce('liveness', { httpGet: { port: 8080 } }, [{ result: 'failure', output: 'HTTP probe failed with statuscode: 500' }]);
    expect(verdict).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 500' });
    expect(events).toEqual([
      expect.objectContaining({ containerName: 'app', type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500' }),
    ]);
  });

  it('a warning counts as success and records ProbeWarning', async () => {
    const { verdict, events } = await probeOnce('readiness', { httpGet: { port: 8080 } }, [{ result: 'warning', output: 'Probe terminated redirects, Response body: ' }]);
    expect(verdict.result).toBe('success');
    expect(events.map((e) => [e.reason, e.message])).toEqual([['ProbeWarning', 'Readiness probe warning: Probe terminated redirects, Response body: ']]);
  });

  it('a success records nothing', async () => {
    expect((await probeOnce('readiness', { tcpSocket: { port: 80 } }, [{ result: 'success', output: '' }])).events).toEqual([]);
  });

  it('errors are retried up to three times, then reported as an error to discard', async () => {
    const err = { result: 'unknown' as const, output: '', error: new Error('rpc error: code = Unknown desc = container is stopping') };
    const { verdict, events, calls } = await probeOnce('startup', { exec: { command: ['true'] } }, [err]);
    expect(calls).toHaveLength(MAX_PROBE_RETRIES);
    expect(verdict.result).toBe('error');
    expect(events.map((e) => e.message)).toEqual(['Startup probe errored and resulted in unknown state: rpc error: code = Unknown desc = container is stopping']);
  });

  it('an error followed by a result uses the result', async () => {
    const { verdict, calls } = await probeOnce('readiness', { exec: { command: ['true'] } }, [
      { result: 'unknown', output: '', error: new Error('transient') },
      { result: 'success', output: 'ok' },
    ]);
    expect(verdict.result).toBe('success');
    expect(calls).toHaveLength(2);
  });

  it('an undeclared port name is an error with upstream wording, no handler runs', async () => {
    const { verdict, events, calls } = await probeOnce('readiness', { httpGet: { port: 'metrics' } }, [{ result: 'success', output: '' }]);
    expect(verdict.result).toBe('error');
    expect(calls).toEqual([]);
    expect(events.map((e) => e.message)).toEqual(['Readiness probe errored and resulted in unknown state: strconv.Atoi: parsing "metrics": invalid syntax']);
  });
});

describe('probeEvent (upstream prober.go wording)', () => {
  const err = (message: string): ProbeOutcome => ({ result: 'unknown', output: '', error: new Error(message) });
  const cases: Array<{ name: string; kind: ProbeKind; outcome: ProbeOutcome; cancelled?: boolean; want: ProbeEvent | undefined }> = [
    { name: 'a success records nothing', kind: 'liveness', outcome: { result: 'success', output: 'ok' }, want: undefined },
    {
      name: 'a failed liveness probe: Unhealthy with the output',
      kind: 'liveness',
      outcome: { result: 'failure', output: 'HTTP probe failed with statuscode: 500' },
      want: { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500' },
    },
    {
      name: 'a failed readiness probe keeps exec output as it came, newline included',
      kind: 'readiness',
      outcome: { result: 'failure', output: 'not ready\n' },
      want: { type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: not ready\n' },
    },
    {
      name: 'a failed startup probe with no output ends with ": "',
      kind: 'startup',
      outcome: { result: 'failure', output: '' },
      want: { type: 'Warning', reason: 'Unhealthy', message: 'Startup probe failed: ' },
    },
    {
      name: 'an exec timeout is a failure',
      kind: 'liveness',
      outcome: { result: 'failure', output: 'command "sleep 5" timed out' },
      want: { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe failed: command "sleep 5" timed out' },
    },
    {
      name: 'a redirect to another host: ProbeWarning',
      kind: 'readiness',
      outcome: { result: 'warning', output: 'Probe terminated redirects, Response body: moved' },
      want: { type: 'Warning', reason: 'ProbeWarning', message: 'Readiness probe warning: Probe terminated redirects, Response body: moved' },
    },
    {
      name: 'an errored probe: Unhealthy "errored and resulted in unknown state"',
      kind: 'liveness',
      outcome: err('rpc error: code = NotFound desc = container not found'),
      want: { type: 'Warning', reason: 'Unhealthy', message: 'Liveness probe errored and resulted in unknown state: rpc error: code = NotFound desc = container not found' },
    },
    { name: 'a run cancelled because its worker stopped records nothing', kind: 'readiness', outcome: err('probe cancelled'), cancelled: true, want: undefined },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(probeEvent(c.kind, c.outcome, c.cancelled)).toEqual(c.want);
    });
  }

  it('records on every failed run (the recorder aggregates), not once per threshold', async () => {
    const events: ContainerEvent[] = [];
    const { runners } = fakeRunners([{ result: 'failure', output: 'down' }]);
    const prober = new Prober(runners, (e) => events.push(e));
    for (let i = 0; i < 3; i++) await prober.probe('liveness', { exec: { command: ['false'] }, failureThreshold: 3 }, target);
    expect(events.map((e) => `${e.type} ${e.reason} ${e.containerName}: ${e.message}`)).toEqual(Array(3).fill('Warning Unhealthy app: Liveness probe failed: down'));
  });
});
