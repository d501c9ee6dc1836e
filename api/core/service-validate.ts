/**
 * Service validation (upstream ValidateService, validateServicePort, validateServiceClusterIPsRelatedFields,
 * ValidateServiceUpdate's cluster IP and family rules), with upstream's paths and wording. NodePort
 * ranges and IP allocation are the apiserver's, not checked here.
 */
import type { FieldError } from '../field-errors.js';
import { duplicate, FieldPath, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { isDNS1035Label, isDNS1123Label, isDNS1123Subdomain, validateLabels, validateQualifiedName } from '../names.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { PROTOCOLS, validatePortNum, validatePortNumOrName, validateProtocol } from './common.js';
import { ipFamilyOf, isDualStackPair, isCIDR, validateIP, validateNonSpecialIP } from './ip.js';
import type { Service, ServicePort, ServiceSpec, ServiceStatus } from './service-types.js';
import {
  IP_FAMILY_POLICIES,
  isExternallyAccessible,
  isHeadlessService,
  MAX_CLIENT_IP_AFFINITY_SECONDS,
  SERVICE_TYPES,
  SESSION_AFFINITIES,
  TRAFFIC_POLICIES,
} from './service-types.js';

const spec = FieldPath.root('spec');

function validateServicePort(sp: ServicePort, requireName: boolean, names: Set<string>, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (requireName && !sp.name) errs.push(required(path.child('name')));
  else if (sp.name) {
    for (const msg of isDNS1123Label(sp.name)) errs.push(invalid(path.child('name'), sp.name, msg));
    if (names.has(sp.name)) errs.push(duplicate(path.child('name'), sp.name));
    else names.add(sp.name);
  }
  errs.push(...validatePortNum(sp.port, path.child('port')));
  errs.push(...validateProtocol(sp.protocol, path.child('protocol')));
  errs.push(...validatePortNumOrName(sp.targetPort, path.child('targetPort')));
  if (sp.appProtocol !== undefined) errs.push(...validateQualifiedName(sp.appProtocol, path.child('appProtocol')));
  return errs;
}

function validateClusterIPs(s: ServiceSpec): FieldError[] {
  if (s.type === 'ExternalName') return [];
  const errs: FieldError[] = [];
  const ipsPath = spec.child('clusterIPs');
  const ips = s.clusterIPs ?? [];
  if (s.clusterIP) {
    if (ips.length === 0) errs.push(required(ipsPath));
    else if (ips[0] !== s.clusterIP) errs.push(invalid(ipsPath, ips, 'first value must match `clusterIP`'));
  } else if (ips.length > 0) {
    errs.push(invalid(ipsPath, ips, 'must be empty when `clusterIP` is not specified'));
  }
  const seen = new Set<string>();
  (s.ipFamilies ?? []).forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') errs.push(notSupported(spec.child('ipFamilies').index(i), f, ['IPv4', 'IPv6']));
    if (seen.has(f)) errs.push(duplicate(spec.child('ipFamilies').index(i), f));
    seen.add(f);
  });
  if (s.ipFamilyPolicy !== undefined && !IP_FAMILY_POLICIES.includes(s.ipFamilyPolicy)) {
    errs.push(notSupported(spec.child('ipFamilyPolicy'), s.ipFamilyPolicy, IP_FAMILY_POLICIES));
  }
  let badIPs = false;
  ips.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (ips.length > 1) {
        badIPs = true;
        errs.push(invalid(ipsPath, ips, "'None' must be the first and only value"));
      }
      return;
    }
    const e = validateIP(ip, ipsPath.index(i));
    if (e.length > 0) badIPs = true;
    errs.push(...e);
  });
  if (ips.length > 2) errs.push(invalid(ipsPath, ips, 'may only hold up to 2 values'));
  if (badIPs) return errs;
  if (ips.length > 1 && !isDualStackPair(ips)) errs.push(invalid(ipsPath, ips, 'may specify no more than one IP for each IP family'));
  if (!isHeadlessService(s)) {
    ips.forEach((ip, i) => {
      const fam = s.ipFamilies?.[i];
      if (fam !== undefined && ipFamilyOf(ip) !== fam) {
        errs.push(invalid(ipsPath.index(i), ip, `expected an ${fam} value as indicated by \`ipFamilies[${i}]\``));
      }
    });
  }
  if (s.ipFamilyPolicy === 'SingleStack') {
    if (ips.length > 1) errs.push(invalid(ipsPath, ips, "must have at most 1 value when `ipFamilyPolicy` is 'SingleStack'"));
    if ((s.ipFamilies ?? []).length > 1) {
      errs.push(invalid(spec.child('ipFamilies'), s.ipFamilies, "must have at most 1 value when `ipFamilyPolicy` is 'SingleStack'"));
    }
  }
  return errs;
}

