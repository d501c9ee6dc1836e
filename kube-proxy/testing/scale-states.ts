/**
 * The states the measure-sync scripts of both proxy modes time: one more Service on top of N, one
 * endpoint changed, and a stopwatch. Shared so both modes measure exactly the same changes.
 */
import type { ProxyState } from '../model.js';
import { service, slice, state } from './fixtures.js';

export function timed<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const v = fn();
  return [v, performance.now() - t0];
}

export function withExtraService(base: ProxyState, i: number): { state: ProxyState; key: string } {
  const name = `added-${i}`;
  const extra = state([service(name, { clusterIP: `10.97.${i >> 8}.${i & 255}`, ports: [{ name: 'http', port: 80 }] })], [slice(name, [{ name: 'http', port: 8080 }], [{ ip: `10.245.0.${i}` }, { ip: `10.245.1.${i}` }])]);
  const [key, sp] = [...extra.services][0] ?? [];
  if (key === undefined || sp === undefined) throw new Error('no service port');
  return {
    key,
    state: { services: new Map([...base.services, [key, sp]]), endpoints: new Map([...base.endpoints, [key, extra.endpoints.get(key) ?? []]]) },
  };
}

export function withChangedEndpoint(base: ProxyState, key: string, i: number): ProxyState {
  const eps = base.endpoints.get(key) ?? [];
  const [first, ...rest] = eps;
  if (first === undefined) throw new Error('no endpoint');
  return { services: base.services, endpoints: new Map([...base.endpoints, [key, [{ ...first, ip: `10.246.0.${i}` }, ...rest]]]) };
}
