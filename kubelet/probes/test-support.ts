/**
 * Helpers for the probe and lifecycle unit tests: a pod fixture, a running container in the fake
 * runtime, loopback servers that close themselves, and a way to let promise chains settle.
 */
import type { AddressInfo, Server as NetServer } from 'node:net';
import type { Pod } from '../../api/core/pod.js';
import { FakeRuntimeService } from '../cri/fake-runtime.js';
import type { RuntimeService } from '../cri/services.js';

export function testPod(over: { spec?: Partial<Pod['spec']>; metadata?: Partial<Pod['metadata']> } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', uid: 'uid-web', ...over.metadata },
    spec: { containers: [{ name: 'app', image: 'busybox' }], restartPolicy: 'Always', terminationGracePeriodSeconds: 30, ...over.spec },
  };
}

/** A fake runtime holding one running container; returns its id. */
export async function runningFakeContainer(rt: RuntimeService = new FakeRuntimeService()): Promise<{ rt: RuntimeService; containerId: string }> {
  const { podSandboxId } = await rt.runPodSandbox({ config: { metadata: { name: 'web', namespace: 'default', uid: 'uid-web', attempt: 0 } } });
  const { containerId } = await rt.createContainer({ podSandboxId, config: { metadata: { name: 'app', attempt: 0 }, image: { image: 'busybox' } } });
  await rt.startContainer({ containerId });
  return { rt, containerId };
}

/** Lets queued promise continuations and I/O callbacks run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** Tracks servers started by a test so afterEach can close them. */
export class ServerPool {
  private readonly servers: NetServer[] = [];

  async listen(server: NetServer, host = '127.0.0.1'): Promise<number> {
    this.servers.push(server);
    await new Promise<void>((r) => server.listen(0, host, () => r()));
    return (server.address() as AddressInfo).port;
  }

  async closeAll(): Promise<void> {
    const all = this.servers.splice(0);
    await Promise.all(
      all.map(
        (s) =>
          new Promise<void>((r) => {
            const closer = s as NetServer & { closeAllConnections?: () => void };
            s.close(() => r());
            closer.closeAllConnections?.();
          }),
      ),
    );
  }
}
