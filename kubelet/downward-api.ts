/**
 * Downward API values: the strings a pod sees for a `fieldRef` or `resourceFieldRef`, shared by the
 * env resolver (env.ts) and the downwardAPI/projected volumes (volumes/plan.ts), following upstream's
 * pkg/fieldpath and pkg/api/v1/resource helpers:
 * - `metadata.labels` / `metadata.annotations` as a whole map print one `key="value"` line per entry,
 *   keys sorted, values quoted the way Go's `%q` quotes them, no trailing newline;
 * - subscripted `metadata.labels['k']` reads one entry (the key must be a qualified name);
 * - resources are divided by the divisor and rounded up (cpu in millicores, the rest in units); a
 *   missing or zero cpu/memory/ephemeral-storage limit falls back to the node's allocatable.
 *
 * Pure. Cost model: one map sort per whole-map field, one quantity parse per resource value.
 */
import type { Container, ObjectFieldSelector, Pod, ResourceFieldSelector } from '../api/core/pod.js';
import type { ResourceList } from '../api/core/common.js';
import { isQualifiedName } from '../api/names.js';
import type { Quantity } from '../api/quantity.js';
import { tryParseQuantity } from '../api/quantity.js';
import { KubeletError } from './errors.js';
import type { PodRuntimeFacts } from './types.js';

/** A field or resource the downward API cannot produce; callers turn it into their own error kind. */
export class DownwardAPIError extends KubeletError {
  constructor(message: string) {
    super('ERR_KUBELET_DOWNWARD_API', message);
  }
}

/** Facts plus every host IP, when the agent knows more than one (dual-stack nodes). */
export type DownwardFacts = PodRuntimeFacts & { readonly hostIPs?: readonly string[] };

/** Resources upstream defaults from node allocatable when a container sets no limit (hugepages are always limited). */
const ALLOCATABLE_DEFAULTED = ['cpu', 'memory', 'ephemeral-storage'] as const;

// ---- Go %q ------------------------------------------------------------------------------------

