/**
 * Service admission: ClusterIPs from the service CIDR and NodePorts from 30000-32767, as upstream's
 * service REST storage does it.
 *  - create: a given clusterIP/nodePort must be in range and free; otherwise one is picked.
 *  - update: values the client omitted are carried over from the old object; a change of type
 *    allocates what the new type needs (ExternalName -> ClusterIP) and releases what it no longer has
 *    (-> ExternalName clears clusterIP(s); -> ClusterIP clears nodePorts) after the write succeeds.
 *  - delete: everything the Service held is released.
 * Headless Services (clusterIP None) and ExternalName Services hold no ClusterIP.
 */
import type { FieldError } from '../../../api/field-errors.js';
import type { KubeObject } from '../../../api/meta.js';
import type { Store } from '../../storage/store.js';
import { prepareServiceUpdate } from '../../../api/core/service.js';
import type { Service } from '../../../api/core/service.js';
import type { AdmissionContext, AdmissionPlugin, AdmitResult } from '../admission.js';
import { invalid } from '../errors.js';
import { RangeAllocator } from './allocator.js';
import { contains, nthAddress, parseCidr, usableOffsets } from './ip-range.js';
import type { Ipv4Range } from './ip-range.js';

interface ServicePort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: string;
  readonly nodePort?: number;
  readonly [k: string]: unknown;
}

interface ServiceSpec {
  readonly type?: string;
  readonly clusterIP?: string;
  readonly clusterIPs?: readonly string[];
  readonly ports?: readonly ServicePort[];
  readonly externalTrafficPolicy?: string;
  readonly healthCheckNodePort?: number;
  readonly [k: string]: unknown;
}

export interface ServiceRanges {
  readonly serviceCIDR: string;
  readonly nodePortRange: { readonly min: number; readonly max: number };
}

const specOf = (o: KubeObject): ServiceSpec => (o['spec'] ?? {}) as ServiceSpec;
const needsClusterIP = (s: ServiceSpec): boolean => s.type !== 'ExternalName' && s.clusterIP !== 'None';
const needsNodePorts = (s: ServiceSpec): boolean => s.type === 'NodePort' || s.type === 'LoadBalancer';
const needsHealthCheckPort = (s: ServiceSpec): boolean => s.type === 'LoadBalancer' && s.externalTrafficPolicy === 'Local';

export class ServiceAllocation implements AdmissionPlugin {
  readonly name = 'ServiceAllocation';
  readonly ips: RangeAllocator;
  readonly ports: RangeAllocator;
  readonly range: Ipv4Range;

  constructor(
    store: Store,
    private readonly ranges: ServiceRanges,
  ) {
    this.range = parseCidr(ranges.serviceCIDR);
    const { first, last } = usableOffsets(this.range);
    this.ips = new RangeAllocator(store, 'serviceips', (i) => nthAddress(this.range, first + i), last - first + 1);
    const { min, max } = ranges.nodePortRange;
    this.ports = new RangeAllocator(store, 'servicenodeports', (i) => String(min + i), max - min + 1);
  }

  /** The address the `default/kubernetes` Service takes: the first usable one of the range. */
  kubernetesServiceIP(): string {
    return nthAddress(this.range, usableOffsets(this.range).first);
  }

  /** The cluster DNS Service's address: the tenth of the range (10.96.0.10), as kubeadm picks it. */
  dnsServiceIP(): string {
    return nthAddress(this.range, usableOffsets(this.range).first + 9);
  }

  async admitCreate(ctx: AdmissionContext, obj: KubeObject): Promise<AdmitResult | undefined> {
    if (!isService(ctx) || ctx.dryRun) return undefined;
    return this.allocateFor(obj, undefined);
  }

  async admitUpdate(ctx: AdmissionContext, obj: KubeObject, old: KubeObject): Promise<AdmitResult | undefined> {
    if (!isService(ctx) || ctx.subresource === 'status') return undefined;
    // upstream's update preparation: keep allocated values the client omitted, drop what the new type may not have
    const carried = prepareServiceUpdate(obj as unknown as Service, old as unknown as Service) as unknown as KubeObject;
    if (ctx.dryRun) return { obj: carried };
    return this.allocateFor(carried, old);
  }

  async afterDelete(ctx: AdmissionContext, obj: KubeObject): Promise<void> {
    if (!isService(ctx)) return;
    await this.releaseAll(heldBy(specOf(obj)));
  }

  /** Allocates what `obj` needs and does not already hold through `old`; releases the rest of `old` after commit. */
  private async allocateFor(obj: KubeObject, old: KubeObject | undefined): Promise<AdmitResult> {
    const owner = `${obj.metadata.namespace ?? ''}/${obj.metadata.name ?? ''}`;
    let spec: ServiceSpec = specOf(obj);
    const oldHeld = old ? heldBy(specOf(old)) : { ips: [], ports: [] };
    const taken: Array<() => Promise<void>> = [];
    const errors: FieldError[] = [];
    const undo = async (): Promise<void> => {
      for (const t of taken.reverse()) await t();
    };
    try {
      // ---- ClusterIP
      if (spec.type === 'ExternalName') {
        const { clusterIP: _c, clusterIPs: _cs, ...rest } = spec;
        spec = { ...rest, ports: (spec.ports ?? []).map(stripNodePort) };
      } else if (needsClusterIP(spec)) {
        const wanted = spec.clusterIP && spec.clusterIP !== '' ? spec.clusterIP : spec.clusterIPs?.[0];
        if (wanted && oldHeld.ips.includes(wanted)) {
          spec = { ...spec, clusterIP: wanted, clusterIPs: [wanted] };
        } else if (wanted) {
          if (!contains(this.range, wanted)) {
            errors.push({
              type: 'FieldValueInvalid',
              field: 'spec.clusterIPs',
              value: [wanted],
              detail: `failed to allocate IP ${wanted}: the provided IP (${wanted}) is not in the valid range. The range of valid IPs is ${this.ranges.serviceCIDR}`,
            });
          } else {
            const r = await this.ips.allocate(wanted, owner);
            if (!r.ok) {
              errors.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [wanted], detail: `failed to allocate IP ${wanted}: provided IP is already allocated` });
            } else {
              taken.push(() => this.ips.release(wanted));
              spec = { ...spec, clusterIP: wanted, clusterIPs: [wanted] };
            }
          }
        } else {
          const r = await this.ips.allocateNext(owner);
          if (!r.ok) {
            errors.push({ type: 'FieldValueInvalid', field: 'spec.clusterIPs', value: [], detail: `failed to allocate a serviceIP: range is full (${this.ranges.serviceCIDR})` });
          } else {
            taken.push(() => this.ips.release(r.value));
            spec = { ...spec, clusterIP: r.value, clusterIPs: [r.value] };
          }
        }
      } else if (spec.clusterIP === 'None') {
        spec = { ...spec, clusterIPs: ['None'] };
      }

