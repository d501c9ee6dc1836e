/**
 * `kubectl port-forward` on a real lab (`knode lab up --nodes 1`) with the real kubectl v1.32:
 * SPDY tunnelled in WebSocket (kubectl's default since 1.31) or plain SPDY (its fallback, forced
 * with KUBECTL_PORT_FORWARD_WEBSOCKETS=false) through the apiserver's pods/portforward to the
 * kubelet, which relays the SPDY bytes to containerd's streaming server (CRI PortForward).
 *
 * kubectl runs in the machine's namespace as in the other e2e tests (its kubeconfig reaches the
 * lab apiserver through the lab's veth); it listens on 127.0.0.1 and curl talks to that loopback
 * port, so no traffic leaves loopback or the lab. Checks what a user sees: two connections reach
 * the pod, a port nothing listens on gives kubectl's error for it (kubectl 1.32 then ends that
 * forward: client-go closes the session on any error-stream message) without disturbing another
 * forward to the same pod, and an unknown pod is kubectl's usual NotFound.
 * IP plan: test/helpers/ip-plan.ts. `lab down` runs in afterAll whatever happened.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TESTSERVER_IMAGE } from '../lab/images/lab-images.js';
import { labName, run, TestLab } from './helpers/lab.js';
import type { Run } from './helpers/lab.js';
import { waitFor } from './helpers/wait.js';

const lab = new TestLab(labName('pf'));

interface Forward {
  readonly localPort: number;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Run>;
  stop(): Promise<Run>;
}

const running = new Set<Forward>();

/** Starts `kubectl port-forward pod/NAME 0:REMOTE` and waits for the local port it picked. */
async function forward(pod: string, remote: number, env: Record<string, string> = {}): Promise<Forward> {
  const proc = spawn('kubectl', ['--kubeconfig', lab.kubeconfig, 'port-forward', '-v=6', `pod/${pod}`, `0:${remote}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<Run>((resolve) => proc.once('close', (code) => resolve({ code: code ?? 1, stdout: out, stderr: err })));
  let done = false;
  void exited.then(() => (done = true));
  const stop = async (): Promise<Run> => {
    if (!done) proc.kill('SIGTERM');
    return exited;
  };
  const port = await waitFor(
    () => `kubectl port-forward ${pod} to print its local port (stdout: ${JSON.stringify(out)}, stderr: ${JSON.stringify(err.slice(-2000))})`,
    () => {
      if (done) throw new Error('kubectl exited');
      const m = new RegExp(`Forwarding from 127\\.0\\.0\\.1:(\\d+) -> ${remote}`).exec(out);
      return m?.[1] !== undefined ? Number(m[1]) : undefined;
    },
    { timeoutMs: 20_000 },
  ).catch(async (e: unknown) => {
    await stop();
    throw e;
  });
  const f: Forward = { localPort: port, stdout: () => out, stderr: () => err, exited, stop };
  running.add(f);
  return f;
}

const curl = (port: number, path: string): Promise<Run> => run('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}${path}`], undefined, 15_000);

beforeAll(async () => {
  await lab.up(1);
  await lab.apply({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web' },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: TESTSERVER_IMAGE, imagePullPolicy: 'Never' }] },
  });
  await lab.kubectlOk(['wait', '--for=condition=Ready', 'pod/web', '--timeout=90s']);
}, 180_000);

afterAll(async () => {
  for (const f of running) await f.stop();
  await lab.down();
}, 180_000);

describe('kubectl port-forward', () => {
  it('forwards two connections to the pod over the WebSocket tunnel', async () => {
    const f = await forward('web', 8083);
    for (let i = 0; i < 2; i++) {
      const r = await curl(f.localPort, '/hostname');
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.trim()).toBe('web');
    }
    expect(f.stdout().match(/Handling connection for/g)?.length).toBe(2);
    // kubectl's own log: the GET upgrade of the SPDY-over-WebSocket dialer was taken
    expect(f.stderr()).toMatch(/GET https:\/\/\S+\/pods\/web\/portforward 101 Switching Protocols/);
    await f.stop();
  });

  it('works over plain SPDY, the fallback', async () => {
    const f = await forward('web', 8083, { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' });
    const r = await curl(f.localPort, '/hostname');
    expect(r.stdout.trim()).toBe('web');
    expect(f.stderr()).toMatch(/POST https:\/\/\S+\/pods\/web\/portforward 101 Switching Protocols/);
    await f.stop();
  });

  it("a port with no listener gives kubectl's error for that connection; another forward keeps working", async () => {
    const good = await forward('web', 8083);
    const bad = await forward('web', 9999);
    const r = await curl(bad.localPort, '/');
    expect(r.code).not.toBe(0);
    const end = await bad.exited;
    expect(end.stderr).toContain('an error occurred forwarding');
    expect(end.stderr).toMatch(/9999.*connection refused/);
    // client-go 1.32 closes the session after an error-stream message
    expect(end.stderr).toContain('lost connection to pod');
    expect(end.code).not.toBe(0);
    running.delete(bad);
    const again = await curl(good.localPort, '/hostname');
    expect(again.stdout.trim()).toBe('web');
    await good.stop();
  });

  it('refuses a pod that does not exist', async () => {
    const r = await lab.kubectl(['port-forward', 'pod/nopod', '0:80']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('pods "nopod" not found');
  });
});
