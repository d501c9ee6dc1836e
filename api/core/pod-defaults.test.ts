import { describe, expect, it } from 'vitest';
import { imagePullPolicyFor } from './container-defaults.js';
import { defaultPod, defaultPodTemplateSpec } from './pod.js';
import type { Pod } from './pod.js';
import { container, pod } from './test-fixtures.js';

describe('defaultPod', () => {
  const p = defaultPod(pod());

  it('fills the pod spec defaults', () => {
    expect(p.spec).toMatchObject({
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      terminationGracePeriodSeconds: 30,
      schedulerName: 'default-scheduler',
      securityContext: {},
      enableServiceLinks: true,
      serviceAccountName: 'default',
      serviceAccount: 'default',
      priority: 0,
      preemptionPolicy: 'PreemptLowerPriority',
    });
  });

  it('fills container defaults', () => {
    expect(p.spec.containers[0]).toEqual({
      name: 'app',
      image: 'busybox:1.36',
      terminationMessagePath: '/dev/termination-log',
      terminationMessagePolicy: 'File',
      imagePullPolicy: 'IfNotPresent',
      resources: {},
    });
  });

  it('starts Pending with a QoS class', () => expect(p.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' }));

  it('keeps what the user set', () => {
    const custom = defaultPod(pod({ restartPolicy: 'Never', dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, serviceAccountName: 'robot' }));
    expect(custom.spec).toMatchObject({ restartPolicy: 'Never', dnsPolicy: 'Default', terminationGracePeriodSeconds: 0, serviceAccountName: 'robot', serviceAccount: 'robot' });
  });

  it('takes the deprecated serviceAccount when serviceAccountName is absent', () => {
    expect(defaultPod(pod({ serviceAccount: 'old' })).spec.serviceAccountName).toBe('old');
  });

  it('defaults ports, probes, hooks and env field refs', () => {
    const c = defaultPod(
      pod({
        containers: [
          container({
            ports: [{ containerPort: 80 }],
            livenessProbe: { httpGet: { port: 80 } },
            readinessProbe: { tcpSocket: { port: 80 }, periodSeconds: 3 },
            lifecycle: { preStop: { httpGet: { port: 'http' } } },
            env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          }),
        ],
      }),
    ).spec.containers[0]!;
    expect(c.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(c.livenessProbe).toEqual({
      httpGet: { port: 80, path: '/', scheme: 'HTTP' },
      timeoutSeconds: 1,
      periodSeconds: 10,
      successThreshold: 1,
      failureThreshold: 3,
    });
    expect(c.readinessProbe?.periodSeconds).toBe(3);
    expect(c.lifecycle?.preStop?.httpGet).toEqual({ port: 'http', path: '/', scheme: 'HTTP' });
    expect(c.env?.[0]?.valueFrom?.fieldRef).toEqual({ fieldPath: 'metadata.name', apiVersion: 'v1' });
  });

  it('defaults requests to limits and spells quantities canonically', () => {
    const c = defaultPod(pod({ containers: [container({ resources: { limits: { cpu: '0.5', memory: '1.5Gi' }, requests: { cpu: '100m' } } })] }))
      .spec.containers[0]!;
    expect(c.resources).toEqual({ limits: { cpu: '500m', memory: '1536Mi' }, requests: { cpu: '100m', memory: '1536Mi' } });
  });

  it('sets hostPort from containerPort on hostNetwork pods', () => {
    const c = defaultPod(pod({ hostNetwork: true, containers: [container({ ports: [{ containerPort: 8080 }] })] })).spec.containers[0]!;
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP', hostPort: 8080 }]);
  });

  it('defaults volumes: emptyDir when no source, 0644 modes', () => {
    const vols = defaultPod(
      pod({
        volumes: [
          { name: 'scratch' },
          { name: 'cfg', configMap: { name: 'cm' } },
          { name: 'sec', secret: { secretName: 's', defaultMode: 0o400 } },
          { name: 'dapi', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }] } },
          { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } },
          { name: 'host', hostPath: { path: '/var/log' } },
        ],
      }),
    ).spec.volumes!;
    expect(vols).toEqual([
      { name: 'scratch', emptyDir: {} },
      { name: 'cfg', configMap: { name: 'cm', defaultMode: 420 } },
      { name: 'sec', secret: { secretName: 's', defaultMode: 0o400 } },
      { name: 'dapi', downwardAPI: { defaultMode: 420, items: [{ path: 'labels', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.labels' } }] } },
      { name: 'tok', projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3600, path: 'token' } }] } },
      { name: 'host', hostPath: { path: '/var/log', type: '' } },
    ]);
  });

  it('resolves the built-in priority classes', () => {
    expect(defaultPod(pod({ priorityClassName: 'system-node-critical' })).spec.priority).toBe(2000001000);
    expect(defaultPod(pod({ priorityClassName: 'custom' })).spec.priority).toBeUndefined();
  });

  it('keeps an existing status and mirrors podIP into podIPs', () => {
    const running = defaultPod({ ...pod(), status: { phase: 'Running', podIP: '10.244.0.5', hostIP: '10.0.0.1', qosClass: 'Burstable' } });
    expect(running.status).toEqual({
      phase: 'Running',
      podIP: '10.244.0.5',
      podIPs: [{ ip: '10.244.0.5' }],
      hostIP: '10.0.0.1',
      hostIPs: [{ ip: '10.0.0.1' }],
      qosClass: 'Burstable',
    });
  });

  it('does not change its argument and is idempotent', () => {
    const input = pod();
    const snapshot = JSON.stringify(input);
    const once = defaultPod(input);
    expect(JSON.stringify(input)).toBe(snapshot);
    expect(defaultPod(once)).toEqual(once);
  });
});

describe('imagePullPolicyFor', () => {
  it.each([
    ['busybox', 'Always'],
    ['busybox:latest', 'Always'],
    ['busybox:1.36', 'IfNotPresent'],
    ['localhost:5000/busybox', 'Always'],
    ['localhost:5000/busybox:v1', 'IfNotPresent'],
    ['busybox@sha256:abc', 'IfNotPresent'],
    ['busybox:latest@sha256:abc', 'Always'],
  ])('%s -> %s', (image, policy) => expect(imagePullPolicyFor(image)).toBe(policy));
});

describe('defaultPodTemplateSpec', () => {
  it('applies spec defaults but not the pod-only ones', () => {
    const t = defaultPodTemplateSpec({ metadata: { labels: { app: 'web' } }, spec: { containers: [container({ resources: { limits: { cpu: '1' } } })] } });
    expect(t.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler' });
    expect(t.spec?.serviceAccountName).toBeUndefined();
    expect(t.spec?.enableServiceLinks).toBeUndefined();
    expect(t.spec?.containers[0]?.resources).toEqual({ limits: { cpu: '1' } });
    expect(t.metadata).toEqual({ labels: { app: 'web' } });
  });
  it('copes with a template without spec', () => expect(defaultPodTemplateSpec({}).spec?.containers).toEqual([]));
});

