/**
 * core/v1 Node (shortName `no`, cluster-scoped, status subresource): spec (pod CIDRs, taints,
 * unschedulable, providerID) and the status the kubelet reports (capacity, allocatable, conditions,
 * addresses, daemon endpoints, node info, images). Conditions and addresses merge by type; taints are
 * replaced whole, as upstream tags them.
 *
 * Update rules (upstream ValidateNodeUpdate): labels, taints, unschedulable and status may change;
 * podCIDR(s) and providerID only from empty; anything else is Forbidden.
 */
import type { FieldError } from '../field-errors.js';
import { duplicate, FieldPath, forbidden, invalid } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { Condition, KubeObject, ObjectMeta } from '../meta.js';
import { conditionFields, objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { anyValue, arrayOf, bool, int, listByKey, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import type { ResourceList } from './common.js';
import { resourceListSchema } from './common.js';
import { semanticEqual } from './semantic.js';
import { ipFamilyOf, validateCIDR } from './ip.js';
import { canonicalResourceList, validateResourceQuantityValue } from './resources.js';
import type { Taint } from './scheduling.js';
import { taintSchema } from './scheduling.js';
import { validateTaints } from './scheduling-validate.js';

export type NodeAddressType = 'Hostname' | 'InternalIP' | 'ExternalIP' | 'InternalDNS' | 'ExternalDNS';
export type NodeConditionType = 'Ready' | 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' | 'NetworkUnavailable' | (string & {});

export interface NodeSpec {
  readonly podCIDR?: string;
  readonly podCIDRs?: readonly string[];
  readonly providerID?: string;
  readonly unschedulable?: boolean;
  readonly taints?: readonly Taint[];
  /** Deprecated dynamic kubelet config; kept opaque. */
  readonly configSource?: unknown;
  readonly externalID?: string;
}

export interface NodeAddress {
  readonly type: NodeAddressType;
  readonly address: string;
}

export interface NodeCondition extends Condition {
  readonly type: NodeConditionType;
}

export interface NodeSystemInfo {
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  readonly containerRuntimeVersion: string;
  readonly kubeletVersion: string;
  readonly kubeProxyVersion?: string;
  readonly operatingSystem: string;
  readonly architecture: string;
}

export interface ContainerImage {
  readonly names?: readonly string[];
  readonly sizeBytes?: number;
}

export interface NodeStatus {
  readonly capacity?: ResourceList;
  readonly allocatable?: ResourceList;
  readonly phase?: string;
  readonly conditions?: readonly NodeCondition[];
  readonly addresses?: readonly NodeAddress[];
  readonly daemonEndpoints?: { readonly kubeletEndpoint?: { readonly Port: number } };
  readonly nodeInfo?: NodeSystemInfo;
  readonly images?: readonly ContainerImage[];
  readonly volumesInUse?: readonly string[];
  readonly volumesAttached?: readonly { readonly name: string; readonly devicePath: string }[];
  readonly runtimeHandlers?: readonly { readonly name?: string; readonly features?: Readonly<Record<string, boolean>> }[];
}

export interface Node extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Node';
  readonly metadata: ObjectMeta;
  readonly spec?: NodeSpec;
  readonly status?: NodeStatus;
}

export const nodeSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  spec: obj({
    podCIDR: str(),
    podCIDRs: arrayOf(str(), { strategy: 'merge' }),
    providerID: str(),
    unschedulable: bool(),
    taints: arrayOf(taintSchema),
    configSource: anyValue(),
    externalID: str(),
  }),
  status: obj({
    capacity: resourceListSchema,
    allocatable: resourceListSchema,
    phase: str(),
    conditions: listByKey(obj(conditionFields, { required: ['type', 'status'] }), 'type'),
    addresses: listByKey(obj({ type: str(), address: str() }, { required: ['type', 'address'] }), 'type'),
    daemonEndpoints: obj({ kubeletEndpoint: obj({ Port: int() }, { required: ['Port'] }) }),
    nodeInfo: obj({
      machineID: str(),
      systemUUID: str(),
      bootID: str(),
      kernelVersion: str(),
      osImage: str(),
      containerRuntimeVersion: str(),
      kubeletVersion: str(),
      kubeProxyVersion: str(),
      operatingSystem: str(),
      architecture: str(),
    }),
    images: arrayOf(obj({ names: arrayOf(str()), sizeBytes: int() })),
    volumesInUse: arrayOf(str()),
    volumesAttached: arrayOf(obj({ name: str(), devicePath: str() }, { required: ['name', 'devicePath'] })),
    runtimeHandlers: arrayOf(obj({ name: str(), features: obj({ recursiveReadOnlyMounts: bool(), userNamespaces: bool() }) })),
  }),
});