function validateTypeRules(s: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const type = s.type ?? '';
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) errs.push(notSupported(spec.child('type'), type, SERVICE_TYPES));
  switch (type) {
    case 'ExternalName': {
      if ((s.clusterIPs ?? []).length > 0 || s.clusterIP) errs.push(forbidden(spec.child('clusterIPs'), 'may not be set for ExternalName services'));
      if ((s.ipFamilies ?? []).length > 0) errs.push(forbidden(spec.child('ipFamilies'), 'may not be set for ExternalName services'));
      if (s.ipFamilyPolicy !== undefined) errs.push(forbidden(spec.child('ipFamilyPolicy'), 'may not be set for ExternalName services'));
      // a CNAME may end with a dot to say it is fully qualified
      const name = (s.externalName ?? '').replace(/\.$/, '');
      if (name === '') errs.push(required(spec.child('externalName')));
      else for (const msg of isDNS1123Subdomain(name)) errs.push(invalid(spec.child('externalName'), name, msg));
      break;
    }
    case 'NodePort':
    case 'LoadBalancer':
      if (isHeadlessService(s)) {
        errs.push(invalid(spec.child('clusterIPs').index(0), 'None', `may not be set to 'None' for ${type} services`));
      }
      break;
    case 'ClusterIP':
      (s.ports ?? []).forEach((p, i) => {
        if (p.nodePort) errs.push(forbidden(spec.child('ports').index(i).child('nodePort'), "may not be used when `type` is 'ClusterIP'"));
      });
      break;
    default:
      break;
  }
  if (type === 'LoadBalancer') {
    if (s.allocateLoadBalancerNodePorts === undefined) errs.push(required(spec.child('allocateLoadBalancerNodePorts')));
    if (s.loadBalancerClass !== undefined) errs.push(...validateQualifiedName(s.loadBalancerClass, spec.child('loadBalancerClass')));
  } else {
    if (s.allocateLoadBalancerNodePorts !== undefined) {
      errs.push(forbidden(spec.child('allocateLoadBalancerNodePorts'), "may only be used when `type` is 'LoadBalancer'"));
    }
    if (s.loadBalancerClass !== undefined) errs.push(forbidden(spec.child('loadBalancerClass'), "may only be used when `type` is 'LoadBalancer'"));
    if (s.loadBalancerIP) errs.push(forbidden(spec.child('loadBalancerIP'), "may only be used when `type` is 'LoadBalancer'"));
    if ((s.loadBalancerSourceRanges ?? []).length > 0) {
      errs.push(forbidden(spec.child('loadBalancerSourceRanges'), "may only be used when `type` is 'LoadBalancer'"));
    }
  }
  if (s.loadBalancerIP && type === 'LoadBalancer') errs.push(...validateIP(s.loadBalancerIP, spec.child('loadBalancerIP')));
  (s.loadBalancerSourceRanges ?? []).forEach((cidr, i) => {
    const trimmed = cidr.trim();
    if (!isCIDR(trimmed)) {
      errs.push(invalid(spec.child('loadBalancerSourceRanges').index(i), cidr, 'must be a list of IP ranges. For example, 10.240.0.0/24,10.250.0.0/24 '));
    }
  });
  return errs;
}