      // ---- NodePorts
      if (needsNodePorts(spec)) {
        const ports = [...(spec.ports ?? [])];
        const mine = new Set<number>(); // a port number may serve TCP and UDP of the same Service
        for (let i = 0; i < ports.length; i++) {
          const p = ports[i];
          if (!p) continue;
          const wanted = p.nodePort;
          if (wanted !== undefined && wanted !== 0) {
            if (mine.has(wanted) || oldHeld.ports.includes(wanted)) {
              mine.add(wanted);
              continue;
            }
            const { min, max } = this.ranges.nodePortRange;
            if (wanted < min || wanted > max) {
              errors.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: wanted, detail: `provided port is not in the valid range. The range of valid ports is ${min}-${max}` });
              continue;
            }
            const r = await this.ports.allocate(String(wanted), owner);
            if (!r.ok) {
              errors.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: wanted, detail: 'provided port is already allocated' });
              continue;
            }
            taken.push(() => this.ports.release(String(wanted)));
            mine.add(wanted);
          } else {
            const r = await this.ports.allocateNext(owner);
            if (!r.ok) {
              errors.push({ type: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, value: 0, detail: 'range of valid ports is full' });
              continue;
            }
            taken.push(() => this.ports.release(r.value));
            mine.add(Number(r.value));
            ports[i] = { ...p, nodePort: Number(r.value) };
          }
        }
        spec = { ...spec, ports };
        if (needsHealthCheckPort(spec) && !spec.healthCheckNodePort) {
          const r = await this.ports.allocateNext(owner);
          if (r.ok) {
            taken.push(() => this.ports.release(r.value));
            spec = { ...spec, healthCheckNodePort: Number(r.value) };
          }
        }
      } else {
        spec = { ...spec, ports: (spec.ports ?? []).map(stripNodePort) };
        const { healthCheckNodePort: _h, ...rest } = spec;
        spec = rest;
      }
    } catch (err) {
      await undo();
      throw err;
    }
    if (errors.length > 0) {
      await undo();
      throw invalid('Service', '', obj.metadata.name ?? '', errors);
    }
    const nowHeld = heldBy(spec);
    const toRelease = {
      ips: oldHeld.ips.filter((ip) => !nowHeld.ips.includes(ip)),
      ports: oldHeld.ports.filter((p) => !nowHeld.ports.includes(p)),
    };
    return {
      obj: { ...obj, spec },
      undo,
      afterCommit: () => this.releaseAll(toRelease),
    };
  }

  private async releaseAll(held: { ips: readonly string[]; ports: readonly number[] }): Promise<void> {
    for (const ip of held.ips) await this.ips.release(ip);
    for (const p of held.ports) await this.ports.release(String(p));
  }

  /** Start-up repair: the taken sets become exactly what the stored Services hold. */
  async repair(services: readonly KubeObject[]): Promise<{ freed: string[]; recorded: string[] }> {
    const ips = new Map<string, string>();
    const ports = new Map<string, string>();
    for (const s of services) {
      const owner = `${s.metadata.namespace ?? ''}/${s.metadata.name ?? ''}`;
      const held = heldBy(specOf(s));
      for (const ip of held.ips) ips.set(ip, owner);
      for (const p of held.ports) ports.set(String(p), owner);
    }
    const a = await this.ips.repair(ips);
    const b = await this.ports.repair(ports);
    return { freed: [...a.freed, ...b.freed], recorded: [...a.recorded, ...b.recorded] };
  }
}

function isService(ctx: AdmissionContext): boolean {
  return ctx.entry.def.group === '' && ctx.entry.def.plural === 'services';
}

function stripNodePort(p: ServicePort): ServicePort {
  const { nodePort: _n, ...rest } = p;
  return rest as ServicePort;
}

/** What a Service holds: its ClusterIPs and NodePorts (incl. the health check port). */
function heldBy(spec: ServiceSpec): { ips: string[]; ports: number[] } {
  const ips = spec.type === 'ExternalName' ? [] : (spec.clusterIPs ?? (spec.clusterIP ? [spec.clusterIP] : [])).filter((ip) => ip !== '' && ip !== 'None');
  const ports = new Set<number>();
  if (spec.type !== 'ExternalName') {
    for (const p of spec.ports ?? []) if (p.nodePort) ports.add(p.nodePort);
    if (spec.healthCheckNodePort) ports.add(spec.healthCheckNodePort);
  }
  return { ips: [...new Set(ips)], ports: [...ports] };
}
