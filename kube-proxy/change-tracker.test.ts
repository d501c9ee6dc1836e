import { describe, expect, it } from 'vitest';
import type { Service } from '../api/core/service-types.js';
import type { EndpointSlice } from '../api/discovery/endpointslice.js';
import { ChangeTracker, TRIGGER_TIME_ANNOTATION } from './change-tracker.js';
import { NODE, OTHER_NODE, service, slice } from './testing/fixtures.js';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const web = (mutate: (s: Service) => Service = (s) => s): Service =>
  mutate(service('web', { clusterIP: '10.96.0.20', ports: [{ name: 'http', port: 80, targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }] }));
const webSlice = (ips: string[], name = 'web-abc', meta: Partial<EndpointSlice['metadata']> = {}): EndpointSlice => {
  const s = slice('web', [{ name: 'http', port: 8080 }, { name: 'dns', port: 53, protocol: 'UDP' }], ips.map((ip) => ({ ip, node: OTHER_NODE })), name);
  return { ...s, metadata: { ...s.metadata, ...meta } };
};
const HTTP = 'default/web/tcp/http';
const DNS = 'default/web/udp/dns';

function tracker(now = START + 5_000): ChangeTracker {
  return new ChangeTracker({ nodeName: NODE, startedAt: START, now: () => now });
}

describe('ChangeTracker', () => {
  it('a new Service and its slice: every port changed, endpoints resolved per port', () => {
    const t = tracker();
    t.onService(undefined, web());
    t.onSlice(undefined, webSlice(['10.244.2.7']));
    expect(t.pending).toBe(true);
    const s = t.snapshot();
    expect([...s.changed].sort()).toEqual([HTTP, DNS]);
    expect(s.state.endpoints.get(HTTP)?.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.244.2.7:8080']);
    expect(s.state.endpoints.get(DNS)?.map((e) => `${e.ip}:${e.port}`)).toEqual(['10.244.2.7:53']);
    expect(s).toMatchObject({ serviceChanges: 1, endpointChanges: 1 });
    expect(t.pending).toBe(false);
  });

  it('an update that changes nothing the rules use reports no key, and leaves the state object as it was', () => {
    const t = tracker();
    t.onService(undefined, web());
    t.onSlice(undefined, webSlice(['10.244.2.7']));
    const first = t.snapshot();
    t.onService(web(), web((s) => ({ ...s, metadata: { ...s.metadata, labels: { team: 'a' } } })));
    t.onSlice(webSlice(['10.244.2.7']), webSlice(['10.244.2.7'], 'web-abc', { annotations: { note: 'x' } }));
    const second = t.snapshot();
    expect(second.changed.size).toBe(0);
    expect(second.state.endpoints.get(HTTP)).toEqual(first.state.endpoints.get(HTTP));
    // states are values: the first snapshot is untouched by later ones
    t.onSlice(webSlice(['10.244.2.7']), webSlice(['10.244.2.8']));
    t.snapshot();
    expect(first.state.endpoints.get(HTTP)?.[0]?.ip).toBe('10.244.2.7');
  });

  it('an endpoint change marks the Service’s ports; a removed port and a deleted Service are reported', () => {
    const t = tracker();
    t.onService(undefined, web());
    t.onSlice(undefined, webSlice(['10.244.2.7']));
    t.snapshot();
    const onlyHttp = web((s) => ({ ...s, spec: { ...s.spec, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }));
    t.onService(web(), onlyHttp);
    const s1 = t.snapshot();
    expect([...s1.changed]).toEqual([DNS]);
    expect(s1.state.services.has(DNS)).toBe(false);
    t.onService(onlyHttp, undefined);
    const s2 = t.snapshot();
    expect([...s2.changed]).toEqual([HTTP]);
    expect(s2.state.services.size).toBe(0);
  });

  it('endpoints from several slices are merged; a deleted slice takes its endpoints with it', () => {
    const t = tracker();
    t.onService(undefined, web());
    t.onSlice(undefined, webSlice(['10.244.2.7'], 'web-a'));
    t.onSlice(undefined, webSlice(['10.244.2.8'], 'web-b'));
    expect(t.snapshot().state.endpoints.get(HTTP)?.map((e) => e.ip)).toEqual(['10.244.2.7', '10.244.2.8']);
    t.onSlice(webSlice(['10.244.2.7'], 'web-a'), undefined);
    const s = t.snapshot();
    expect([...s.changed].sort()).toEqual([HTTP, DNS]);
    expect(s.state.endpoints.get(HTTP)?.map((e) => e.ip)).toEqual(['10.244.2.8']);
  });

  it('a slice moved to another Service leaves the first one', () => {
    const t = tracker();
    t.onService(undefined, web());
    t.onService(undefined, service('api', { clusterIP: '10.96.0.21', ports: [{ name: 'http', port: 80 }] }));
    const s0 = webSlice(['10.244.2.7']);
    t.onSlice(undefined, s0);
    t.snapshot();
    t.onSlice(s0, { ...s0, metadata: { ...s0.metadata, labels: { 'kubernetes.io/service-name': 'api' } } });
    const s = t.snapshot();
    expect(s.state.endpoints.get(HTTP)).toEqual([]);
    expect(s.state.endpoints.get('default/api/tcp/http')?.map((e) => e.ip)).toEqual(['10.244.2.7']);
  });

  it('slices without a Service label are ignored', () => {
    const t = tracker();
    const orphan = webSlice(['10.244.2.7']);
    t.onSlice(undefined, { ...orphan, metadata: { ...orphan.metadata, labels: {} } });
    expect(t.pending).toBe(false);
  });

  it('trigger times: the annotation, else creation for a new slice, else the time seen; none from before the start', () => {
    const t = tracker(START + 9_000);
    t.onService(undefined, web());
    t.onSlice(undefined, webSlice(['10.244.2.7'], 'a', { annotations: { [TRIGGER_TIME_ANNOTATION]: new Date(START + 1_000).toISOString() } }));
    t.onSlice(undefined, webSlice(['10.244.2.8'], 'b', { creationTimestamp: new Date(START + 2_000).toISOString() }));
    t.onSlice(webSlice(['10.244.2.8'], 'b'), webSlice(['10.244.2.9'], 'b'));
    t.onSlice(undefined, webSlice(['10.244.2.10'], 'c', { creationTimestamp: new Date(START - 60_000).toISOString() }));
    const s = t.snapshot();
    expect(s.triggerTimes.get('default/web')).toEqual([START + 1_000, START + 2_000, START + 9_000]);
    expect(t.snapshot().triggerTimes.size).toBe(0);
    t.restoreTriggerTimes(s.triggerTimes);
    expect(t.snapshot().triggerTimes.get('default/web')).toHaveLength(3);
  });
});
