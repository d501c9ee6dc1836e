/**
 * Jobs on a real lab (`knode lab up --nodes 2`: pods really run to completion in containerd), driven by
 * the real kubectl: `kubectl create job` runs to Complete and `kubectl logs job/x` shows its output;
 * completions/parallelism; Indexed Jobs (JOB_COMPLETION_INDEX, hostnames, completedIndexes); a failing
 * Job stops at its backoffLimit; podFailurePolicy FailJob; activeDeadlineSeconds; suspend and resume;
 * a running pod deleted by hand counts as failed and is replaced; ttlSecondsAfterFinished deletes the Job
 * and its pods; no pod keeps the job-tracking finalizer; a template the API refuses is named.
 * Every wait is on a condition; each Job has its own namespace; `lab down` runs in afterAll.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labName, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('jb'));
const IMAGE = 'knode.local/testserver:1.0';

interface JobView {
  metadata: { name: string; uid: string };
  spec: { selector?: { matchLabels?: Record<string, string> } };
  status?: {
    active?: number;
    succeeded?: number;
    failed?: number;
    ready?: number;
    terminating?: number;
    completedIndexes?: string;
    startTime?: string;
    completionTime?: string;
    uncountedTerminatedPods?: { succeeded?: string[]; failed?: string[] };
    conditions?: Array<{ type: string; status: string; reason?: string; message?: string }>;
  };
}

interface PodView {
  metadata: { name: string; finalizers?: string[]; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { hostname?: string; nodeName?: string };
  status?: { phase?: string };
}

async function getJob(ns: string, name: string): Promise<JobView> {
  return JSON.parse(await lab.kubectlOk(['get', 'job', name, '-n', ns, '-o', 'json'])) as JobView;
}

async function jobPods(ns: string, name: string): Promise<PodView[]> {
  const out = await lab.kubectlOk(['get', 'pods', '-n', ns, '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'json']);
  return (JSON.parse(out) as { items: PodView[] }).items;
}

const condition = (j: JobView, type: string) => j.status?.conditions?.find((c) => c.type === type && c.status === 'True');

/** Waits until the Job has the condition (Complete or Failed), and answers the Job then. */
async function waitCondition(ns: string, name: string, type: string, timeoutMs = 90_000): Promise<JobView> {
  let last: JobView | undefined;
  return waitFor(
    () => `job ${ns}/${name} to be ${type} (last status: ${JSON.stringify(last?.status)})`,
    async () => {
      last = await getJob(ns, name);
      return condition(last, type) !== undefined ? last : undefined;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

function job(ns: string, name: string, spec: Record<string, unknown>, podSpec: Record<string, unknown>): unknown {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: ns },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, ...podSpec } } },
  };
}

const sh = (script: string): Record<string, unknown> => ({ containers: [{ name: 'main', image: IMAGE, command: ['sh', '-c', script] }] });

let nsCounter = 0;
async function namespace(): Promise<string> {
  const ns = `jobs-${++nsCounter}`;
  await lab.kubectlOk(['create', 'namespace', ns]);
  return ns;
}

