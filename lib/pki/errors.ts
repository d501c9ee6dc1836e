import { KnodeError } from '../errors.js';

/** Errors raised while building, parsing or storing certificates, keys and kubeconfigs. */
export class PkiError extends KnodeError {}

/** Text that should hold a PEM block of a given kind does not (missing, truncated, wrong label). */
export class InvalidPemError extends PkiError {
  constructor(
    readonly label: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_PKI_INVALID_PEM', `invalid PEM ${label}: ${detail}`, options);
  }
}

/** A private key we cannot use: not EC P-256, or not decodable. */
export class UnsupportedKeyError extends PkiError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ERR_PKI_UNSUPPORTED_KEY', `unsupported private key: ${detail}`, options);
  }
}

/** A certificate signing request that is malformed or whose signature does not verify. */
export class InvalidCsrError extends PkiError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super('ERR_PKI_INVALID_CSR', `invalid certificate signing request: ${detail}`, options);
  }
}

/** A key usage name that is not one of the certificates.k8s.io/v1 usages. */
export class UnknownUsageError extends PkiError {
  constructor(readonly usage: string) {
    super('ERR_PKI_UNKNOWN_USAGE', `unknown certificate usage "${usage}"`);
  }
}

/** A subject alternative name that is neither a valid IP address nor a valid DNS name. */
export class InvalidSanError extends PkiError {
  constructor(readonly san: string) {
    super('ERR_PKI_INVALID_SAN', `invalid subject alternative name "${san}": not an IP address or DNS name`);
  }
}

/** The PKI directory is in a state we refuse to repair on our own (e.g. a CA certificate without its key). */
export class PkiStateError extends PkiError {
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_PKI_STATE', `${path}: ${detail}`, options);
  }
}

/** A kubeconfig document that does not have the shape kubectl expects; `field` is a dotted path. */
export class InvalidKubeconfigError extends PkiError {
  constructor(
    readonly field: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super('ERR_KUBECONFIG_INVALID', `invalid kubeconfig: ${field}: ${detail}`, options);
  }
}
