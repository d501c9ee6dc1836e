/**
 * Auto-approval of kubelet client certificates, as upstream's csrapproving controller does with
 * kubeadm's default RBAC: a `kubernetes.io/kube-apiserver-client-kubelet` request whose subject is
 * exactly `O=system:nodes, CN=system:node:<name>`, without SANs, asking for digital signature + client
 * auth (key encipherment allowed), is approved when
 *  - it comes from a bootstrap token (`system:bootstrap:<id>` in `system:bootstrappers`): a node joining;
 *  - or from that node itself (`system:node:<name>` in `system:nodes`): a renewal.
 * and, as upstream, the requester may `create` certificatesigningrequests/nodeclient (joining) or
 * /selfnodeclient (renewal) in certificates.k8s.io: kubeadm's default policy grants the first to
 * bootstrap tokens of group system:bootstrappers:kubeadm:default-node-token and the second to
 * system:nodes (authz/policy.ts).
 * Everything else is left Pending for a human (`kubectl certificate approve`); nothing is ever denied.
 *
 * `decideApproval` is the pure decision; the controller applies it through the Registry, re-deciding on
 * the stored object inside the update so a concurrent deny or approve is never overwritten.
 */
import type { CertificateSigningRequest } from '../../api/certificates/csr.js';
import {
  CONDITION_APPROVED,
  csrCondition,
  isApproved,
  isDenied,
  requestPem,
  SIGNER_KUBE_APISERVER_CLIENT_KUBELET,
  validateCsrApprovalUpdate,
} from '../../api/certificates/csr.js';
import type { CsrContent } from '../../api/certificates/csr-request.js';
import { parseCsrPem } from '../../api/certificates/csr-request.js';
import { rfc3339 } from '../../lib/clock.js';
import { invalid } from '../apiserver/errors.js';
import type { CsrControllerDeps } from './csr-informer.js';
import { csrEntry, runCsrWorker } from './csr-informer.js';

export const NODE_USER_PREFIX = 'system:node:';
export const NODES_GROUP = 'system:nodes';
export const BOOTSTRAP_USER_PREFIX = 'system:bootstrap:';
export const BOOTSTRAPPERS_GROUP = 'system:bootstrappers';

export type ApprovalDecision =
  | { readonly kind: 'approve'; readonly reason: string; readonly message: string }
  | { readonly kind: 'skip'; readonly why: string };

const sameSet = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && new Set(a).size === b.length && b.every((x) => a.includes(x));

/** Upstream's isNodeClientCert: why the request is not a plain kubelet client certificate, if it is not. */
export function nodeClientCertProblem(usages: readonly string[], content: CsrContent): string | undefined {
  if (content.organizations.length !== 1 || content.organizations[0] !== NODES_GROUP) return `subject organization is not ${NODES_GROUP}`;
  if (!content.commonName.startsWith(NODE_USER_PREFIX) || content.commonName.length === NODE_USER_PREFIX.length) {
    return `subject common name does not begin with ${NODE_USER_PREFIX}`;
  }
  if (content.dnsNames.length > 0 || content.ips.length > 0 || content.emails.length > 0 || content.uris.length > 0) {
    return 'subject alternative names are not allowed';
  }
  const withRsa = ['key encipherment', 'digital signature', 'client auth'];
  const withoutRsa = ['digital signature', 'client auth'];
  if (!sameSet(usages, withRsa) && !sameSet(usages, withoutRsa)) return 'usages are not digital signature + client auth (+ key encipherment)';
  return undefined;
}

/** May `user` (in `groups`) create certificatesigningrequests/<subresource>? (the authorizer's answer) */
export type ApprovalCheck = (user: string, groups: readonly string[], subresource: 'nodeclient' | 'selfnodeclient') => boolean;

/** Pure: should this CSR be auto-approved? Without `allowed`, the requester's permission is not asked. */
export function decideApproval(csr: CertificateSigningRequest, allowed?: ApprovalCheck): ApprovalDecision {
  if (isApproved(csr) || isDenied(csr)) return { kind: 'skip', why: 'already approved or denied' };
  if (csr.spec.signerName !== SIGNER_KUBE_APISERVER_CLIENT_KUBELET) return { kind: 'skip', why: `signer ${csr.spec.signerName} is not auto-approved` };
  const parsed = parseCsrPem(requestPem(csr));
  if (!parsed.ok) return { kind: 'skip', why: `unreadable request: ${parsed.error}` };
  const problem = nodeClientCertProblem(csr.spec.usages ?? [], parsed.csr);
  if (problem !== undefined) return { kind: 'skip', why: problem };
  const user = csr.spec.username ?? '';
  const groups = csr.spec.groups ?? [];
  const refused = (sub: 'nodeclient' | 'selfnodeclient'): ApprovalDecision | undefined =>
    allowed !== undefined && !allowed(user, groups, sub) ? { kind: 'skip', why: `requester ${JSON.stringify(user)} may not create certificatesigningrequests/${sub}` } : undefined;
  if (user.startsWith(BOOTSTRAP_USER_PREFIX) && groups.includes(BOOTSTRAPPERS_GROUP)) {
    const no = refused('nodeclient');
    if (no !== undefined) return no;
    return { kind: 'approve', reason: 'AutoApproved', message: 'Auto approving kubelet client certificate requested with a bootstrap token.' };
  }
  if (user === parsed.csr.commonName && groups.includes(NODES_GROUP)) {
    const no = refused('selfnodeclient');
    if (no !== undefined) return no;
    return { kind: 'approve', reason: 'AutoApproved', message: 'Auto approving renewal of a kubelet client certificate by its own node.' };
  }
  return { kind: 'skip', why: `requester ${JSON.stringify(user)} is neither a bootstrap token nor the node itself` };
}

export class CsrApprover {
  constructor(
    private readonly deps: CsrControllerDeps,
    private readonly opts: { readonly allowed?: ApprovalCheck } = {},
  ) {}

  run(signal: AbortSignal): Promise<void> {
    return runCsrWorker(this.deps, (csr) => this.sync(csr), signal);
  }

  /** Approves one CSR if the decision says so; exported for tests through the class. */
  async sync(seen: CertificateSigningRequest): Promise<void> {
    const first = decideApproval(seen, this.opts.allowed);
    if (first.kind === 'skip') {
      if (first.why.includes('may not create')) this.deps.log.info({ csr: seen.metadata.name, why: first.why }, 'kubelet client certificate left for a human');
      return;
    }
    const name = seen.metadata.name ?? '';
    const entry = csrEntry(this.deps.index);
    const outcome: { decision?: ApprovalDecision } = {};
    await this.deps.registry.update(
      entry,
      undefined,
      name,
      (current) => {
        const csr = current as CertificateSigningRequest;
        const decision = decideApproval(csr, this.opts.allowed);
        outcome.decision = decision;
        if (decision.kind === 'skip') return current;
        const condition = csrCondition(CONDITION_APPROVED, decision.reason, decision.message, rfc3339(this.deps.clock.now()));
        const next: CertificateSigningRequest = { ...csr, status: { ...csr.status, conditions: [...(csr.status?.conditions ?? []), condition] } };
        const errs = validateCsrApprovalUpdate(next, csr);
        if (errs.length > 0) throw invalid('CertificateSigningRequest', 'certificates.k8s.io', name, errs);
        return next;
      },
      // the approval rules were checked above; the kind's status rules forbid adding Approved
      { subresource: 'status', trusted: true, fieldManager: 'csr-approver' },
    );
    if (outcome.decision?.kind === 'approve') this.deps.log.info({ csr: name, requester: seen.spec.username }, 'approved kubelet client certificate');
  }
}
