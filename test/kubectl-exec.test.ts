/**
 * `kubectl exec` and `kubectl attach` on a real lab (`knode lab up --nodes 1`) with the real
 * kubectl v1.32: WebSocket v5 from kubectl through the apiserver's pods/exec and pods/attach to the
 * kubelet, which relays to containerd's streaming server (WebSocket v4, or SPDY when stdin is piped
 * so that its end reaches the process). Checks what a user sees: output on the right stream, the
 * exit code, `-c`, kubectl's usual errors, piped stdin with EOF, and attach to a container's stdin.
 * IP plan: test/helpers/ip-plan.ts. `lab down` runs in afterAll whatever happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTSERVER_IMAGE } from '../lab/images/lab-images.js';
import { labName, TestLab } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('ex'));

const container = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, image: TESTSERVER_IMAGE, imagePullPolicy: 'Never', ...extra });

beforeAll(async () => {
  await lab.up(1);
  await lab.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'two' },
    spec: { terminationGracePeriodSeconds: 1, containers: [container('main'), container('side', { command: ['sh', '-c', 'exec sleep 100000'] })] },
  });
  await lab.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'reader' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [container('main', { command: ['sh', '-c', 'echo started; while read l; do echo got:$l; done'], stdin: true })],
    },
  });
  await lab.kubectlOk(['wait', '--for=condition=Ready', 'pod/two', 'pod/reader', '--timeout=90s']);
}, 180_000);

afterAll(async () => {
  await lab.down();
}, 180_000);

describe('kubectl exec', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const r = await lab.kubectl(['exec', 'two', '-c', 'main', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toContain('err\n');
    expect(r.stderr).toContain('command terminated with exit code 3');
    expect(r.code).toBe(3);
    const ok = await lab.kubectl(['exec', 'two', '-c', 'main', '--', 'true']);
    expect(ok.code).toBe(0);
  });

  it('-c picks the container; without -c kubectl defaults to the first', async () => {
    const pid1 = async (args: readonly string[]): Promise<string> => (await lab.kubectlOk(['exec', 'two', ...args, '--', 'cat', '/proc/1/cmdline'])).replaceAll('\0', ' ');
    expect(await pid1(['-c', 'side'])).toContain('sleep 100000');
    expect(await pid1(['-c', 'main'])).toContain('/testserver');
    expect(await pid1([])).toContain('/testserver');
  });

  it('gives kubectl the usual errors for a missing container or pod', async () => {
    const noContainer = await lab.kubectl(['exec', 'two', '-c', 'nope', '--', 'true']);
    expect(noContainer.code).not.toBe(0);
    expect(noContainer.stderr).toContain('container nope is not valid for pod two');
    const noPod = await lab.kubectl(['exec', 'nopod', '--', 'true']);
    expect(noPod.code).not.toBe(0);
    expect(noPod.stderr).toContain('pods "nopod" not found');
  });

  it('-i passes piped stdin, its end reaches the process, and the exit code survives', async () => {
    const r = await lab.kubectl(['exec', '-i', 'two', '-c', 'main', '--', 'sh', '-c', 'cat; echo done; exit 4'], 'hello\n');
    expect(r.stdout).toBe('hello\ndone\n');
    expect(r.code).toBe(4);
    const big = 'x'.repeat(99) + '\n';
    const count = await lab.kubectlOk(['exec', '-i', 'two', '-c', 'main', '--', 'wc', '-c'], big.repeat(20_000));
    expect(count.trim()).toBe('2000000');
  });
});

describe('kubectl attach', () => {
  it('-i feeds the container stdin of a running container', async () => {
    const r = await lab.kubectl(['attach', '-i', 'reader'], 'one\ntwo\n');
    expect(r.code).toBe(0);
    await waitFor('the attached lines in the log', async () => {
      const log = await lab.kubectlOk(['logs', 'reader']);
      return log.includes('got:one') && log.includes('got:two') ? log : undefined;
    });
  });

  it('refuses a pod that does not exist', async () => {
    const r = await lab.kubectl(['attach', 'nopod']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pods "nopod" not found');
  });
});

interface EphemeralView {
  status?: { ephemeralContainerStatuses?: Array<{ name: string; ready: boolean; state?: { running?: unknown; terminated?: { exitCode: number } } }> };
  spec?: { ephemeralContainers?: Array<{ name: string; targetContainerName?: string }> };
}

async function ephemeralState(pod: string, name: string): Promise<{ running?: unknown; terminated?: { exitCode: number } } | undefined> {
  const p = JSON.parse(await lab.kubectlOk(['get', 'pod', pod, '-o', 'json'])) as EphemeralView;
  return p.status?.ephemeralContainerStatuses?.find((s) => s.name === name)?.state;
}

describe('kubectl debug (ephemeral containers)', () => {
  it('adds a container to a running pod that sees the target container\'s processes, and shows its output and status', async () => {
    const r = await lab.kubectl(['debug', 'two', `--image=${TESTSERVER_IMAGE}`, '--image-pull-policy=Never', '--target=side', '--profile=general', '-c', 'dbg', '--', 'sh', '-c', 'ps -o args']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const done = await waitFor('dbg terminated', async () => (await ephemeralState('two', 'dbg'))?.terminated, { timeoutMs: 60_000 });
    expect(done.exitCode).toBe(0);
    // the target's process namespace: side's sleep is there, main's testserver is not
    const out = await lab.kubectlOk(['logs', 'two', '-c', 'dbg']);
    expect(out).toContain('sleep 100000');
    expect(out).not.toContain('/testserver');
    const pod = JSON.parse(await lab.kubectlOk(['get', 'pod', 'two', '-o', 'json'])) as EphemeralView & { status: { phase: string } };
    expect(pod.spec?.ephemeralContainers).toEqual([expect.objectContaining({ name: 'dbg', targetContainerName: 'side' })]);
    expect(pod.status.phase).toBe('Running');
    expect(pod.status.ephemeralContainerStatuses?.[0]?.ready).toBe(false);
    expect(await lab.kubectlOk(['describe', 'pod', 'two'])).toMatch(/Ephemeral Containers:\s+dbg:/);
  }, 90_000);

  it('-i attaches to the new container and passes stdin to it', async () => {
    const r = await lab.kubectl(['debug', '-i', 'two', `--image=${TESTSERVER_IMAGE}`, '--image-pull-policy=Never', '--profile=general', '-c', 'dbg2', '--', 'sh', '-c', 'read line; echo got:$line'], 'hello\n');
    expect(r.stdout).toContain('got:hello');
    expect(r.code).toBe(0);
    await waitFor('dbg2 terminated', async () => (await ephemeralState('two', 'dbg2'))?.terminated, { timeoutMs: 30_000 });
  }, 60_000);

  it('refuses a second container of a name already in the pod, naming the field', async () => {
    const r = await lab.kubectl(['debug', 'two', `--image=${TESTSERVER_IMAGE}`, '--profile=general', '-c', 'side', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/spec\.ephemeralContainers\[\d+\]\.name: Duplicate value: "side"/);
  });
});
