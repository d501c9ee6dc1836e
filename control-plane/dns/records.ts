/**
 * Cluster DNS answers, pure: what a question about a name in the cluster zone (cluster.local) gets,
 * from the Services and EndpointSlices the server watches. The records are upstream's DNS
 * specification for Kubernetes (the one CoreDNS's kubernetes plugin implements, with `pods insecure`
 * and `ttl 30` as kubeadm configures it):
 *
 *   <svc>.<ns>.svc.<zone>            A      the ClusterIP; headless: every ready endpoint address;
 *                                           ExternalName: a CNAME to spec.externalName
 *   <host>.<svc>.<ns>.svc.<zone>     A      one endpoint of a headless Service, named by its hostname
 *                                           (pod spec.hostname + subdomain) or its dashed address
 *   _<port>._<proto>.<svc>.<ns>.svc.<zone>  SRV  per named port: the Service name (the endpoints
 *                                           names for headless), with their A records as additional
 *   <svc>.<ns>.svc.<zone>            SRV    one record per port
 *   <a-b-c-d>.<ns>.pod.<zone>        A      a.b.c.d
 *   <d.c.b.a>.in-addr.arpa           PTR    a ClusterIP to its Service name; a headless endpoint with a
 *                                           hostname to its name
 *
 * A name in the zone that does not exist is NXDOMAIN; an existing name without records of the asked
 * type is NODATA (NOERROR, no answer); both carry the zone's SOA in the authority section so
 * resolvers cache the negative answer for its minimum (30 s). Names outside the zone, and reverse
 * names of addresses we do not know, are for the upstream resolvers: `forward`.
 *
 * Cost: a name is looked up in maps keyed by namespace/name and by address, built once per change of
 * the watched objects (`ClusterDnsData.build`), so answering is O(records in the answer).
 */
import type { EndpointSlice } from '../../api/discovery/endpointslice.js';
import type { Service } from '../../api/core/service-types.js';
import { RCODE, TYPE } from './message.js';
import type { Question, ResourceRecord } from './message.js';

export const DNS_TTL = 30;

export type Answer =
  | { readonly kind: 'answer'; readonly rcode: number; readonly answers: readonly ResourceRecord[]; readonly authority: readonly ResourceRecord[]; readonly additional: readonly ResourceRecord[] }
  | { readonly kind: 'forward' };

interface DnsEndpoint {
  readonly address: string;
  /** The DNS label of this endpoint under a headless Service: its hostname, or its dashed address. */
  readonly label: string;
  /** Whether the endpoint had a hostname (only those get PTR records). */
  readonly named: boolean;
  readonly ports: ReadonlyArray<{ readonly name: string; readonly port: number; readonly protocol: string }>;
}

interface DnsService {
  readonly name: string;
  readonly namespace: string;
  readonly headless: boolean;
  readonly clusterIPs: readonly string[];
  readonly externalName?: string;
  readonly ports: ReadonlyArray<{ readonly name: string; readonly port: number; readonly protocol: string }>;
  /** Ready endpoints (headless Services only use them). */
  readonly endpoints: readonly DnsEndpoint[];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The Services and endpoints as DNS sees them, with the lookups answering needs. */
export class ClusterDnsData {
  private constructor(
    private readonly services: ReadonlyMap<string, DnsService>,
    /** Reverse names: address -> the name it points back to. */
    private readonly ptr: ReadonlyMap<string, string>,
    /** Namespaces that have at least one Service (so `<ns>.svc.<zone>` exists). */
    private readonly namespaces: ReadonlySet<string>,
    readonly zone: string,
  ) {}

