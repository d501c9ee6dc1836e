/**
 * Upstream's container defaults (pkg/apis/core/v1/defaults.go): pull policy from the image tag,
 * termination message path and policy, port protocol TCP, probe timings (timeout 1 s, period 10 s,
 * success 1, failure 3), httpGet scheme HTTP and path `/`, fieldRef apiVersion v1, and canonical
 * quantity spellings in resources. Each function returns a new object.
 */
import type { Mutable } from '../meta.js';
import type { Container, EnvVar, HTTPGetAction, LifecycleHandler, Probe, PullPolicy } from './container-types.js';
import type { ContainerPort } from './container-types.js';
import { canonicalResourceList } from './resources.js';
import type { ResourceRequirements } from './resources.js';

export const TERMINATION_MESSAGE_PATH_DEFAULT = '/dev/termination-log';

/**
 * Always for `:latest` and for untagged images (which mean latest), IfNotPresent otherwise. An image
 * pinned by digest alone has no tag and is IfNotPresent, as upstream.
 */
export function imagePullPolicyFor(image: string): PullPolicy {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
  if (tag === 'latest') return 'Always';
  if (tag === '' && at < 0) return 'Always';
  return 'IfNotPresent';
}

function defaultHTTPGet(h: HTTPGetAction): HTTPGetAction {
  return { ...h, path: h.path || '/', scheme: h.scheme || 'HTTP' };
}

export function defaultProbe(p: Probe): Probe {
  return {
    ...p,
    timeoutSeconds: p.timeoutSeconds || 1,
    periodSeconds: p.periodSeconds || 10,
    successThreshold: p.successThreshold || 1,
    failureThreshold: p.failureThreshold || 3,
    ...(p.httpGet ? { httpGet: defaultHTTPGet(p.httpGet) } : {}),
  };
}

function defaultHandler(h: LifecycleHandler): LifecycleHandler {
  return h.httpGet ? { ...h, httpGet: defaultHTTPGet(h.httpGet) } : h;
}

function defaultEnvVar(e: EnvVar): EnvVar {
  const fieldRef = e.valueFrom?.fieldRef;
  if (!fieldRef) return e;
  return { ...e, valueFrom: { ...e.valueFrom, fieldRef: { ...fieldRef, apiVersion: fieldRef.apiVersion || 'v1' } } };
}

function defaultResources(r: ResourceRequirements): ResourceRequirements {
  const limits = canonicalResourceList(r.limits);
  const requests = canonicalResourceList(r.requests);
  return { ...r, ...(limits ? { limits } : {}), ...(requests ? { requests } : {}) };
}

export function defaultContainer<C extends Container>(c: C): C {
  const out: Mutable<Container> = {
    ...c,
    terminationMessagePath: c.terminationMessagePath || TERMINATION_MESSAGE_PATH_DEFAULT,
    terminationMessagePolicy: c.terminationMessagePolicy || 'File',
    imagePullPolicy: c.imagePullPolicy || imagePullPolicyFor(c.image ?? ''),
    // upstream always serializes resources, even when empty
    resources: defaultResources(c.resources ?? {}),
  };
  if (c.ports) out.ports = c.ports.map((p) => ({ ...p, protocol: p.protocol || 'TCP' }));
  if (c.env) out.env = c.env.map(defaultEnvVar);
  if (c.livenessProbe) out.livenessProbe = defaultProbe(c.livenessProbe);
  if (c.readinessProbe) out.readinessProbe = defaultProbe(c.readinessProbe);
  if (c.startupProbe) out.startupProbe = defaultProbe(c.startupProbe);
  if (c.lifecycle) {
    const { postStart, preStop } = c.lifecycle;
    out.lifecycle = {
      ...c.lifecycle,
      ...(postStart ? { postStart: defaultHandler(postStart) } : {}),
      ...(preStop ? { preStop: defaultHandler(preStop) } : {}),
    };
  }
  return out as C;
}

/** Pods only (not templates): requests default to limits for every resource that has only a limit. */
export function defaultRequestsFromLimits<C extends Container>(c: C): C {
  const limits = c.resources?.limits;
  if (!limits) return c;
  const requests = { ...limits, ...(c.resources?.requests ?? {}) };
  return { ...c, resources: { ...c.resources, requests } };
}

/** Pods only, with hostNetwork: a port's hostPort is its containerPort (the pod owns the host's ports). */
export function defaultHostNetworkPorts<C extends Container>(c: C): C {
  if (!c.ports) return c;
  const ports: ContainerPort[] = c.ports.map((p) => (p.hostPort ? p : { ...p, hostPort: p.containerPort }));
  return { ...c, ports };
}
