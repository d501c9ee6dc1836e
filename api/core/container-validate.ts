/**
 * Validation of containers, init containers and ephemeral containers (upstream validateContainers,
 * validateInitContainers, validateEphemeralContainers, validateContainerCommon): DNS-label names unique
 * across the pod, image required, ports, env, mounts, pull and termination-message policies, resources,
 * probes and hooks (only sidecar init containers may have them), security context, host port clashes.
 */
import type { FieldError, FieldPath } from '../field-errors.js';
import { duplicate, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { inclusiveRangeError, isDNS1123Label, isValidPortName } from '../names.js';
import { validateEnum, validatePortNum, validateProtocol } from './common.js';
import type { Container, ContainerPort, EphemeralContainer, SeccompProfile, SecurityContext } from './container-types.js';
import { validateEnv, validateEnvFrom } from './env-validate.js';
import { validateLifecycle, validateProbe } from './probe-validate.js';
import { validateResourceRequirements } from './resources.js';
import { validateVolumeMounts } from './volume-validate.js';

export interface ContainerContext {
  /** Names of the pod's valid volumes. */
  readonly volumes: ReadonlySet<string>;
  readonly gracePeriod: number | undefined;
}

const MAX_ID = 0xffffffff;

export function validateContainerPorts(ports: readonly ContainerPort[] | undefined, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  (ports ?? []).forEach((port, i) => {
    const p = path.index(i);
    if (port.name) {
      const msgs = isValidPortName(port.name);
      if (msgs.length > 0) for (const msg of msgs) errs.push(invalid(p.child('name'), port.name, msg));
      else if (names.has(port.name)) errs.push(duplicate(p.child('name'), port.name));
      else names.add(port.name);
    }
    if (!port.containerPort) errs.push(required(p.child('containerPort')));
    else errs.push(...validatePortNum(port.containerPort, p.child('containerPort')));
    if (port.hostPort) errs.push(...validatePortNum(port.hostPort, p.child('hostPort')));
    errs.push(...validateProtocol(port.protocol, p.child('protocol')));
  });
  return errs;
}

function validateSeccompProfile(sp: SeccompProfile | undefined, path: FieldPath): FieldError[] {
  if (sp === undefined) return [];
  switch (sp.type) {
    case 'Localhost':
      return sp.localhostProfile ? [] : [required(path.child('localhostProfile'), 'must be set when seccomp type is Localhost')];
    case 'RuntimeDefault':
    case 'Unconfined':
      return sp.localhostProfile !== undefined
        ? [invalid(path.child('localhostProfile'), sp.localhostProfile, 'can only be set when seccomp type is Localhost')]
        : [];
    default:
      return [notSupported(path.child('type'), sp.type, ['Localhost', 'RuntimeDefault', 'Unconfined'])];
  }
}

/** The id and profile checks shared by container and pod security contexts. */
export function validateIdsAndProfiles(
  sc: { readonly runAsUser?: number; readonly runAsGroup?: number; readonly seccompProfile?: SeccompProfile },
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  for (const f of ['runAsUser', 'runAsGroup'] as const) {
    const v = sc[f];
    if (v !== undefined && (v < 0 || v > MAX_ID)) errs.push(invalid(path.child(f), v, inclusiveRangeError(0, MAX_ID)));
  }
  errs.push(...validateSeccompProfile(sc.seccompProfile, path.child('seccompProfile')));
  return errs;
}

export function validateSecurityContext(sc: SecurityContext | undefined, path: FieldPath): FieldError[] {
  if (sc === undefined) return [];
  const errs = validateIdsAndProfiles(sc, path);
  if (sc.procMount !== undefined && sc.procMount !== 'Default' && sc.procMount !== 'Unmasked') {
    errs.push(notSupported(path.child('procMount'), sc.procMount, ['Default', 'Unmasked']));
  }
  if (sc.allowPrivilegeEscalation === false) {
    if (sc.privileged === true) errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `privileged` to true'));
    if ((sc.capabilities?.add ?? []).includes('CAP_SYS_ADMIN')) {
      errs.push(invalid(path, sc, 'cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN'));
    }
  }
  return errs;
}

function validateContainerCommon(c: Container, ctx: ContainerContext, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  if (!c.name) errs.push(required(path.child('name')));
  else for (const msg of isDNS1123Label(c.name)) errs.push(invalid(path.child('name'), c.name, msg));
  if (!c.image) errs.push(required(path.child('image')));
  errs.push(...validateEnum(c.terminationMessagePolicy, ['File', 'FallbackToLogsOnError'], path.child('terminationMessagePolicy')));
  errs.push(...validateContainerPorts(c.ports, path.child('ports')));
  errs.push(...validateEnv(c.env, path.child('env')));
  errs.push(...validateEnvFrom(c.envFrom, path.child('envFrom')));
  errs.push(...validateVolumeMounts(c.volumeMounts, ctx.volumes, path.child('volumeMounts')));
  errs.push(...validateEnum(c.imagePullPolicy, ['Always', 'IfNotPresent', 'Never'], path.child('imagePullPolicy')));
  errs.push(...validateResourceRequirements(c.resources, path.child('resources')));
  errs.push(...validateSecurityContext(c.securityContext, path.child('securityContext')));
  return errs;
}

/** hostIP/protocol/hostPort triples must be unique among containers that run at the same time. */
function hostPortConflicts(containers: readonly Container[], path: FieldPath, seen = new Set<string>()): FieldError[] {
  const errs: FieldError[] = [];
  containers.forEach((c, ci) => {
    (c.ports ?? []).forEach((port, pi) => {
      if (!port.hostPort) return;
      const id = `${port.hostIP ?? ''}/${port.protocol ?? ''}/${port.hostPort}`;
      if (seen.has(id)) errs.push(duplicate(path.index(ci).child('ports').index(pi).child('hostPort'), id));
      else seen.add(id);
    });
  });
  return errs;
}

export function validateContainers(containers: readonly Container[] | undefined, ctx: ContainerContext, path: FieldPath): FieldError[] {
  if (!containers || containers.length === 0) return [required(path)];
  const errs: FieldError[] = [];
  const names = new Set<string>();
  containers.forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else names.add(c.name);
    errs.push(...validateLifecycle(c.lifecycle, ctx.gracePeriod, p.child('lifecycle')));
    errs.push(...validateProbe(c.livenessProbe, 'liveness', ctx.gracePeriod, p.child('livenessProbe')));
    errs.push(...validateProbe(c.readinessProbe, 'readiness', ctx.gracePeriod, p.child('readinessProbe')));
    errs.push(...validateProbe(c.startupProbe, 'startup', ctx.gracePeriod, p.child('startupProbe')));
    if (c.restartPolicy !== undefined) errs.push(forbidden(p.child('restartPolicy'), 'may not be set for non-init containers'));
  });
  errs.push(...hostPortConflicts(containers, path));
  return errs;
}

