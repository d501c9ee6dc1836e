/**
 * Errors of the lab, each with a stable code. Input errors are one sentence for the user; step
 * failures name the step and keep the underlying error (often an ExecError with argv and stderr) as
 * `cause`.
 */
import { KnodeError } from '../lib/errors.js';

/** Bad flags or options: nothing was changed on the machine. */
export class LabInputError extends KnodeError {
  constructor(message: string) {
    super('ERR_LAB_INVALID_INPUT', message);
  }
}

/** No free underlay subnet, or the forced one overlaps something the machine uses. */
export class LabUnderlayError extends KnodeError {
  constructor(message: string) {
    super('ERR_LAB_UNDERLAY', message);
  }
}

/** `up` on a lab that already has state (refused: run `knode lab down` first). */
export class LabExistsError extends KnodeError {
  constructor(message: string) {
    super('ERR_LAB_EXISTS', message);
  }
}

/** A prerequisite (root, a tool, a plugin binary) is missing. */
export class LabPrerequisiteError extends KnodeError {
  constructor(message: string) {
    super('ERR_LAB_PREREQUISITE', message);
  }
}

/** A step of `up` failed; `cause` holds why. */
export class LabStepError extends KnodeError {
  readonly step: string;
  constructor(step: string, cause: unknown) {
    super('ERR_LAB_STEP_FAILED', `${step} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.step = step;
  }
}

/** The state file is unreadable or not a lab state. */
export class LabStateError extends KnodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_LAB_STATE', message, options);
  }
}

/** `down` could not remove everything; the message lists what is left. */
export class LabTeardownError extends KnodeError {
  readonly leftovers: readonly string[];
  constructor(leftovers: readonly string[]) {
    super('ERR_LAB_TEARDOWN_INCOMPLETE', `lab down left ${leftovers.length} thing(s) behind: ${leftovers.join('; ')}`);
    this.leftovers = leftovers;
  }
}
