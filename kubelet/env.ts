/**
 * A container's environment, with upstream's order and semantics (kubelet makeEnvironmentVariables):
 *   1. Service variables (service-env.ts), kept only where the container does not define the name;
 *   2. `envFrom` ConfigMaps/Secrets in order, with their prefix; keys that are not valid variable
 *      names are skipped and reported (upstream's InvalidEnvironmentVariableNames event);
 *   3. `env` in order: `value` with `$(VAR)` expanded against what came before (envFrom, earlier env,
 *      then Service variables; `$$` escapes, unknown references stay as written), or `valueFrom`
 *      fieldRef / resourceFieldRef / configMapKeyRef / secretKeyRef.
 * A later definition of a name replaces an earlier one and takes its place in the order.
 * A missing ConfigMap, Secret or key that is not `optional` is a ContainerConfigError carrying
 * upstream's message (`configmap "x" not found`, `couldn't find key k in ConfigMap ns/x`).
 *
 * `computeContainerEnv` is pure over pre-fetched objects; `PodEnvResolver` fetches what the container
 * refers to through an ObjectLookup (informer caches in the agent) and calls it.
 * Cost model: one lookup per distinct ConfigMap/Secret plus one or two Service lists per container start.
 */
import type { ResourceList } from '../api/core/common.js';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Container, Pod } from '../api/core/pod.js';
import type { Secret } from '../api/core/secret.js';
import type { Service } from '../api/core/service.js';
import { isEnvVarName } from '../api/names.js';
import { DownwardAPIError, extractFieldPath, extractResourceFieldRef } from './downward-api.js';
import type { DownwardFacts } from './downward-api.js';
import { ContainerConfigError } from './errors.js';
import { buildServiceEnv } from './service-env.js';
import type { EnvResolver, EnvVar, ObjectLookup, PodRuntimeFacts } from './types.js';

// ---- $(VAR) expansion (upstream third_party/forked/golang/expansion) ---------------------------

/**
 * Replaces `$(NAME)` with `lookup(NAME)`; `$$` yields `$`; a reference `lookup` does not know, an
 * unterminated `$(` and a `$` before anything else are kept as written.
 */
export function expandVars(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < input.length) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      i++;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 2;
      } else {
        const name = input.slice(i + 2, close);
        out += lookup(name) ?? `$(${name})`;
        i = close + 1;
      }
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

/** Upstream ExpandContainerVolumeMounts: every referenced variable must exist and be non-empty. */
export function expandSubPathExpr(expr: string, env: readonly EnvVar[]): string {
  const values = new Map(env.map((e) => [e.name, e.value]));
  const missing = new Set<string>();
  const expanded = expandVars(expr, (name) => {
    const v = values.get(name);
    if (v === undefined || v === '') missing.add(name);
    return v ?? '';
  });
  if (missing.size > 0) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
  return expanded;
}

// ---- pure computation -------------------------------------------------------------------------

/** The objects a container's env refers to; `undefined` means looked up and not found. */
export interface EnvObjects {
  readonly configMaps: ReadonlyMap<string, ConfigMap | undefined>;
  readonly secrets: ReadonlyMap<string, Secret | undefined>;
  /** Services of the pod's namespace and of the master namespace. */
  readonly services: readonly Service[];
}

export interface EnvWarning {
  readonly reason: 'InvalidEnvironmentVariableNames';
  readonly message: string;
}

export interface ContainerEnvInput {
  readonly pod: Pod;
  readonly container: Container;
  readonly facts: DownwardFacts;
  readonly objects: EnvObjects;
  readonly enableServiceLinks: boolean;
  readonly masterServiceNamespace: string;
  /** Limits for resourceFieldRef when the container sets none (upstream: node allocatable). */
  readonly nodeAllocatable?: ResourceList;
}

export interface ContainerEnv {
  readonly env: readonly EnvVar[];
  readonly warnings: readonly EnvWarning[];
}