export function validateInitContainers(
  inits: readonly Container[] | undefined,
  regular: readonly Container[] | undefined,
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set((regular ?? []).map((c) => c.name));
  (inits ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') {
      errs.push(notSupported(p.child('restartPolicy'), c.restartPolicy, ['Always']));
    }
    if (names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else if (c.name) names.add(c.name);
    // init containers run one at a time, so each is checked on its own
    errs.push(...hostPortConflicts([c], path));
    if (c.restartPolicy === 'Always') {
      errs.push(...validateLifecycle(c.lifecycle, ctx.gracePeriod, p.child('lifecycle')));
      errs.push(...validateProbe(c.livenessProbe, 'liveness', ctx.gracePeriod, p.child('livenessProbe')));
      errs.push(...validateProbe(c.readinessProbe, 'readiness', ctx.gracePeriod, p.child('readinessProbe')));
      errs.push(...validateProbe(c.startupProbe, 'startup', ctx.gracePeriod, p.child('startupProbe')));
    } else {
      const msg = 'may not be set for init containers without restartPolicy=Always';
      if (c.lifecycle) errs.push(forbidden(p.child('lifecycle'), msg));
      if (c.livenessProbe) errs.push(forbidden(p.child('livenessProbe'), msg));
      if (c.readinessProbe) errs.push(forbidden(p.child('readinessProbe'), 'may not be set for init containers'));
      if (c.startupProbe) errs.push(forbidden(p.child('startupProbe'), msg));
    }
  });
  return errs;
}

export function validateEphemeralContainers(
  ephemeral: readonly EphemeralContainer[] | undefined,
  others: readonly Container[],
  ctx: ContainerContext,
  path: FieldPath,
): FieldError[] {
  const errs: FieldError[] = [];
  const otherNames = new Set(others.map((c) => c.name));
  const names = new Set<string>();
  (ephemeral ?? []).forEach((c, i) => {
    const p = path.index(i);
    errs.push(...validateContainerCommon(c, ctx, p));
    if (otherNames.has(c.name) || names.has(c.name)) errs.push(duplicate(p.child('name'), c.name));
    else names.add(c.name);
    if (c.targetContainerName && !otherNames.has(c.targetContainerName)) {
      errs.push(invalid(p.child('targetContainerName'), c.targetContainerName, 'not found'));
    }
    const msg = 'cannot be set for an Ephemeral Container';
    for (const f of ['lifecycle', 'livenessProbe', 'readinessProbe', 'startupProbe', 'restartPolicy'] as const) {
      if (c[f] !== undefined) errs.push(forbidden(p.child(f), msg));
    }
    if ((c.ports ?? []).length > 0) errs.push(forbidden(p.child('ports'), msg));
    if ((c.resizePolicy ?? []).length > 0) errs.push(forbidden(p.child('resizePolicy'), msg));
    const r = c.resources;
    if (r && (Object.keys(r.limits ?? {}).length > 0 || Object.keys(r.requests ?? {}).length > 0)) {
      errs.push(forbidden(p.child('resources'), msg));
    }
  });
  return errs;
}
