/**
 * core/v1 Secret: base64 `data`, write-only `stringData` (merged into data by defaulting, as upstream's
 * conversion does, and never stored), `type` (Opaque by default; the well-known types require their
 * keys), 1 MiB in total, `immutable` freezing data for good, and `type` immutable always.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, invalid, required } from '../field-errors.js';
import type { KindDefinition } from '../kind.js';
import type { KubeObject, ObjectMeta } from '../meta.js';
import { objectMetaSchema, typeMetaFields } from '../meta-schema.js';
import { bool, mapOf, obj, str } from '../schema.js';
import type { ObjectSchema } from '../schema.js';
import { validateImmutableField, validateKubeFinalizerNames, validateObjectMeta, validateObjectMetaUpdate } from '../validate-meta.js';
import { base64Error, decodeBase64, encodeBase64, MAX_CONFIG_SIZE_BYTES, tooLong, validateDataMap, validateImmutableData } from './config-data.js';

export interface Secret extends KubeObject {
  readonly apiVersion?: 'v1';
  readonly kind?: 'Secret';
  readonly metadata: ObjectMeta;
  /** Values are base64 in JSON. */
  readonly data?: Readonly<Record<string, string>>;
  readonly stringData?: Readonly<Record<string, string>>;
  readonly type?: string;
  readonly immutable?: boolean;
}

export const SERVICE_ACCOUNT_NAME_ANNOTATION = 'kubernetes.io/service-account.name';

export const secretSchema: ObjectSchema = obj({
  ...typeMetaFields,
  metadata: objectMetaSchema,
  data: mapOf({ type: 'bytes' }, 'Secret data, base64 encoded.'),
  stringData: mapOf(str(), 'Write-only convenience: merged into data on write.'),
  type: str('Used to facilitate programmatic handling of secret data.'),
  immutable: bool('If true, data can no longer be changed.'),
});

/** Opaque type; stringData folded into data (it wins on conflicts) and dropped. */
export function defaultSecret(s: Secret): Secret {
  const { stringData, ...rest } = s;
  const out: Secret = { ...rest, type: s.type || 'Opaque' };
  if (stringData === undefined) return out;
  const data: Record<string, string> = { ...(s.data ?? {}) };
  for (const [k, v] of Object.entries(stringData)) data[k] = encodeBase64(String(v));
  return { ...out, data };
}

function requireKeys(s: Secret, keys: readonly string[], dataPath: FieldPath): FieldError[] {
  return keys.filter((k) => s.data?.[k] === undefined).map((k) => required(dataPath.key(k)));
}

function validateJSONKey(s: Secret, key: string, dataPath: FieldPath): FieldError[] {
  const v = s.data?.[key];
  if (v === undefined) return [required(dataPath.key(key))];
  if (base64Error(v) !== undefined) return [];
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(decodeBase64(v)));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('expected a JSON object');
    return [];
  } catch (err) {
    return [invalid(dataPath.key(key), '<secret contents redacted>', err instanceof Error ? err.message : String(err))];
  }
}

function validateSecretBody(s: Secret): FieldError[] {
  const errs: FieldError[] = [];
  const dataPath = FieldPath.root('data');
  const total = validateDataMap(s.data, 'base64', dataPath, errs);
  if (total > MAX_CONFIG_SIZE_BYTES) errs.push(tooLong(dataPath, MAX_CONFIG_SIZE_BYTES));
  switch (s.type ?? '') {
    case 'kubernetes.io/service-account-token':
      // the token and uid are filled in later by the token controller
      if (!s.metadata.annotations?.[SERVICE_ACCOUNT_NAME_ANNOTATION]) {
        errs.push(required(FieldPath.root('metadata').child('annotations').key(SERVICE_ACCOUNT_NAME_ANNOTATION)));
      }
      break;
    case 'kubernetes.io/dockercfg':
      errs.push(...validateJSONKey(s, '.dockercfg', dataPath));
      break;
    case 'kubernetes.io/dockerconfigjson':
      errs.push(...validateJSONKey(s, '.dockerconfigjson', dataPath));
      break;
    case 'kubernetes.io/basic-auth':
      if (s.data?.['username'] === undefined && s.data?.['password'] === undefined) {
        errs.push(...requireKeys(s, ['username', 'password'], dataPath));
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!s.data?.['ssh-privatekey']) errs.push(required(dataPath.key('ssh-privatekey')));
      break;
    case 'kubernetes.io/tls':
      errs.push(...requireKeys(s, ['tls.crt', 'tls.key'], dataPath));
      break;
    default:
      break;
  }
  return errs;
}

const finalizersPath = FieldPath.root('metadata').child('finalizers');

export function validateSecret(s: Secret): FieldError[] {
  return [
    ...validateObjectMeta(s.metadata, { namespaced: true }),
    ...validateKubeFinalizerNames(s.metadata.finalizers, finalizersPath),
    ...validateSecretBody(s),
  ];
}

export function validateSecretUpdate(s: Secret, old: Secret): FieldError[] {
  return [
    ...validateObjectMetaUpdate(s.metadata, old.metadata),
    ...validateKubeFinalizerNames(s.metadata.finalizers, finalizersPath),
    ...validateImmutableField(s.type ?? '', old.type ?? '', FieldPath.root('type')),
    ...validateImmutableData(s, old, ['data'], FieldPath.root),
    ...validateSecretBody(s),
  ];
}

export const secretKind: KindDefinition<Secret> = {
  group: '',
  version: 'v1',
  kind: 'Secret',
  plural: 'secrets',
  singular: 'secret',
  namespaced: true,
  shortNames: [],
  categories: [],
  schema: secretSchema,
  hasStatusSubresource: false,
  default: defaultSecret,
  validate: validateSecret,
  validateUpdate: validateSecretUpdate,
  selectableFields: (s) => ({ type: s.type ?? '' }),
};
