/**
 * Validation of CertificateSigningRequests, with upstream's rules and wording
 * (pkg/apis/certificates/validation): the request must be a PEM PKCS#10 whose signature verifies,
 * usages are required, known and unique, signerName is `<domain>/<path>`, expirationSeconds >= 600,
 * conditions have a type and a status (True only for Approved/Denied/Failed), Approved and Denied
 * exclude each other, and status.certificate holds only CERTIFICATE blocks.
 *
 * Updates come in three flavours, as upstream's three strategies: the object itself and `status` may not
 * add, change or remove Approved/Denied conditions (only `approval` may), only `status` may set the
 * certificate, and nobody may replace a certificate once set or remove an Approved/Denied/Failed
 * condition. Problems already present in the stored object are tolerated, as upstream does.
 */
import type { FieldError } from '../field-errors.js';
import { duplicate, FieldPath, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { isDNS1123Label, isDNS1123Subdomain, isPathSegmentName } from '../names.js';
import { jsonEqual, validateImmutableField, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { certificatePemError, decodePemField, parseCsrPem } from './csr-request.js';
import type { CertificateSigningRequest } from './csr-types.js';
import { CONDITION_APPROVED, CONDITION_DENIED, CONDITION_FAILED, conditionsOf, KEY_USAGES, SIGNER_LEGACY_UNKNOWN } from './csr-types.js';

const TRUE_ONLY = new Set([CONDITION_APPROVED, CONDITION_DENIED, CONDITION_FAILED]);
const ALL_STATUSES = ['False', 'True', 'Unknown'];

/** What an update may do beyond the object's own rules; create uses none of them. */
export interface CsrUpdateRights {
  readonly setApprovalConditions: boolean;
  readonly setCertificate: boolean;
}

/** Upstream ValidateSignerName: `example.com/signer-name`. */
export function validateSignerName(signerName: string, path: FieldPath): FieldError[] {
  if (signerName === '') return [required(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain = '', rest = ''] = segments;
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push({ type: 'FieldValueTooLong', field: path.toString(), detail: 'must have at most 253 bytes' });
  const labels = domain.split('.');
  for (const l of labels) {
    const msgs = isDNS1123Label(l);
    if (msgs.length > 0) errs.push(invalid(path, domain, msgs.join(',')));
  }
  if (labels.length < 2) errs.push(invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const l of rest.split('.')) {
    const msgs = isDNS1123Subdomain(l);
    if (msgs.length > 0) errs.push(invalid(path, rest, msgs.join(',')));
  }
  if (rest.length > 253 + 63 + 1) errs.push({ type: 'FieldValueTooLong', field: path.toString(), detail: `must have at most ${253 + 63 + 1} bytes` });
  return errs;
}

/** Compatibility allowances for problems the stored object already has (none on create). */
interface Tolerance {
  readonly bothApprovedAndDenied: boolean;
  readonly duplicateConditionTypes: boolean;
  readonly emptyConditionType: boolean;
  readonly arbitraryCertificate: boolean;
  readonly legacySigner: boolean;
}

const STRICT: Tolerance = { bothApprovedAndDenied: false, duplicateConditionTypes: false, emptyConditionType: false, arbitraryCertificate: false, legacySigner: false };

function toleranceFor(next: CertificateSigningRequest, old: CertificateSigningRequest): Tolerance {
  const oldTypes = (old.status?.conditions ?? []).map((c) => c.type);
  const cert = next.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  return {
    bothApprovedAndDenied: oldTypes.includes(CONDITION_APPROVED) && oldTypes.includes(CONDITION_DENIED),
    duplicateConditionTypes: new Set(oldTypes).size !== oldTypes.length,
    emptyConditionType: oldTypes.includes(''),
    arbitraryCertificate: cert === oldCert || certificatePemError(decodePemField(oldCert) ?? '') !== undefined,
    legacySigner: old.spec?.signerName === SIGNER_LEGACY_UNKNOWN,
  };
}

function validateBody(csr: CertificateSigningRequest, tol: Tolerance): FieldError[] {
  const errs: FieldError[] = validateObjectMeta(csr.metadata, { namespaced: false, nameValidator: isPathSegmentName });
  const spec = FieldPath.root('spec');
  const s = csr.spec ?? { request: '', signerName: '' };
  const pem = decodePemField(s.request);
  if (s.request === undefined || s.request === '') errs.push(required(spec.child('request')));
  else if (pem === undefined) errs.push(invalid(spec.child('request'), '<request data>', 'must be base64 of a PEM certificate request'));
  else {
    const parsed = parseCsrPem(pem);
    if (!parsed.ok) errs.push(invalid(spec.child('request'), '<request data>', parsed.error));
  }
  const usages = s.usages ?? [];
  if (usages.length === 0) errs.push(required(spec.child('usages')));
  const seen = new Set<string>();
  usages.forEach((u, i) => {
    if (!KEY_USAGES.includes(u)) errs.push(notSupported(spec.child('usages').index(i), u, KEY_USAGES));
    if (seen.has(u)) errs.push(duplicate(spec.child('usages').index(i), u));
    seen.add(u);
  });
  if (s.signerName === SIGNER_LEGACY_UNKNOWN && !tol.legacySigner) {
    errs.push(invalid(spec.child('signerName'), s.signerName, 'the legacy signerName is not allowed via this API version'));
  } else if (s.signerName !== SIGNER_LEGACY_UNKNOWN) {
    errs.push(...validateSignerName(s.signerName ?? '', spec.child('signerName')));
  }
  if (s.expirationSeconds !== undefined && s.expirationSeconds < 600) {
    errs.push(invalid(spec.child('expirationSeconds'), s.expirationSeconds, 'may not specify a duration less than 600 seconds (10 minutes)'));
  }
  errs.push(...validateConditions(csr, tol));
  if (!tol.arbitraryCertificate) {
    const certPem = decodePemField(csr.status?.certificate);
    const certErr = certPem === undefined ? 'must be base64 of PEM certificates' : certificatePemError(certPem);
    if (certErr !== undefined) errs.push(invalid(FieldPath.root('status').child('certificate'), '<certificate data>', certErr));
  }
  return errs;
}

function validateConditions(csr: CertificateSigningRequest, tol: Tolerance): FieldError[] {
  const path = FieldPath.root('status').child('conditions');
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  let approved = false;
  let denied = false;
  (csr.status?.conditions ?? []).forEach((c, i) => {
    const at = path.index(i);
    if ((c.type ?? '') === '' && !tol.emptyConditionType) errs.push(required(at.child('type')));
    const allowed = TRUE_ONLY.has(c.type) ? ['True'] : ALL_STATUSES;
    if (((c.status as string | undefined) ?? '') === '') errs.push(required(at.child('status')));
    else if (!allowed.includes(c.status)) errs.push(notSupported(at.child('status'), c.status, allowed));
    if (!tol.bothApprovedAndDenied) {
      if (c.type === CONDITION_APPROVED) {
        approved = true;
        if (denied) errs.push(invalid(path, c.type, 'Approved and Denied conditions are mutually exclusive'));
      } else if (c.type === CONDITION_DENIED) {
        denied = true;
        if (approved) errs.push(invalid(path, c.type, 'Approved and Denied conditions are mutually exclusive'));
      }
    }
    if (!tol.duplicateConditionTypes) {
      if (seen.has(c.type)) errs.push(duplicate(at.child('type'), c.type));
      seen.add(c.type);
    }
  });
  return errs;
}

export function validateCsr(csr: CertificateSigningRequest): FieldError[] {
  return validateBody(csr, STRICT);
}

/** An update through the given endpoint; see the file comment for what each may change. */
export function validateCsrUpdateWith(next: CertificateSigningRequest, old: CertificateSigningRequest, rights: CsrUpdateRights): FieldError[] {
  const errs = validateBody(next, toleranceFor(next, old));
  errs.push(...validateObjectMetaUpdate(next.metadata, old.metadata));
  errs.push(...validateImmutableField(next.spec, old.spec, FieldPath.root('spec')));
  const conditionsPath = FieldPath.root('status').child('conditions');
  for (const t of [CONDITION_APPROVED, CONDITION_DENIED, CONDITION_FAILED]) {
    if (conditionsOf(next, t).length < conditionsOf(old, t).length) {
      errs.push(forbidden(conditionsPath, `updates may not remove a condition of type "${t}"`));
    }
  }
  if (!rights.setApprovalConditions) {
    for (const t of [CONDITION_APPROVED, CONDITION_DENIED]) {
      const before = conditionsOf(old, t);
      const after = conditionsOf(next, t);
      if (after.length > before.length) errs.push(forbidden(conditionsPath, `updates may not add a condition of type "${t}"`));
      else if (after.length === before.length && !jsonEqual(before, after)) {
        errs.push(forbidden(conditionsPath, `updates may not modify a condition of type "${t}"`));
      }
    }
  }
  const cert = next.status?.certificate ?? '';
  const oldCert = old.status?.certificate ?? '';
  if (cert !== oldCert) {
    if (!rights.setCertificate) errs.push(forbidden(FieldPath.root('status').child('certificate'), 'updates may not set certificate content'));
    else if (oldCert !== '') errs.push(forbidden(FieldPath.root('status').child('certificate'), 'updates may not modify existing certificate content'));
  }
  return errs;
}

/**
 * The kind's validateUpdate, used for the object itself and for `status` (the registry keeps status
 * unchanged on the former, so the certificate right only matters on the latter).
 */
export function validateCsrUpdate(next: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  return validateCsrUpdateWith(next, old, { setApprovalConditions: false, setCertificate: true });
}

/** The `approval` subresource: Approved/Denied conditions may change, the certificate may not. */
export function validateCsrApprovalUpdate(next: CertificateSigningRequest, old: CertificateSigningRequest): FieldError[] {
  return validateCsrUpdateWith(next, old, { setApprovalConditions: true, setCertificate: false });
}
