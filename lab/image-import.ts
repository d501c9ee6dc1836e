/**
 * `knode lab image import TAR`: a user's docker-archive tar into every worker's containerd (namespace
 * k8s.io, where the CRI looks), so pods on any node can use it without a registry. Refuses when the
 * lab is not up or the tar is not readable. Cost: one import per worker (containerd unpacks the layers
 * into each node's own snapshotter).
 */
import { access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { resolve } from 'node:path';
import { LabInputError, LabStateError } from './errors.js';
import type { LabNodeRuntime } from './node-runtime.js';
import { isAlive } from './processes.js';
import type { Progress } from './progress.js';
import { readLabState } from './state.js';

export async function labImportImage(stateDir: string, tar: string, runtime: LabNodeRuntime, progress: Progress): Promise<readonly string[]> {
  const path = resolve(tar);
  try {
    await access(path, constants.R_OK);
  } catch {
    throw new LabInputError(`cannot read the image archive ${path}.`);
  }
  const state = await readLabState(stateDir);
  if (state === undefined) throw new LabStateError(`no lab state in ${stateDir}: is the lab up?`);
  const done: string[] = [];
  const workers = state.plan.workers;
  for (const [i, w] of workers.entries()) {
    const report = progress.step(i + 1, workers.length, `importing ${path} into ${w.host}`);
    const proc = state.processes.find((p) => p.kind === 'containerd' && p.host === w.host);
    if (proc === undefined || !(await isAlive(proc))) {
      const err = new LabStateError(`containerd on ${w.host} is not running; run \`knode lab status\`.`);
      report.failed(err);
      throw err;
    }
    try {
      await runtime.importImage(w, path);
    } catch (err) {
      report.failed(err);
      throw err;
    }
    report.ok();
    done.push(w.host);
  }
  return done;
}
