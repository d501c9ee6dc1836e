import { describe, expect, it } from 'vitest';
import { formatFieldError } from '../field-errors.js';
import {
  DEFAULT_TOKEN_SECONDS,
  defaultTokenRequest,
  MAX_TOKEN_SECONDS,
  MIN_TOKEN_SECONDS,
  tokenRequestKind,
  validateTokenRequest,
} from './tokenrequest.js';
import type { TokenRequest, TokenRequestSpec } from './tokenrequest.js';

const tr = (spec: TokenRequestSpec = {}): TokenRequest => ({
  apiVersion: 'authentication.k8s.io/v1',
  kind: 'TokenRequest',
  metadata: { name: 'builder', namespace: 'team-a' },
  spec,
});

describe('TokenRequest', () => {
  it('is authentication.k8s.io/v1 tokenrequests, namespaced, wired to its defaulting and validation', () => {
    expect([tokenRequestKind.group, tokenRequestKind.version, tokenRequestKind.kind, tokenRequestKind.plural, tokenRequestKind.namespaced]).toEqual([
      'authentication.k8s.io',
      'v1',
      'TokenRequest',
      'tokenrequests',
      true,
    ]);
    expect(tokenRequestKind.default).toBe(defaultTokenRequest);
    expect(tokenRequestKind.validate).toBe(validateTokenRequest);
    expect([DEFAULT_TOKEN_SECONDS, MIN_TOKEN_SECONDS, MAX_TOKEN_SECONDS]).toEqual([3600, 600, 4294967296]);
  });

  describe('defaulting', () => {
    it('sets expirationSeconds to 3600 when not asked, keeping the rest', () => {
      const out = defaultTokenRequest(tr({ audiences: ['vault'] }));
      expect(out.spec).toEqual({ audiences: ['vault'], expirationSeconds: 3600 });
      expect(out.metadata).toEqual({ name: 'builder', namespace: 'team-a' });
    });

    it('keeps an asked expirationSeconds, and defaults a request without spec', () => {
      expect(defaultTokenRequest(tr({ expirationSeconds: 7200 })).spec.expirationSeconds).toBe(7200);
      const noSpec = { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', metadata: {} } as unknown as TokenRequest;
      expect(defaultTokenRequest(noSpec).spec).toEqual({ expirationSeconds: 3600 });
    });

    it('does not mutate its input', () => {
      const input = tr();
      defaultTokenRequest(input);
      expect(input.spec).toEqual({});
    });
  });

  describe('validation', () => {
    it('accepts the default, the bounds, and Pod or Secret bindings', () => {
      expect(validateTokenRequest(tr())).toEqual([]);
      expect(validateTokenRequest(tr({ expirationSeconds: 600 }))).toEqual([]);
      expect(validateTokenRequest(tr({ expirationSeconds: 2 ** 32 }))).toEqual([]);
      expect(validateTokenRequest(tr({ boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'web-0', uid: 'u' } }))).toEqual([]);
      expect(validateTokenRequest(tr({ boundObjectRef: { kind: 'Secret', name: 's' } }))).toEqual([]);
    });

    it('refuses less than 10 minutes with upstream message', () => {
      const errs = validateTokenRequest(tr({ expirationSeconds: 599 }));
      expect(errs).toEqual([{ type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: 599, detail: 'may not specify a duration less than 10 minutes' }]);
      expect(errs.map(formatFieldError)).toEqual(['spec.expirationSeconds: Invalid value: 599: may not specify a duration less than 10 minutes']);
    });

    it('refuses more than 2^32 seconds', () => {
      expect(validateTokenRequest(tr({ expirationSeconds: 2 ** 32 + 1 }))).toEqual([
        { type: 'FieldValueInvalid', field: 'spec.expirationSeconds', value: 4294967297, detail: 'may not specify a duration larger than 2^32 seconds' },
      ]);
    });

    it('refuses a binding to a kind other than Pod or Secret, naming those', () => {
      const errs = validateTokenRequest(tr({ boundObjectRef: { kind: 'Deployment', apiVersion: 'apps/v1', name: 'web' } }));
      expect(errs).toEqual([{ type: 'FieldValueNotSupported', field: 'spec.boundObjectRef.kind', value: 'Deployment', detail: 'supported values: "Pod", "Secret"' }]);
      expect(formatFieldError(errs[0] ?? { type: 'FieldValueRequired', field: '' })).toBe(
        'spec.boundObjectRef.kind: Unsupported value: "Deployment": supported values: "Pod", "Secret"',
      );
    });

    it('requires the bound object name, and a kind', () => {
      expect(validateTokenRequest(tr({ boundObjectRef: { kind: 'Pod' } }))).toEqual([{ type: 'FieldValueRequired', field: 'spec.boundObjectRef.name' }]);
      expect(validateTokenRequest(tr({ boundObjectRef: { kind: 'Pod', name: '' } }))).toEqual([{ type: 'FieldValueRequired', field: 'spec.boundObjectRef.name' }]);
      expect(validateTokenRequest(tr({ boundObjectRef: {} }))).toEqual([
        { type: 'FieldValueNotSupported', field: 'spec.boundObjectRef.kind', value: '', detail: 'supported values: "Pod", "Secret"' },
        { type: 'FieldValueRequired', field: 'spec.boundObjectRef.name' },
      ]);
    });

    it('reports every problem at once', () => {
      expect(validateTokenRequest(tr({ expirationSeconds: 1, boundObjectRef: { kind: 'Node' } })).map((e) => e.field)).toEqual([
        'spec.expirationSeconds',
        'spec.boundObjectRef.kind',
        'spec.boundObjectRef.name',
      ]);
    });
  });
});
