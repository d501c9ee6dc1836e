/**
 * Network errors worded as Go's net package words them (`dial tcp 10.0.0.5:8080: connect: connection
 * refused`), since those sentences end up in pod events and `kubectl describe` output that users
 * compare with what upstream prints. Pure.
 */

const SYSCALL_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connect: connection refused',
  EHOSTUNREACH: 'connect: no route to host',
  ENETUNREACH: 'connect: network is unreachable',
  ECONNRESET: 'read: connection reset by peer',
  ETIMEDOUT: 'i/o timeout',
  EPIPE: 'write: broken pipe',
  EADDRNOTAVAIL: 'connect: cannot assign requested address',
};

/** `host:port`, bracketing IPv6 as net.JoinHostPort does. */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function codeOf(err: unknown): string | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  return typeof c === 'string' ? c : undefined;
}

/** The text after `dial tcp <addr>: ` for a failed connect. */
export function dialErrorText(err: unknown, addr: string): string {
  const code = codeOf(err);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    const host = addr.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return `dial tcp: lookup ${host}: no such host`;
  }
  const text = code !== undefined ? SYSCALL_TEXT[code] : undefined;
  return `dial tcp ${addr}: ${text ?? (err instanceof Error ? err.message : String(err))}`;
}

export function isConnectError(err: unknown): boolean {
  const code = codeOf(err);
  return code !== undefined && (code in SYSCALL_TEXT || code === 'ENOTFOUND' || code === 'EAI_AGAIN');
}