  static build(zone: string, services: readonly Service[], slices: readonly EndpointSlice[]): ClusterDnsData {
    const z = zone.toLowerCase();
    const endpointsBySvc = new Map<string, DnsEndpoint[]>();
    for (const slice of slices) {
      if (slice.addressType !== 'IPv4') continue;
      const svc = slice.metadata.labels?.['kubernetes.io/service-name'];
      if (svc === undefined) continue;
      const key = `${slice.metadata.namespace ?? ''}/${svc}`;
      const ports = (slice.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port ?? 0, protocol: p.protocol ?? 'TCP' }));
      const list = endpointsBySvc.get(key) ?? [];
      for (const ep of slice.endpoints) {
        if (ep.conditions?.ready === false) continue; // upstream: nil counts as ready
        for (const address of ep.addresses) {
          if (!IPV4.test(address)) continue;
          const named = ep.hostname !== undefined && ep.hostname !== '';
          list.push({ address, label: named ? ep.hostname!.toLowerCase() : address.replaceAll('.', '-'), named, ports });
        }
      }
      endpointsBySvc.set(key, list);
    }
    const byKey = new Map<string, DnsService>();
    const ptr = new Map<string, string>();
    const namespaces = new Set<string>();
    for (const s of services) {
      const name = s.metadata.name ?? '';
      const namespace = s.metadata.namespace ?? '';
      const spec = s.spec ?? {};
      const clusterIPs = (spec.clusterIPs ?? (spec.clusterIP !== undefined ? [spec.clusterIP] : [])).filter((ip) => IPV4.test(ip));
      const headless = spec.clusterIP === 'None';
      // one record per address, even when slices repeat an endpoint
      const endpoints = [...new Map((endpointsBySvc.get(`${namespace}/${name}`) ?? []).map((e) => [e.address, e])).values()];
      const dns: DnsService = {
        name: name.toLowerCase(),
        namespace: namespace.toLowerCase(),
        headless,
        clusterIPs: spec.type === 'ExternalName' ? [] : clusterIPs,
        ...(spec.type === 'ExternalName' && spec.externalName ? { externalName: spec.externalName.replace(/\.$/, '') } : {}),
        ports: (spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' })),
        endpoints,
      };
      byKey.set(`${dns.namespace}/${dns.name}`, dns);
      namespaces.add(dns.namespace);
      const svcName = `${dns.name}.${dns.namespace}.svc.${z}`;
      for (const ip of dns.clusterIPs) ptr.set(ip, svcName);
      if (headless) for (const e of endpoints) if (e.named) ptr.set(e.address, `${e.label}.${svcName}`);
    }
    return new ClusterDnsData(byKey, ptr, namespaces, z);
  }

