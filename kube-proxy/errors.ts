/**
 * kube-proxy's errors, each with a stable code. Callers decide by `instanceof` or `code`.
 */
import { KnodeError } from '../lib/errors.js';

export class KubeProxyError extends KnodeError {}

/** `nft -f` refused a transaction; nothing of it was applied (nft transactions are all or nothing). */
export class NftApplyError extends KubeProxyError {
  /** nft's own message (it quotes the offending command). */
  readonly stderr: string;
  constructor(message: string, stderr: string, options?: { cause?: unknown }) {
    super('ERR_PROXY_NFT_APPLY', message, options);
    this.stderr = stderr;
  }
}

/** `nft list` answered something that is not the JSON we expect. */
export class NftListError extends KubeProxyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_PROXY_NFT_LIST', message, options);
  }
}

/** `conntrack -D` refused its arguments or could not run. */
export class ConntrackError extends KubeProxyError {
  readonly argv: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;
  constructor(message: string, argv: readonly string[], exitCode: number, stderr: string, options?: { cause?: unknown }) {
    super('ERR_PROXY_CONNTRACK', message, options);
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}
