/**
 * core/v1 Endpoints (shortName `ep`): the addresses behind a Service, grouped in subsets of addresses
 * x ports. Written by the endpoints controller, read by kube-proxy and DNS. Ports default to TCP.
 * Addresses must be real IPs and not loopback, link-local or unspecified (proxies cannot forward there).
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { arrayOf, int, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { isDNS1123Label, isDNS1123Subdomain, validateQualifiedName } from '../names.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { ObjectReference, Protocol } from './common.js';
import { objectReferenceSchema, validatePortNum, validateProtocol } from './common.js';
import { protocolSchema } from './container-schema.js';
import { validateIP, validateNonSpecialIP } from './ip.js';

export interface EndpointAddress {
  readonly ip: string;
  readonly hostname?: string;
  readonly nodeName?: string;
  readonly targetRef?: ObjectReference;
}

export interface EndpointPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol?: Protocol;
  readonly appProtocol?: string;
}

export interface EndpointSubset {
  readonly addresses?: readonly EndpointAddress[];
  readonly notReadyAddresses?: readonly EndpointAddress[];
  readonly ports?: readonly EndpointPort[];
}

export interface Endpoints extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Endpoints';
  readonly metadata: ObjectMeta;
  readonly subsets?: readonly EndpointSubset[];
}

const addressSchema: ObjectSchema = obj(
  { ip: str(), hostname: str(), nodeName: str(), targetRef: objectReferenceSchema },
  { required: ['ip'] },
);

export const endpointsSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  subsets: arrayOf(
    obj({
      addresses: arrayOf(addressSchema),
      notReadyAddresses: arrayOf(addressSchema),
      ports: arrayOf(obj({ name: str(), port: int(), protocol: protocolSchema, appProtocol: str() }, { required: ['port'] })),
    }),
  ),
});

export function defaultEndpoints(ep: Endpoints): Endpoints {
  if (!ep.subsets) return ep;
  const subsets = ep.subsets.map((s) => (s.ports ? { ...s, ports: s.ports.map((p) => ({ ...p, protocol: p.protocol || 'TCP' })) } : s));
  return { ...ep, subsets };
}

function validateAddress(a: EndpointAddress, path: FieldPath): FieldError[] {
  const errs = validateIP(a.ip, path.child('ip'));
  if (a.hostname) for (const msg of isDNS1123Label(a.hostname)) errs.push(invalid(path.child('hostname'), a.hostname, msg));
  if (a.nodeName !== undefined) for (const msg of isDNS1123Subdomain(a.nodeName)) errs.push(invalid(path.child('nodeName'), a.nodeName, msg));
  errs.push(...validateNonSpecialIP(a.ip ?? '', path.child('ip')));
  return errs;
}

function validateSubsets(subsets: readonly EndpointSubset[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  (subsets ?? []).forEach((ss, i) => {
    const p = FieldPath.root('subsets').index(i);
    if ((ss.addresses ?? []).length === 0 && (ss.notReadyAddresses ?? []).length === 0) {
      errs.push(required(p, 'must specify `addresses` or `notReadyAddresses`'));
    }
    (ss.addresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('addresses').index(j))));
    (ss.notReadyAddresses ?? []).forEach((a, j) => errs.push(...validateAddress(a, p.child('notReadyAddresses').index(j))));
    const ports = ss.ports ?? [];
    ports.forEach((port, j) => {
      const pp = p.child('ports').index(j);
      if (ports.length > 1 && !port.name) errs.push(required(pp.child('name')));
      else if (port.name) for (const msg of isDNS1123Label(port.name)) errs.push(invalid(pp.child('name'), port.name, msg));
      errs.push(...validatePortNum(port.port, pp.child('port')));
      errs.push(...validateProtocol(port.protocol, pp.child('protocol')));
      if (port.appProtocol !== undefined) errs.push(...validateQualifiedName(port.appProtocol, pp.child('appProtocol')));
    });
  });
  return errs;
}

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateEndpoints(ep: Endpoints): FieldError[] {
  return [
    ...validateObjectMeta(ep.metadata, { namespaced: true }),
    ...validateKubeFinalizerNames(ep.metadata.finalizers, finalizersPath),
    ...validateSubsets(ep.subsets),
  ];
}

export function validateEndpointsUpdate(ep: Endpoints, old: Endpoints): FieldError[] {
  return [
    ...validateObjectMetaUpdate(ep.metadata, old.metadata),
    ...validateKubeFinalizerNames(ep.metadata.finalizers, finalizersPath),
    ...validateSubsets(ep.subsets),
  ];
}

export const endpointsKind: KindDefinition<Endpoints> = {
  group: '',
  version: 'v1',
  kind: 'Endpoints',
  plural: 'endpoints',
  singular: 'endpoints',
  namespaced: true,
  shortNames: ['ep'],
  categories: [],
  schema: endpointsSchema,
  hasStatusSubresource: false,
  default: defaultEndpoints,
  validate: validateEndpoints,
  validateUpdate: validateEndpointsUpdate,
};
