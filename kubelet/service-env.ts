/**
 * Service environment variables (upstream pkg/kubelet/envvars and getServiceEnvVarMap): every Service
 * with a cluster IP in the pod's namespace (when `enableServiceLinks` is not false) plus the
 * `kubernetes` Service of the master namespace (always) becomes
 *   FOO_SERVICE_HOST, FOO_SERVICE_PORT, FOO_SERVICE_PORT_<PORTNAME> (named ports)
 * and Docker-link style
 *   FOO_PORT=tcp://ip:port (first port), FOO_PORT_<port>_<PROTO>=tcp://ip:port, _PROTO, _PORT, _ADDR.
 * The name is the Service name upper-cased with `-` turned into `_`.
 *
 * Pure. Cost model: 5 variables per port plus 2 per Service; the kubelet rebuilds them on every
 * container start (they are not part of the container hash, so a Service change never restarts a pod).
 */
import type { Service } from '../api/core/service.js';
import type { EnvVar } from './types.js';

export const MASTER_SERVICE_NAMES: ReadonlySet<string> = new Set(['kubernetes']);

/** Upstream makeEnvVariableName: `my-svc` -> `MY_SVC`. */
export function serviceEnvName(name: string): string {
  return name.replaceAll('-', '_').toUpperCase();
}

/** Upstream IsServiceIPSet: headless (`None`) and ExternalName Services have no variables. */
export function hasServiceIP(svc: Service): boolean {
  const ip = svc.spec?.clusterIP ?? '';
  return ip !== '' && ip !== 'None' && svc.spec?.type !== 'ExternalName';
}

/** `host:port`, bracketing IPv6 addresses as Go's net.JoinHostPort does. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The variables of one Service, in upstream's order. */
export function serviceEnvVars(svc: Service): EnvVar[] {
  if (!hasServiceIP(svc)) return [];
  const prefix = serviceEnvName(svc.metadata.name ?? '');
  const ip = svc.spec?.clusterIP ?? '';
  const ports = svc.spec?.ports ?? [];
  const out: EnvVar[] = [{ name: `${prefix}_SERVICE_HOST`, value: ip }];
  const first = ports[0];
  // validation requires a port on every Service with a cluster IP; be lenient with hand-made objects
  if (first !== undefined) out.push({ name: `${prefix}_SERVICE_PORT`, value: String(first.port) });
  for (const p of ports) {
    if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${serviceEnvName(p.name)}`, value: String(p.port) });
  }
  ports.forEach((p, i) => {
    const proto = p.protocol ?? 'TCP';
    const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
    const portPrefix = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push(
      { name: portPrefix, value: url },
      { name: `${portPrefix}_PROTO`, value: proto.toLowerCase() },
      { name: `${portPrefix}_PORT`, value: String(p.port) },
      { name: `${portPrefix}_ADDR`, value: ip },
    );
  });
  return out;
}

export interface ServiceSelection {
  readonly podNamespace: string;
  readonly enableServiceLinks: boolean;
  /** Where the `kubernetes` Service lives; `default` upstream. */
  readonly masterServiceNamespace: string;
}

/**
 * Upstream's projection of the listed Services onto the ones a pod sees: master Services always,
 * Services of the pod's namespace only with service links. Sorted by name so the output is stable
 * (upstream iterates a map).
 */
export function selectServicesForEnv(services: readonly Service[], sel: ServiceSelection): Service[] {
  const byName = new Map<string, Service>();
  for (const svc of services) {
    if (!hasServiceIP(svc)) continue;
    const name = svc.metadata.name ?? '';
    const ns = svc.metadata.namespace ?? '';
    if (ns === sel.masterServiceNamespace && MASTER_SERVICE_NAMES.has(name)) {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (ns === sel.podNamespace && sel.enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
}

/** All Service variables a pod sees, Services sorted by name; a later Service wins a name clash. */
export function buildServiceEnv(services: readonly Service[], sel: ServiceSelection): Map<string, string> {
  const env = new Map<string, string>();
  for (const svc of selectServicesForEnv(services, sel)) {
    for (const v of serviceEnvVars(svc)) env.set(v.name, v.value);
  }
  return env;
}
