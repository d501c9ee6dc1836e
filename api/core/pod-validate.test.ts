import { describe, expect, it } from 'vitest';
import { FieldPath, formatFieldError } from '../field-errors.js';
import type { Container, Pod, PodSpec } from './pod.js';
import { defaultPod, defaultPodTemplateSpec, podKind, validatePodTemplateSpec } from './pod.js';
import { container, pod } from './test-fixtures.js';

/** A defaulted valid pod with `spec` changes, validated: the error fields in order. */
function specErrors(spec: Partial<PodSpec>): string[] {
  return podKind.validate(defaultPod(pod(spec))).map((e) => e.field);
}
const withContainer = (over: Partial<Container>): Partial<PodSpec> => ({ containers: [container(over)] });

describe('pod validation: the base pod', () => {
  it('is valid once defaulted', () => expect(podKind.validate(defaultPod(pod()))).toEqual([]));
  it('is valid with every common feature in use', () => {
    const full = pod({
      volumes: [
        { name: 'data', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'cfg', configMap: { name: 'cm', items: [{ key: 'a', path: 'a.conf' }] } },
        { name: 'meta', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
      ],
      initContainers: [container({ name: 'init', command: ['true'] })],
      containers: [
        container({
          ports: [{ name: 'http', containerPort: 8080 }],
          env: [
            { name: 'A', value: 'x' },
            { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
            { name: 'CPU', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '1m' } } },
            { name: 'K', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
          ],
          envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'CM_' }],
          volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'cfg', mountPath: '/etc/app' }],
          livenessProbe: { httpGet: { port: 'http', path: '/healthz' } },
          readinessProbe: { exec: { command: ['cat', '/tmp/ready'] } },
          startupProbe: { grpc: { port: 9000 } },
          lifecycle: { preStop: { sleep: { seconds: 5 } } },
          resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { cpu: '1', memory: '128Mi' } },
        }),
      ],
      tolerations: [{ key: 'k', operator: 'Equal', value: 'v', effect: 'NoSchedule' }],
      hostAliases: [{ ip: '10.0.0.1', hostnames: ['db.local'] }],
      dnsPolicy: 'None',
      dnsConfig: { nameservers: ['10.96.0.10'], searches: ['svc.cluster.local.'], options: [{ name: 'ndots', value: '5' }] },
      hostname: 'web-0',
      subdomain: 'web',
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] },
        },
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 100, podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'web' } } } },
          ],
        },
      },
      topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway' }],
      readinessGates: [{ conditionType: 'example.com/gate' }],
    });
    expect(podKind.validate(defaultPod(full))).toEqual([]);
  });
});

