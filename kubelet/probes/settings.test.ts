import { describe, expect, it } from 'vitest';
import type { Container } from '../../api/core/pod.js';
import { ProbeConfigError } from './errors.js';
import { goDuration, probeKindTitle, probeSettings, resolveContainerPort } from './settings.js';

const container: Container = {
  name: 'web',
  image: 'nginx',
  ports: [
    { name: 'http', containerPort: 8080 },
    { name: 'metrics', containerPort: 9090 },
  ],
};

describe('probeSettings', () => {
  it('fills upstream defaults: period 10 s, timeout 1 s, success 1, failure 3, no initial delay', () => {
    expect(probeSettings({ exec: { command: ['true'] } })).toEqual({
      initialDelaySeconds: 0,
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
    });
  });

  it('keeps explicit values and treats zero as unset', () => {
    expect(probeSettings({ initialDelaySeconds: 5, periodSeconds: 2, timeoutSeconds: 0, successThreshold: 2, failureThreshold: 0 })).toEqual({
      initialDelaySeconds: 5,
      periodSeconds: 2,
      timeoutSeconds: 1,
      successThreshold: 2,
      failureThreshold: 3,
    });
  });
});

describe('resolveContainerPort', () => {
  const cases: Array<{ name: string; port: number | string; want: number | string }> = [
    { name: 'a number is used as is', port: 8081, want: 8081 },
    { name: 'a declared name resolves to its containerPort', port: 'metrics', want: 9090 },
    { name: 'a number written as a string is accepted as a last resort', port: '7000', want: 7000 },
    { name: 'an undeclared name fails as upstream strconv.Atoi does', port: 'grpc', want: 'strconv.Atoi: parsing "grpc": invalid syntax' },
    { name: 'zero is not a port', port: 0, want: 'invalid port number: 0' },
    { name: 'ports stop at 65535', port: 65536, want: 'invalid port number: 65536' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      if (typeof c.want === 'number') {
        expect(resolveContainerPort(c.port, container)).toBe(c.want);
      } else {
        expect(() => resolveContainerPort(c.port, container)).toThrow(ProbeConfigError);
        expect(() => resolveContainerPort(c.port, container)).toThrow(c.want);
      }
    });
  }
});

describe('message helpers', () => {
  it.each([
    [1, '1s'],
    [0.5, '500ms'],
    [60, '1m0s'],
    [90, '1m30s'],
    [3600, '1h0m0s'],
  ])('goDuration(%s) prints %s as Go does', (s, want) => {
    expect(goDuration(s)).toBe(want);
  });

  it('titles probe kinds as upstream events do', () => {
    expect(['liveness', 'readiness', 'startup'].map((k) => probeKindTitle(k as 'liveness'))).toEqual(['Liveness', 'Readiness', 'Startup']);
  });
});
