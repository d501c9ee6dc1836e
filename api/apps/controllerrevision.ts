/**
 * apps/v1 ControllerRevision: an immutable snapshot of a controller's template, as the DaemonSet
 * controller keeps its history (`kubectl rollout history|undo daemonset`). `data` is what the owner
 * can be patched with to get that template back (a strategic merge patch `{"spec":{"template":
 * {..., "$patch":"replace"}}}` for DaemonSets); `revision` orders them. Validation as upstream
 * (pkg/apis/apps/validation): revision >= 0, data required and immutable.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import type { ObjectSchema } from '../schema.js';
import { anyValue, int, obj } from '../schema.js';
import { validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { validateImmutable } from './common.js';

export interface ControllerRevision extends KubeObject {
  readonly metadata: ObjectMeta;
  readonly data?: unknown;
  readonly revision: number;
}

export const controllerRevisionSchema: ObjectSchema = obj(
  {
    ...typeMetaFields,
    metadata: objectMetaSchema,
    data: anyValue('The serialized representation of the state.'),
    revision: int('The revision of the state represented by data.'),
  },
  { required: ['revision'] },
);

function validateBody(r: ControllerRevision): FieldError[] {
  const errs: FieldError[] = [];
  if (r.data === undefined || r.data === null) errs.push(required(FieldPath.root('data'), 'data is mandatory'));
  if (!Number.isInteger(r.revision) || r.revision < 0) errs.push(invalid(FieldPath.root('revision'), r.revision, 'must be greater than or equal to 0'));
  return errs;
}

export function validateControllerRevision(r: ControllerRevision): FieldError[] {
  return [...validateObjectMeta(r.metadata, { namespaced: true }, FieldPath.root('metadata')), ...validateBody(r)];
}

export function validateControllerRevisionUpdate(r: ControllerRevision, old: ControllerRevision): FieldError[] {
  return [...validateObjectMetaUpdate(r.metadata, old.metadata, FieldPath.root('metadata')), ...validateBody(r), ...validateImmutable(r.data, old.data, FieldPath.root('data'))];
}

export const controllerRevisionKind: KindDefinition<ControllerRevision> = {
  group: 'apps',
  version: 'v1',
  kind: 'ControllerRevision',
  plural: 'controllerrevisions',
  singular: 'controllerrevision',
  namespaced: true,
  shortNames: [],
  categories: [],
  schema: controllerRevisionSchema,
  hasStatusSubresource: false,
  default: (r) => r,
  validate: validateControllerRevision,
  validateUpdate: validateControllerRevisionUpdate,
};
