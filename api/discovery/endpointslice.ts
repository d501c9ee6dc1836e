/**
 * discovery.k8s.io/v1 EndpointSlice: types, schema, defaults and validation as upstream
 * (k8s.io/api/discovery/v1, pkg/apis/discovery/validation). The EndpointSlice controller writes them
 * from Services and pods; kube-proxy and DNS read them.
 *
 * Limits: at most 1000 endpoints per slice, 1-100 addresses per endpoint, 8 zone and 8 node hints.
 * Ports: upstream's validation allows 20000 per slice even though the API docs mention 100 (the
 * controller itself never puts more than the Service's ports in a slice), so we enforce 20000 too.
 * Defaults: every port gets name "" and protocol TCP. addressType is immutable.
 */
import type { KindDefinition } from '../kind.js';
import type { FieldError } from '../field-errors.js';
import { FieldPath, duplicate, invalid, notSupported, required } from '../field-errors.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, bool, int, mapOf, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { isDNS1123Label, isDNS1123Subdomain, isQualifiedName, isValidLabelValue, validateLabels } from '../names.js';
import { validateObjectMeta } from '../validate-meta.js';
import { validateIPv4EndpointAddress, validateIPv6EndpointAddress } from './endpoint-ip.js';
import type { ObjectReference } from '../core/common.js';
import { PROTOCOLS, objectReferenceSchema } from '../core/common.js';

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';
export const ADDRESS_TYPES: readonly AddressType[] = ['FQDN', 'IPv4', 'IPv6'];
export const PORT_PROTOCOLS: readonly string[] = PROTOCOLS;

export const MAX_ENDPOINTS = 1000;
export const MAX_ADDRESSES = 100;
export const MAX_PORTS = 20000;
export const MAX_TOPOLOGY_LABELS = 16;
export const MAX_ZONE_HINTS = 8;
export const MAX_NODE_HINTS = 8;

export interface EndpointConditions {
  /** Null/absent means unknown; consumers treat unknown as ready. */
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface EndpointHints {
  readonly forZones?: readonly { readonly name: string }[];
  readonly forNodes?: readonly { readonly name: string }[];
}

export interface Endpoint {
  readonly addresses: readonly string[];
  readonly conditions?: EndpointConditions;
  readonly hostname?: string;
  readonly targetRef?: ObjectReference;
  readonly deprecatedTopology?: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly hints?: EndpointHints;
}

export interface EndpointPort {
  /** "" when the Service port is unnamed; defaulted. */
  readonly name?: string;
  /** TCP, UDP or SCTP; defaulted to TCP. */
  readonly protocol?: string;
  /** Absent means "all ports" (used for Services without ports, e.g. headless selectorless ones). */
  readonly port?: number;
  readonly appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly addressType: AddressType;
  readonly endpoints: readonly Endpoint[];
  readonly ports?: readonly EndpointPort[];
}

// ---------------------------------------------------------------------------------------------
// Schema: upstream marks endpoints and ports `listType=atomic` (replaced whole by a merge patch).

const forName = obj({ name: str() }, { required: ['name'] });

export const endpointSchema: ObjectSchema = obj(
  {
    addresses: arrayOf(str(), { description: 'Addresses of this endpoint, interpreted per the slice addressType.' }),
    conditions: obj({ ready: bool(), serving: bool(), terminating: bool() }),
    hostname: str(),
    targetRef: objectReferenceSchema,
    deprecatedTopology: mapOf(str()),
    nodeName: str(),
    zone: str(),
    hints: obj({ forZones: arrayOf(forName), forNodes: arrayOf(forName) }),
  },
  { required: ['addresses'] },
);

export const endpointPortSchema: ObjectSchema = obj({
  name: str(),
  protocol: { type: 'string', enum: PORT_PROTOCOLS },
  port: int(),
  appProtocol: str(),
});

export const endpointSliceSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    addressType: { type: 'string', enum: ADDRESS_TYPES, description: 'IPv4, IPv6 or FQDN.' },
    endpoints: arrayOf(endpointSchema),
    ports: arrayOf(endpointPortSchema),
  },
  { required: ['addressType', 'endpoints'] },
);

// ---------------------------------------------------------------------------------------------
// Defaults and validation

export function defaultEndpointSlice(s: EndpointSlice): EndpointSlice {
  if (s.ports === undefined) return s;
  return { ...s, ports: s.ports.map((p) => ({ ...p, name: p.name ?? '', protocol: p.protocol ?? 'TCP' })) };
}

export function validateEndpointSlice(s: EndpointSlice): FieldError[] {
  return [
    ...validateObjectMeta(s.metadata, { namespaced: true }, FieldPath.root('metadata')),
    ...validateAddressType(s.addressType),
    ...validateEndpoints(s.endpoints ?? [], s.addressType, FieldPath.root('endpoints')),
    ...validatePorts(s.ports ?? [], FieldPath.root('ports')),
  ];
}

export function validateEndpointSliceUpdate(s: EndpointSlice, old: EndpointSlice): FieldError[] {
  const errs = validateEndpointSlice(s);
  if (s.addressType !== old.addressType) errs.push(invalid(FieldPath.root('addressType'), s.addressType, 'field is immutable'));
  return errs;
}

function validateAddressType(t: string | undefined): FieldError[] {
  const path = FieldPath.root('addressType');
  if (t === undefined || t === '') return [required(path, '')];
  return (ADDRESS_TYPES as readonly string[]).includes(t) ? [] : [notSupported(path, t, ADDRESS_TYPES)];
}

/** `must have at most N items` is upstream's TooMany; field-errors.ts has no such type, so it is an Invalid. */
const tooMany = (path: FieldPath, n: number, max: number): FieldError => invalid(path, n, `must have at most ${max} items`);