  private soa(): ResourceRecord {
    return {
      name: this.zone,
      ttl: DNS_TTL,
      data: { type: 'SOA', mname: `ns.dns.${this.zone}`, rname: `hostmaster.${this.zone}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: DNS_TTL },
    };
  }

  private negative(rcode: number): Answer {
    return { kind: 'answer', rcode, answers: [], authority: [this.soa()], additional: [] };
  }

  private positive(answers: readonly ResourceRecord[], additional: readonly ResourceRecord[] = []): Answer {
    return answers.length === 0 ? this.negative(RCODE.NOERROR) : { kind: 'answer', rcode: RCODE.NOERROR, answers, authority: [], additional };
  }

  /** The answer to one question (the name as asked; matching ignores case, answers use the asked name). */
  answer(q: Question): Answer {
    const asked = q.name.replace(/\.$/, '');
    const name = asked.toLowerCase();
    if (name.endsWith('.in-addr.arpa')) return this.reverse(q, asked, name);
    if (name !== this.zone && !name.endsWith(`.${this.zone}`)) return { kind: 'forward' };
    const labels = name === this.zone ? [] : name.slice(0, -(this.zone.length + 1)).split('.');
    const wantsA = q.type === TYPE.A || q.type === TYPE.ANY;
    const rr = (data: ResourceRecord['data'], owner = asked): ResourceRecord => ({ name: owner, ttl: DNS_TTL, data });

    if (labels.length === 0) return q.type === TYPE.SOA ? this.positive([this.soa()]) : this.negative(RCODE.NOERROR);
    const kind = labels[labels.length - 1];
    if (kind === 'pod') {
      // <a-b-c-d>.<ns>.pod.<zone>, or the intermediate names
      if (labels.length === 1 || labels.length === 2) return this.negative(RCODE.NOERROR);
      if (labels.length !== 3) return this.negative(RCODE.NXDOMAIN);
      const ip = labels[0]!.replaceAll('-', '.');
      if (!IPV4.test(ip)) return this.negative(RCODE.NXDOMAIN);
      return this.positive(wantsA ? [rr({ type: 'A', address: ip })] : []);
    }
    if (kind !== 'svc') return this.negative(RCODE.NXDOMAIN);
    if (labels.length === 1) return this.negative(RCODE.NOERROR); // svc.<zone>
    const namespace = labels[labels.length - 2]!;
    if (labels.length === 2) return this.negative(this.namespaces.has(namespace) ? RCODE.NOERROR : RCODE.NXDOMAIN);
    const svc = this.services.get(`${namespace}/${labels[labels.length - 3]}`);
    if (svc === undefined) return this.negative(RCODE.NXDOMAIN);
    const rest = labels.slice(0, -3);

    if (rest.length === 0) {
      if (svc.externalName !== undefined) return this.positive([rr({ type: 'CNAME', target: svc.externalName })]);
      if (q.type === TYPE.SRV) return this.srv(svc, asked, svc.ports);
      if (!wantsA) return this.negative(RCODE.NOERROR);
      const addresses = svc.headless ? svc.endpoints.map((e) => e.address) : svc.clusterIPs;
      return this.positive(addresses.map((address) => rr({ type: 'A', address })));
    }
    if (rest.length === 1 && svc.headless) {
      const ep = svc.endpoints.find((e) => e.label === rest[0]);
      if (ep === undefined) return this.negative(RCODE.NXDOMAIN);
      return this.positive(wantsA ? [rr({ type: 'A', address: ep.address })] : []);
    }
    if (rest.length === 2 && rest[0]!.startsWith('_') && rest[1]!.startsWith('_')) {
      const portName = rest[0]!.slice(1);
      const proto = rest[1]!.slice(1);
      const ports = svc.ports.filter((p) => p.name.toLowerCase() === portName && p.protocol.toLowerCase() === proto);
      if (ports.length === 0) return this.negative(RCODE.NXDOMAIN);
      return q.type === TYPE.SRV || q.type === TYPE.ANY ? this.srv(svc, asked, ports) : this.negative(RCODE.NOERROR);
    }
    return this.negative(RCODE.NXDOMAIN);
  }

  /** SRV records for `ports` of a Service: to the Service name, or to each endpoint's name if headless. */
  private srv(svc: DnsService, owner: string, ports: DnsService['ports']): Answer {
    const svcName = `${svc.name}.${svc.namespace}.svc.${this.zone}`;
    const answers: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    if (!svc.headless) {
      for (const p of ports) answers.push({ name: owner, ttl: DNS_TTL, data: { type: 'SRV', priority: 0, weight: 100, port: p.port, target: svcName } });
      for (const ip of svc.clusterIPs) if (answers.length > 0) additional.push({ name: svcName, ttl: DNS_TTL, data: { type: 'A', address: ip } });
      return this.positive(answers, additional);
    }
    const weight = Math.max(1, Math.floor(100 / Math.max(1, svc.endpoints.length)));
    for (const p of ports) {
      for (const e of svc.endpoints) {
        // the endpoint's own port of that name (targetPort), else the Service port
        const own = e.ports.find((ep) => ep.name === p.name && ep.protocol === p.protocol);
        const target = `${e.label}.${svcName}`;
        answers.push({ name: owner, ttl: DNS_TTL, data: { type: 'SRV', priority: 0, weight, port: own?.port ?? p.port, target } });
        additional.push({ name: target, ttl: DNS_TTL, data: { type: 'A', address: e.address } });
      }
    }
    return this.positive(answers, additional);
  }

  private reverse(q: Question, asked: string, name: string): Answer {
    const parts = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4) return { kind: 'forward' };
    const ip = parts.reverse().join('.');
    const target = IPV4.test(ip) ? this.ptr.get(ip) : undefined;
    if (target === undefined) return { kind: 'forward' };
    if (q.type !== TYPE.PTR && q.type !== TYPE.ANY) return this.negative(RCODE.NOERROR);
    return this.positive([{ name: asked, ttl: DNS_TTL, data: { type: 'PTR', target } }]);
  }
}
