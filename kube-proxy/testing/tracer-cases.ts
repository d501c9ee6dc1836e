/**
 * The proxy's behaviour as a table of flows, independent of mode and rule layout: each mode's
 * tracer.test.ts calls `describeTracerBehaviour` with a factory that builds its ruleset and a packet
 * tracer over it (nftables/tracer.ts, iptables/tracer.ts). A case here is a promise both modes keep.
 */
import { describe, expect, it } from 'vitest';
import type { Service } from '../../api/core/service-types.js';
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Flow, TraceResult, TracerOptions } from '../nftables/tracer.js';
import { EXTERNAL_CLIENT, NODE_IP, OPTS, OTHER_NODE, OTHER_NODE_IP, service, slice } from './fixtures.js';

/** The options every mode's builder takes (RulesetOptions and IptablesOptions both accept these). */
export interface CommonProxyOptions {
  readonly clusterCIDR?: string;
  readonly nodeIPs: readonly string[];
  readonly masqueradeAll?: boolean;
}

export interface Traceable {
  trace(flow: Flow): TraceResult;
}

/** Builds the mode's full ruleset for these objects and a tracer over it. */
export type MakeTracer = (services: Service[], slices: EndpointSlice[], opts: CommonProxyOptions, topts: TracerOptions) => Traceable;

/** A small deterministic generator (LCG) so distributions are reproducible. */
export function seeded(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return Math.floor((s / 2 ** 32) * n);
  };
}

