import { describe, expect, it } from 'vitest';
import { FakeClock } from '../lib/clock.js';
import { FakeImageService } from './cri/fake-image.js';
import { FakeRuntimeService } from './cri/fake-runtime.js';
import { ContainerGC } from './gc.js';
import { LABEL_CONTAINER_NAME, LABEL_POD_NAME, LABEL_POD_NAMESPACE, LABEL_POD_UID } from './types.js';

const IMAGE = 'knode.local/testserver:1.0';

async function podWithDeadContainers(runtime: FakeRuntimeService, uid: string, dead: number, running: boolean): Promise<{ sandbox: string; ids: string[] }> {
  const labels = { [LABEL_POD_UID]: uid, [LABEL_POD_NAME]: `p-${uid}`, [LABEL_POD_NAMESPACE]: 'default' };
  const { podSandboxId } = await runtime.runPodSandbox({ config: { metadata: { name: `p-${uid}`, namespace: 'default', uid, attempt: 0 }, labels } });
  const ids: string[] = [];
  for (let i = 0; i < dead + (running ? 1 : 0); i++) {
    const { containerId } = await runtime.createContainer({
      podSandboxId,
      config: { metadata: { name: 'app', attempt: i }, image: { image: IMAGE }, labels: { ...labels, [LABEL_CONTAINER_NAME]: 'app' } },
    });
    await runtime.startContainer({ containerId });
    if (i < dead) runtime.exitContainer(containerId, 1);
    ids.push(containerId);
  }
  return { sandbox: podSandboxId, ids };
}

function setup(active: string[], ready = true) {
  const clock = new FakeClock();
  const images = new FakeImageService({ clock });
  images.addImage({ ref: IMAGE });
  const runtime = new FakeRuntimeService({ clock, images });
  const gc = new ContainerGC({ runtime, activePodUIDs: () => new Set(active), ready: () => ready, clock });
  return { runtime, gc, clock };
}

describe('ContainerGC', () => {
  it('keeps the newest dead container of an active pod and everything running', async () => {
    const { runtime, gc } = setup(['a']);
    const { ids } = await podWithDeadContainers(runtime, 'a', 3, true);
    const plan = await gc.collect();
    expect([...plan.removeContainers].sort()).toEqual([ids[0], ids[1]].sort());
    const left = (await runtime.listContainers({})).containers.map((c) => c.id).sort();
    expect(left).toEqual([ids[2], ids[3]].sort());
    expect(gc.stats.containersRemoved).toBe(2);
  });

  it('removes every dead container and the stopped sandbox of a pod that is gone', async () => {
    const { runtime, gc } = setup([]);
    const { sandbox } = await podWithDeadContainers(runtime, 'gone', 2, false);
    await runtime.stopPodSandbox({ podSandboxId: sandbox });
    await gc.collect();
    expect((await runtime.listContainers({})).containers).toHaveLength(0);
    expect((await runtime.listPodSandbox({})).items).toHaveLength(0);
  });

  it('does nothing before the pod sources synced', async () => {
    const { runtime, gc } = setup([], false);
    await podWithDeadContainers(runtime, 'a', 2, false);
    await gc.collect();
    expect((await runtime.listContainers({})).containers).toHaveLength(2);
    expect(gc.stats.rounds).toBe(0);
  });

  it('collects once per period until aborted', async () => {
    const { runtime, gc, clock } = setup([]);
    await podWithDeadContainers(runtime, 'x', 1, false);
    const ac = new AbortController();
    const running = gc.run(ac.signal);
    await clock.advance(60_000);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(gc.stats.rounds).toBe(1);
    ac.abort();
    await running;
  });
});
