/**
 * Serving certificates for the kubelet server: signed by the cluster CA (what the apiserver verifies
 * when it proxies `kubectl logs`), or self-signed per node as upstream's kubelet does without
 * --tls-cert-file (a node CA `<node>-ca@<unix time>` signing `<node>@<unix time>`, served as a chain).
 * SANs: the node's IPs, and its name when that is a DNS name. Pure apart from key generation.
 *
 * The self-signed pair, the one the agent makes, is written with lib/pki/lite-cert.ts on node:crypto,
 * so the agent never loads @peculiar/x509 (~18 MiB of RSS). Signing with a cluster CA takes a
 * CertificateAuthority of lib/pki/certs.ts, which is loaded only when that function is called.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { CertificateAuthority } from '../../lib/pki/certs.js';
import { createCertificate, encodeCertificatePem, OID, type DistinguishedName } from '../../lib/pki/lite-cert.js';
import { CA_VALIDITY_DAYS, isDnsName, LEAF_VALIDITY_DAYS, validityWindow } from '../../lib/pki/policy.js';

export interface ServingCertPem {
  /** The leaf, followed by its issuer for a self-signed pair. */
  readonly certPem: string;
  readonly keyPem: string;
}

export interface KubeletCertSpec {
  readonly nodeName: string;
  /** Every address the apiserver may use to reach the node (InternalIP first). */
  readonly ips: readonly string[];
  readonly now?: Date;
}

function sans(spec: KubeletCertSpec): { ips: readonly string[]; dnsNames: readonly string[] } {
  return { ips: spec.ips, dnsNames: isDnsName(spec.nodeName) ? [spec.nodeName] : [] };
}

/** A serving certificate signed by `ca` (the cluster CA). */
export async function createKubeletServingCert(ca: CertificateAuthority, spec: KubeletCertSpec): Promise<ServingCertPem> {
  const { createServingCert, encodeCertKeyPair } = await import('../../lib/pki/certs.js');
  const pair = await createServingCert(ca, { commonName: spec.nodeName, ...sans(spec) }, spec.now ? { now: spec.now } : {});
  return encodeCertKeyPair(pair);
}

const newP256Key = (): KeyObject => generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey;

/** A self-signed pair for a node without a cluster-signed certificate (the same profile as certs.ts createCA/createServingCert). */
export async function createSelfSignedKubeletCert(spec: KubeletCertSpec): Promise<ServingCertPem> {
  const now = spec.now ?? new Date();
  const stamp = Math.floor(now.getTime() / 1000);

  const caKey = newP256Key();
  const caName: DistinguishedName = { commonName: `${spec.nodeName}-ca@${stamp}` };
  const caValidity = validityWindow(now, CA_VALIDITY_DAYS);
  const caDer = createCertificate(
    { subject: caName, publicKey: caKey, ...caValidity, isCA: true, keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'] },
    { name: caName, privateKey: caKey },
  );

  const leafKey = newP256Key();
  const leafDer = createCertificate(
    {
      subject: { commonName: `${spec.nodeName}@${stamp}` },
      publicKey: leafKey,
      ...validityWindow(now, LEAF_VALIDITY_DAYS, caValidity.notAfter),
      keyUsage: ['digitalSignature', 'keyEncipherment'],
      extKeyUsage: [OID.serverAuth],
      ...sans(spec),
    },
    { name: caName, privateKey: caKey },
  );
  return {
    certPem: `${encodeCertificatePem(leafDer)}${encodeCertificatePem(caDer)}`,
    keyPem: leafKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
