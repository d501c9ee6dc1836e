/**
 * The `kubernetes.io/kube-apiserver-client-kubelet` signer: issues approved kubelet client
 * certificates from the cluster CA and writes them to status.certificate, as upstream's csrsigning
 * controller does. A request that is approved but not a valid kubelet client request (subject, SANs,
 * usages) gets a Failed condition (reason SignerValidationFailure) instead of a certificate.
 *
 * Validity: the signer's maximum (one year, upstream's --cluster-signing-duration default), shortened
 * to spec.expirationSeconds when the request asks for less, and never past the CA's own expiry.
 * `planSigning` is the pure decision; signing costs one ECDSA signature.
 */
import type { CertificateSigningRequest } from '../../api/certificates/csr.js';
import {
  CONDITION_FAILED,
  csrCondition,
  isApproved,
  isDenied,
  isFailed,
  isIssued,
  requestPem,
  SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
} from '../../api/certificates/csr.js';
import { parseCsrPem } from '../../api/certificates/csr-request.js';
import { rfc3339 } from '../../lib/clock.js';
import type { CertificateAuthority } from '../../lib/pki/certs.js';
import { signCSR } from '../../lib/pki/csr.js';
import { nodeClientCertProblem } from './csr-approver.js';
import type { CsrControllerDeps } from './csr-informer.js';
import { csrEntry, runCsrWorker } from './csr-informer.js';

export const DEFAULT_SIGNING_DURATION_SECONDS = 365 * 24 * 3600;

export type SigningPlan =
  | { readonly kind: 'sign'; readonly usages: readonly string[]; readonly durationSeconds: number }
  | { readonly kind: 'fail'; readonly reason: string; readonly message: string }
  | { readonly kind: 'skip'; readonly why: string };

/** Pure: what the signer does with a CSR. */
export function planSigning(csr: CertificateSigningRequest, maxDurationSeconds = DEFAULT_SIGNING_DURATION_SECONDS): SigningPlan {
  if (csr.spec.signerName !== SIGNER_KUBE_APISERVER_CLIENT_KUBELET) return { kind: 'skip', why: `signer ${csr.spec.signerName} is not ours` };
  if (!isApproved(csr)) return { kind: 'skip', why: 'not approved' };
  if (isDenied(csr)) return { kind: 'skip', why: 'denied' };
  if (isFailed(csr)) return { kind: 'skip', why: 'already failed' };
  if (isIssued(csr)) return { kind: 'skip', why: 'already issued' };
  const parsed = parseCsrPem(requestPem(csr));
  if (!parsed.ok) return { kind: 'fail', reason: 'SignerValidationFailure', message: `invalid certificate request: ${parsed.error}` };
  const usages = csr.spec.usages ?? [];
  const problem = nodeClientCertProblem(usages, parsed.csr);
  if (problem !== undefined) return { kind: 'fail', reason: 'SignerValidationFailure', message: `invalid kubelet client request: ${problem}` };
  const asked = csr.spec.expirationSeconds;
  const durationSeconds = asked !== undefined && asked < maxDurationSeconds ? asked : maxDurationSeconds;
  return { kind: 'sign', usages, durationSeconds };
}

export interface CsrSignerOptions {
  readonly ca: CertificateAuthority;
  readonly maxDurationSeconds?: number;
}

export class CsrSigner {
  constructor(
    private readonly deps: CsrControllerDeps,
    private readonly opts: CsrSignerOptions,
  ) {}

  run(signal: AbortSignal): Promise<void> {
    return runCsrWorker(this.deps, (csr) => this.sync(csr), signal);
  }

  async sync(seen: CertificateSigningRequest): Promise<void> {
    const plan = planSigning(seen, this.opts.maxDurationSeconds);
    const name = seen.metadata.name ?? '';
    const now = this.deps.clock.now();
    switch (plan.kind) {
      case 'skip':
        return;
      case 'fail':
        await this.writeStatus(name, (csr) => ({
          ...csr,
          status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), csrCondition(CONDITION_FAILED, plan.reason, plan.message, rfc3339(now))] },
        }));
        this.deps.log.warn({ csr: name, reason: plan.message }, 'refused to sign certificate signing request');
        return;
      case 'sign': {
        const certPem = await signCSR(this.opts.ca, requestPem(seen), { usages: plan.usages, validityDays: plan.durationSeconds / 86_400, now });
        await this.writeStatus(name, (csr) => ({ ...csr, status: { ...csr.status, certificate: Buffer.from(certPem, 'utf8').toString('base64') } }));
        this.deps.log.info({ csr: name, requester: seen.spec.username }, 'signed kubelet client certificate');
        return;
      }
      default: {
        const never: never = plan;
        throw new Error(`unknown signing plan ${JSON.stringify(never)}`);
      }
    }
  }

  /** A status update that happens only if the stored CSR still calls for it (same plan kind). */
  private async writeStatus(name: string, change: (csr: CertificateSigningRequest) => CertificateSigningRequest): Promise<void> {
    await this.deps.registry.update(
      csrEntry(this.deps.index),
      undefined,
      name,
      (current) => {
        const csr = current as CertificateSigningRequest;
        return planSigning(csr, this.opts.maxDurationSeconds).kind === 'skip' ? current : change(csr);
      },
      { subresource: 'status', fieldManager: 'csr-signer' },
    );
  }
}