function validateTrafficPolicies(s: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  if (!isExternallyAccessible(s)) {
    if (s.externalTrafficPolicy) {
      errs.push(invalid(spec.child('externalTrafficPolicy'), s.externalTrafficPolicy, 'may only be set for externally-accessible services'));
    }
  } else if (!s.externalTrafficPolicy) errs.push(required(spec.child('externalTrafficPolicy')));
  else if (!TRAFFIC_POLICIES.includes(s.externalTrafficPolicy)) {
    errs.push(notSupported(spec.child('externalTrafficPolicy'), s.externalTrafficPolicy, TRAFFIC_POLICIES));
  }
  if (s.healthCheckNodePort && (s.type !== 'LoadBalancer' || s.externalTrafficPolicy !== 'Local')) {
    errs.push(
      invalid(spec.child('healthCheckNodePort'), s.healthCheckNodePort, "may only be set when `type` is 'LoadBalancer' and `externalTrafficPolicy` is 'Local'"),
    );
  }
  const itp = s.internalTrafficPolicy;
  if (itp === undefined) {
    if (s.type === 'NodePort' || s.type === 'LoadBalancer' || s.type === 'ClusterIP') errs.push(required(spec.child('internalTrafficPolicy')));
  } else if (!TRAFFIC_POLICIES.includes(itp)) errs.push(notSupported(spec.child('internalTrafficPolicy'), itp, TRAFFIC_POLICIES));
  return errs;
}

