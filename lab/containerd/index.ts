/**
 * lab/containerd: private containerd instances (one per lab node, or per host test), each with
 * its own root, state, socket, config, runc root and CNI conf dir, optionally inside a network
 * namespace. Stopped by pid; a full stop also kills the instance's shims and containers (verified
 * pids), unmounts and removes its dir.
 *
 *   instance.ts  startContainerd / stopContainerd / restartContainerd
 *   config.ts    containerdLayout(dir), buildContainerdConfig(spec) (pure)
 *   tasks.ts     the shims, container inits, shim sockets and CNI cache entries an instance owns
 */
export { restartContainerd, socketAnswers, startContainerd, stopContainerd } from './instance.js';
export type { ContainerdInstance, StartContainerdOptions, StopContainerdOptions, StopReport } from './instance.js';
export { DISABLED_PLUGINS, MAX_CONTAINERD_SOCKET_PATH, buildContainerdConfig, containerdLayout } from './config.js';
export type { ContainerdConfigSpec, ContainerdLayout } from './config.js';
export { CNI_RESULTS_DIR, findShims, findTasks, ownedTaskProcesses, removeCniResults, removeShimSockets } from './tasks.js';
export type { OwnedProcess, TaskBundle } from './tasks.js';
export { ContainerdConfigError, ContainerdRunningError, ContainerdStartError, ContainerdStopError } from './errors.js';
