/**
 * certificates.k8s.io/v1 CertificateSigningRequest: types, the well-known signer names and usages, and
 * small readers of its status (is it approved, denied, failed, issued). Field names and JSON shapes
 * are upstream's; `request` and `certificate` are []byte in Go, so base64 of the PEM text in JSON.
 */
import type { KubeObject, ObjectMeta } from '../meta.js';

/** Client certificates for kubelets talking to the apiserver (`system:node:<name>`, O=`system:nodes`). */
export const SIGNER_KUBE_APISERVER_CLIENT_KUBELET = 'kubernetes.io/kube-apiserver-client-kubelet';
/** Client certificates for any user of the apiserver. */
export const SIGNER_KUBE_APISERVER_CLIENT = 'kubernetes.io/kube-apiserver-client';
/** Serving certificates for kubelets. */
export const SIGNER_KUBELET_SERVING = 'kubernetes.io/kubelet-serving';
/** The v1beta1 catch-all, refused by v1. */
export const SIGNER_LEGACY_UNKNOWN = 'kubernetes.io/legacy-unknown';

export const CONDITION_APPROVED = 'Approved';
export const CONDITION_DENIED = 'Denied';
export const CONDITION_FAILED = 'Failed';

/** certificates.k8s.io/v1 KeyUsage values, in upstream's (sorted) order for error messages. */
export const KEY_USAGES: readonly string[] = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];

export interface CsrCondition {
  /** Approved, Denied, Failed, or any other type a signer uses. */
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly lastUpdateTime?: string;
  readonly lastTransitionTime?: string;
}

export interface CsrSpec {
  /** Base64 of a PEM `CERTIFICATE REQUEST` block. */
  readonly request: string;
  readonly signerName: string;
  /** Requested validity; the signer may issue a shorter one. At least 600. */
  readonly expirationSeconds?: number;
  readonly usages?: readonly string[];
  /** Set by the apiserver from the authenticated requester; whatever a client sends is replaced. */
  readonly username?: string;
  readonly uid?: string;
  readonly groups?: readonly string[];
  readonly extra?: Readonly<Record<string, readonly string[]>>;
}

export interface CsrStatus {
  readonly conditions?: readonly CsrCondition[];
  /** Base64 of the issued PEM certificate(s); set once, by the signer, through the status subresource. */
  readonly certificate?: string;
}

export interface CertificateSigningRequest extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly spec: CsrSpec;
  readonly status?: CsrStatus;
}

export function conditionsOf(csr: Pick<CertificateSigningRequest, 'status'>, type: string): CsrCondition[] {
  return (csr.status?.conditions ?? []).filter((c) => c.type === type);
}

const hasTrue = (csr: Pick<CertificateSigningRequest, 'status'>, type: string): boolean =>
  conditionsOf(csr, type).some((c) => c.status === 'True');

export const isApproved = (csr: Pick<CertificateSigningRequest, 'status'>): boolean => hasTrue(csr, CONDITION_APPROVED);
export const isDenied = (csr: Pick<CertificateSigningRequest, 'status'>): boolean => hasTrue(csr, CONDITION_DENIED);
export const isFailed = (csr: Pick<CertificateSigningRequest, 'status'>): boolean => hasTrue(csr, CONDITION_FAILED);
export const isIssued = (csr: Pick<CertificateSigningRequest, 'status'>): boolean => (csr.status?.certificate ?? '') !== '';

/** The PEM text of the request (spec.request decoded). */
export function requestPem(csr: Pick<CertificateSigningRequest, 'spec'>): string {
  return Buffer.from(csr.spec.request, 'base64').toString('utf8');
}

/** The PEM text of the issued certificate, or undefined before it is issued. */
export function certificatePem(csr: Pick<CertificateSigningRequest, 'status'>): string | undefined {
  const c = csr.status?.certificate;
  return c === undefined || c === '' ? undefined : Buffer.from(c, 'base64').toString('utf8');
}

/** `Approved,Issued`, `Pending`, `Denied`, `Approved,Failed`: kubectl's CONDITION column, in upstream's precedence. */
export function conditionSummary(csr: Pick<CertificateSigningRequest, 'status'>): string {
  const types = new Set((csr.status?.conditions ?? []).map((c) => c.type));
  let summary = types.has(CONDITION_DENIED) ? 'Denied' : types.has(CONDITION_APPROVED) ? 'Approved' : 'Pending';
  if (types.has(CONDITION_FAILED)) summary += ',Failed';
  if (isIssued(csr)) summary += ',Issued';
  return summary;
}
