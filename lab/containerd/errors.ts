/**
 * Errors of lab/containerd, each with a stable code.
 */
import { KnodeError } from '../../lib/errors.js';

/** containerd did not come up (exited, or its socket never answered); the message has its log tail. */
export class ContainerdStartError extends KnodeError {
  readonly logFile: string;
  constructor(message: string, logFile: string, options?: { cause?: unknown }) {
    super('ERR_CONTAINERD_START', message, options);
    this.logFile = logFile;
  }
}

/** Something already serves the socket this instance would use. */
export class ContainerdRunningError extends KnodeError {
  constructor(socket: string) {
    super('ERR_CONTAINERD_RUNNING', `a containerd already answers on ${socket}: stop it first or choose another dir.`);
  }
}

/** The instance's options cannot work (e.g. a socket path too long for a unix socket). */
export class ContainerdConfigError extends KnodeError {
  constructor(message: string) {
    super('ERR_CONTAINERD_CONFIG', message);
  }
}

/** Stopping left processes or mounts behind; `left` names them. */
export class ContainerdStopError extends KnodeError {
  readonly left: readonly string[];
  constructor(message: string, left: readonly string[]) {
    super('ERR_CONTAINERD_STOP', message);
    this.left = left;
  }
}