function validateSessionAffinity(s: ServiceSpec): FieldError[] {
  const affinity = s.sessionAffinity ?? '';
  const cfg = spec.child('sessionAffinityConfig');
  if (!(SESSION_AFFINITIES as readonly string[]).includes(affinity)) return [notSupported(spec.child('sessionAffinity'), affinity, SESSION_AFFINITIES)];
  if (affinity === 'None') {
    return s.sessionAffinityConfig !== undefined ? [forbidden(cfg, 'must not be set when session affinity is None')] : [];
  }
  const why = 'when session affinity type is ClientIP';
  if (s.sessionAffinityConfig === undefined) return [required(cfg, why)];
  if (s.sessionAffinityConfig.clientIP === undefined) return [required(cfg.child('clientIP'), why)];
  const t = s.sessionAffinityConfig.clientIP.timeoutSeconds;
  const tp = cfg.child('clientIP').child('timeoutSeconds');
  if (t === undefined) return [required(tp, why)];
  if (t <= 0 || t > MAX_CLIENT_IP_AFFINITY_SECONDS) return [invalid(tp, t, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`)];
  return [];
}

export function validateServiceSpec(s: ServiceSpec): FieldError[] {
  const errs: FieldError[] = [];
  const ports = s.ports ?? [];
  if (ports.length === 0 && !isHeadlessService(s) && s.type !== 'ExternalName') errs.push(required(spec.child('ports')));
  errs.push(...validateTypeRules(s));
  errs.push(...validateClusterIPs(s));
  const names = new Set<string>();
  const seen = new Set<string>();
  ports.forEach((p, i) => {
    errs.push(...validateServicePort(p, ports.length > 1, names, spec.child('ports').index(i)));
    if (p.nodePort) errs.push(...validatePortNum(p.nodePort, spec.child('ports').index(i).child('nodePort')));
    const key = `${p.protocol ?? ''}/${p.port}`;
    if (seen.has(key)) errs.push(duplicate(spec.child('ports').index(i), { protocol: p.protocol, port: p.port }));
    seen.add(key);
  });
  (s.externalIPs ?? []).forEach((ip, i) => {
    const p = spec.child('externalIPs').index(i);
    const e = validateIP(ip, p);
    errs.push(...(e.length > 0 ? e : validateNonSpecialIP(ip, p)));
  });
  errs.push(...validateSessionAffinity(s));
  errs.push(...validateLabels(s.selector, spec.child('selector')));
  errs.push(...validateTrafficPolicies(s));
  return errs;
}

export function validateServiceStatus(status: ServiceStatus | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const ing = FieldPath.root('status').child('loadBalancer').child('ingress');
  (status?.loadBalancer?.ingress ?? []).forEach((i, idx) => {
    const p = ing.index(idx);
    if (i.ip) errs.push(...validateIP(i.ip, p.child('ip')));
    if (i.hostname) {
      for (const msg of isDNS1123Subdomain(i.hostname)) errs.push(invalid(p.child('hostname'), i.hostname, msg));
      if (ipFamilyOf(i.hostname)) errs.push(invalid(p.child('hostname'), i.hostname, 'must be a DNS name, not an IP address'));
    }
    (i.ports ?? []).forEach((ps, j) => {
      errs.push(...validatePortNum(ps.port, p.child('ports').index(j).child('port')));
      if (!PROTOCOLS.includes(ps.protocol)) errs.push(notSupported(p.child('ports').index(j).child('protocol'), ps.protocol, PROTOCOLS));
    });
  });
  return errs;
}

export function validateService(svc: Service): FieldError[] {
  return [
    ...validateObjectMeta(svc.metadata, { namespaced: true, nameValidator: isDNS1035Label }),
    ...validateKubeFinalizerNames(svc.metadata.finalizers, FieldPath.root('metadata').child('finalizers')),
    ...validateServiceSpec(svc.spec ?? {}),
    ...validateServiceStatus(svc.status),
  ];
}

/** Cluster IPs and IP families never change once set, except to, from or while ExternalName. */
function validateClusterIPUpdate(s: ServiceSpec, old: ServiceSpec): FieldError[] {
  if (s.type === 'ExternalName' || old.type === 'ExternalName') return [];
  if (isHeadlessService(s) && isHeadlessService(old)) return [];
  const errs: FieldError[] = [];
  const ips = s.clusterIPs ?? [];
  const oldIPs = old.clusterIPs ?? [];
  const ipsPath = spec.child('clusterIPs');
  if (ips.length === oldIPs.length) {
    oldIPs.forEach((ip, i) => {
      if (ip !== ips[i]) errs.push(invalid(ipsPath.index(i), ips, 'may not change once set'));
    });
  } else if (oldIPs.length > ips.length) {
    if (ips.length === 0) errs.push(invalid(ipsPath.index(0), ips, 'primary clusterIP can not be unset'));
    else if (ips[0] !== oldIPs[0]) errs.push(invalid(ipsPath.index(0), ips, 'may not change once set'));
    if (ips.length === 1 && s.ipFamilyPolicy !== 'SingleStack') {
      errs.push(invalid(spec.child('ipFamilyPolicy'), s.ipFamilyPolicy ?? null, "must be set to 'SingleStack' when releasing the secondary clusterIP"));
    }
  } else if (oldIPs.length > 0 && ips[0] !== oldIPs[0]) {
    errs.push(invalid(ipsPath.index(0), ips, 'may not change once set'));
  }
  if (isHeadlessService(s) !== isHeadlessService(old) || isHeadlessService(s)) return errs;
  const fams = s.ipFamilies ?? [];
  const oldFams = old.ipFamilies ?? [];
  const famPath = spec.child('ipFamilies').index(0);
  if (fams.length === oldFams.length) {
    if (oldFams.some((f, i) => f !== fams[i])) errs.push(invalid(famPath, fams, 'may not change once set'));
  } else if (fams.length > 0 && oldFams.length > 0 && fams[0] !== oldFams[0]) {
    errs.push(invalid(famPath, fams, 'may not change once set'));
  }
  return errs;
}

export function validateServiceUpdate(svc: Service, old: Service): FieldError[] {
  const s = svc.spec ?? {};
  const o = old.spec ?? {};
  const errs = [
    ...validateObjectMetaUpdate(svc.metadata, old.metadata),
    ...validateKubeFinalizerNames(svc.metadata.finalizers, FieldPath.root('metadata').child('finalizers')),
    ...validateClusterIPUpdate(s, o),
  ];
  if (o.type === 'LoadBalancer' && s.type === 'LoadBalancer' && s.loadBalancerClass !== o.loadBalancerClass) {
    errs.push(invalid(spec.child('loadBalancerClass'), s.loadBalancerClass ?? null, 'may not change once set'));
  }
  return [...errs, ...validateServiceSpec(s), ...validateServiceStatus(svc.status)];
}
