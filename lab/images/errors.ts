/**
 * Errors of the lab image builder and importer, each with a stable code.
 */
import { KnodeError } from '../../lib/errors.js';

/** A build input is missing (busybox-static, gcc with a static libc). */
export class ImagePrerequisiteError extends KnodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMAGE_PREREQUISITE', message, options);
  }
}

/** Compiling a helper program or writing an archive failed. */
export class ImageBuildError extends KnodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMAGE_BUILD', message, options);
  }
}

/** `ctr images import` refused the archive or could not reach containerd. */
export class ImageImportError extends KnodeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_IMAGE_IMPORT', message, options);
  }
}
