/**
 * Validation of PodSpec, PodTemplateSpec, PodStatus and Pod (upstream ValidatePodSpec,
 * ValidatePodTemplateSpec, ValidatePodCreate and the status checks), with upstream's paths and wording.
 * Update rules are in pod-update.ts.
 */
import type { FieldError } from '../field-errors.js';
import { FieldPath, forbidden, invalid, notSupported, required } from '../field-errors.js';
import { inclusiveRangeError, isDNS1123Label, isDNS1123Subdomain, validateAnnotations, validateLabels, validateQualifiedName } from '../names.js';
import { validateKubeFinalizerNames, validateObjectMeta } from '../validate-meta.js';
import { validateEnum, validateOptionalEnum } from './common.js';
import type { ContainerContext } from './container-validate.js';
import { validateContainers, validateEphemeralContainers, validateIdsAndProfiles, validateInitContainers } from './container-validate.js';
import { isDualStackPair, validateIP } from './ip.js';
import type { Pod, PodDNSConfig, PodSpec, PodStatus, PodTemplateSpec } from './pod-types.js';
import { DNS_POLICIES, POD_PHASES, RESTART_POLICIES } from './pod-types.js';
import { validateResourceQuantityValue } from './resources.js';
import { validateAffinity, validateTolerations, validateTopologySpreadConstraints } from './scheduling-validate.js';
import { validateVolumes } from './volume-validate.js';

const MAX_INT32 = 2 ** 31 - 1;
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_LIST_CHARS = 2048;

