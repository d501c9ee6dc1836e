/**
 * Pods on a real lab: `knode lab up --nodes 2` (the built CLI: knode server, two containerd, two
 * `knode agent`), driven by the real kubectl. Covers what a user sees of the kubelet: nodes Ready,
 * pods Running and Ready with an IP from their node's /24, env / downward API / ConfigMap and Secret
 * volumes, liveness restarts, readiness without restarts, CrashLoopBackOff with a growing back-off,
 * init containers in order, ImagePullBackOff, CreateContainerConfigError, graceful deletion with
 * preStop, `kubectl logs` (+ --previous), a projected service account token, an agent restart that restarts no container, and a node
 * that goes NotReady while its containerd is down and comes back.
 *
 * The independent pod checks run concurrently; the disruptive ones (agent restart, containerd stop)
 * run after them. Every wait is on a condition. `lab down` runs in afterAll whatever happened.
 * IP plan: test/helpers/ip-plan.ts (pods on worker i: 10.244.i.0/24).
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinCgroup } from '../lab/cgroups.js';
import { startContainerd, stopContainerd } from '../lab/containerd/instance.js';
import type { ContainerdInstance } from '../lab/containerd/instance.js';
import { procStat, realLauncher } from '../lab/processes.js';
import { readLabState, stateFilePath, writeFileAtomic } from '../lab/state.js';
import type { LabState, ProcessRecord } from '../lab/state.js';
import { CLI } from './helpers/server.js';
import { waitFor } from './helpers/wait.js';

const LAB = `kp${Math.random().toString(36).slice(2, 8).replace(/[^a-z0-9]/g, 'a').padEnd(6, 'a')}`;
const STATE_DIR = join('/var/lib/knode-lab', LAB);
const KUBECONFIG = join(STATE_DIR, 'cp', 'admin.kubeconfig');
const HOST_DIR = `/tmp/knode-e2e-${LAB}`;
const IMAGE = 'knode.local/testserver:1.0';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], input?: string, timeoutMs = 120_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

const knode = (args: readonly string[]): Promise<Run> => run(process.execPath, [CLI, ...args], undefined, 180_000);
const kubectl = (args: readonly string[], input?: string): Promise<Run> => run('kubectl', ['--kubeconfig', KUBECONFIG, ...args], input, 60_000);

async function kubectlOk(args: readonly string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}`);
  return r.stdout;
}

const apply = (obj: unknown): Promise<string> => kubectlOk(['apply', '-f', '-'], JSON.stringify(obj));

interface PodView {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    podIP?: string;
    conditions?: Array<{ type: string; status: string }>;
    initContainerStatuses?: ContainerStatusView[];
    containerStatuses?: ContainerStatusView[];
  };
}

interface ContainerStatusView {
  name: string;
  ready: boolean;
  restartCount: number;
  containerID?: string;
  state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { reason?: string; exitCode: number } };
  lastState?: { terminated?: { reason?: string; exitCode: number } };
}

async function getPod(name: string): Promise<PodView | undefined> {
  const r = await kubectl(['get', 'pod', name, '-o', 'json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as PodView) : undefined;
}

const container = (p: PodView | undefined, name = 'app'): ContainerStatusView | undefined => p?.status?.containerStatuses?.find((c) => c.name === name);
const podReady = (p: PodView | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

function waitPod(name: string, what: string, ok: (p: PodView) => boolean, timeoutMs = 60_000): Promise<PodView> {
  let last: PodView | undefined;
  return waitFor(
    () => `pod ${name}: ${what} (last status: ${JSON.stringify(last?.status ?? null)})`,
    async () => {
      last = await getPod(name);
      return last !== undefined && ok(last) ? last : undefined;
    },
    { timeoutMs, intervalMs: 250 },
  );
}

function pod(name: string, node: string, spec: Record<string, unknown>, labels?: Record<string, string>): unknown {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, ...(labels ? { labels } : {}) }, spec: { nodeName: node, terminationGracePeriodSeconds: 2, ...spec } };
}

async function nodeLine(node: string): Promise<string> {
  const out = await kubectlOk(['get', 'nodes', '--no-headers']);
  return out.split('\n').find((l) => l.startsWith(`${node} `)) ?? '';
}

async function labState(): Promise<LabState> {
  const s = await readLabState(STATE_DIR);
  if (s === undefined) throw new Error(`no lab state in ${STATE_DIR}`);
  return s;
}

/** Replaces the record of a restarted process, so `lab down` stops the new one by pid. */
async function recordRestart(host: string, kind: ProcessRecord['kind'], pid: number, extra: Partial<ProcessRecord> = {}): Promise<void> {
  const st = await procStat(pid);
  const state = await labState();
  const processes = state.processes.map((p) => (p.host === host && p.kind === kind ? { ...p, ...extra, pid, startTime: st?.startTime ?? '' } : p));
  await writeFileAtomic(stateFilePath(STATE_DIR), `${JSON.stringify({ ...state, processes }, null, 2)}\n`);
  const cg = state.cgroups.find((c) => c.endsWith(`/${host}`));
  if (cg !== undefined) await joinCgroup(cg, pid).catch(() => undefined);
}

