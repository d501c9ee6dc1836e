/**
 * The network config on stdin, decoded and validated into a `NetConf` with defaults. Pure.
 *
 * knode's own keys (all optional): `bridge` (default knode0), `mtu`, `podCIDR`, `nodeStateFile`
 * (default /run/knode/cni/<name>/node.json), `dataDir` (default /var/lib/knode/cni/<name>),
 * `hairpinMode` (default true), `gcMinAgeSeconds` (GC keeps attachments younger than this, default 0:
 * the node agent's start-up GC sets it, because it cannot see sandboxes whose ADD is still running).
 * From the runtime: `runtimeConfig.portMappings` (keys matched
 * case-insensitively: containerd sends Go field names such as `HostPort`), `prevResult`, and for GC
 * `cni.dev/valid-attachments` (or the older `cni.dev/attachments`). Unknown keys are ignored, as the
 * spec allows.
 */
import { CniDecodeError, CniIncompatibleVersionError, CniInvalidConfigError } from './errors.js';
import { parseCidr, parseIPv4, podRangeOf } from './ipam/ipv4.js';
import type { AttachmentKey, CniDns, CniInterface, CniIpConfig, CniResult, CniRoute, NetConf, PortMapping, Protocol } from './types.js';
import { SUPPORTED_VERSIONS, isSupportedVersion } from './version.js';

export const DEFAULT_BRIDGE = 'knode0';
export const NETWORK_NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function defaultDataDir(network: string): string {
  return `/var/lib/knode/cni/${network}`;
}
export function defaultNodeStateFile(network: string): string {
  return `/run/knode/cni/${network}/node.json`;
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value of `key` in `o`, matching the key without regard to case. */
export function getCaseInsensitive(o: Obj, key: string): unknown {
  if (key in o) return o[key];
  const lower = key.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return o[k];
  return undefined;
}

/** Linux's rules for an interface name (dev_valid_name) plus the 15-byte limit. */
export function isValidIfname(s: string): boolean {
  return s.length > 0 && s.length <= 15 && s !== '.' && s !== '..' && !/[/:\s]/.test(s);
}

function bad(msg: string): never {
  throw new CniInvalidConfigError(`invalid network config: ${msg}`);
}

/** JSON text -> object; code 6 when it is not a JSON object. */
export function decodeConfig(text: string): Obj {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new CniDecodeError(`cannot decode the network config on stdin: ${(err as Error).message}`);
  }
  if (!isObj(raw)) throw new CniDecodeError('cannot decode the network config on stdin: expected a JSON object');
  return raw;
}