function validatePodDNSConfig(config: PodDNSConfig | undefined, policy: string | undefined, path: FieldPath): FieldError[] {
  if (policy === 'None') {
    if (config === undefined) return [required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if ((config.nameservers ?? []).length === 0) {
      return [required(path.child('nameservers'), 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
    }
  }
  if (config === undefined) return [];
  const errs: FieldError[] = [];
  const ns = config.nameservers ?? [];
  if (ns.length > MAX_DNS_NAMESERVERS) {
    errs.push(invalid(path.child('nameservers'), ns, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  }
  ns.forEach((ip, i) => errs.push(...validateIP(ip, path.child('nameservers').index(i))));
  const searches = config.searches ?? [];
  if (searches.length > MAX_DNS_SEARCH_PATHS) {
    errs.push(invalid(path.child('searches'), searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  }
  if (searches.join(' ').length > MAX_DNS_SEARCH_LIST_CHARS) {
    errs.push(
      invalid(path.child('searches'), searches, `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`),
    );
  }
  searches.forEach((s, i) => {
    const clean = s.endsWith('.') ? s.slice(0, -1) : s;
    for (const msg of isDNS1123Subdomain(clean)) errs.push(invalid(path.child('searches').index(i), clean, msg));
  });
  (config.options ?? []).forEach((o, i) => {
    if (!o.name) errs.push(required(path.child('options').index(i), 'must not be empty'));
  });
  return errs;
}

const nameErrors = (value: string | undefined, check: (v: string) => string[], path: FieldPath): FieldError[] =>
  value ? check(value).map((msg) => invalid(path, value, msg)) : [];

export function validatePodSpec(spec: PodSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [];
  const vols = validateVolumes(spec.volumes, path.child('volumes'));
  errs.push(...vols.errs);
  const ctx: ContainerContext = { volumes: vols.names, gracePeriod: spec.terminationGracePeriodSeconds };
  errs.push(...validateContainers(spec.containers, ctx, path.child('containers')));
  errs.push(...validateInitContainers(spec.initContainers, spec.containers, ctx, path.child('initContainers')));
  errs.push(
    ...validateEphemeralContainers(
      spec.ephemeralContainers,
      [...(spec.containers ?? []), ...(spec.initContainers ?? [])],
      ctx,
      path.child('ephemeralContainers'),
    ),
  );
  if (spec.hostNetwork) {
    // with the host's network, a container port is a host port: they must agree
    (spec.containers ?? []).forEach((c, i) => {
      (c.ports ?? []).forEach((port, j) => {
        if (port.hostPort && port.hostPort !== port.containerPort) {
          const pp = path.child('containers').index(i).child('ports').index(j).child('containerPort');
          errs.push(invalid(pp, port.containerPort, 'must match `hostPort` when `hostNetwork` is true'));
        }
      });
    });
  }
  errs.push(...validateEnum(spec.restartPolicy, RESTART_POLICIES, path.child('restartPolicy')));
  errs.push(...validateEnum(spec.dnsPolicy, DNS_POLICIES, path.child('dnsPolicy')));
  errs.push(...validateLabels(spec.nodeSelector, path.child('nodeSelector')));
  if (spec.securityContext) {
    errs.push(...validateIdsAndProfiles(spec.securityContext, path.child('securityContext')));
    const fsGroup = spec.securityContext.fsGroup;
    if (fsGroup !== undefined && (fsGroup < 0 || fsGroup > 0xffffffff)) {
      errs.push(invalid(path.child('securityContext').child('fsGroup'), fsGroup, inclusiveRangeError(0, 0xffffffff)));
    }
  }
  (spec.imagePullSecrets ?? []).forEach((ref, i) => {
    if (Object.keys(ref).some((k) => k !== 'name')) errs.push(invalid(path.child('imagePullSecrets').index(i), ref, 'only name may be set'));
  });
  errs.push(...validateAffinity(spec.affinity, path.child('affinity')));
  errs.push(...validatePodDNSConfig(spec.dnsConfig, spec.dnsPolicy, path.child('dnsConfig')));
  (spec.readinessGates ?? []).forEach((g, i) => {
    errs.push(...validateQualifiedName(g.conditionType ?? '', path.child('readinessGates').index(i).child('conditionType')));
  });
  (spec.schedulingGates ?? []).forEach((g, i) => {
    errs.push(...validateQualifiedName(g.name ?? '', path.child('schedulingGates').index(i).child('name')));
  });
  errs.push(...validateTopologySpreadConstraints(spec.topologySpreadConstraints, path.child('topologySpreadConstraints')));
  errs.push(...nameErrors(spec.serviceAccountName, isDNS1123Subdomain, path.child('serviceAccountName')));
  errs.push(...nameErrors(spec.nodeName, isDNS1123Subdomain, path.child('nodeName')));
  if (spec.activeDeadlineSeconds !== undefined) {
    const v = spec.activeDeadlineSeconds;
    if (v < 1 || v > MAX_INT32) errs.push(invalid(path.child('activeDeadlineSeconds'), v, inclusiveRangeError(1, MAX_INT32)));
  }
  errs.push(...nameErrors(spec.hostname, isDNS1123Label, path.child('hostname')));
  errs.push(...nameErrors(spec.subdomain, isDNS1123Label, path.child('subdomain')));
  errs.push(...validateTolerations(spec.tolerations, path.child('tolerations')));
  (spec.hostAliases ?? []).forEach((ha, i) => {
    const hp = path.child('hostAliases').index(i);
    errs.push(...validateIP(ha.ip, hp.child('ip')));
    (ha.hostnames ?? []).forEach((h, j) => {
      for (const msg of isDNS1123Subdomain(h)) errs.push(invalid(hp.child('hostnames').index(j), h, msg));
    });
  });
  errs.push(...nameErrors(spec.priorityClassName, isDNS1123Subdomain, path.child('priorityClassName')));
  errs.push(...nameErrors(spec.runtimeClassName, isDNS1123Subdomain, path.child('runtimeClassName')));
  errs.push(...validateOptionalEnum(spec.preemptionPolicy, ['Never', 'PreemptLowerPriority'], path.child('preemptionPolicy')));
  for (const [name, value] of Object.entries(spec.overhead ?? {})) {
    errs.push(...validateResourceQuantityValue(name, value, path.child('overhead').key(name)));
  }
  if (spec.os !== undefined) errs.push(...validateOptionalEnum(spec.os.name, ['linux', 'windows'], path.child('os').child('name')));
  return errs;
}

/**
 * A controller's pod template. Labels and annotations are reported at `<template>.labels`, exactly as
 * upstream's ValidatePodTemplateSpec does (it skips the `metadata` segment).
 */
export function validatePodTemplateSpec(t: PodTemplateSpec, path: FieldPath): FieldError[] {
  const errs: FieldError[] = [
    ...validateLabels(t.metadata?.labels, path.child('labels')),
    ...validateAnnotations(t.metadata?.annotations, path.child('annotations')),
    ...validatePodSpec(t.spec ?? ({} as PodSpec), path.child('spec')),
  ];
  if ((t.spec?.ephemeralContainers ?? []).length > 0) {
    errs.push(forbidden(path.child('spec').child('ephemeralContainers'), 'ephemeral containers not allowed in pod template'));
  }
  return errs;
}

const SYSTEM_POD_CONDITIONS: ReadonlySet<string> = new Set(['PodScheduled', 'Ready', 'Initialized']);

export function validatePodStatus(status: PodStatus | undefined, path: FieldPath): FieldError[] {
  if (status === undefined) return [];
  const errs = validateOptionalEnum(status.phase, POD_PHASES, path.child('phase'));
  (status.conditions ?? []).forEach((c, i) => {
    const cp = path.child('conditions').index(i);
    if (!SYSTEM_POD_CONDITIONS.has(c.type)) errs.push(...validateQualifiedName(c.type ?? '', cp.child('Type')));
    if (!['True', 'False', 'Unknown'].includes(c.status)) errs.push(notSupported(cp.child('status'), c.status, ['False', 'True', 'Unknown']));
  });
  for (const f of ['podIPs', 'hostIPs'] as const) {
    const ips = (status[f] ?? []).map((x) => x.ip);
    ips.forEach((ip, i) => errs.push(...validateIP(ip, path.child(f).index(i))));
    if (ips.length > 1 && !isDualStackPair(ips)) {
      errs.push(invalid(path.child(f), status[f], 'may specify no more than one IP for each IP family'));
    }
  }
  const first = status.podIPs?.[0]?.ip;
  if (status.podIP && first !== undefined && first !== status.podIP) {
    errs.push(invalid(path.child('podIPs').index(0).child('ip'), first, 'must be equal to `podIP`'));
  }
  errs.push(...nameErrors(status.nominatedNodeName, isDNS1123Subdomain, path.child('nominatedNodeName')));
  return errs;
}

/** Pod specs carry nothing that must not be checked on create; status is validated too (see kind.ts). */
export function validatePodBody(pod: Pod): FieldError[] {
  return [
    ...validatePodSpec(pod.spec ?? ({} as PodSpec), FieldPath.root('spec')),
    ...validatePodStatus(pod.status, FieldPath.root('status')),
  ];
}

/** A new pod (create, static pods): a stored pod's rules plus upstream's create-only one. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validateStoredPod(pod);
  if ((pod.spec?.ephemeralContainers ?? []).length > 0) {
    errs.push(forbidden(FieldPath.root('spec').child('ephemeralContainers'), 'cannot have ephemeral containers on create'));
  }
  return errs;
}

/** A pod as stored, which may have gained ephemeral containers (pods/ephemeralcontainers): e.g. at binding. */
export function validateStoredPod(pod: Pod): FieldError[] {
  return [
    ...validateObjectMeta(pod.metadata, { namespaced: true }),
    ...validateKubeFinalizerNames(pod.metadata.finalizers, FieldPath.root('metadata').child('finalizers')),
    ...validatePodBody(pod),
  ];
}
