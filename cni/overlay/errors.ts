/**
 * Overlay errors, with stable codes. The fake raises the same codes the kernel's answers map to
 * (EEXIST on a duplicate add, ENOENT on deleting a missing entry), so callers written against the
 * fake decide the same way against netlink. Decide by class or `code`, never by message.
 */
import { KnodeError } from '../../lib/errors.js';

export class OverlayError extends KnodeError {}

/** An `add` found an entry with the same key (kernel: EEXIST). */
export class OverlayEntryExistsError extends OverlayError {
  constructor(what: string) {
    super('ERR_OVERLAY_EXISTS', `${what} already exists`);
  }
}

/** A `delete` found no entry with that key (kernel: ENOENT/ESRCH). */
export class OverlayEntryNotFoundError extends OverlayError {
  constructor(what: string) {
    super('ERR_OVERLAY_NOT_FOUND', `${what} does not exist`);
  }
}

/** A batch of `ip`/`bridge` commands did not all succeed; the next sync re-observes and retries. */
export class OverlayApplyError extends OverlayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OVERLAY_APPLY', message, options);
  }
}

/** `ip -j`/`bridge -j` printed something that is not the JSON we read. */
export class OverlayObserveError extends OverlayError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_OVERLAY_OBSERVE', message, options);
  }
}
