/**
 * CNI errors: every failure the plugin reports carries the spec's numeric code (printed on stdout as
 * `{cniVersion, code, msg, details}`) and a stable string code for callers inside knode. Well-known
 * codes are the spec's (0-99); 100+ are ours. Decide by class or `code`, never by message.
 */
import { KnodeError } from '../lib/errors.js';

/** The spec's well-known codes, plus knode's own (100+). */
export const CNI_CODE = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnv: 4,
  io: 5,
  decoding: 6,
  invalidConfig: 7,
  tryAgainLater: 11,
  notAvailable: 50,
  /** CHECK found the attachment different from what ADD set up. */
  checkFailed: 100,
  /** A network command (ip, nft) failed while setting up or tearing down. */
  networkSetup: 101,
} as const;

export type CniCode = (typeof CNI_CODE)[keyof typeof CNI_CODE];

export class CniError extends KnodeError {
  readonly cniCode: CniCode;
  readonly details: string;
  constructor(code: string, cniCode: CniCode, message: string, options?: { cause?: unknown; details?: string }) {
    super(code, message, options);
    this.cniCode = cniCode;
    this.details = options?.details ?? '';
  }
}

type Opts = { cause?: unknown; details?: string };

export class CniIncompatibleVersionError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_INCOMPATIBLE_VERSION', CNI_CODE.incompatibleVersion, message, o);
  }
}
export class CniUnsupportedFieldError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_UNSUPPORTED_FIELD', CNI_CODE.unsupportedField, message, o);
  }
}
export class CniUnknownContainerError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_UNKNOWN_CONTAINER', CNI_CODE.unknownContainer, message, o);
  }
}
export class CniInvalidEnvError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_INVALID_ENV', CNI_CODE.invalidEnv, message, o);
  }
}
export class CniIoError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_IO', CNI_CODE.io, message, o);
  }
}
export class CniDecodeError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_DECODE', CNI_CODE.decoding, message, o);
  }
}
export class CniInvalidConfigError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_INVALID_CONFIG', CNI_CODE.invalidConfig, message, o);
  }
}
/** Code 11: the runtime should retry later (range full, node state not written yet). */
export class CniTryAgainError extends CniError {
  constructor(code: 'ERR_CNI_RANGE_FULL' | 'ERR_CNI_NO_POD_CIDR' | 'ERR_CNI_BUSY', message: string, o?: Opts) {
    super(code, CNI_CODE.tryAgainLater, message, o);
  }
}
/** Code 50 (STATUS): the plugin cannot serve ADD now. */
export class CniNotAvailableError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_NOT_AVAILABLE', CNI_CODE.notAvailable, message, o);
  }
}
export class CniCheckFailedError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_CHECK_FAILED', CNI_CODE.checkFailed, message, o);
  }
}
export class CniNetworkSetupError extends CniError {
  constructor(message: string, o?: Opts) {
    super('ERR_CNI_NETWORK_SETUP', CNI_CODE.networkSetup, message, o);
  }
}

/** The JSON object the spec wants on stdout for an error. Unknown exceptions become I/O errors (5). */
export function errorToJson(err: unknown, cniVersion: string): { cniVersion: string; code: number; msg: string; details?: string } {
  if (err instanceof CniError) {
    return { cniVersion, code: err.cniCode, msg: err.message, ...(err.details !== '' ? { details: err.details } : {}) };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { cniVersion, code: CNI_CODE.io, msg: `I/O error: ${msg}` };
}
