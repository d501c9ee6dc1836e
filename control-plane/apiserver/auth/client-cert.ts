/**
 * X.509 client certificate authentication. The TLS server is started with `requestCert: true,
 * rejectUnauthorized: false, ca: [clusterCA]`, so OpenSSL has already verified the chain, validity and
 * clientAuth purpose during the handshake and left the verdict in `socket.authorized`; clients without
 * a certificate still connect (for /healthz and anonymous requests). Here we only read the verdict and
 * map the subject the Kubernetes way: CN is the user name, each O a group. The answer is kept per TLS
 * connection (a connection's peer certificate cannot change: Node refuses renegotiation from clients),
 * because getPeerCertificate() builds the whole certificate object on every call (4.5% of the server's
 * CPU in the apiserver bench on keep-alive connections). Cost: one WeakMap lookup per request.
 */
import { withAuthenticatedGroup, type AuthRequest, type Authenticator, type PeerCertificateSubject, type UserInfo } from './types.js';

function values(v: string | readonly string[] | undefined): string[] {
  if (v === undefined) return [];
  return typeof v === 'string' ? [v] : [...v];
}

/** The user a verified certificate subject names, or undefined when CN is empty (upstream rejects it). */
export function userFromSubject(subject: PeerCertificateSubject): UserInfo | undefined {
  const name = values(subject.CN)[0];
  if (name === undefined || name === '') return undefined;
  return withAuthenticatedGroup({ name, groups: values(subject.O) });
}

export class ClientCertAuthenticator implements Authenticator {
  /** The user of each connection seen (null: its certificate names nobody). */
  private readonly bySocket = new WeakMap<object, UserInfo | null>();

  async authenticate(req: AuthRequest): Promise<UserInfo | undefined> {
    const socket = req.socket;
    if (socket?.authorized !== true || socket.getPeerCertificate === undefined) return undefined;
    const known = this.bySocket.get(socket);
    if (known !== undefined) return known ?? undefined;
    const subject = socket.getPeerCertificate()?.subject;
    const user = subject === undefined ? undefined : userFromSubject(subject);
    this.bySocket.set(socket, user ?? null);
    return user;
  }
}
