/**
 * The real kubectl v1.32's typed-client commands (`kubectl create namespace|configmap|secret|deployment|
 * service|serviceaccount`, `kubectl certificate approve`) send their bodies as Kubernetes protobuf and
 * never retry in JSON. Each test creates through kubectl and reads the stored object back as JSON.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCSR } from '../lib/pki/csr.js';
import { generateKeyPair } from '../lib/pki/pem.js';
import { APISERVER_ONLY, startServer } from './helpers/server.js';
import type { TestServer } from './helpers/server.js';
import { at, getJson } from './helpers/objects.js';

let server: TestServer;
let scratch: string;
const NS = 't1';

beforeAll(async () => {
  server = await startServer(APISERVER_ONLY);
  scratch = await mkdtemp(join(tmpdir(), 'knode-protobuf-'));
  await server.kubectlOk(['create', 'namespace', NS]);
});

afterAll(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('kubectl create through protobuf bodies', () => {
  it('sends protobuf and gets 201 (the premise of this suite)', async () => {
    const r = await server.kubectl(['create', 'configmap', 'probe', '--from-literal=x=y', '-n', NS, '-v=8']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/POST https:\/\/\S+\/api\/v1\/namespaces\/t1\/configmaps/);
    expect(r.stderr).toContain('Content-Type: application/vnd.kubernetes.protobuf');
    expect(r.stderr).toContain('Response Status: 201 Created');
  });

  it('create namespace', async () => {
    const ns = await getJson(server, ['get', 'namespace', NS]);
    expect(at(ns, 'metadata.name')).toBe(NS);
    expect(at(ns, 'metadata.labels')).toEqual({ 'kubernetes.io/metadata.name': NS });
    expect(at(ns, 'status.phase')).toBe('Active');
  });

  it('create configmap --from-literal, and --from-file with binary content', async () => {
    expect((await server.kubectlOk(['create', 'configmap', 'c', '--from-literal=a=b', '-n', NS])).trim()).toBe('configmap/c created');
    const cm = await getJson(server, ['get', 'configmap', 'c', '-n', NS]);
    expect(at(cm, 'data')).toEqual({ a: 'b' });
    expect(at(cm, 'binaryData')).toBeUndefined();

    const bin = Buffer.from([0, 1, 2, 0xfe, 0xff, 0x80, 0x0a]);
    await writeFile(join(scratch, 'blob'), bin);
    await writeFile(join(scratch, 'text'), 'hello\n');
    await server.kubectlOk(['create', 'configmap', 'files', `--from-file=${join(scratch, 'blob')}`, `--from-file=${join(scratch, 'text')}`, '-n', NS]);
    const files = await getJson(server, ['get', 'configmap', 'files', '-n', NS]);
    expect(at(files, 'binaryData')).toEqual({ blob: bin.toString('base64') });
    expect(at(files, 'data')).toEqual({ text: 'hello\n' });
  });

  it('create secret generic and docker-registry', async () => {
    await server.kubectlOk(['create', 'secret', 'generic', 's', '--from-literal=p=q', '-n', NS]);
    const s = await getJson(server, ['get', 'secret', 's', '-n', NS]);
    expect(at(s, 'type')).toBe('Opaque');
    expect(at(s, 'data')).toEqual({ p: Buffer.from('q').toString('base64') });

    await server.kubectlOk(['create', 'secret', 'docker-registry', 'reg', '--docker-server=r.example', '--docker-username=u', '--docker-password=p', '-n', NS]);
    const reg = await getJson(server, ['get', 'secret', 'reg', '-n', NS]);
    expect(at(reg, 'type')).toBe('kubernetes.io/dockerconfigjson');
    const data = at(reg, 'data') as Record<string, string>;
    const config = JSON.parse(Buffer.from(data['.dockerconfigjson'] ?? '', 'base64').toString()) as unknown;
    expect(at(config, 'auths')).toHaveProperty(['r.example']);
  });

  it('create deployment --replicas=0 keeps the explicit zero and gets upstream defaults', async () => {
    await server.kubectlOk(['create', 'deployment', 'd', '--image=busybox', '--replicas=0', '-n', NS]);
    const d = await getJson(server, ['get', 'deployment', 'd', '-n', NS]);
    expect(at(d, 'spec.replicas')).toBe(0);
    expect(at(d, 'spec.selector')).toEqual({ matchLabels: { app: 'd' } });
    expect(at(d, 'spec.template.metadata.labels')).toEqual({ app: 'd' });
    expect(at(d, 'spec.template.spec.containers')).toEqual([
      {
        name: 'busybox',
        image: 'busybox',
        imagePullPolicy: 'Always',
        resources: {},
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
      },
    ]);
    expect(at(d, 'spec.strategy')).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    expect(at(d, 'spec.template.spec.securityContext')).toEqual({});
  });

  it('create deployment --port --replicas=2', async () => {
    await server.kubectlOk(['create', 'deployment', 'web', '--image=nginx', '--port=80', '--replicas=2', '-n', NS]);
    const d = await getJson(server, ['get', 'deployment', 'web', '-n', NS]);
    expect(at(d, 'spec.replicas')).toBe(2);
    expect(at(d, 'spec.template.spec.containers.0.ports')).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
  });

  it('create service clusterip --tcp=80:8080 and nodeport, externalname, headless', async () => {
    await server.kubectlOk(['create', 'service', 'clusterip', 'svc', '--tcp=80:8080', '-n', NS]);
    const svc = await getJson(server, ['get', 'service', 'svc', '-n', NS]);
    expect(at(svc, 'spec.type')).toBe('ClusterIP');
    expect(at(svc, 'spec.ports')).toEqual([{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }]);
    expect(at(svc, 'spec.selector')).toEqual({ app: 'svc' });
    expect(String(at(svc, 'spec.clusterIP'))).toMatch(/^\d+\.\d+\.\d+\.\d+$/);

    await server.kubectlOk(['create', 'service', 'nodeport', 'np', '--tcp=80:8080', '-n', NS]);
    expect(at(await getJson(server, ['get', 'service', 'np', '-n', NS]), 'spec.ports.0.nodePort')).toBeGreaterThanOrEqual(30000);

    await server.kubectlOk(['create', 'service', 'externalname', 'ext', '--external-name=example.com', '-n', NS]);
    const ext = await getJson(server, ['get', 'service', 'ext', '-n', NS]);
    expect(at(ext, 'spec.externalName')).toBe('example.com');
    expect(at(ext, 'spec.clusterIP')).toBeUndefined();

    await server.kubectlOk(['create', 'service', 'clusterip', 'headless', '--clusterip=None', '-n', NS]);
    expect(at(await getJson(server, ['get', 'service', 'headless', '-n', NS]), 'spec.clusterIP')).toBe('None');
  });

  it('create serviceaccount', async () => {
    await server.kubectlOk(['create', 'serviceaccount', 'sa', '-n', NS]);
    const sa = await getJson(server, ['get', 'serviceaccount', 'sa', '-n', NS]);
    expect(at(sa, 'metadata.name')).toBe('sa');
    expect(at(sa, 'metadata.namespace')).toBe(NS);
  });

  it('answers server-side validation failures of a protobuf body with upstream wording', async () => {
    const r = await server.kubectl(['create', 'deployment', 'Bad_Name', '--image=busybox', '-n', NS]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('Deployment.apps "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"');
    const dup = await server.kubectl(['create', 'configmap', 'c', '--from-literal=a=b', '-n', NS]);
    expect(dup.stderr).toContain('configmaps "c" already exists');
  });

  it('--save-config stores the last-applied annotation sent in protobuf', async () => {
    await server.kubectlOk(['create', 'configmap', 'saved', '--from-literal=k=v', '--save-config', '-n', NS]);
    const cm = await getJson(server, ['get', 'configmap', 'saved', '-n', NS]);
    const annotations = at(cm, 'metadata.annotations') as Record<string, string>;
    expect(JSON.parse(annotations['kubectl.kubernetes.io/last-applied-configuration'] ?? '{}')).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' } });
  });
});

describe('kubectl certificate approve through a protobuf PUT', () => {
  it('approves a CSR, whose request bytes come back unchanged', async () => {
    const csr = await createCSR(await generateKeyPair(), { commonName: 'alice' });
    const manifest = {
      apiVersion: 'certificates.k8s.io/v1',
      kind: 'CertificateSigningRequest',
      metadata: { name: 'alice' },
      spec: { request: Buffer.from(csr).toString('base64'), signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'] },
    };
    await server.kubectlOk(['create', '-f', '-'], { input: JSON.stringify(manifest) });
    const r = await server.kubectl(['certificate', 'approve', 'alice', '-v=8']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/PUT https:\/\/\S+\/certificatesigningrequests\/alice\/approval/);
    expect(r.stderr).toContain('Content-Type: application/vnd.kubernetes.protobuf');
    const got = await getJson(server, ['get', 'csr', 'alice']);
    expect(at(got, 'status.conditions.0')).toMatchObject({ type: 'Approved', status: 'True', reason: 'KubectlApprove' });
    expect(at(got, 'spec.request')).toBe(manifest.spec.request);
  });
});