beforeAll(async () => {
  await mkdir(HOST_DIR, { recursive: true });
  const r = await knode(['lab', 'up', '--nodes', '2', '--name', LAB]);
  if (r.code !== 0) throw new Error(`knode lab up failed (${r.code}):\n${r.stderr}`);
}, 240_000);

afterAll(async () => {
  const r = await knode(['lab', 'down', '--name', LAB]);
  await rm(HOST_DIR, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`knode lab down failed (${r.code}):\n${r.stderr}`);
}, 180_000);

describe('kubelet: nodes', () => {
  it('shows both workers Ready in kubectl', async () => {
    await waitFor('w1 and w2 Ready', async () => /\sReady\s/.test(await nodeLine('w1')) && /\sReady\s/.test(await nodeLine('w2')));
  });
});

describe.concurrent('kubelet: pods', () => {
  it('runs a pod on each node, Running and Ready, with an IP from the node range', async ({ expect }) => {
    const probe = { httpGet: { path: '/healthz', port: 8083 }, periodSeconds: 1 };
    await apply(pod('web-w1', 'w1', { containers: [{ name: 'app', image: IMAGE, readinessProbe: probe }] }));
    await apply(pod('web-w2', 'w2', { containers: [{ name: 'app', image: IMAGE, readinessProbe: probe }] }));
    for (const [name, i] of [['web-w1', 1], ['web-w2', 2]] as const) {
      const p = await waitPod(name, 'Running and Ready', (x) => x.status?.phase === 'Running' && podReady(x));
      expect(p.status?.podIP).toMatch(new RegExp(`^10\\.244\\.${i}\\.\\d+$`));
      const wide = await kubectlOk(['get', 'pod', name, '-o', 'wide', '--no-headers']);
      expect(wide).toMatch(new RegExp(`^${name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+10\\.244\\.${i}\\.\\d+\\s+w${i}\\s`));
    }
  });

  it('gives a container its env, downward API values and ConfigMap/Secret volumes (seen in kubectl logs)', async ({ expect }) => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { 'a.txt': 'hello-from-configmap', key1: 'value-one' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'sec' }, stringData: { 's.txt': 'secret-value' } });
    await apply(
      pod(
        'envpod',
        'w2',
        {
          containers: [
            {
              name: 'app',
              image: IMAGE,
              command: ['sh', '-c', 'env; for f in /etc/cfg/* /etc/sec/* /etc/podinfo/*; do cat $f; echo; done; sleep 3600'],
              env: [
                { name: 'PLAIN', value: 'plain-$(MY_POD)' },
                { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'key1' } } },
                { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
                { name: 'MY_NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
                { name: 'MY_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
              ],
              volumeMounts: [
                { name: 'cfg', mountPath: '/etc/cfg' },
                { name: 'sec', mountPath: '/etc/sec' },
                { name: 'podinfo', mountPath: '/etc/podinfo' },
              ],
            },
          ],
          volumes: [
            { name: 'cfg', configMap: { name: 'cfg' } },
            { name: 'sec', secret: { secretName: 'sec' } },
            { name: 'podinfo', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          ],
        },
        { app: 'envy' },
      ),
    );
    const p = await waitPod('envpod', 'Running', (x) => x.status?.phase === 'Running');
    const logs = await waitFor('envpod logs with the volume contents', async () => {
      const r = await kubectl(['logs', 'envpod']);
      return r.code === 0 && r.stdout.includes('secret-value') ? r.stdout : undefined;
    });
    expect(logs).toContain('FROM_CM=value-one');
    expect(logs).toContain('MY_POD=envpod');
    expect(logs).toContain('MY_NODE=w2');
    expect(logs).toContain(`MY_IP=${p.status?.podIP ?? 'none'}`);
    expect(logs).toContain('PLAIN=plain-$(MY_POD)'); // defined after PLAIN: not expanded, as upstream
    expect(logs).toContain('KUBERNETES_SERVICE_HOST=10.96.0.1');
    expect(logs).toContain('hello-from-configmap');
    expect(logs).toContain('app="envy"');
  });

  it('restarts a container whose liveness probe fails, and kubectl logs --previous shows the run before', async ({ expect }) => {
    await apply(
      pod('liveness', 'w1', {
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sh', '-c', 'echo boot-$(cat /proc/sys/kernel/random/uuid); sleep 3; touch /tmp/dead; sleep 3600'],
            livenessProbe: { exec: { command: ['sh', '-c', 'test ! -e /tmp/dead'] }, periodSeconds: 1, failureThreshold: 1 },
          },
        ],
      }),
    );
    const p = await waitPod('liveness', 'restarted once', (x) => (container(x)?.restartCount ?? 0) >= 1 && container(x)?.state?.running !== undefined);
    expect(container(p)?.lastState?.terminated).toBeDefined();
    const boot = (text: string): string | undefined => /boot-[0-9a-f-]{36}/.exec(text)?.[0];
    const current = await waitFor('current logs', async () => boot((await kubectl(['logs', 'liveness'])).stdout));
    const previous = boot(await kubectlOk(['logs', 'liveness', '--previous']));
    expect(previous).toBeDefined();
    expect(previous).not.toBe(current);
  });

  it('keeps a container that fails readiness un-Ready without restarting it, until it passes', async ({ expect }) => {
    await apply(
      pod('readiness', 'w2', {
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sh', '-c', 'sleep 5; touch /tmp/ready; sleep 3600'],
            readinessProbe: { exec: { command: ['test', '-e', '/tmp/ready'] }, periodSeconds: 1 },
          },
        ],
      }),
    );
    const unready = await waitPod('readiness', 'running but not Ready', (x) => container(x)?.state?.running !== undefined && container(x)?.ready === false);
    expect(podReady(unready)).toBe(false);
    const ready = await waitPod('readiness', 'Ready', (x) => podReady(x));
    expect(container(ready)?.restartCount).toBe(0);
  });

  it('backs off a crashing container with CrashLoopBackOff and a growing delay', async ({ expect }) => {
    await apply(pod('crasher', 'w1', { containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'echo crash-marker; exit 3'] }] }));
    const first = await waitPod('crasher', 'CrashLoopBackOff 10s', (x) => /back-off 10s/.test(container(x)?.state?.waiting?.message ?? ''));
    expect(container(first)?.state?.waiting?.reason).toBe('CrashLoopBackOff');
    expect(container(first)?.lastState?.terminated?.exitCode).toBe(3);
    const second = await waitPod('crasher', 'CrashLoopBackOff 20s', (x) => /back-off 20s/.test(container(x)?.state?.waiting?.message ?? ''), 90_000);
    expect(container(second)?.restartCount).toBeGreaterThanOrEqual(2);
    expect(await kubectlOk(['get', 'pod', 'crasher', '--no-headers'])).toMatch(/CrashLoopBackOff/);
    expect(await kubectlOk(['logs', 'crasher', '--previous'])).toContain('crash-marker');
  }, 150_000);

  it('runs init containers one after the other before the app container', async ({ expect }) => {
    await apply(
      pod('initpod', 'w1', {
        initContainers: [
          { name: 'init1', image: IMAGE, command: ['sh', '-c', 'echo one >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
          { name: 'init2', image: IMAGE, command: ['sh', '-c', 'echo two >> /work/order'], volumeMounts: [{ name: 'work', mountPath: '/work' }] },
        ],
        containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'cat /work/order; sleep 3600'], volumeMounts: [{ name: 'work', mountPath: '/work' }] }],
        volumes: [{ name: 'work', emptyDir: {} }],
      }),
    );
    const p = await waitPod('initpod', 'Running', (x) => x.status?.phase === 'Running');
    expect(p.status?.initContainerStatuses?.map((c) => [c.name, c.state?.terminated?.reason])).toEqual([
      ['init1', 'Completed'],
      ['init2', 'Completed'],
    ]);
    const logs = await waitFor('initpod logs', async () => {
      const r = await kubectl(['logs', 'initpod']);
      return r.code === 0 && r.stdout.includes('two') ? r.stdout : undefined;
    });
    expect(logs.trim()).toBe('one\ntwo');
  });

  it('updates a running pod\'s ConfigMap and Secret volumes within about a minute of an edit (env vars keep their start value)', async ({ expect }) => {
    await apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'live-cfg' }, data: { mode: 'blue' } });
    await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'live-sec' }, stringData: { pass: 'one' } });
    await apply(
      pod('livecfg', 'w1', {
        containers: [
          {
            name: 'app',
            image: IMAGE,
            command: ['sleep', '3600'],
            env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'live-cfg', key: 'mode' } } }],
            volumeMounts: [
              { name: 'cfg', mountPath: '/etc/cfg' },
              { name: 'sec', mountPath: '/etc/sec' },
            ],
          },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'live-cfg' } },
          { name: 'sec', secret: { secretName: 'live-sec' } },
        ],
      }),
    );
    await waitPod('livecfg', 'Running', (x) => x.status?.phase === 'Running');
    const read = async (): Promise<string> => (await kubectlOk(['exec', 'livecfg', '--', 'sh', '-c', 'cat /etc/cfg/mode; echo; cat /etc/sec/pass; echo; echo $MODE'])).trim();
    expect(await read()).toBe('blue\none\nblue');
    await kubectlOk(['patch', 'configmap', 'live-cfg', '--type=merge', '-p', '{"data":{"mode":"green"}}']);
    await kubectlOk(['patch', 'secret', 'live-sec', '--type=merge', '-p', JSON.stringify({ stringData: { pass: 'two' } })]);
    // the kubelet projects API data again once a minute (upstream's sync period), then on its next 10 s sync
    const seen = await waitFor('the edited ConfigMap and Secret in the running container', async () => {
      const v = await read();
      return v.startsWith('green\ntwo') ? v : undefined;
    }, { timeoutMs: 100_000, intervalMs: 1000 });
    expect(seen).toBe('green\ntwo\nblue');
    const again = await kubectlOk(['get', 'pod', 'livecfg', '-o', 'jsonpath={.status.containerStatuses[0].restartCount}']);
    expect(again).toBe('0');
  }, 150_000);

  it('shows ImagePullBackOff for an image nobody can pull', async ({ expect }) => {
    await apply(pod('noimage', 'w2', { containers: [{ name: 'app', image: 'knode.local/absent:1.0', imagePullPolicy: 'IfNotPresent' }] }));
    const p = await waitPod('noimage', 'ImagePullBackOff', (x) => container(x)?.state?.waiting?.reason === 'ImagePullBackOff');
    expect(container(p)?.state?.waiting?.message).toBe('Back-off pulling image "knode.local/absent:1.0"');
    expect(p.status?.phase).toBe('Pending');
  });

  it('shows CreateContainerConfigError for a missing ConfigMap', async ({ expect }) => {
    await apply(
      pod('nocm', 'w2', {
        containers: [{ name: 'app', image: IMAGE, env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'does-not-exist', key: 'k' } } }] }],
      }),
    );
    const p = await waitPod('nocm', 'CreateContainerConfigError', (x) => container(x)?.state?.waiting?.reason === 'CreateContainerConfigError');
    expect(container(p)?.state?.waiting?.message).toBe('configmap "does-not-exist" not found');
  });

  it('projects a bound service account token that authenticates as the pod\'s account, and dies with the pod', async ({ expect }) => {
    await kubectlOk(['create', 'serviceaccount', 'robot']);
    await kubectlOk(['create', 'rolebinding', 'robot-view', '--clusterrole=view', '--serviceaccount=default:robot']);
    await apply(pod('sa-token', 'w2', { serviceAccountName: 'robot', containers: [{ name: 'app', image: IMAGE }] }));
    await waitPod('sa-token', 'Running', (p) => p.status?.phase === 'Running');
    const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
    const token = (await kubectlOk(['exec', 'sa-token', '--', 'cat', `${dir}/token`])).trim();
    expect(await kubectlOk(['exec', 'sa-token', '--', 'cat', `${dir}/namespace`])).toBe('default');
    expect(await kubectlOk(['exec', 'sa-token', '--', 'cat', `${dir}/ca.crt`])).toBe(await readFile(join(STATE_DIR, 'cp', 'pki', 'ca.crt'), 'utf8'));
    const server = /server: (\S+)/.exec(await readFile(KUBECONFIG, 'utf8'))?.[1] ?? '';
    const asPod = (args: readonly string[]): Promise<Run> =>
      run('kubectl', ['--kubeconfig', '/dev/null', '--server', server, '--certificate-authority', join(STATE_DIR, 'cp', 'pki', 'ca.crt'), '--token', token, ...args]);
    const who = await asPod(['auth', 'whoami', '-o', 'jsonpath={.status.userInfo.username}']);
    expect([who.code, who.stdout], who.stderr).toEqual([0, 'system:serviceaccount:default:robot']);
    expect((await asPod(['get', 'pods'])).code).toBe(0);
    expect((await asPod(['get', 'secrets'])).stderr).toContain('cannot list resource "secrets"');
    await kubectlOk(['delete', 'pod', 'sa-token', '--wait=true']);
    expect((await asPod(['auth', 'whoami'])).stderr).toContain('Unauthorized');
  });

  it('runs preStop on deletion and waits out the grace period before the pod is gone', async ({ expect }) => {
    await apply(
      pod('graceful', 'w2', {
        terminationGracePeriodSeconds: 4,
        containers: [
          {
            name: 'app',
            image: IMAGE,
            // sh as PID 1 ignores SIGTERM: only the grace period ends it
            command: ['sh', '-c', 'sleep 3600'],
            lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /host/prestop'] } } },
            volumeMounts: [{ name: 'host', mountPath: '/host' }],
          },
        ],
        volumes: [{ name: 'host', hostPath: { path: HOST_DIR, type: 'DirectoryOrCreate' } }],
      }),
    );
    await waitPod('graceful', 'Running', (x) => x.status?.phase === 'Running');
    const started = Date.now();
    await kubectlOk(['delete', 'pod', 'graceful', '--wait=true', '--timeout=60s']);
    const seconds = (Date.now() - started) / 1000;
    expect(seconds).toBeGreaterThanOrEqual(3.5);
    expect(seconds).toBeLessThan(20);
    expect((await readFile(join(HOST_DIR, 'prestop'), 'utf8')).trim()).toBe('prestop-ran');
    expect(await getPod('graceful')).toBeUndefined();
  });
});