/** Names of the ConfigMaps and Secrets a container's env and envFrom refer to. */
export function envReferences(container: Container): { configMaps: string[]; secrets: string[] } {
  const cms = new Set<string>();
  const secrets = new Set<string>();
  for (const from of container.envFrom ?? []) {
    if (from.configMapRef) cms.add(from.configMapRef.name ?? '');
    else if (from.secretRef) secrets.add(from.secretRef.name ?? '');
  }
  for (const e of container.env ?? []) {
    if (e.value) continue;
    if (e.valueFrom?.configMapKeyRef) cms.add(e.valueFrom.configMapKeyRef.name ?? '');
    if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name ?? '');
  }
  return { configMaps: [...cms], secrets: [...secrets] };
}

const decodeSecretValue = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/** A later definition replaces an earlier one and moves to the end, so the order is the declared one. */
function define(env: Map<string, string>, name: string, value: string): void {
  env.delete(name);
  env.set(name, value);
}

/** The container's environment; throws ContainerConfigError for what a user must fix. */
export function computeContainerEnv(input: ContainerEnvInput): ContainerEnv {
  const { pod, container, objects } = input;
  const ns = pod.metadata.namespace ?? '';
  const serviceEnv = buildServiceEnv(objects.services, {
    podNamespace: ns,
    enableServiceLinks: input.enableServiceLinks,
    masterServiceNamespace: input.masterServiceNamespace,
  });
  const warnings: EnvWarning[] = [];
  const defined = new Map<string, string>();

  const configMap = (name: string, optional: boolean): ConfigMap | undefined => {
    const cm = objects.configMaps.get(name);
    if (cm === undefined && !optional) throw new ContainerConfigError(`configmap ${JSON.stringify(name)} not found`);
    return cm;
  };
  const secret = (name: string, optional: boolean): Secret | undefined => {
    const s = objects.secrets.get(name);
    if (s === undefined && !optional) throw new ContainerConfigError(`secret ${JSON.stringify(name)} not found`);
    return s;
  };

  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    let entries: [string, string][];
    let kind: 'configMap' | 'secret';
    let name: string;
    if (from.configMapRef) {
      kind = 'configMap';
      name = from.configMapRef.name ?? '';
      const cm = configMap(name, from.configMapRef.optional === true);
      if (cm === undefined) continue;
      entries = Object.entries(cm.data ?? {});
    } else if (from.secretRef) {
      kind = 'secret';
      name = from.secretRef.name ?? '';
      const s = secret(name, from.secretRef.optional === true);
      if (s === undefined) continue;
      entries = Object.entries(s.data ?? {}).map(([k, v]) => [k, decodeSecretValue(v)]);
    } else {
      continue;
    }
    const invalid: string[] = [];
    for (const [key, value] of entries) {
      const varName = prefix + key;
      if (isEnvVarName(varName).length > 0) invalid.push(varName);
      else define(defined, varName, value);
    }
    if (invalid.length > 0) {
      warnings.push({
        reason: 'InvalidEnvironmentVariableNames',
        message: `Keys [${invalid.sort().join(', ')}] from the EnvFrom ${kind} ${ns}/${name} were skipped since they are considered invalid environment variable names.`,
      });
    }
  }

  const lookupVar = (name: string): string | undefined => defined.get(name) ?? serviceEnv.get(name);
  for (const e of container.env ?? []) {
    const value = resolveEnvVar(e, input, lookupVar, configMap, secret);
    if (value !== undefined) define(defined, e.name, value);
  }

  const env: EnvVar[] = [];
  for (const [name, value] of serviceEnv) if (!defined.has(name)) env.push({ name, value });
  for (const [name, value] of defined) env.push({ name, value });
  return { env, warnings };
}