/** The version an error should be reported in: the config's when readable and supported. */
export function peekVersion(text: string): string | undefined {
  try {
    const raw: unknown = JSON.parse(text);
    const v = isObj(raw) ? raw['cniVersion'] : undefined;
    return typeof v === 'string' && isSupportedVersion(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function optString(o: Obj, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') bad(`"${key}" must be a string`);
  return v;
}

function absPath(o: Obj, key: string): string | undefined {
  const v = optString(o, key);
  if (v !== undefined && !v.startsWith('/')) bad(`"${key}" must be an absolute path, got "${v}"`);
  return v;
}

export function parseNetConf(raw: Obj): NetConf {
  const cniVersion = raw['cniVersion'];
  if (typeof cniVersion !== 'string' || cniVersion === '') bad('"cniVersion" is required');
  if (!isSupportedVersion(cniVersion)) {
    throw new CniIncompatibleVersionError(
      `incompatible CNI version ${cniVersion}: knode-cni supports ${SUPPORTED_VERSIONS.join(', ')}`,
    );
  }
  const name = raw['name'];
  if (typeof name !== 'string' || !NETWORK_NAME_RE.test(name)) {
    bad(`"name" must start with a letter or digit and contain only letters, digits, "_", "." and "-" (got ${JSON.stringify(name)})`);
  }
  const type = optString(raw, 'type') ?? '';
  const bridge = optString(raw, 'bridge') ?? DEFAULT_BRIDGE;
  if (!isValidIfname(bridge)) bad(`"bridge" is not a valid interface name: "${bridge}"`);
  const mtuRaw = raw['mtu'];
  if (mtuRaw !== undefined && (!Number.isInteger(mtuRaw) || (mtuRaw as number) < 576 || (mtuRaw as number) > 65535)) {
    bad(`"mtu" must be an integer between 576 and 65535, got ${JSON.stringify(mtuRaw)}`);
  }
  const podCIDR = optString(raw, 'podCIDR');
  if (podCIDR !== undefined) {
    const c = parseCidr(podCIDR);
    if (c === undefined || podRangeOf(c) === undefined) bad(`"podCIDR" must be an IPv4 network CIDR of /30 or larger, got "${podCIDR}"`);
  }
  const hairpin = raw['hairpinMode'];
  if (hairpin !== undefined && typeof hairpin !== 'boolean') bad('"hairpinMode" must be true or false');
  const gcMinAge = raw['gcMinAgeSeconds'];
  if (gcMinAge !== undefined && (typeof gcMinAge !== 'number' || !Number.isInteger(gcMinAge) || gcMinAge < 0)) {
    bad(`"gcMinAgeSeconds" must be a whole number of seconds, got ${JSON.stringify(gcMinAge)}`);
  }
  const dns = raw['dns'];
  return {
    cniVersion,
    name,
    type,
    bridge,
    ...(mtuRaw !== undefined ? { mtu: mtuRaw as number } : {}),
    ...(podCIDR !== undefined ? { podCIDR } : {}),
    nodeStateFile: absPath(raw, 'nodeStateFile') ?? defaultNodeStateFile(name),
    dataDir: absPath(raw, 'dataDir') ?? defaultDataDir(name),
    hairpinMode: hairpin ?? true,
    ...(gcMinAge !== undefined ? { gcMinAgeSeconds: gcMinAge as number } : {}),
    portMappings: parsePortMappings(raw['runtimeConfig']),
    ...(isObj(dns) ? { dns: dns as CniDns } : {}),
    ...(raw['prevResult'] !== undefined ? { prevResult: parsePrevResult(raw['prevResult']) } : {}),
    ...parseValidAttachments(raw),
  };
}

function port(v: unknown, what: string, i: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 65535) {
    bad(`runtimeConfig.portMappings[${i}].${what} must be a port number (0-65535), got ${JSON.stringify(v)}`);
  }
  return v;
}

/** The `portMappings` capability. Entries without a host port and IPv6 host addresses are skipped. */
export function parsePortMappings(runtimeConfig: unknown): PortMapping[] {
  if (runtimeConfig === undefined || runtimeConfig === null) return [];
  if (!isObj(runtimeConfig)) bad('"runtimeConfig" must be an object');
  const list = getCaseInsensitive(runtimeConfig, 'portMappings');
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) bad('runtimeConfig.portMappings must be a list');
  const out: PortMapping[] = [];
  list.forEach((m: unknown, i) => {
    if (!isObj(m)) bad(`runtimeConfig.portMappings[${i}] must be an object`);
    const hostPort = port(getCaseInsensitive(m, 'hostPort'), 'hostPort', i);
    const containerPort = port(getCaseInsensitive(m, 'containerPort'), 'containerPort', i);
    const protoRaw = getCaseInsensitive(m, 'protocol') ?? 'tcp';
    const protocol = typeof protoRaw === 'string' ? protoRaw.toLowerCase() : '';
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') {
      bad(`runtimeConfig.portMappings[${i}].protocol must be tcp, udp or sctp, got ${JSON.stringify(protoRaw)}`);
    }
    const hostIPRaw = getCaseInsensitive(m, 'hostIP') ?? '';
    if (typeof hostIPRaw !== 'string') bad(`runtimeConfig.portMappings[${i}].hostIP must be a string`);
    if (hostPort === 0) return;
    if (containerPort === 0) bad(`runtimeConfig.portMappings[${i}].containerPort must not be 0`);
    if (hostIPRaw.includes(':')) return; // IPv6: this plugin is IPv4-only
    if (hostIPRaw !== '' && parseIPv4(hostIPRaw) === undefined) {
      bad(`runtimeConfig.portMappings[${i}].hostIP is not an IPv4 address: "${hostIPRaw}"`);
    }
    const specific = hostIPRaw !== '' && hostIPRaw !== '0.0.0.0';
    out.push({ hostPort, containerPort, protocol: protocol as Protocol, ...(specific ? { hostIP: hostIPRaw } : {}) });
  });
  return out;
}

function parseValidAttachments(raw: Obj): { validAttachments?: AttachmentKey[] } {
  const list = raw['cni.dev/valid-attachments'] ?? raw['cni.dev/attachments'];
  if (list === undefined || list === null) return {};
  if (!Array.isArray(list)) bad('"cni.dev/valid-attachments" must be a list');
  return {
    validAttachments: list.map((a: unknown, i) => {
      const id = isObj(a) ? getCaseInsensitive(a, 'containerID') : undefined;
      const ifname = isObj(a) ? getCaseInsensitive(a, 'ifname') : undefined;
      if (typeof id !== 'string' || typeof ifname !== 'string') {
        bad(`"cni.dev/valid-attachments"[${i}] must be {"containerID": string, "ifname": string}`);
      }
      return { containerId: id, ifname };
    }),
  };
}

/** A previous result in any supported version, reduced to what CHECK compares. */
export function parsePrevResult(v: unknown): CniResult {
  if (!isObj(v)) bad('"prevResult" must be an object');
  const list = (key: string): readonly unknown[] => {
    const x = v[key];
    if (x === undefined || x === null) return [];
    if (!Array.isArray(x)) bad(`prevResult.${key} must be a list`);
    return x;
  };
  const interfaces: CniInterface[] = list('interfaces').map((i, n) => {
    if (!isObj(i) || typeof i['name'] !== 'string') bad(`prevResult.interfaces[${n}] needs a "name"`);
    return {
      name: i['name'],
      mac: typeof i['mac'] === 'string' ? i['mac'] : '',
      ...(typeof i['sandbox'] === 'string' ? { sandbox: i['sandbox'] } : {}),
    };
  });
  const ips: CniIpConfig[] = list('ips').map((ip, n) => {
    if (!isObj(ip) || typeof ip['address'] !== 'string') bad(`prevResult.ips[${n}] needs an "address"`);
    return {
      address: ip['address'],
      ...(typeof ip['gateway'] === 'string' ? { gateway: ip['gateway'] } : {}),
      ...(typeof ip['interface'] === 'number' ? { interface: ip['interface'] } : {}),
    };
  });
  const routes: CniRoute[] = list('routes').flatMap((r) =>
    isObj(r) && typeof r['dst'] === 'string' ? [{ dst: r['dst'], ...(typeof r['gw'] === 'string' ? { gw: r['gw'] } : {}) }] : [],
  );
  return { interfaces, ips, routes, dns: isObj(v['dns']) ? (v['dns'] as CniDns) : {} };
}
