/**
 * core/v1 Service: the KindDefinition (shortName `svc`, category `all`, status subresource).
 * Types and schema are in service-types.ts, defaults and update preparation in service-defaults.ts,
 * validation in service-validate.ts.
 *
 * The apiserver should run `prepareServiceUpdate(new, old)` before validating an update, as upstream's
 * service storage does: it keeps the cluster IP and node ports a client left out and releases them when
 * the type changes to one that does not use them (ClusterIP -> ExternalName).
 */
import type { KindDefinition } from '../kind.js';
import { defaultService, defaultServiceSpec, prepareServiceUpdate } from './service-defaults.js';
import type { Service } from './service-types.js';
import { serviceSchema } from './service-types.js';
import { validateService, validateServiceSpec, validateServiceUpdate } from './service-validate.js';

export type * from './service-types.js';
export {
  isExternallyAccessible,
  isHeadlessService,
  serviceSchema,
  serviceSpecSchema,
  DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
} from './service-types.js';
export { defaultService, defaultServiceSpec, prepareServiceUpdate, validateService, validateServiceSpec, validateServiceUpdate };

export const serviceKind: KindDefinition<Service> = {
  group: '',
  version: 'v1',
  kind: 'Service',
  plural: 'services',
  singular: 'service',
  namespaced: true,
  shortNames: ['svc'],
  categories: ['all'],
  schema: serviceSchema,
  hasStatusSubresource: true,
  default: defaultService,
  validate: validateService,
  validateUpdate: validateServiceUpdate,
};
