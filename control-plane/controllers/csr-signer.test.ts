import { beforeAll, describe, expect, it } from 'vitest';
import type { CertificateSigningRequest, CsrSpec } from '../../api/certificates/csr.js';
import { createCSR } from '../../lib/pki/csr.js';
import { generateKeyPair } from '../../lib/pki/pem.js';
import type { SigningPlan } from './csr-signer.js';
import { DEFAULT_SIGNING_DURATION_SECONDS, planSigning } from './csr-signer.js';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
let nodePem: string;
let alicePem: string;

beforeAll(async () => {
  nodePem = await createCSR(await generateKeyPair(), { commonName: 'system:node:w1', organizations: ['system:nodes'] });
  alicePem = await createCSR(await generateKeyPair(), { commonName: 'alice', organizations: ['devs'] });
});

function csr(opts: { pem?: () => string; spec?: Partial<CsrSpec>; conditions?: string[]; certificate?: string } = {}): CertificateSigningRequest {
  return {
    metadata: { name: 'c' },
    spec: { request: b64((opts.pem ?? (() => nodePem))()), signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['digital signature', 'client auth'], ...opts.spec },
    status: {
      conditions: (opts.conditions ?? ['Approved']).map((type) => ({ type, status: 'True' as const })),
      ...(opts.certificate !== undefined ? { certificate: opts.certificate } : {}),
    },
  };
}

describe('planSigning', () => {
  const cases: Array<[string, () => CertificateSigningRequest, (p: SigningPlan) => void]> = [
    ['an approved kubelet request is signed for the signer maximum', () => csr(), (p) => expect(p).toEqual({ kind: 'sign', usages: ['digital signature', 'client auth'], durationSeconds: DEFAULT_SIGNING_DURATION_SECONDS })],
    ['a shorter expirationSeconds wins', () => csr({ spec: { expirationSeconds: 7200 } }), (p) => expect(p).toMatchObject({ kind: 'sign', durationSeconds: 7200 })],
    ['a longer expirationSeconds is capped', () => csr({ spec: { expirationSeconds: 10 * DEFAULT_SIGNING_DURATION_SECONDS } }), (p) => expect(p).toMatchObject({ kind: 'sign', durationSeconds: DEFAULT_SIGNING_DURATION_SECONDS })],
    ['a pending request waits', () => csr({ conditions: [] }), (p) => expect(p).toMatchObject({ kind: 'skip', why: 'not approved' })],
    ['a denied request is never signed', () => csr({ conditions: ['Denied'] }), (p) => expect(p.kind).toBe('skip')],
    ['an issued request is not signed again', () => csr({ certificate: 'eA==' }), (p) => expect(p).toMatchObject({ kind: 'skip', why: 'already issued' })],
    ['a failed request is not retried', () => csr({ conditions: ['Approved', 'Failed'] }), (p) => expect(p).toMatchObject({ kind: 'skip', why: 'already failed' })],
    ['another signer is not ours', () => csr({ spec: { signerName: 'example.com/other' } }), (p) => expect(p.kind).toBe('skip')],
    [
      'an approved request with the wrong subject fails validation',
      () => csr({ pem: () => alicePem }),
      (p) => expect(p).toMatchObject({ kind: 'fail', reason: 'SignerValidationFailure', message: expect.stringMatching(/organization is not system:nodes/) as unknown as string }),
    ],
    [
      'an approved request for server auth fails validation',
      () => csr({ spec: { usages: ['digital signature', 'server auth'] } }),
      (p) => expect(p).toMatchObject({ kind: 'fail', message: expect.stringMatching(/usages/) as unknown as string }),
    ],
  ];
  it.each(cases)('%s', (_name, make, check) => {
    check(planSigning(make()));
  });
});
