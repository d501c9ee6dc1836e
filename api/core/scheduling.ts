/**
 * Scheduling constraints of core/v1: node and pod (anti-)affinity, taints and tolerations, topology
 * spread constraints. Types and schemas here, validation in scheduling-validate.ts; the scheduler reads
 * the same shapes.
 */
import type { LabelSelector } from '../meta.js';
import { labelSelectorSchema } from '../meta-schema.js';
import { arrayOf, int, listByKey, obj, str, time } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { enumOf } from './container-schema.js';

export type NodeSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Gt' | 'Lt';
export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
export const TAINT_EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

export interface NodeSelectorRequirement {
  readonly key: string;
  readonly operator: NodeSelectorOperator;
  readonly values?: readonly string[];
}

export interface NodeSelectorTerm {
  readonly matchExpressions?: readonly NodeSelectorRequirement[];
  readonly matchFields?: readonly NodeSelectorRequirement[];
}

export interface NodeSelector {
  readonly nodeSelectorTerms: readonly NodeSelectorTerm[];
}

export interface PreferredSchedulingTerm {
  readonly weight: number;
  readonly preference: NodeSelectorTerm;
}

export interface NodeAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: NodeSelector;
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly PreferredSchedulingTerm[];
}

export interface PodAffinityTerm {
  readonly labelSelector?: LabelSelector;
  readonly namespaces?: readonly string[];
  readonly topologyKey: string;
  readonly namespaceSelector?: LabelSelector;
  readonly matchLabelKeys?: readonly string[];
  readonly mismatchLabelKeys?: readonly string[];
}

export interface WeightedPodAffinityTerm {
  readonly weight: number;
  readonly podAffinityTerm: PodAffinityTerm;
}

export interface PodAffinity {
  readonly requiredDuringSchedulingIgnoredDuringExecution?: readonly PodAffinityTerm[];
  readonly preferredDuringSchedulingIgnoredDuringExecution?: readonly WeightedPodAffinityTerm[];
}

export interface Affinity {
  readonly nodeAffinity?: NodeAffinity;
  readonly podAffinity?: PodAffinity;
  readonly podAntiAffinity?: PodAffinity;
}

export interface Toleration {
  readonly key?: string;
  readonly operator?: 'Exists' | 'Equal';
  readonly value?: string;
  readonly effect?: TaintEffect;
  readonly tolerationSeconds?: number;
}

export interface Taint {
  readonly key: string;
  readonly value?: string;
  readonly effect: TaintEffect;
  readonly timeAdded?: string;
}

export interface TopologySpreadConstraint {
  readonly maxSkew: number;
  readonly topologyKey: string;
  readonly whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  readonly labelSelector?: LabelSelector;
  readonly minDomains?: number;
  readonly nodeAffinityPolicy?: 'Honor' | 'Ignore';
  readonly nodeTaintsPolicy?: 'Honor' | 'Ignore';
  readonly matchLabelKeys?: readonly string[];
}

// ---- schema ----------------------------------------------------------------------------------

const nodeSelectorRequirementSchema: ObjectSchema = obj(
  { key: str(), operator: enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt']), values: arrayOf(str()) },
  { required: ['key', 'operator'] },
);

const nodeSelectorTermSchema: ObjectSchema = obj({
  matchExpressions: arrayOf(nodeSelectorRequirementSchema),
  matchFields: arrayOf(nodeSelectorRequirementSchema),
});

export const nodeSelectorSchema: ObjectSchema = obj(
  { nodeSelectorTerms: arrayOf(nodeSelectorTermSchema) },
  { required: ['nodeSelectorTerms'] },
);

const podAffinityTermSchema: ObjectSchema = obj(
  {
    labelSelector: labelSelectorSchema,
    namespaces: arrayOf(str()),
    topologyKey: str(),
    namespaceSelector: labelSelectorSchema,
    matchLabelKeys: arrayOf(str()),
    mismatchLabelKeys: arrayOf(str()),
  },
  { required: ['topologyKey'] },
);

const podAffinitySchema: ObjectSchema = obj({
  requiredDuringSchedulingIgnoredDuringExecution: arrayOf(podAffinityTermSchema),
  preferredDuringSchedulingIgnoredDuringExecution: arrayOf(
    obj({ weight: int(), podAffinityTerm: podAffinityTermSchema }, { required: ['weight', 'podAffinityTerm'] }),
  ),
});

export const affinitySchema: ObjectSchema = obj({
  nodeAffinity: obj({
    requiredDuringSchedulingIgnoredDuringExecution: nodeSelectorSchema,
    preferredDuringSchedulingIgnoredDuringExecution: arrayOf(
      obj({ weight: int(), preference: nodeSelectorTermSchema }, { required: ['weight', 'preference'] }),
    ),
  }),
  podAffinity: podAffinitySchema,
  podAntiAffinity: podAffinitySchema,
});

const effectSchema = enumOf(TAINT_EFFECTS);

export const tolerationSchema: ObjectSchema = obj({
  key: str(),
  operator: enumOf(['Exists', 'Equal']),
  value: str(),
  effect: effectSchema,
  tolerationSeconds: int(),
});

export const taintSchema: ObjectSchema = obj(
  { key: str(), value: str(), effect: effectSchema, timeAdded: time() },
  { required: ['key', 'effect'] },
);

export const topologySpreadConstraintSchema: ObjectSchema = obj(
  {
    maxSkew: int(),
    topologyKey: str(),
    whenUnsatisfiable: enumOf(['DoNotSchedule', 'ScheduleAnyway']),
    labelSelector: labelSelectorSchema,
    minDomains: int(),
    nodeAffinityPolicy: enumOf(['Honor', 'Ignore']),
    nodeTaintsPolicy: enumOf(['Honor', 'Ignore']),
    matchLabelKeys: arrayOf(str()),
  },
  { required: ['maxSkew', 'topologyKey', 'whenUnsatisfiable'] },
);

/** Upstream merges topology spread constraints by topologyKey. */
export const topologySpreadConstraintsSchema = listByKey(topologySpreadConstraintSchema, 'topologyKey');
