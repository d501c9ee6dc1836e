import { webcrypto } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCA, createClientCert, encodeCertKeyPair } from '../../lib/pki/certs.js';
import { createCSR } from '../../lib/pki/csr.js';
import { generateKeyPair, pemEncode, PEM_CERTIFICATE_REQUEST } from '../../lib/pki/pem.js';
import { x509 } from '../../lib/pki/x509.js';
import type { FieldError } from '../field-errors.js';
import { formatFieldError } from '../field-errors.js';
import { parseCsrPem } from './csr-request.js';
import type { CertificateSigningRequest } from './csr.js';
import {
  applyApproval,
  conditionSummary,
  csrKind,
  defaultCsr,
  stampRequester,
  validateCsr,
  validateCsrApprovalUpdate,
  validateCsrUpdate,
} from './csr.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
let nodeCsrPem: string;
let rsaCsrPem: string;
let certPem: string;

beforeAll(async () => {
  nodeCsrPem = await createCSR(await generateKeyPair(), { commonName: 'system:node:w1', organizations: ['system:nodes'], dnsNames: ['w1.example'], ips: ['10.0.0.5'] });
  const rsa = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
  const req = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=alice, O=devs', keys: rsa, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } });
  rsaCsrPem = pemEncode(PEM_CERTIFICATE_REQUEST, req.rawData);
  const ca = await createCA('test-ca');
  certPem = (await encodeCertKeyPair(await createClientCert(ca, { commonName: 'x', organizations: [] }))).certPem;
});

/** Flips one byte inside the signed part (the subject), so the signature no longer matches. */
function tamper(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const at = der.indexOf(Buffer.from('w1'));
  der[at] = 'x'.charCodeAt(0);
  return pemEncode(PEM_CERTIFICATE_REQUEST, der);
}

describe('parseCsrPem', () => {
  it('reads the subject and SANs of an ECDSA request whose signature verifies', () => {
    const parsed = parseCsrPem(nodeCsrPem);
    expect(parsed).toEqual({
      ok: true,
      csr: { commonName: 'system:node:w1', organizations: ['system:nodes'], dnsNames: ['w1.example'], ips: ['10.0.0.5'], emails: [], uris: [], signatureAlgorithm: 'ECDSA' },
    });
  });

  it('verifies an RSA PKCS#1 v1.5 request', () => {
    const parsed = parseCsrPem(rsaCsrPem);
    expect(parsed.ok && parsed.csr.commonName).toBe('alice');
  });

  it.each([
    ['a request whose signature does not match', (): string => tamper(nodeCsrPem), /verification failure/],
    ['a certificate instead of a request', (): string => certPem, /must be CERTIFICATE REQUEST/],
    ['no PEM at all', (): string => 'hello', /must be CERTIFICATE REQUEST/],
    ['a request block with garbage inside', (): string => '-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n', /structure error/],
  ])('refuses %s', (_name, pem, message) => {
    const parsed = parseCsrPem(pem());
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.error).toMatch(message);
  });
});