describe('pod validation: one mistake, one error path', () => {
  it.each<[string, Partial<PodSpec>, string[]]>([
    ['no containers', { containers: [] }, ['spec.containers']],
    ['a container without name', withContainer({ name: '' }), ['spec.containers[0].name']],
    ['a container name that is not a DNS label', withContainer({ name: 'App_1' }), ['spec.containers[0].name']],
    ['a container without image', withContainer({ image: '' }), ['spec.containers[0].image']],
    ['two containers with one name', { containers: [container(), container()] }, ['spec.containers[1].name']],
    ['an init container named like an app container', { initContainers: [container()] }, ['spec.initContainers[0].name']],
    ['port 0', withContainer({ ports: [{ containerPort: 0 }] }), ['spec.containers[0].ports[0].containerPort']],
    ['port 70000', withContainer({ ports: [{ containerPort: 70000 }] }), ['spec.containers[0].ports[0].containerPort']],
    ['a bad protocol', withContainer({ ports: [{ containerPort: 80, protocol: 'ICMP' as 'TCP' }] }), ['spec.containers[0].ports[0].protocol']],
    [
      'a port name in capitals (two rules broken)',
      withContainer({ ports: [{ containerPort: 80, name: 'HTTP' }] }),
      ['spec.containers[0].ports[0].name', 'spec.containers[0].ports[0].name'],
    ],
    [
      'a duplicated port name',
      withContainer({ ports: [{ containerPort: 80, name: 'http' }, { containerPort: 81, name: 'http' }] }),
      ['spec.containers[0].ports[1].name'],
    ],
    [
      'a host port used twice',
      { containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] }), container({ name: 'b', ports: [{ containerPort: 81, hostPort: 8080 }] })] },
      ['spec.containers[1].ports[0].hostPort'],
    ],
    ['an env var starting with a digit', withContainer({ env: [{ name: '1X' }] }), ['spec.containers[0].env[0].name']],
    ['an env var without name', withContainer({ env: [{ name: '' }] }), ['spec.containers[0].env[0].name']],
    ['valueFrom with nothing in it', withContainer({ env: [{ name: 'A', valueFrom: {} }] }), ['spec.containers[0].env[0].valueFrom']],
    [
      'valueFrom next to value',
      withContainer({ env: [{ name: 'A', value: 'x', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }] }),
      ['spec.containers[0].env[0].valueFrom'],
    ],
    [
      'an unsupported downward API field',
      withContainer({ env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.hostname' } } }] }),
      ['spec.containers[0].env[0].valueFrom.fieldRef.fieldPath'],
    ],
    [
      'a bad configMap key',
      withContainer({ env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'cm', key: 'a/b' } } }] }),
      ['spec.containers[0].env[0].valueFrom.configMapKeyRef.key'],
    ],
    ['envFrom without source', withContainer({ envFrom: [{ prefix: 'X' }] }), ['spec.containers[0].envFrom']],
    ['a mount of a missing volume', withContainer({ volumeMounts: [{ name: 'nope', mountPath: '/x' }] }), ['spec.containers[0].volumeMounts[0].name']],
    [
      'two mounts at one path',
      { volumes: [{ name: 'v', emptyDir: {} }], containers: [container({ volumeMounts: [{ name: 'v', mountPath: '/x' }, { name: 'v', mountPath: '/x' }] })] },
      ['spec.containers[0].volumeMounts[1].mountPath'],
    ],
    [
      'a subPath escaping the volume',
      { volumes: [{ name: 'v', emptyDir: {} }], containers: [container({ volumeMounts: [{ name: 'v', mountPath: '/x', subPath: '../etc' }] })] },
      ['spec.containers[0].volumeMounts[0].subPath'],
    ],
    ['a probe without handler', withContainer({ livenessProbe: { periodSeconds: 5 } }), ['spec.containers[0].livenessProbe']],
    [
      'a probe with two handlers',
      withContainer({ readinessProbe: { exec: { command: ['true'] }, tcpSocket: { port: 80 } } }),
      ['spec.containers[0].readinessProbe.tcpSocket'],
    ],
    ['a liveness probe needing two successes', withContainer({ livenessProbe: { exec: { command: ['true'] }, successThreshold: 2 } }), ['spec.containers[0].livenessProbe.successThreshold']],
    ['a negative probe period', withContainer({ readinessProbe: { exec: { command: ['true'] }, periodSeconds: -1 } }), ['spec.containers[0].readinessProbe.periodSeconds']],
    ['an exec probe without command', withContainer({ livenessProbe: { exec: {} } }), ['spec.containers[0].livenessProbe.exec.command']],
    ['an https scheme typo', withContainer({ livenessProbe: { httpGet: { port: 80, scheme: 'HTTPX' as 'HTTP' } } }), ['spec.containers[0].livenessProbe.httpGet.scheme']],
    ['a probe port name that is too long', withContainer({ livenessProbe: { tcpSocket: { port: 'a-very-long-port-name' } } }), ['spec.containers[0].livenessProbe.tcpSocket.port']],
    ['a preStop sleep longer than the grace period', withContainer({ lifecycle: { preStop: { sleep: { seconds: 60 } } } }), ['spec.containers[0].lifecycle.preStop.sleep']],
    ['a probe on a plain init container', { initContainers: [container({ name: 'init', readinessProbe: { exec: { command: ['x'] } } })] }, ['spec.initContainers[0].readinessProbe']],
    ['a restartPolicy on an app container', withContainer({ restartPolicy: 'Always' }), ['spec.containers[0].restartPolicy']],
    ['an unparseable quantity', withContainer({ resources: { requests: { cpu: 'lots' } } }), ['spec.containers[0].resources.requests[cpu]']],
    [
      'a negative limit (requests default to it)',
      withContainer({ resources: { limits: { memory: '-1Gi' } } }),
      ['spec.containers[0].resources.limits[memory]', 'spec.containers[0].resources.requests[memory]'],
    ],
    ['requests above limits', withContainer({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }), ['spec.containers[0].resources.requests']],
    ['an unknown unprefixed resource', withContainer({ resources: { requests: { gpu: '1' } } }), ['spec.containers[0].resources.requests[gpu]']],
    ['a bad pull policy', withContainer({ imagePullPolicy: 'Sometimes' as 'Always' }), ['spec.containers[0].imagePullPolicy']],
    ['privileged without escalation', withContainer({ securityContext: { privileged: true, allowPrivilegeEscalation: false } }), ['spec.containers[0].securityContext']],
    ['a restart policy typo', { restartPolicy: 'Sometimes' as 'Always' }, ['spec.restartPolicy']],
    ['a dns policy typo', { dnsPolicy: 'Cluster' as 'ClusterFirst' }, ['spec.dnsPolicy']],
    ['dnsPolicy None without config', { dnsPolicy: 'None' }, ['spec.dnsConfig']],
    ['four nameservers', { dnsConfig: { nameservers: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] } }, ['spec.dnsConfig.nameservers']],
    ['a nameserver that is no IP', { dnsConfig: { nameservers: ['dns'] } }, ['spec.dnsConfig.nameservers[0]']],
    ['a bad host alias IP', { hostAliases: [{ ip: '10.0.0', hostnames: ['a'] }] }, ['spec.hostAliases[0].ip']],
    ['a bad host alias name', { hostAliases: [{ ip: '10.0.0.1', hostnames: ['A_B'] }] }, ['spec.hostAliases[0].hostnames[0]']],
    ['a hostname with dots', { hostname: 'a.b' }, ['spec.hostname']],
    ['a bad nodeName', { nodeName: 'Node_1' }, ['spec.nodeName']],
    ['a bad serviceAccountName', { serviceAccountName: 'Robot!' }, ['spec.serviceAccountName']],
    ['a zero activeDeadlineSeconds', { activeDeadlineSeconds: 0 }, ['spec.activeDeadlineSeconds']],
    ['a bad nodeSelector value', { nodeSelector: { zone: 'a b' } }, ['spec.nodeSelector']],
    ['a toleration value with Exists', { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] }, ['spec.tolerations[0].operator']],
    ['tolerationSeconds without NoExecute', { tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoSchedule', tolerationSeconds: 5 }] }, ['spec.tolerations[0].effect']],
    ['an empty toleration key with Equal', { tolerations: [{ operator: 'Equal', value: 'v' }] }, ['spec.tolerations[0].operator']],
    ['imagePullSecrets with more than a name', { imagePullSecrets: [{ name: 'r', extra: 1 } as { name: string }] }, ['spec.imagePullSecrets[0]']],
    ['a readiness gate that is no qualified name', { readinessGates: [{ conditionType: 'a b' }] }, ['spec.readinessGates[0].conditionType']],
    ['a topology spread with maxSkew 0', { topologySpreadConstraints: [{ maxSkew: 0, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule' }] }, ['spec.topologySpreadConstraints[0].maxSkew']],
    [
      'an affinity term without topologyKey',
      { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: '' }] } } },
      ['spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey'],
    ],
    [
      'a node selector with no terms',
      { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } },
      ['spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms'],
    ],
    [
      'a preferred term with weight 0',
      { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 0, preference: {} }] } } },
      ['spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight'],
    ],
    [
      'hostNetwork with a hostPort unlike its containerPort',
      { hostNetwork: true, containers: [container({ ports: [{ containerPort: 80, hostPort: 8080 }] })] },
      ['spec.containers[0].ports[0].containerPort'],
    ],
  ])('%s', (_name, spec, expected) => expect(specErrors(spec)).toEqual(expected));
});