/** Allocatable defaults to capacity; quantities are spelled canonically; podCIDR and podCIDRs agree. */
export function defaultNode(node: Node): Node {
  let spec = node.spec;
  if (spec?.podCIDR && (spec.podCIDRs ?? []).length === 0) spec = { ...spec, podCIDRs: [spec.podCIDR] };
  else if (spec && !spec.podCIDR && spec.podCIDRs?.[0]) spec = { ...spec, podCIDR: spec.podCIDRs[0] };
  let status = node.status;
  if (status) {
    const capacity = canonicalResourceList(status.capacity);
    const allocatable = canonicalResourceList(status.allocatable) ?? capacity;
    status = { ...status, ...(capacity ? { capacity } : {}), ...(allocatable ? { allocatable } : {}) };
  }
  return { ...node, ...(spec ? { spec } : {}), ...(status ? { status } : {}) };
}

function validateNodeBody(node: Node): FieldError[] {
  const errs: FieldError[] = [];
  const spec = node.spec ?? {};
  errs.push(...validateTaints(spec.taints, FieldPath.root('spec').child('taints')));
  for (const field of ['capacity', 'allocatable'] as const) {
    for (const [name, value] of Object.entries(node.status?.[field] ?? {})) {
      errs.push(...validateResourceQuantityValue(name, value, FieldPath.root('status').child(field).key(name)));
    }
  }
  const cidrs = spec.podCIDRs ?? [];
  const cidrPath = FieldPath.root('spec').child('podCIDRs');
  cidrs.forEach((c, i) => errs.push(...validateCIDR(c, cidrPath.index(i))));
  if (cidrs.length > 1) {
    const fams = new Set(cidrs.map((c) => ipFamilyOf(c.split('/')[0] ?? '')));
    if (cidrs.length > 2 || fams.size !== 2) errs.push(invalid(cidrPath, cidrs, 'may specify no more than one CIDR for each IP family'));
  }
  return errs;
}

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateNode(node: Node): FieldError[] {
  return [
    ...validateObjectMeta(node.metadata, { namespaced: false }),
    ...validateKubeFinalizerNames(node.metadata.finalizers, finalizersPath),
    ...validateNodeBody(node),
  ];
}

export function validateNodeUpdate(node: Node, old: Node): FieldError[] {
  const errs: FieldError[] = [
    ...validateObjectMetaUpdate(node.metadata, old.metadata),
    ...validateKubeFinalizerNames(node.metadata.finalizers, finalizersPath),
    ...validateNodeBody(node),
  ];
  const seen = new Set<string>();
  (node.status?.addresses ?? []).forEach((a, i) => {
    const id = `${a.type}\u0000${a.address}`;
    if (seen.has(id)) errs.push(duplicate(FieldPath.root('status').child('addresses').index(i), a));
    seen.add(id);
  });
  const spec = node.spec ?? {};
  const oldSpec = old.spec ?? {};
  const oldCIDRs = oldSpec.podCIDRs ?? [];
  if (oldCIDRs.length > 0 && !semanticEqual(oldCIDRs, spec.podCIDRs ?? [])) {
    errs.push(forbidden(FieldPath.root('spec').child('podCIDRs'), 'node updates may not change podCIDR except from "" to valid'));
  }
  if (oldSpec.providerID && oldSpec.providerID !== spec.providerID) {
    errs.push(forbidden(FieldPath.root('spec').child('providerID'), 'node updates may not change providerID except from "" to valid'));
  }
  // what is left after taking out the fields that may change must be as it was
  const rest = (s: NodeSpec): unknown => {
    const { taints: _t, unschedulable: _u, podCIDR: _c, podCIDRs: _cs, providerID: _p, configSource: _s, ...others } = s;
    return others;
  };
  if (!semanticEqual(rest(spec), rest(oldSpec))) {
    errs.push(forbidden(FieldPath.root(''), 'node updates may only change labels, taints, or capacity (or configSource, if the DynamicKubeletConfig feature gate is enabled)'));
  }
  return errs;
}

export const nodeKind: KindDefinition<Node> = {
  group: '',
  version: 'v1',
  kind: 'Node',
  plural: 'nodes',
  singular: 'node',
  namespaced: false,
  shortNames: ['no'],
  categories: [],
  schema: nodeSchema,
  hasStatusSubresource: true,
  default: defaultNode,
  validate: validateNode,
  validateUpdate: validateNodeUpdate,
  selectableFields: (n) => ({ 'spec.unschedulable': String(n.spec?.unschedulable ?? false) }),
};