/** Once a Job is finished, none of its pods keeps the tracking finalizer. */
async function expectNoTrackingFinalizers(ns: string, name: string): Promise<void> {
  await waitFor(`the pods of ${ns}/${name} to lose the job-tracking finalizer`, async () => {
    const pods = await jobPods(ns, name);
    return pods.every((p) => !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking'));
  });
}

beforeAll(async () => {
  await lab.up(2);
}, 240_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe.concurrent('Jobs on a lab', () => {
  it('kubectl create job runs to Complete; kubectl get, logs and describe show it', async () => {
    const ns = await namespace();
    await lab.kubectlOk(['create', 'job', 'hello', '-n', ns, `--image=${IMAGE}`, '--', 'sh', '-c', 'echo hello from $(hostname)']);
    const wait = await lab.kubectl(['wait', '-n', ns, '--for=condition=complete', 'job/hello', '--timeout=90s']);
    expect(wait.code, wait.stderr).toBe(0);
    const j = await getJob(ns, 'hello');
    expect(j.status).toMatchObject({ succeeded: 1 });
    expect(j.status?.active ?? 0).toBe(0);
    expect(condition(j, 'Complete')?.reason).toBe('CompletionsReached');
    expect(j.status?.completionTime).toBeDefined();
    expect(j.status?.uncountedTerminatedPods?.succeeded ?? []).toEqual([]);
    expect(await lab.kubectlOk(['get', 'job', 'hello', '-n', ns])).toMatch(/hello\s+Complete\s+1\/1\s+/);
    expect(await lab.kubectlOk(['logs', '-n', ns, 'job/hello'])).toMatch(/^hello from hello-[a-z0-9]{5}\n$/);
    const events = await lab.kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=Job', '-o', 'custom-columns=R:.reason,M:.message', '--no-headers']);
    expect(events).toMatch(/SuccessfulCreate\s+Created pod: hello-/);
    expect(events).toMatch(/Completed\s+Job completed/);
    await expectNoTrackingFinalizers(ns, 'hello');
  }, 120_000);

  it('completions 4 with parallelism 2: four pods succeed, at most two at a time', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'par', { completions: 4, parallelism: 2 }, sh('sleep 1')));
    let maxActive = 0;
    await waitFor('job par to complete', async () => {
      const j = await getJob(ns, 'par');
      maxActive = Math.max(maxActive, j.status?.active ?? 0);
      return condition(j, 'Complete') !== undefined;
    }, { timeoutMs: 90_000, intervalMs: 200 });
    const j = await getJob(ns, 'par');
    expect(j.status?.succeeded).toBe(4);
    expect(maxActive).toBeGreaterThan(0);
    expect(maxActive).toBeLessThanOrEqual(2);
    const pods = await jobPods(ns, 'par');
    expect(pods.filter((p) => p.status?.phase === 'Succeeded')).toHaveLength(4);
    expect(await lab.kubectlOk(['get', 'job', 'par', '-n', ns])).toMatch(/par\s+Complete\s+4\/4\s+/);
  }, 120_000);

  it('Indexed: each index runs once with JOB_COMPLETION_INDEX and hostname <job>-<index>', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'idx', { completions: 3, parallelism: 3, completionMode: 'Indexed' }, sh('echo index=$JOB_COMPLETION_INDEX host=$(hostname)')));
    const j = await waitCondition(ns, 'idx', 'Complete');
    expect(j.status?.completedIndexes).toBe('0-2');
    expect(j.status?.succeeded).toBe(3);
    const pods = await jobPods(ns, 'idx');
    const logs = await Promise.all(pods.map((p) => lab.kubectlOk(['logs', '-n', ns, p.metadata.name])));
    expect(logs.map((l) => l.trim()).sort()).toEqual(['index=0 host=idx-0', 'index=1 host=idx-1', 'index=2 host=idx-2']);
    expect(pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index']).sort()).toEqual(['0', '1', '2']);
  }, 120_000);

  it('a failing Job is retried after a back-off and fails at backoffLimit with BackoffLimitExceeded', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'bad', { backoffLimit: 1 }, sh('echo failing; exit 1')));
    const wait = await lab.kubectl(['wait', '-n', ns, '--for=condition=failed', 'job/bad', '--timeout=90s']);
    expect(wait.code, wait.stderr).toBe(0);
    const j = await getJob(ns, 'bad');
    expect(j.status?.failed).toBe(2);
    expect(j.status?.succeeded ?? 0).toBe(0);
    expect(condition(j, 'Failed')).toMatchObject({ reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' });
    expect(j.status?.completionTime).toBeUndefined();
    expect(await lab.kubectlOk(['get', 'job', 'bad', '-n', ns])).toMatch(/bad\s+Failed\s+0\/1\s+/);
    const pods = await jobPods(ns, 'bad');
    expect(pods.filter((p) => p.status?.phase === 'Failed')).toHaveLength(2);
    await expectNoTrackingFinalizers(ns, 'bad');
  }, 120_000);

  it('podFailurePolicy FailJob on an exit code fails the Job at its first such failure', async () => {
    const ns = await namespace();
    await lab.apply(
      job(ns, 'fatal', { backoffLimit: 6, podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'main', operator: 'In', values: [42] } }] } }, sh('exit 42')),
    );
    const j = await waitCondition(ns, 'fatal', 'Failed');
    expect(j.status?.failed).toBe(1);
    expect(condition(j, 'Failed')?.reason).toBe('PodFailurePolicy');
    expect(condition(j, 'Failed')?.message).toMatch(/^Container main for pod jobs-\d+\/fatal-[a-z0-9]{5} failed with exit code 42 matching FailJob rule at index 0$/);
  }, 120_000);

  it('activeDeadlineSeconds: a Job running too long fails with DeadlineExceeded and its pod is deleted', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'slow', { activeDeadlineSeconds: 3 }, sh('sleep 300')));
    const j = await waitCondition(ns, 'slow', 'Failed');
    expect(condition(j, 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(j.status?.active ?? 0).toBe(0);
    await waitFor('the slow pod to be gone or finished', async () => (await jobPods(ns, 'slow')).every((p) => p.status?.phase === 'Failed' || p.metadata.deletionTimestamp !== undefined));
  }, 120_000);

  it('suspend: no pods while suspended; resuming runs it to Complete', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'later', { suspend: true }, sh('echo resumed')));
    const suspended = await waitCondition(ns, 'later', 'Suspended');
    expect(condition(suspended, 'Suspended')?.reason).toBe('JobSuspended');
    expect(await jobPods(ns, 'later')).toEqual([]);
    expect(suspended.status?.startTime).toBeUndefined();
    expect(await lab.kubectlOk(['get', 'job', 'later', '-n', ns])).toMatch(/later\s+Suspended\s+0\/1\s+/);
    await lab.kubectlOk(['patch', 'job', 'later', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const done = await waitCondition(ns, 'later', 'Complete');
    expect(done.status?.succeeded).toBe(1);
    expect(done.status?.conditions?.find((c) => c.type === 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
  }, 120_000);

  it('suspending a running Job deletes its pod; resuming starts a new one', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'pause', { backoffLimit: 3 }, sh('sleep 300')));
    const first = await waitFor('the pause pod to run', async () => (await jobPods(ns, 'pause')).find((p) => p.status?.phase === 'Running'), { timeoutMs: 60_000 });
    await lab.kubectlOk(['patch', 'job', 'pause', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    const suspended = await waitCondition(ns, 'pause', 'Suspended');
    expect(suspended.status?.startTime).toBeUndefined();
    await waitFor('the pause pod to be gone', async () => (await jobPods(ns, 'pause')).length === 0, { timeoutMs: 60_000 });
    // a pod deleted for suspension is not a failure (its finalizer goes before the delete, as upstream)
    expect((await getJob(ns, 'pause')).status?.failed ?? 0).toBe(0);
    await lab.kubectlOk(['patch', 'job', 'pause', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    const second = await waitFor('a new pause pod to run', async () => (await jobPods(ns, 'pause')).find((p) => p.metadata.name !== first.metadata.name && p.status?.phase === 'Running'), { timeoutMs: 60_000 });
    expect(second.metadata.name).not.toBe(first.metadata.name);
    const resumed = await getJob(ns, 'pause');
    expect(resumed.status?.startTime).toBeDefined();
    expect(resumed.status?.conditions?.find((c) => c.type === 'Suspended')).toMatchObject({ status: 'False', reason: 'JobResumed' });
    await lab.kubectlOk(['delete', 'job', 'pause', '-n', ns]);
  }, 120_000);

  it('deleting a Job without a propagation policy orphans its pods, which lose the tracking finalizer', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'orphans', {}, sh('sleep 300')));
    await waitFor('the orphans pod to run', async () => (await jobPods(ns, 'orphans')).find((p) => p.status?.phase === 'Running'), { timeoutMs: 60_000 });
    // the API's default for batch/v1 Jobs (kubectl sends Background): through the raw API, warned as upstream
    const del = await lab.kubectl(['delete', '--raw', `/apis/batch/v1/namespaces/${ns}/jobs/orphans`]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stderr).toContain('Warning: child pods are preserved by default when jobs are deleted; set propagationPolicy=Background to remove them or set propagationPolicy=Orphan to suppress this warning');
    const pods = await waitFor('the orphaned pod to lose its owner and finalizer', async () => {
      const ps = (JSON.parse(await lab.kubectlOk(['get', 'pods', '-n', ns, '-o', 'json'])) as { items: Array<PodView & { metadata: { ownerReferences?: unknown[] } }> }).items;
      return ps.length === 1 && ps.every((p) => (p.metadata.ownerReferences ?? []).length === 0 && !(p.metadata.finalizers ?? []).includes('batch.kubernetes.io/job-tracking')) ? ps : undefined;
    }, { timeoutMs: 60_000 });
    expect(pods[0]?.status?.phase).toBe('Running');
    await lab.kubectlOk(['delete', 'pods', '--all', '-n', ns, '--wait=false']);
  }, 120_000);

  it('a running pod deleted by hand counts as failed and is replaced', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'victim', { backoffLimit: 3 }, sh('sleep 300')));
    const first = await waitFor('the victim pod to run', async () => (await jobPods(ns, 'victim')).find((p) => p.status?.phase === 'Running'), { timeoutMs: 60_000 });
    await lab.kubectlOk(['delete', 'pod', first.metadata.name, '-n', ns, '--wait=false']);
    const j = await waitFor('the deleted pod to be counted and replaced', async () => {
      const v = await getJob(ns, 'victim');
      const pods = await jobPods(ns, 'victim');
      const replacement = pods.find((p) => p.metadata.name !== first.metadata.name && p.metadata.deletionTimestamp === undefined);
      // (the replacement comes after the 10 s failure back-off; the Job is read before the pods)
      return v.status?.failed === 1 && v.status.active === 1 && replacement !== undefined ? v : undefined;
    }, { timeoutMs: 60_000 });
    expect(j.status?.succeeded ?? 0).toBe(0);
    await lab.kubectlOk(['delete', 'job', 'victim', '-n', ns]);
    await waitFor('the victim job pods to be gone', async () => (await jobPods(ns, 'victim')).length === 0, { timeoutMs: 60_000 });
  }, 120_000);

  it('ttlSecondsAfterFinished deletes the finished Job and its pods', async () => {
    const ns = await namespace();
    await lab.apply(job(ns, 'brief', { ttlSecondsAfterFinished: 2 }, sh('true')));
    await waitCondition(ns, 'brief', 'Complete');
    await waitFor('the job brief to be deleted', async () => (await lab.kubectl(['get', 'job', 'brief', '-n', ns])).stderr.includes('NotFound'), { timeoutMs: 60_000 });
    await waitFor('its pods to be deleted', async () => (await jobPods(ns, 'brief')).length === 0, { timeoutMs: 60_000 });
  }, 120_000);

  it('a Job the API refuses is named with the field at fault, and nothing is created', async () => {
    const ns = await namespace();
    const r = await lab.kubectl(['apply', '-f', '-'], JSON.stringify(job(ns, 'always', {}, { ...sh('true'), restartPolicy: 'Always' })));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"');
    expect((await lab.kubectl(['get', 'job', 'always', '-n', ns])).stderr).toContain('NotFound');
  });

  it('a CronJob made by kubectl create cronjob starts a Job at the next minute, which completes', async () => {
    const ns = await namespace();
    await lab.kubectlOk(['create', 'cronjob', 'tick', '-n', ns, `--image=${IMAGE}`, '--schedule=* * * * *', '--', 'sh', '-c', 'echo tick']);
    expect(await lab.kubectlOk(['get', 'cronjob', 'tick', '-n', ns])).toMatch(/tick\s+\* \* \* \* \*\s+<none>\s+False\s+0\s+<none>\s+/);
    let last: unknown;
    const cj = await waitFor(
      () => `a run of the cronjob to complete (last: ${JSON.stringify(last)})`,
      async () => {
        const v = JSON.parse(await lab.kubectlOk(['get', 'cronjob', 'tick', '-n', ns, '-o', 'json'])) as { metadata: { uid: string }; status?: { lastScheduleTime?: string; lastSuccessfulTime?: string; active?: unknown[] } };
        last = v.status;
        return v.status?.lastSuccessfulTime !== undefined ? v : undefined;
      },
      { timeoutMs: 100_000, intervalMs: 500 },
    );
    expect(cj.status?.lastScheduleTime).toMatch(/:00Z$/);
    const jobs = JSON.parse(await lab.kubectlOk(['get', 'jobs', '-n', ns, '-o', 'json'])) as { items: Array<{ metadata: { name: string; annotations?: Record<string, string>; ownerReferences?: Array<{ kind: string; uid: string }> } }> };
    const run = jobs.items.find((j) => j.metadata.ownerReferences?.some((r) => r.kind === 'CronJob' && r.uid === cj.metadata.uid));
    expect(run?.metadata.name).toMatch(/^tick-\d+$/);
    expect(run?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(cj.status?.lastScheduleTime);
    expect(await lab.kubectlOk(['logs', '-n', ns, `job/${run?.metadata.name ?? ''}`])).toBe('tick\n');
    const events = await lab.kubectlOk(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.kind=CronJob', '-o', 'custom-columns=R:.reason,M:.message', '--no-headers']);
    expect(events).toMatch(/SuccessfulCreate\s+Created job tick-\d+/);
    // kubectl create job --from=cronjob/... (kubectl copies the template) runs as any Job
    await lab.kubectlOk(['create', 'job', 'by-hand', '-n', ns, '--from=cronjob/tick']);
    const manual = await waitCondition(ns, 'by-hand', 'Complete');
    expect(manual.status?.succeeded).toBe(1);
    await lab.kubectlOk(['patch', 'cronjob', 'tick', '-n', ns, '--type=merge', '-p', '{"spec":{"suspend":true}}']);
  }, 120_000);

  it('a CronJob with a bad schedule or time zone is refused with the field named', async () => {
    const ns = await namespace();
    const bad = await lab.kubectl(['create', 'cronjob', 'bad', '-n', ns, `--image=${IMAGE}`, '--schedule=61 * * * *']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('spec.schedule');
    const tz = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tz', namespace: ns },
      spec: { schedule: '0 * * * *', timeZone: 'Mars/Olympus', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: IMAGE }] } } } } },
    };
    const r = await lab.kubectl(['apply', '-f', '-'], JSON.stringify(tz));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('spec.timeZone');
    expect((await lab.kubectl(['get', 'cronjobs', '-n', ns, '-o', 'name'])).stdout).toBe('');
  });
});