describe('pod validation: messages', () => {
  it('words a missing image like upstream', () => {
    const [err] = podKind.validate(defaultPod(pod(withContainer({ image: '' }))));
    expect(formatFieldError(err!)).toBe('spec.containers[0].image: Required value');
  });
  it('lists the supported restart policies', () => {
    const [err] = podKind.validate(defaultPod(pod({ restartPolicy: 'Sometimes' as 'Always' })));
    expect(formatFieldError(err!)).toBe('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
  });
  it('explains requests above limits', () => {
    const [err] = podKind.validate(defaultPod(pod(withContainer({ resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }))));
    expect(err?.detail).toBe('must be less than or equal to cpu limit of 1');
  });
  it('requires metadata too', () => {
    const p: Pod = { ...defaultPod(pod()), metadata: { name: 'Bad_Name' } };
    expect(podKind.validate(p).map((e) => e.field)).toEqual(['metadata.name', 'metadata.namespace']);
  });
});

describe('pod validation: status', () => {
  const base = defaultPod(pod());
  it.each<[string, NonNullable<Pod['status']>, string[]]>([
    ['an unknown phase', { phase: 'Sleeping' as 'Running' }, ['status.phase']],
    ['a custom condition that is no qualified name', { conditions: [{ type: 'a b', status: 'True' }] }, ['status.conditions[0].Type']],
    ['a condition status typo', { conditions: [{ type: 'Ready', status: 'Yes' as 'True' }] }, ['status.conditions[0].status']],
    ['a bad pod IP', { podIPs: [{ ip: '10.0.0.256' }] }, ['status.podIPs[0]']],
    ['two IPv4 pod IPs', { podIPs: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }, ['status.podIPs']],
  ])('reports %s', (_name, status, expected) => {
    expect(podKind.validate({ ...base, status }).map((e) => e.field)).toEqual(expected);
  });
  it('accepts a dual-stack pair', () => expect(podKind.validate({ ...base, status: { podIPs: [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }] } })).toEqual([]));
});

describe('validatePodTemplateSpec', () => {
  const path = FieldPath.root('spec').child('template');
  it('accepts a valid template', () => {
    expect(validatePodTemplateSpec(defaultPodTemplateSpec({ metadata: { labels: { app: 'web' } }, spec: { containers: [container()] } }), path)).toEqual([]);
  });
  it('reports under the template path, labels without the metadata segment as upstream', () => {
    const errs = validatePodTemplateSpec({ metadata: { labels: { '-': 'x' } }, spec: { containers: [], restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } }, path);
    expect(errs.map((e) => e.field)).toEqual(['spec.template.labels', 'spec.template.spec.containers']);
  });
  it('forbids ephemeral containers', () => {
    const errs = validatePodTemplateSpec(defaultPodTemplateSpec({ spec: { containers: [container()], ephemeralContainers: [container({ name: 'dbg' })] } }), path);
    expect(errs.map((e) => e.field)).toEqual(['spec.template.spec.ephemeralContainers']);
  });
});
