/**
 * Errors of container log access. Each carries the HTTP status the kubelet server answers with and
 * upstream's sentence, which kubectl shows to the user through the apiserver.
 */
import { KubeletError } from '../errors.js';

export class LogError extends KubeletError {
  constructor(
    code: string,
    readonly httpStatus: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** The container has no log to show (yet): waiting to start, no previous instance, gone. */
export class ContainerLogUnavailableError extends LogError {
  constructor(message: string) {
    super('ERR_LOGS_UNAVAILABLE', 400, message);
  }
}

/** A query parameter could not be decoded (400) or is out of range (422). */
export class LogOptionsError extends LogError {
  constructor(httpStatus: 400 | 422, message: string) {
    super('ERR_LOGS_OPTIONS', httpStatus, message);
  }
}

/** A line of a log file is not in the CRI format. */
export class LogFormatError extends KubeletError {
  constructor(message: string) {
    super('ERR_LOGS_FORMAT', message);
  }
}