const invalids = (path: FieldPath, value: string, msgs: readonly string[]): FieldError[] =>
  msgs.map((m) => invalid(path, value, m));

export function validateEndpoints(endpoints: readonly Endpoint[], addressType: string, path: FieldPath): FieldError[] {
  if (endpoints.length > MAX_ENDPOINTS) return [tooMany(path, endpoints.length, MAX_ENDPOINTS)];
  const errs: FieldError[] = [];
  endpoints.forEach((ep, i) => {
    const at = path.index(i);
    const addrPath = at.child('addresses');
    const addresses = ep.addresses ?? [];
    if (addresses.length === 0) errs.push(required(addrPath, 'must contain at least 1 address'));
    else if (addresses.length > MAX_ADDRESSES) errs.push(tooMany(addrPath, addresses.length, MAX_ADDRESSES));
    addresses.forEach((addr, j) => errs.push(...validateAddress(addr, addressType, addrPath.index(j))));
    if (ep.nodeName !== undefined) errs.push(...invalids(at.child('nodeName'), ep.nodeName, isDNS1123Subdomain(ep.nodeName)));
    const topology = ep.deprecatedTopology ?? {};
    const topoPath = at.child('deprecatedTopology');
    const topoCount = Object.keys(topology).length;
    if (topoCount > MAX_TOPOLOGY_LABELS) errs.push(tooMany(topoPath, topoCount, MAX_TOPOLOGY_LABELS));
    errs.push(...validateLabels(topology, topoPath));
    if (ep.hostname !== undefined) errs.push(...invalids(at.child('hostname'), ep.hostname, isDNS1123Label(ep.hostname)));
    if (ep.hints !== undefined) errs.push(...validateHints(ep.hints, at.child('hints')));
  });
  return errs;
}

/** Unknown address types are not checked further: validateAddressType already reported them. */
function validateAddress(addr: string, addressType: string, path: FieldPath): FieldError[] {
  switch (addressType) {
    case 'IPv4':
      return validateIPv4EndpointAddress(addr, path);
    case 'IPv6':
      return validateIPv6EndpointAddress(addr, path);
    case 'FQDN':
      return validateFQDN(addr, path);
    default:
      return [];
  }
}

/** Upstream IsFullyQualifiedDomainName: a DNS subdomain of at least two labels; one trailing dot allowed. */
export function validateFQDN(name: string, path: FieldPath): FieldError[] {
  if (name === '') return [required(path, '')];
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const subErrs = isDNS1123Subdomain(bare);
  if (subErrs.length > 0) return [invalid(path, bare, subErrs.join(','))];
  const labels = bare.split('.');
  if (labels.length < 2) return [invalid(path, bare, 'should be a domain with at least two segments separated by dots')];
  for (const label of labels) {
    const labelErrs = isDNS1123Label(label);
    if (labelErrs.length > 0) return [invalid(path, label, labelErrs.join(','))];
  }
  return [];
}

export function validatePorts(ports: readonly EndpointPort[], path: FieldPath): FieldError[] {
  if (ports.length > MAX_PORTS) return [tooMany(path, ports.length, MAX_PORTS)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  ports.forEach((p, i) => {
    const at = path.index(i);
    const name = p.name ?? '';
    if (name !== '') errs.push(...invalids(at.child('name'), name, isDNS1123Label(name)));
    if (names.has(name)) errs.push(duplicate(at.child('name'), name));
    else names.add(name);
    if (p.protocol === undefined) errs.push(required(at.child('protocol'), ''));
    else if (!PORT_PROTOCOLS.includes(p.protocol)) errs.push(notSupported(at.child('protocol'), p.protocol, PORT_PROTOCOLS));
    if (p.appProtocol !== undefined) {
      errs.push(...invalids(at.child('appProtocol'), p.appProtocol, isQualifiedName(p.appProtocol)));
    }
  });
  return errs;
}

function validateHints(hints: EndpointHints, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const zones = hints.forZones ?? [];
  const zPath = path.child('forZones');
  if (zones.length > MAX_ZONE_HINTS) return [tooMany(zPath, zones.length, MAX_ZONE_HINTS)];
  const seenZones = new Set<string>();
  zones.forEach((z, i) => {
    const at = zPath.index(i).child('name');
    if (seenZones.has(z.name)) errs.push(duplicate(at, z.name));
    else seenZones.add(z.name);
    errs.push(...invalids(at, z.name, isValidLabelValue(z.name)));
  });
  const nodes = hints.forNodes ?? [];
  const nPath = path.child('forNodes');
  if (nodes.length > MAX_NODE_HINTS) return [...errs, tooMany(nPath, nodes.length, MAX_NODE_HINTS)];
  const seenNodes = new Set<string>();
  nodes.forEach((n, i) => {
    const at = nPath.index(i).child('name');
    if (seenNodes.has(n.name)) errs.push(duplicate(at, n.name));
    else seenNodes.add(n.name);
    errs.push(...invalids(at, n.name, isDNS1123Subdomain(n.name)));
  });
  return errs;
}

export const endpointSliceKind: KindDefinition<EndpointSlice> = {
  group: 'discovery.k8s.io',
  version: 'v1',
  kind: 'EndpointSlice',
  plural: 'endpointslices',
  singular: 'endpointslice',
  namespaced: true,
  shortNames: [],
  categories: [],
  schema: endpointSliceSchema,
  hasStatusSubresource: false,
  default: defaultEndpointSlice,
  validate: validateEndpointSlice,
  validateUpdate: validateEndpointSliceUpdate,
};