describe('kubelet: disruptions', () => {
  it('restarts no container when the agent is killed and started again', async () => {
    const stable = ['web-w1', 'initpod'];
    const before = await Promise.all(stable.map(async (n) => container(await waitPod(n, 'Running', (x) => x.status?.phase === 'Running'))));
    const state = await labState();
    const agent = state.processes.find((p) => p.host === 'w1' && p.kind === 'agent');
    if (!agent) throw new Error('no agent recorded for w1');
    process.kill(agent.pid, 'SIGKILL');
    await waitFor('the old agent to exit', async () => (await procStat(agent.pid))?.startTime !== agent.startTime);
    const { pid } = await realLauncher.start(agent.argv, { logFile: agent.logFile });
    await recordRestart('w1', 'agent', pid);
    // a pod created after the restart proves the new agent syncs pods
    await apply(pod('after-restart', 'w1', { containers: [{ name: 'app', image: IMAGE }] }));
    await waitPod('after-restart', 'Running', (x) => x.status?.phase === 'Running');
    const after = await Promise.all(stable.map(async (n) => container(await getPod(n))));
    expect(after.map((c) => [c?.containerID, c?.restartCount])).toEqual(before.map((c) => [c?.containerID, c?.restartCount]));
    expect(after.every((c) => c?.containerID?.startsWith('containerd://'))).toBe(true);
  }, 120_000);

  it('turns a node NotReady while its containerd is down, and Ready again once it is back', async () => {
    const state = await labState();
    const rec = state.processes.find((p) => p.host === 'w2' && p.kind === 'containerd');
    if (!rec?.handle) throw new Error('no containerd recorded for w2');
    const inst = rec.handle as ContainerdInstance;
    const webBefore = container(await getPod('web-w2'))?.containerID;
    await stopContainerd(inst, { keepContainers: true, graceMs: 5_000 });
    let restarted: ContainerdInstance | undefined;
    try {
      await waitFor('w2 NotReady', async () => /\sNotReady\s/.test(await nodeLine('w2')), { timeoutMs: 90_000, intervalMs: 1_000 });
      const reason = await kubectlOk(['get', 'node', 'w2', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].message}']);
      expect(reason).toMatch(/container runtime/);
    } finally {
      restarted = await startContainerd(inst.options);
      await recordRestart('w2', 'containerd', restarted.pid, { handle: restarted });
    }
    await waitFor('w2 Ready again', async () => /\sReady\s/.test(await nodeLine('w2')), { timeoutMs: 60_000, intervalMs: 1_000 });
    // the containers outlived their containerd: same container, still running
    const web = await waitPod('web-w2', 'Running and Ready', (x) => podReady(x));
    expect(container(web)?.containerID).toBe(webBefore);
  }, 180_000);
});