/** One `env` entry's value, or undefined when an optional source is missing (the variable is not set). */
function resolveEnvVar(
  e: NonNullable<Container['env']>[number],
  input: ContainerEnvInput,
  lookupVar: (name: string) => string | undefined,
  configMap: (name: string, optional: boolean) => ConfigMap | undefined,
  secret: (name: string, optional: boolean) => Secret | undefined,
): string | undefined {
  const ns = input.pod.metadata.namespace ?? '';
  if (e.value) return expandVars(e.value, lookupVar);
  const from = e.valueFrom;
  if (from === undefined) return '';
  try {
    if (from.fieldRef) return extractFieldPath(input.pod, from.fieldRef, input.facts);
    if (from.resourceFieldRef) return extractResourceFieldRef(input.pod, from.resourceFieldRef, input.container, input.nodeAllocatable);
  } catch (err) {
    if (err instanceof DownwardAPIError) throw new ContainerConfigError(err.message, { cause: err });
    throw err;
  }
  if (from.configMapKeyRef) {
    const ref = from.configMapKeyRef;
    const name = ref.name ?? '';
    const optional = ref.optional === true;
    const cm = configMap(name, optional);
    if (cm === undefined) return undefined;
    const v = cm.data?.[ref.key];
    if (v !== undefined) return v;
    if (optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${name}`);
  }
  if (from.secretKeyRef) {
    const ref = from.secretKeyRef;
    const name = ref.name ?? '';
    const optional = ref.optional === true;
    const s = secret(name, optional);
    if (s === undefined) return undefined;
    const v = s.data?.[ref.key];
    if (v !== undefined) return decodeSecretValue(v);
    if (optional) return undefined;
    throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${name}`);
  }
  return '';
}

// ---- the resolver (effects: lookups) ----------------------------------------------------------

export interface PodEnvResolverOptions {
  /** Used when the pod spec leaves `enableServiceLinks` unset (the API defaults it to true). */
  readonly enableServiceLinks?: boolean;
  /** Namespace of the `kubernetes` Service; `default`. */
  readonly masterServiceNamespace?: string;
  /** Node allocatable, the limit resourceFieldRef reports for a container without one. */
  readonly nodeAllocatable?: ResourceList;
  /** Receives skipped envFrom keys, for a Warning event on the pod. */
  readonly onWarning?: (pod: Pod, warning: EnvWarning) => void;
}

export class PodEnvResolver implements EnvResolver {
  private readonly masterNamespace: string;
  constructor(
    private readonly lookup: ObjectLookup,
    private readonly options: PodEnvResolverOptions = {},
  ) {
    this.masterNamespace = options.masterServiceNamespace ?? 'default';
  }

  async resolve(pod: Pod, container: Container, facts: PodRuntimeFacts): Promise<readonly EnvVar[]> {
    const ns = pod.metadata.namespace ?? '';
    const enableServiceLinks = pod.spec.enableServiceLinks ?? this.options.enableServiceLinks ?? true;
    const refs = envReferences(container);
    const objects = await guardLookup(async () => {
      const [configMaps, secrets, services] = await Promise.all([
        fetchAll(refs.configMaps, (n) => this.lookup.getConfigMap(ns, n)),
        fetchAll(refs.secrets, (n) => this.lookup.getSecret(ns, n)),
        this.services(ns, enableServiceLinks),
      ]);
      return { configMaps, secrets, services };
    });
    const result = computeContainerEnv({
      pod,
      container,
      facts,
      objects,
      enableServiceLinks,
      masterServiceNamespace: this.masterNamespace,
      ...(this.options.nodeAllocatable !== undefined ? { nodeAllocatable: this.options.nodeAllocatable } : {}),
    });
    for (const w of result.warnings) this.options.onWarning?.(pod, w);
    return result.env;
  }

  private async services(ns: string, enableServiceLinks: boolean): Promise<readonly Service[]> {
    const master = await this.lookup.listServices(this.masterNamespace);
    if (!enableServiceLinks || ns === this.masterNamespace) return master;
    return [...master, ...(await this.lookup.listServices(ns))];
  }
}

async function fetchAll<T>(names: readonly string[], get: (name: string) => Promise<T | undefined>): Promise<Map<string, T | undefined>> {
  const entries = await Promise.all(names.map(async (n) => [n, await get(n)] as const));
  return new Map(entries);
}

/** A failed lookup (apiserver unreachable) keeps the container from starting, as upstream does. */
async function guardLookup<T>(f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    if (err instanceof ContainerConfigError) throw err;
    throw new ContainerConfigError(err instanceof Error ? err.message : String(err), { cause: err });
  }
}
