import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LabStateError } from './errors.js';
import { parsePrefix4 } from './ipv4.js';
import { planLab } from './plan.js';
import { LabStateStore, readLabState, stateFilePath } from './state.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'labstate-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const planIn = (stateDir: string) =>
  planLab(
    { name: 'lab', workers: 1, stateDir, knodeCommand: ['knode'], agentAvailable: false, bootstrapToken: 'abcdef.0123456789abcdef' },
    [{ prefix: parsePrefix4('192.0.2.0/24')!, source: 'eth0' }],
  );

describe('LabStateStore', () => {
  it('writes the plan before anything else, so down knows every name', async () => {
    const stateDir = join(dir, 'lab');
    await LabStateStore.create(planIn(stateDir));
    const s = await readLabState(stateDir);
    expect(s?.phase).toBe('creating');
    expect(s?.plan.hosts.map((h) => h.netns)).toEqual(['knode-lab-cp', 'knode-lab-w1']);
    expect(s?.processes).toEqual([]);
  });

  it('persists every update, serialized, and leaves no temp file behind', async () => {
    const stateDir = join(dir, 'lab');
    const store = await LabStateStore.create(planIn(stateDir));
    await Promise.all([
      store.update((s) => ({ ...s, completedSteps: [...s.completedSteps, 'network'] })),
      store.update((s) => ({ ...s, completedSteps: [...s.completedSteps, 'images'] })),
    ]);
    expect((await readLabState(stateDir))?.completedSteps).toEqual(['network', 'images']);
    expect(await readdir(stateDir)).toEqual(['lab.json']);
  });
});

describe('readLabState', () => {
  it('answers undefined when there is no lab', async () => {
    expect(await readLabState(join(dir, 'none'))).toBeUndefined();
  });
  it.each([
    ['not JSON', '{', /not valid JSON/],
    ['another version', '{"version":99}', /has version 99/],
    ['not a lab state', '{"version":1}', /lacks name, plan or processes/],
  ])('rejects a file that is %s', async (_n, text, msg) => {
    await writeFile(stateFilePath(dir), text);
    await expect(readLabState(dir)).rejects.toThrow(LabStateError);
    await expect(readLabState(dir)).rejects.toThrow(msg);
  });
  it('round-trips what was written', async () => {
    const stateDir = join(dir, 'lab');
    const store = await LabStateStore.create(planIn(stateDir));
    expect(JSON.parse(await readFile(stateFilePath(stateDir), 'utf8'))).toEqual(store.current);
  });
});