const SHORT_ESCAPES: Readonly<Record<string, string>> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
};
const GO_PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote: what `%q` prints, so label files match upstream byte for byte. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (GO_PRINTABLE.test(ch) && !(cp >= 0xd800 && cp <= 0xdfff)) out += ch;
    else if (SHORT_ESCAPES[ch] !== undefined) out += SHORT_ESCAPES[ch];
    else if (cp >= 0xd800 && cp <= 0xdfff) out += '\\ufffd';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${cp.toString(16).padStart(2, '0')}`;
    else if (cp < 0x10000) out += `\\u${cp.toString(16).padStart(4, '0')}`;
    else out += `\\U${cp.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Upstream fieldpath.FormatMap: sorted `key="value"` lines without a final newline. */
export function formatMap(m: Readonly<Record<string, string>> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.map((k) => `${k}=${goQuote(m?.[k] ?? '')}`).join('\n');
}

// ---- fieldRef ---------------------------------------------------------------------------------

/** `metadata.labels['app']` -> ['metadata.labels', 'app']; anything else -> undefined. */
export function splitSubscriptedPath(fieldPath: string): readonly [string, string] | undefined {
  if (!fieldPath.endsWith("']")) return undefined;
  const inner = fieldPath.slice(0, -2);
  const at = inner.indexOf("['");
  if (at <= 0) return undefined;
  return [inner.slice(0, at), inner.slice(at + 2)];
}

/**
 * The value of a pod field, as the kubelet gives it to env vars (`facts` supplies the node name,
 * host and pod IPs the API object may not carry yet) and to downwardAPI volume files.
 */
export function extractFieldPath(pod: Pod, selector: ObjectFieldSelector, facts?: DownwardFacts): string {
  const fieldPath = selector.fieldPath;
  if (selector.apiVersion !== undefined && selector.apiVersion !== '' && selector.apiVersion !== 'v1') {
    throw new DownwardAPIError(`unsupported pod version: ${selector.apiVersion}`);
  }
  const meta = pod.metadata;
  const sub = splitSubscriptedPath(fieldPath);
  if (sub !== undefined) {
    const [path, key] = sub;
    switch (path) {
      case 'metadata.annotations': {
        // upstream checks annotation keys case-insensitively
        const errs = isQualifiedName(key.toLowerCase());
        if (errs.length > 0) throw new DownwardAPIError(`invalid key subscript in ${fieldPath}: ${errs.join(';')}`);
        return meta.annotations?.[key] ?? '';
      }
      case 'metadata.labels': {
        const errs = isQualifiedName(key);
        if (errs.length > 0) throw new DownwardAPIError(`invalid key subscript in ${fieldPath}: ${errs.join(';')}`);
        return meta.labels?.[key] ?? '';
      }
      default:
        throw new DownwardAPIError(`fieldPath ${JSON.stringify(fieldPath)} does not support subscript`);
    }
  }
  const podIPs = facts ? effectivePodIPs(facts) : (pod.status?.podIPs?.map((p) => p.ip) ?? []);
  switch (fieldPath) {
    case 'metadata.annotations':
      return formatMap(meta.annotations);
    case 'metadata.labels':
      return formatMap(meta.labels);
    case 'metadata.name':
      return meta.name ?? '';
    case 'metadata.namespace':
      return meta.namespace ?? '';
    case 'metadata.uid':
      return meta.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? facts?.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return facts ? (effectiveHostIPs(facts)[0] ?? '') : (pod.status?.hostIP ?? '');
    case 'status.hostIPs':
      return facts ? effectiveHostIPs(facts).join(',') : (pod.status?.hostIPs?.map((h) => h.ip).join(',') ?? '');
    case 'status.podIP':
      return podIPs[0] ?? (facts?.podIP || pod.status?.podIP || '');
    case 'status.podIPs':
      return podIPs.join(',');
    default:
      throw new DownwardAPIError(`unsupported fieldPath: ${fieldPath}`);
  }
}

/** The pod's IPs, primary first; the single `podIP` when the list is empty. */
export function effectivePodIPs(facts: PodRuntimeFacts): readonly string[] {
  if (facts.podIPs.length > 0) return facts.podIPs;
  return facts.podIP ? [facts.podIP] : [];
}

function effectiveHostIPs(facts: DownwardFacts): readonly string[] {
  if (facts.hostIPs && facts.hostIPs.length > 0) return facts.hostIPs;
  return facts.hostIP ? [facts.hostIP] : [];
}

// ---- resourceFieldRef -------------------------------------------------------------------------

const NANO = 1_000_000_000n;
const ceilDiv = (n: bigint, d: bigint): bigint => (n <= 0n ? -(-n / d) : (n + d - 1n) / d);

function parseDivisor(divisor: string | undefined): Quantity {
  if (divisor === undefined || divisor === '') return { nanos: NANO, format: 'DecimalSI' };
  const q = tryParseQuantity(divisor);
  if (q === undefined) throw new DownwardAPIError(`invalid divisor ${JSON.stringify(divisor)}`);
  // a zero divisor means "not set" upstream
  return q.nanos === 0n ? { nanos: NANO, format: 'DecimalSI' } : q;
}

/** Upstream rounds the divisor to milli-units for cpu and to units for the rest, away from zero. */
function scaled(q: Quantity, milli: boolean): bigint {
  const unit = milli ? 1_000_000n : NANO;
  const whole = q.nanos / unit;
  return q.nanos % unit === 0n ? whole : q.nanos > 0n ? whole + 1n : whole - 1n;
}

function resourceValue(list: ResourceList | undefined, name: string): Quantity {
  const text = list?.[name];
  return (text !== undefined ? tryParseQuantity(text) : undefined) ?? { nanos: 0n, format: 'DecimalSI' };
}

/** Limits with node allocatable filled in where a cpu/memory/ephemeral-storage limit is missing or zero. */
export function limitsWithAllocatable(container: Container, allocatable: ResourceList | undefined): ResourceList {
  const limits: Record<string, string> = { ...(container.resources?.limits ?? {}) };
  for (const name of ALLOCATABLE_DEFAULTED) {
    const current = limits[name] !== undefined ? tryParseQuantity(limits[name]) : undefined;
    const fallback = allocatable?.[name];
    if ((current === undefined || current.nanos === 0n) && fallback !== undefined) limits[name] = fallback;
  }
  return limits;
}

/**
 * The value of `limits.cpu`, `requests.memory`, `limits.hugepages-2Mi`... for one container, divided
 * by the divisor and rounded up. Pass `allocatable` to default missing limits as upstream does.
 */
export function extractContainerResource(selector: ResourceFieldSelector, container: Container, allocatable?: ResourceList): string {
  const divisor = parseDivisor(selector.divisor);
  const dot = selector.resource.indexOf('.');
  const kind = dot > 0 ? selector.resource.slice(0, dot) : '';
  const name = dot > 0 ? selector.resource.slice(dot + 1) : '';
  const supported = name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');
  if ((kind !== 'limits' && kind !== 'requests') || !supported) {
    throw new DownwardAPIError(`unsupported container resource : ${selector.resource}`);
  }
  const list = kind === 'limits' ? limitsWithAllocatable(container, allocatable) : container.resources?.requests;
  const value = resourceValue(list, name);
  const milli = name === 'cpu';
  const d = scaled(divisor, milli);
  if (d === 0n) throw new DownwardAPIError(`invalid divisor ${JSON.stringify(selector.divisor ?? '')}`);
  return ceilDiv(scaled(value, milli), d).toString();
}

/** Looks the container up by name among init and regular containers, as upstream's findContainerInPod. */
export function findContainer(pod: Pod, name: string): Container {
  const found = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].find((c) => c.name === name);
  if (found === undefined) throw new DownwardAPIError(`container ${name} not found`);
  return found;
}

/**
 * A resourceFieldRef resolved against the pod: `containerName` names the container (required in
 * volumes); without it the `current` container is used (env vars).
 */
export function extractResourceFieldRef(
  pod: Pod,
  selector: ResourceFieldSelector,
  current: Container | undefined,
  allocatable?: ResourceList,
): string {
  const name = selector.containerName;
  const container = name ? findContainer(pod, name) : current;
  if (container === undefined) throw new DownwardAPIError(`container ${name ?? ''} not found`);
  return extractContainerResource(selector, container, allocatable);
}
