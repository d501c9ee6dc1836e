import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { InvalidKubeconfigError } from './errors.js';
import { buildKubeconfig, parseKubeconfig, resolveKubeconfig, writeKubeconfig, type KubeconfigParams } from './kubeconfig.js';

const CA = '-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n';
const CERT = '-----BEGIN CERTIFICATE-----\nQ0VSVA==\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

const ADMIN: KubeconfigParams = {
  clusterName: 'knode',
  server: 'https://127.0.0.1:6443',
  caPem: CA,
  user: 'kubernetes-admin',
  clientCertPem: CERT,
  clientKeyPem: KEY,
  contextName: 'kubernetes-admin@knode',
};

describe('buildKubeconfig', () => {
  it('writes the clientcmd v1 Config shape with embedded base64 credentials', () => {
    expect(parse(buildKubeconfig(ADMIN))).toEqual({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'knode', cluster: { server: 'https://127.0.0.1:6443', 'certificate-authority-data': b64(CA) } }],
      contexts: [{ name: 'kubernetes-admin@knode', context: { cluster: 'knode', user: 'kubernetes-admin' } }],
      'current-context': 'kubernetes-admin@knode',
      preferences: {},
      users: [{ name: 'kubernetes-admin', user: { 'client-certificate-data': b64(CERT), 'client-key-data': b64(KEY) } }],
    });
  });

  it('keeps each base64 blob on one line', () => {
    const long = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(2000)}\n-----END CERTIFICATE-----\n`;
    const text = buildKubeconfig({ ...ADMIN, caPem: long });
    expect(text.split('\n').some((l) => l.trim() === `certificate-authority-data: ${b64(long)}`)).toBe(true);
  });

  it('writes a token user and a namespace when given', () => {
    const { clientCertPem: _c, clientKeyPem: _k, ...base } = ADMIN;
    const doc = parse(buildKubeconfig({ ...base, token: 'abcdef.0123456789abcdef', namespace: 'kube-system' }));
    expect(doc.users[0].user).toEqual({ token: 'abcdef.0123456789abcdef' });
    expect(doc.contexts[0].context.namespace).toBe('kube-system');
  });

  it('refuses a client certificate without its key', () => {
    const { clientKeyPem: _drop, ...noKey } = ADMIN;
    expect(() => buildKubeconfig(noKey)).toThrow(InvalidKubeconfigError);
  });
});

describe('parseKubeconfig / resolveKubeconfig', () => {
  it('reads back what buildKubeconfig wrote', () => {
    const resolved = resolveKubeconfig(parseKubeconfig(buildKubeconfig({ ...ADMIN, namespace: 'dev' })));
    expect(resolved).toEqual({
      context: { name: 'kubernetes-admin@knode', cluster: 'knode', user: 'kubernetes-admin', namespace: 'dev' },
      cluster: { name: 'knode', server: 'https://127.0.0.1:6443', certificateAuthorityData: CA },
      user: { name: 'kubernetes-admin', clientCertificateData: CERT, clientKeyData: KEY },
      namespace: 'dev',
    });
  });

  it('keeps file references and flags kubectl allows, and defaults the namespace', () => {
    const text = `
apiVersion: v1
kind: Config
current-context: b
clusters:
- name: c
  cluster: {server: "https://h:6443", certificate-authority: ca.crt, insecure-skip-tls-verify: true, tls-server-name: api}
users:
- name: u
  user: {client-certificate: u.crt, client-key: u.key, tokenFile: /t}
contexts:
- {name: a, context: {cluster: c, user: nobody}}
- {name: b, context: {cluster: c, user: u}}
`;
    const r = resolveKubeconfig(parseKubeconfig(text));
    expect(r.cluster).toEqual({ name: 'c', server: 'https://h:6443', certificateAuthority: 'ca.crt', insecureSkipTlsVerify: true, tlsServerName: 'api' });
    expect(r.user).toEqual({ name: 'u', clientCertificate: 'u.crt', clientKey: 'u.key', tokenFile: '/t' });
    expect(r.namespace).toBe('default');
    expect(resolveKubeconfig(parseKubeconfig(text), 'a').user).toEqual({ name: 'nobody' });
  });

  it.each([
    ['text that is not YAML', 'a: [', '(document)'],
    ['a list document', '- 1', '(document)'],
    ['another kind', 'kind: Pod', 'kind'],
    ['clusters that are not a list', 'clusters: {}', 'clusters'],
    ['a cluster without a server', 'clusters: [{name: c, cluster: {}}]', 'clusters[0].cluster.server'],
    ['a cluster entry without its cluster', 'clusters: [{name: c}]', 'clusters[0].cluster'],
    ['an unnamed user', 'users: [{user: {}}]', 'users[0].name'],
    ['CA data that is not base64', 'clusters: [{name: c, cluster: {server: s, certificate-authority-data: "!!"}}]', 'clusters[0].cluster.certificate-authority-data'],
    ['a non-boolean insecure flag', 'clusters: [{name: c, cluster: {server: s, insecure-skip-tls-verify: "yes"}}]', 'clusters[0].cluster.insecure-skip-tls-verify'],
    ['a context without a cluster', 'contexts: [{name: x, context: {user: u}}]', 'contexts[0].context.cluster'],
  ])('names the field at fault for %s', (_name, text, field) => {
    expect(() => parseKubeconfig(text)).toThrow(expect.objectContaining({ code: 'ERR_KUBECONFIG_INVALID', field }));
  });

  it.each([
    ['no current context', 'clusters: []', undefined, /current-context/],
    ['an unknown context', 'current-context: x', undefined, /no context named "x"/],
    ['a context naming a missing cluster', 'contexts: [{name: x, context: {cluster: gone}}]', 'x', /no cluster named "gone"/],
  ])('resolveKubeconfig refuses %s', (_name, text, ctx, message) => {
    expect(() => resolveKubeconfig(parseKubeconfig(text), ctx)).toThrow(message);
  });
});

describe('writeKubeconfig', () => {
  it('writes the built text with mode 0600', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'knode-kubeconfig-'));
    try {
      const path = join(dir, 'admin.kubeconfig');
      await writeKubeconfig(path, ADMIN);
      expect(await readFile(path, 'utf8')).toBe(buildKubeconfig(ADMIN));
      expect((await stat(path)).mode & 0o777).toBe(0o600);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