export function describeTracerBehaviour(make: MakeTracer): void {
  const tracer = (services: Service[], slices: EndpointSlice[], opts: CommonProxyOptions = OPTS, topts: TracerOptions = {}): Traceable =>
    make(services, slices, opts, { random: seeded(1), ...topts });

  const POD = '10.244.1.20';
  const LOCAL_EP = '10.244.1.5';
  const REMOTE_EP = '10.244.2.7';
  const twoEndpoints = (name: string, port = 8080, protocol: 'TCP' | 'UDP' = 'TCP'): EndpointSlice =>
    slice(name, [{ name: 'p', port, protocol }], [{ ip: LOCAL_EP }, { ip: REMOTE_EP, node: OTHER_NODE }]);

  const web = service('web', { clusterIP: '10.96.0.10', ports: [{ name: 'p', port: 80 }] });
  const flow = (f: Partial<Flow>): Flow => ({ src: POD, proto: 'tcp', dst: '10.96.0.10', dport: 80, from: 'pod', ...f });

  describe('ClusterIP', () => {
    const t = tracer([web], [twoEndpoints('web')]);

    it.each<[string, Partial<Flow>, boolean]>([
      ['from a pod: DNAT to an endpoint, source kept', {}, false],
      ['from outside the cluster CIDR: DNAT and masquerade', { src: EXTERNAL_CLIENT, from: 'external' }, true],
      ['from the node itself (output hook): DNAT and masquerade', { src: NODE_IP, from: 'node' }, true],
    ])('%s', (_name, f, masquerade) => {
      const r = t.trace(flow(f));
      expect(r.verdict).toBe('dnat');
      expect([LOCAL_EP, REMOTE_EP]).toContain(r.endpoint?.ip);
      expect(r.endpoint?.port).toBe(8080);
      expect(r.masquerade).toBe(masquerade);
    });

    it('spreads new connections over every endpoint about evenly', () => {
      const counts = new Map<string, number>();
      for (let i = 0; i < 2000; i++) {
        const ip = t.trace(flow({})).endpoint?.ip ?? 'none';
        counts.set(ip, (counts.get(ip) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).toEqual([LOCAL_EP, REMOTE_EP]);
      for (const c of counts.values()) expect(c).toBeGreaterThan(850);
    });

    it('spreads evenly over three endpoints too (the numgen cascade is uniform)', () => {
      const three = tracer([web], [slice('web', [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }, { ip: '10.244.1.7' }])]);
      const counts = new Map<string, number>();
      for (let i = 0; i < 3000; i++) {
        const ip = three.trace(flow({})).endpoint?.ip ?? 'none';
        counts.set(ip, (counts.get(ip) ?? 0) + 1);
      }
      expect(counts.size).toBe(3);
      for (const c of counts.values()) expect(c).toBeGreaterThan(850);
    });

    it('hairpin: a pod reaching its own Service and landing on itself is masqueraded', () => {
      const single = tracer([web], [slice('web', [{ name: 'p', port: 8080 }], [{ ip: LOCAL_EP }])]);
      expect(single.trace(flow({ src: LOCAL_EP }))).toMatchObject({ verdict: 'dnat', endpoint: { ip: LOCAL_EP, port: 8080 }, masquerade: true });
      expect(single.trace(flow({ src: POD }))).toMatchObject({ verdict: 'dnat', masquerade: false });
    });

    it('--masquerade-all masquerades pod traffic too', () => {
      const all = tracer([web], [twoEndpoints('web')], { ...OPTS, masqueradeAll: true });
      expect(all.trace(flow({}))).toMatchObject({ verdict: 'dnat', masquerade: true });
    });

    it('a port the Service does not have, or another protocol, is left alone', () => {
      expect(t.trace(flow({ dport: 81 }))).toMatchObject({ verdict: 'accept', masquerade: false });
      expect(t.trace(flow({ proto: 'udp' }))).toMatchObject({ verdict: 'accept' });
    });

    it('the same port on TCP and UDP goes to each protocol’s own target port', () => {
      const dns = service('dns', {
        clusterIP: '10.96.0.53',
        ports: [
          { name: 'udp', port: 53, protocol: 'UDP' },
          { name: 'tcp', port: 53, protocol: 'TCP' },
        ],
      });
      const s = slice('dns', [{ name: 'udp', port: 5353, protocol: 'UDP' }, { name: 'tcp', port: 5354, protocol: 'TCP' }], [{ ip: LOCAL_EP }]);
      const d = tracer([dns], [s]);
      expect(d.trace(flow({ dst: '10.96.0.53', dport: 53, proto: 'udp' })).endpoint).toEqual({ ip: LOCAL_EP, port: 5353 });
      expect(d.trace(flow({ dst: '10.96.0.53', dport: 53, proto: 'tcp' })).endpoint).toEqual({ ip: LOCAL_EP, port: 5354 });
    });

    it('uses serving+terminating endpoints only when none is ready', () => {
      const draining = { ready: false, serving: true, terminating: true };
      const s1 = slice('web', [{ name: 'p', port: 8080 }], [{ ip: LOCAL_EP, conditions: draining }, { ip: REMOTE_EP, node: OTHER_NODE }]);
      const s2 = slice('web', [{ name: 'p', port: 8080 }], [{ ip: LOCAL_EP, conditions: draining }]);
      for (let i = 0; i < 20; i++) expect(tracer([web], [s1], OPTS, { random: seeded(i) }).trace(flow({})).endpoint?.ip).toBe(REMOTE_EP);
      expect(tracer([web], [s2]).trace(flow({})).endpoint?.ip).toBe(LOCAL_EP);
    });
  });

  describe('no endpoints', () => {
    const empty = service('empty', {
      clusterIP: '10.96.0.11',
      type: 'NodePort',
      ports: [
        { name: 't', port: 80, nodePort: 30011 },
        { name: 'u', port: 53, protocol: 'UDP', nodePort: 30012 },
      ],
    });
    const t = tracer([empty], []);

    it.each<[string, Partial<Flow>, 'tcp-reset' | 'icmp-port-unreachable']>([
      ['TCP to the cluster IP from a pod: TCP reset', { dst: '10.96.0.11', dport: 80 }, 'tcp-reset'],
      ['UDP to the cluster IP from a pod: ICMP port unreachable', { dst: '10.96.0.11', dport: 53, proto: 'udp' }, 'icmp-port-unreachable'],
      ['TCP to the cluster IP from the node', { dst: '10.96.0.11', dport: 80, src: NODE_IP, from: 'node' }, 'tcp-reset'],
      ['TCP to the node port from outside', { dst: NODE_IP, dport: 30011, src: EXTERNAL_CLIENT, from: 'external' }, 'tcp-reset'],
      ['UDP to the node port from the node itself', { dst: NODE_IP, dport: 30012, proto: 'udp', src: NODE_IP, from: 'node' }, 'icmp-port-unreachable'],
    ])('%s', (_name, f, rejectWith) => {
      expect(t.trace(flow(f))).toMatchObject({ verdict: 'reject', rejectWith });
    });
  });

  describe('session affinity ClientIP', () => {
    const sticky = service('sticky', {
      clusterIP: '10.96.0.12',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
      ports: [{ name: 'p', port: 80 }],
    });
    const eps = slice('sticky', [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }, { ip: '10.244.2.7', node: OTHER_NODE }]);

    it('15 consecutive connections from one client land on the same endpoint', () => {
      for (let seed = 0; seed < 10; seed++) {
        const t = tracer([sticky], [eps], OPTS, { random: seeded(seed), now: () => 1000 });
        const first = t.trace(flow({ dst: '10.96.0.12' })).endpoint?.ip;
        for (let i = 0; i < 14; i++) expect(t.trace(flow({ dst: '10.96.0.12' })).endpoint?.ip).toBe(first);
      }
    });

    it('different clients still spread; an expired entry lets the client be balanced again', () => {
      let now = 0;
      const t = tracer([sticky], [eps], OPTS, { random: seeded(7), now: () => now });
      const seen = new Set<string>();
      for (let i = 0; i < 30; i++) seen.add(t.trace(flow({ dst: '10.96.0.12', src: `10.244.1.${100 + i}` })).endpoint?.ip ?? '');
      expect(seen.size).toBe(3);
      const picks = new Set<string>();
      for (let i = 0; i < 30; i++) {
        now += 61_000;
        picks.add(t.trace(flow({ dst: '10.96.0.12' })).endpoint?.ip ?? '');
      }
      expect(picks.size).toBeGreaterThan(1);
    });

    it('without affinity one client is spread', () => {
      const t = tracer([web], [slice('web', [{ name: 'p', port: 8080 }], [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }])]);
      const seen = new Set<string>();
      for (let i = 0; i < 15; i++) seen.add(t.trace(flow({})).endpoint?.ip ?? '');
      expect(seen.size).toBe(2);
    });
  });

  describe('NodePort', () => {
    const np = (policy: 'Cluster' | 'Local'): Service =>
      service('np', { type: 'NodePort', clusterIP: '10.96.0.13', externalTrafficPolicy: policy, ports: [{ name: 'p', port: 80, nodePort: 30080 }] });
    const atNode = (f: Partial<Flow>): Flow => flow({ dst: NODE_IP, dport: 30080, ...f });

    it.each<[string, Partial<Flow>]>([
      ['from outside', { src: EXTERNAL_CLIENT, from: 'external' }],
      ['from a pod on this node', {}],
      ['from the node itself', { src: NODE_IP, from: 'node' }],
    ])('Cluster policy, %s: DNAT to any endpoint and masquerade', (_name, f) => {
      const t = tracer([np('Cluster')], [twoEndpoints('np')]);
      const r = t.trace(atNode(f));
      expect(r).toMatchObject({ verdict: 'dnat', masquerade: true });
      expect([LOCAL_EP, REMOTE_EP]).toContain(r.endpoint?.ip);
    });

    it('answers on every local address but not on 127.0.0.1, nor on another node’s address', () => {
      const t = tracer([np('Cluster')], [twoEndpoints('np')], { ...OPTS, nodeIPs: [NODE_IP, '10.244.1.1'] });
      expect(t.trace(atNode({ dst: '10.244.1.1' })).verdict).toBe('dnat');
      expect(t.trace(atNode({ dst: '127.0.0.1', src: '127.0.0.1', from: 'node' })).verdict).toBe('accept');
      expect(t.trace(atNode({ dst: OTHER_NODE_IP })).verdict).toBe('accept');
    });

    it('externalTrafficPolicy Local: external clients reach only local endpoints and keep their source address', () => {
      for (let seed = 0; seed < 20; seed++) {
        const t = tracer([np('Local')], [twoEndpoints('np')], OPTS, { random: seeded(seed) });
        expect(t.trace(atNode({ src: EXTERNAL_CLIENT, from: 'external' }))).toMatchObject({ verdict: 'dnat', endpoint: { ip: LOCAL_EP }, masquerade: false });
      }
    });

    it('externalTrafficPolicy Local: pods and the node itself get the cluster-wide behaviour', () => {
      const fromPod = new Set<string>();
      const fromNode = new Set<string>();
      const t = tracer([np('Local')], [twoEndpoints('np')]);
      for (let i = 0; i < 40; i++) {
        fromPod.add(t.trace(atNode({})).endpoint?.ip ?? '');
        const r = t.trace(atNode({ src: NODE_IP, from: 'node' }));
        expect(r.masquerade).toBe(true);
        fromNode.add(r.endpoint?.ip ?? '');
      }
      expect([...fromPod].sort()).toEqual([LOCAL_EP, REMOTE_EP]);
      expect([...fromNode].sort()).toEqual([LOCAL_EP, REMOTE_EP]);
    });

    it('externalTrafficPolicy Local with no local endpoint: external traffic is dropped, the cluster IP still works', () => {
      const remoteOnly = slice('np', [{ name: 'p', port: 8080 }], [{ ip: REMOTE_EP, node: OTHER_NODE }]);
      const t = tracer([np('Local')], [remoteOnly]);
      expect(t.trace(atNode({ src: EXTERNAL_CLIENT, from: 'external' })).verdict).toBe('drop');
      expect(t.trace(flow({ dst: '10.96.0.13' }))).toMatchObject({ verdict: 'dnat', endpoint: { ip: REMOTE_EP } });
    });
  });

  describe('external and load-balancer IPs', () => {
    const ext = service(
      'ext',
      { type: 'LoadBalancer', clusterIP: '10.96.0.14', externalIPs: ['198.51.100.5'], ports: [{ name: 'p', port: 443, nodePort: 30443 }] },
      { loadBalancer: { ingress: [{ ip: '198.51.100.6' }] } },
    );

    it.each(['198.51.100.5', '198.51.100.6'])('traffic from outside to %s is DNATed and masqueraded (Cluster policy)', (dst) => {
      const t = tracer([ext], [twoEndpoints('ext')]);
      expect(t.trace(flow({ src: EXTERNAL_CLIENT, from: 'external', dst, dport: 443 }))).toMatchObject({ verdict: 'dnat', masquerade: true });
    });

    it('with Local policy and a local endpoint, the source is kept', () => {
      const local = { ...ext, spec: { ...ext.spec, externalTrafficPolicy: 'Local' as const } };
      const t = tracer([local], [twoEndpoints('ext')]);
      expect(t.trace(flow({ src: EXTERNAL_CLIENT, from: 'external', dst: '198.51.100.5', dport: 443 }))).toMatchObject({
        verdict: 'dnat',
        endpoint: { ip: LOCAL_EP },
        masquerade: false,
      });
    });
  });

  describe('internalTrafficPolicy Local', () => {
    const svc = service('itp', { clusterIP: '10.96.0.15', internalTrafficPolicy: 'Local', ports: [{ name: 'p', port: 80 }] });

    it('picks only endpoints on this node', () => {
      const t = tracer([svc], [twoEndpoints('itp')]);
      for (let i = 0; i < 20; i++) expect(t.trace(flow({ dst: '10.96.0.15' })).endpoint?.ip).toBe(LOCAL_EP);
    });

    it('drops (rather than rejects) when endpoints exist only on other nodes', () => {
      const t = tracer([svc], [slice('itp', [{ name: 'p', port: 8080 }], [{ ip: REMOTE_EP, node: OTHER_NODE }])]);
      expect(t.trace(flow({ dst: '10.96.0.15' })).verdict).toBe('drop');
    });
  });
}