const base = (): CertificateSigningRequest => ({
  apiVersion: 'certificates.k8s.io/v1',
  kind: 'CertificateSigningRequest',
  metadata: { name: 'node-csr-1' },
  spec: { request: b64(nodeCsrPem), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'] },
});

const errs = (list: FieldError[]): string[] => list.map(formatFieldError);

describe('validateCsr', () => {
  type Mutate = (c: CertificateSigningRequest) => CertificateSigningRequest;
  const spec = (patch: Partial<CertificateSigningRequest['spec']>): Mutate => (c) => ({ ...c, spec: { ...c.spec, ...patch } });
  const cases: Array<[string, Mutate, string[]]> = [
    ['a valid kubelet client request', (c) => c, []],
    ['a missing request', spec({ request: '' }), ['spec.request: Required value']],
    ['a request that is not a CSR', (c) => spec({ request: b64(certPem) })(c), ['spec.request: Invalid value: "<request data>": PEM block type must be CERTIFICATE REQUEST']],
    ['no usages', spec({ usages: [] }), ['spec.usages: Required value']],
    ['an unknown usage', spec({ usages: ['client auth', 'flying'] }), [expect.stringMatching(/^spec\.usages\[1\]: Unsupported value: "flying": supported values: "any"/) as unknown as string]],
    ['a duplicate usage', spec({ usages: ['client auth', 'client auth'] }), ['spec.usages[1]: Duplicate value: "client auth"']],
    ['no signer', spec({ signerName: '' }), ['spec.signerName: Required value']],
    ['a signer without a path', spec({ signerName: 'example.com' }), [`spec.signerName: Invalid value: "example.com": must be a fully qualified domain and path of the form 'example.com/signer-name'`]],
    ['a signer whose domain has one label', spec({ signerName: 'example/signer' }), ['spec.signerName: Invalid value: "example": should be a domain with at least two segments separated by dots']],
    ['the legacy signer', spec({ signerName: 'kubernetes.io/legacy-unknown' }), ['spec.signerName: Invalid value: "kubernetes.io/legacy-unknown": the legacy signerName is not allowed via this API version']],
    ['a duration under ten minutes', spec({ expirationSeconds: 599 }), ['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 600 seconds (10 minutes)']],
    [
      'both Approved and Denied',
      (c) => ({ ...c, status: { conditions: [{ type: 'Approved', status: 'True' }, { type: 'Denied', status: 'True' }] } }),
      ['status.conditions: Invalid value: "Denied": Approved and Denied conditions are mutually exclusive'],
    ],
    ['an Approved condition that is False', (c) => ({ ...c, status: { conditions: [{ type: 'Approved', status: 'False' }] } }), ['status.conditions[0].status: Unsupported value: "False": supported values: "True"']],
    ['a certificate that is not PEM', (c) => ({ ...c, status: { certificate: b64('junk') } }), ['status.certificate: Invalid value: "<certificate data>": must contain at least one CERTIFICATE PEM block']],
  ];
  it.each(cases)('%s', (_name, mutate, expected) => {
    expect(errs(validateCsr(mutate(base())))).toEqual(expected);
  });
});

describe('CSR updates', () => {
  const approved = (c: CertificateSigningRequest): CertificateSigningRequest => ({
    ...c,
    status: { conditions: [{ type: 'Approved', status: 'True', reason: 'R', message: 'ok' }] },
  });
  const issued = (c: CertificateSigningRequest): CertificateSigningRequest => ({ ...c, status: { ...c.status, certificate: b64(certPem) } });

  it('lets status set the certificate once, and never replace it', () => {
    expect(errs(validateCsrUpdate(issued(approved(base())), approved(base())))).toEqual([]);
    const other = { ...issued(approved(base())), status: { ...approved(base()).status, certificate: b64(certPem + certPem) } };
    expect(errs(validateCsrUpdate(other, issued(approved(base()))))).toEqual(['status.certificate: Forbidden: updates may not modify existing certificate content']);
  });

  it('keeps status and the object itself from approving', () => {
    expect(errs(validateCsrUpdate(approved(base()), base()))).toEqual(['status.conditions: Forbidden: updates may not add a condition of type "Approved"']);
  });

  it('lets approval add the Approved condition but not the certificate', () => {
    expect(errs(validateCsrApprovalUpdate(approved(base()), base()))).toEqual([]);
    expect(errs(validateCsrApprovalUpdate(issued(approved(base())), base()))).toEqual(['status.certificate: Forbidden: updates may not set certificate content']);
  });

  it('forbids removing an Approved condition through any endpoint', () => {
    expect(errs(validateCsrApprovalUpdate(base(), approved(base())))).toEqual(['status.conditions: Forbidden: updates may not remove a condition of type "Approved"']);
  });

  it('forbids changing the spec', () => {
    const changed = { ...base(), spec: { ...base().spec, usages: ['client auth'] } };
    expect(errs(validateCsrUpdate(changed, base()))).toEqual([expect.stringMatching(/^spec: Invalid value: .*: field is immutable$/) as unknown as string]);
  });
});

describe('stampRequester', () => {
  const claimed = (): CertificateSigningRequest => ({ ...base(), spec: { ...base().spec, username: 'system:node:w1', groups: ['system:nodes'], uid: 'fake' } });
  it('replaces whatever the client claimed with the authenticated user', () => {
    expect(stampRequester(claimed(), { name: 'system:bootstrap:abcdef', groups: ['system:bootstrappers', 'system:authenticated'] }).spec).toEqual({
      ...base().spec,
      username: 'system:bootstrap:abcdef',
      groups: ['system:bootstrappers', 'system:authenticated'],
    });
  });
  it('clears the claim when there is no authenticated user', () => {
    expect(stampRequester(claimed(), undefined).spec).toEqual(base().spec);
  });
});

describe('applyApproval', () => {
  it('takes only the conditions from what was sent, filling their times', () => {
    const sent = { ...base(), metadata: { name: 'node-csr-1', labels: { sneaky: 'yes' } }, spec: { ...base().spec, usages: ['any'] }, status: { conditions: [{ type: 'Approved', status: 'True' as const, reason: 'KubectlApprove' }], certificate: b64(certPem) } };
    const next = applyApproval(base(), sent, '2026-01-01T00:00:00Z');
    expect(next.spec).toEqual(base().spec);
    expect(next.metadata).toEqual(base().metadata);
    expect(next.status).toEqual({ conditions: [{ type: 'Approved', status: 'True', reason: 'KubectlApprove', lastUpdateTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
  });
});

describe('conditionSummary', () => {
  it.each([
    [[], false, 'Pending'],
    [['Approved'], false, 'Approved'],
    [['Approved'], true, 'Approved,Issued'],
    [['Denied'], false, 'Denied'],
    [['Approved', 'Failed'], false, 'Approved,Failed'],
  ])('%o issued=%s reads %s', (types, certified, expected) => {
    const status = { conditions: types.map((type) => ({ type, status: 'True' as const })), ...(certified ? { certificate: 'eA==' } : {}) };
    expect(conditionSummary({ status })).toBe(expected);
  });
});

describe('csrKind', () => {
  it('is cluster-scoped with the short name csr and a signerName field selector', () => {
    expect([csrKind.namespaced, csrKind.shortNames, csrKind.selectableFields?.(base())]).toEqual([false, ['csr'], { 'spec.signerName': 'kubernetes.io/kube-apiserver-client-kubelet' }]);
  });
  it('defaults a condition without status to True', () => {
    const c = defaultCsr({ ...base(), status: { conditions: [{ type: 'Approved' } as never] } });
    expect(c.status?.conditions?.[0]?.status).toBe('True');
  });
});
