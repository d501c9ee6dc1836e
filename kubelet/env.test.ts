import { describe, expect, it } from 'vitest';
import type { ConfigMap } from '../api/core/configmap.js';
import type { Container, EnvVar as SpecEnvVar, Pod } from '../api/core/pod.js';
import type { Secret } from '../api/core/secret.js';
import type { Service } from '../api/core/service.js';
import { PodEnvResolver, computeContainerEnv, envReferences, expandSubPathExpr, expandVars } from './env.js';
import type { EnvObjects, EnvWarning } from './env.js';
import { ContainerConfigError } from './errors.js';
import type { EnvVar, ObjectLookup, PodRuntimeFacts } from './types.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

const facts: PodRuntimeFacts = { nodeName: 'node-a', hostIP: '10.0.0.2', podIP: '10.244.1.5', podIPs: ['10.244.1.5'] };

const basePod = (container: Container, spec: Partial<Pod['spec']> = {}): Pod => ({
  metadata: { name: 'web-0', namespace: 'shop', uid: 'uid-1', labels: { app: 'web' } },
  spec: { containers: [container], nodeName: 'node-a', serviceAccountName: 'default', ...spec },
});

const cm = (name: string, data: Record<string, string>): ConfigMap => ({ metadata: { name, namespace: 'shop' }, data });
const secret = (name: string, data: Record<string, string>): Secret => ({
  metadata: { name, namespace: 'shop' },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});

const objects: EnvObjects = {
  configMaps: new Map<string, ConfigMap | undefined>([
    ['app-config', cm('app-config', { LOG_LEVEL: 'debug', MODE: 'fast', 'bad key': 'x', '1ST': 'y' })],
    ['missing', undefined],
  ]),
  secrets: new Map<string, Secret | undefined>([
    ['creds', secret('creds', { USER: 'admin', PASSWORD: 's3cr3t' })],
    ['gone', undefined],
  ]),
  services: [
    { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } },
    { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: '10.96.0.31', ports: [{ port: 5432 }] } },
  ],
};

function envOf(container: Container, spec: Partial<Pod['spec']> = {}, enableServiceLinks = true): { env: Record<string, string>; order: string[]; warnings: readonly EnvWarning[] } {
  const r = computeContainerEnv({ pod: basePod(container, spec), container, facts, objects, enableServiceLinks, masterServiceNamespace: 'default', nodeAllocatable: { cpu: '4', memory: '8Gi' } });
  return { env: Object.fromEntries(r.env.map((e) => [e.name, e.value])), order: r.env.map((e) => e.name), warnings: r.warnings };
}

const c = (env: SpecEnvVar[], over: Partial<Container> = {}): Container => ({ name: 'app', env, ...over });

describe('expandVars', () => {
  const vars: Record<string, string> = { A: 'alpha', B: 'beta', EMPTY: '' };
  const lookup = (n: string): string | undefined => vars[n];
  it.each([
    ['no references', 'plain text', 'plain text'],
    ['one reference', '$(A)', 'alpha'],
    ['references in text', 'x-$(A)-$(B)-y', 'x-alpha-beta-y'],
    ['empty value', '[$(EMPTY)]', '[]'],
    ['unresolved reference stays', '$(NOPE)', '$(NOPE)'],
    ['escaped reference', '$$(A)', '$(A)'],
    ['escaped dollar', 'cost: $$5', 'cost: $5'],
    ['double escape then reference', '$$$(A)', '$alpha'],
    ['dollar before a letter stays', '$A', '$A'],
    ['trailing dollar stays', 'end$', 'end$'],
    ['unterminated reference stays', '$(A', '$(A'],
    ['nested-looking text', '$($(A))', '$($(A))'],
    ['empty name', '$()', '$()'],
  ])('%s: %j -> %j', (_name, input, want) => {
    expect(expandVars(input, lookup)).toBe(want);
  });
});

describe('expandSubPathExpr', () => {
  const env: EnvVar[] = [
    { name: 'POD_NAME', value: 'web-0' },
    { name: 'EMPTY', value: '' },
  ];
  it('expands from the env', () => {
    expect(expandSubPathExpr('logs/$(POD_NAME)', env)).toBe('logs/web-0');
  });
  it('refuses missing and empty variables, naming them', () => {
    expect(() => expandSubPathExpr('$(EMPTY)/$(NOPE)', env)).toThrow('missing value for EMPTY, NOPE');
  });
});

describe('computeContainerEnv: sources', () => {
  it.each<[string, SpecEnvVar, string]>([
    ['literal value', { name: 'X', value: 'hello' }, 'hello'],
    ['empty value', { name: 'X', value: '' }, ''],
    ['fieldRef name', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, 'web-0'],
    ['fieldRef namespace', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } }, 'shop'],
    ['fieldRef uid', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } } }, 'uid-1'],
    ['fieldRef label', { name: 'X', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } }, 'web'],
    ['fieldRef nodeName', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }, 'node-a'],
    ['fieldRef serviceAccountName', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.serviceAccountName' } } }, 'default'],
    ['fieldRef hostIP', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } }, '10.0.0.2'],
    ['fieldRef podIP', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }, '10.244.1.5'],
    ['fieldRef podIPs', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } }, '10.244.1.5'],
    ['resourceFieldRef default limit', { name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } }, '4'],
    ['resourceFieldRef divisor', { name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } }, '8192'],
    ['configMapKeyRef', { name: 'X', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'LOG_LEVEL' } } }, 'debug'],
    ['secretKeyRef (decoded)', { name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'PASSWORD' } } }, 's3cr3t'],
  ])('%s', (_name, v, want) => {
    expect(envOf(c([v])).env['X']).toBe(want);
  });

  it.each<[string, SpecEnvVar]>([
    ['missing optional ConfigMap', { name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k', optional: true } } }],
    ['missing optional ConfigMap key', { name: 'X', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'nope', optional: true } } }],
    ['missing optional Secret', { name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } }],
    ['missing optional Secret key', { name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope', optional: true } } }],
  ])('leaves the variable unset for a %s', (_name, v) => {
    expect('X' in envOf(c([v])).env).toBe(false);
  });

  it.each<[string, SpecEnvVar, string]>([
    ['missing ConfigMap', { name: 'X', valueFrom: { configMapKeyRef: { name: 'missing', key: 'k' } } }, 'configmap "missing" not found'],
    ['missing ConfigMap key', { name: 'X', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'nope' } } }, "couldn't find key nope in ConfigMap shop/app-config"],
    ['missing Secret', { name: 'X', valueFrom: { secretKeyRef: { name: 'gone', key: 'k' } } }, 'secret "gone" not found'],
    ['missing Secret key', { name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }, "couldn't find key nope in Secret shop/creds"],
    ['unsupported fieldRef', { name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.restartPolicy' } } }, 'unsupported fieldPath: spec.restartPolicy'],
    ['unknown resource', { name: 'X', valueFrom: { resourceFieldRef: { resource: 'limits.gpu' } } }, 'unsupported container resource : limits.gpu'],
  ])('fails with a ContainerConfigError for a %s', (_name, v, message) => {
    let caught: unknown;
    try {
      envOf(c([v]));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ContainerConfigError);
    expect((caught as ContainerConfigError).message).toBe(message);
    expect((caught as ContainerConfigError).reason).toBe('CreateContainerConfigError');
  });
});

describe('computeContainerEnv: envFrom', () => {
  it('imports a ConfigMap and a Secret with prefixes, skipping invalid names with a warning', () => {
    const r = envOf(c([], { envFrom: [{ configMapRef: { name: 'app-config' } }, { prefix: 'DB_', secretRef: { name: 'creds' } }] }));
    expect(r.env).toMatchObject({ LOG_LEVEL: 'debug', MODE: 'fast', DB_USER: 'admin', DB_PASSWORD: 's3cr3t' });
    expect('bad key' in r.env).toBe(false);
    expect('1ST' in r.env).toBe(false);
    expect(r.warnings).toEqual([
      {
        reason: 'InvalidEnvironmentVariableNames',
        message: 'Keys [1ST, bad key] from the EnvFrom configMap shop/app-config were skipped since they are considered invalid environment variable names.',
      },
    ]);
  });

  it('a prefix can make a key valid', () => {
    const r = envOf(c([], { envFrom: [{ prefix: 'P_', configMapRef: { name: 'app-config' } }] }));
    expect(r.env['P_1ST']).toBe('y');
  });

  it('skips a missing optional source and fails on a missing required one', () => {
    expect(envOf(c([], { envFrom: [{ configMapRef: { name: 'missing', optional: true } }] })).warnings).toEqual([]);
    expect(() => envOf(c([], { envFrom: [{ secretRef: { name: 'gone' } }] }))).toThrow('secret "gone" not found');
  });
});

describe('computeContainerEnv: order, overrides and expansion', () => {
  it('puts Service variables first, then envFrom, then env in declared order', () => {
    const r = envOf(c([{ name: 'Z_LAST', value: '1' }, { name: 'A_FIRST', value: '2' }], { envFrom: [{ secretRef: { name: 'creds' } }] }));
    const firstOwn = r.order.indexOf('USER');
    expect(r.order.slice(0, firstOwn).every((n) => n.startsWith('DB_') || n.startsWith('KUBERNETES_'))).toBe(true);
    expect(r.order.slice(firstOwn)).toEqual(['USER', 'PASSWORD', 'Z_LAST', 'A_FIRST']);
  });

  it('lets env override envFrom, and a later env entry override an earlier one', () => {
    const r = envOf(c([{ name: 'MODE', value: 'slow' }, { name: 'X', value: '1' }, { name: 'X', value: '2' }], { envFrom: [{ configMapRef: { name: 'app-config' } }] }));
    expect(r.env['MODE']).toBe('slow');
    expect(r.env['X']).toBe('2');
    expect(r.order.filter((n) => n === 'X')).toHaveLength(1);
  });

  it('lets the container override a Service variable, which then appears once', () => {
    const r = envOf(c([{ name: 'DB_SERVICE_HOST', value: 'db.local' }]));
    expect(r.env['DB_SERVICE_HOST']).toBe('db.local');
    expect(r.order.filter((n) => n === 'DB_SERVICE_HOST')).toHaveLength(1);
  });

  it('expands against envFrom, earlier env and Service variables, never later env', () => {
    const r = envOf(
      c(
        [
          { name: 'URL', value: 'postgres://$(USER)@$(DB_SERVICE_HOST):$(DB_SERVICE_PORT)/$(NAME)' },
          { name: 'NAME', value: 'shop' },
          { name: 'AGAIN', value: '$(NAME)-$(MODE_X)' },
          { name: 'LITERAL', value: '$$(NAME)' },
        ],
        { envFrom: [{ secretRef: { name: 'creds' } }] },
      ),
    );
    expect(r.env['URL']).toBe('postgres://admin@10.96.0.31:5432/$(NAME)');
    expect(r.env['AGAIN']).toBe('shop-$(MODE_X)');
    expect(r.env['LITERAL']).toBe('$(NAME)');
  });

  it('has only the master Service variables without service links', () => {
    const r = envOf(c([]), {}, false);
    expect(r.env['KUBERNETES_SERVICE_HOST']).toBe('10.96.0.1');
    expect(r.env['DB_SERVICE_HOST']).toBeUndefined();
  });

  it('gives the conformance Service variables', () => {
    const r = computeContainerEnv({
      pod: basePod(c([])),
      container: c([]),
      facts,
      objects: {
        ...objects,
        services: [{ metadata: { name: 'fooservice', namespace: 'shop' }, spec: { clusterIP: '10.96.0.9', ports: [{ port: 8765, protocol: 'TCP' }] } }],
      },
      enableServiceLinks: true,
      masterServiceNamespace: 'default',
    });
    expect(r.env.map((e) => e.name)).toEqual([
      'FOOSERVICE_SERVICE_HOST',
      'FOOSERVICE_SERVICE_PORT',
      'FOOSERVICE_PORT',
      'FOOSERVICE_PORT_8765_TCP',
      'FOOSERVICE_PORT_8765_TCP_PROTO',
      'FOOSERVICE_PORT_8765_TCP_PORT',
      'FOOSERVICE_PORT_8765_TCP_ADDR',
    ]);
  });
});

describe('envReferences', () => {
  it('lists each referenced ConfigMap and Secret once', () => {
    const refs = envReferences(
      c(
        [
          { name: 'A', valueFrom: { configMapKeyRef: { name: 'cm1', key: 'k' } } },
          { name: 'B', valueFrom: { secretKeyRef: { name: 's1', key: 'k' } } },
          { name: 'C', valueFrom: { configMapKeyRef: { name: 'cm2', key: 'k' } } },
        ],
        { envFrom: [{ configMapRef: { name: 'cm1' } }, { secretRef: { name: 's2' } }] },
      ),
    );
    expect(refs).toEqual({ configMaps: ['cm1', 'cm2'], secrets: ['s2', 's1'] });
  });
});

class MapLookup implements ObjectLookup {
  readonly serviceCalls: string[] = [];
  constructor(
    private readonly cms: ConfigMap[] = [],
    private readonly secrets: Secret[] = [],
    private readonly services: Service[] = [],
    private readonly fail?: Error,
  ) {}
  getConfigMap(ns: string, name: string): Promise<ConfigMap | undefined> {
    if (this.fail) return Promise.reject(this.fail);
    return Promise.resolve(this.cms.find((x) => x.metadata.namespace === ns && x.metadata.name === name));
  }
  getSecret(ns: string, name: string): Promise<Secret | undefined> {
    return Promise.resolve(this.secrets.find((x) => x.metadata.namespace === ns && x.metadata.name === name));
  }
  listServices(ns: string): Promise<readonly Service[]> {
    this.serviceCalls.push(ns);
    return Promise.resolve(this.services.filter((s) => s.metadata.namespace === ns));
  }
}

describe('PodEnvResolver', () => {
  const services: Service[] = [
    { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443 }] } },
    { metadata: { name: 'db', namespace: 'shop' }, spec: { clusterIP: '10.96.0.31', ports: [{ port: 5432 }] } },
  ];

  it('fetches what the container refers to and resolves it', async () => {
    const lookup = new MapLookup([cm('app-config', { LOG_LEVEL: 'info' })], [secret('creds', { USER: 'u' })], services);
    const container = c([{ name: 'L', valueFrom: { configMapKeyRef: { name: 'app-config', key: 'LOG_LEVEL' } } }], { envFrom: [{ secretRef: { name: 'creds' } }] });
    const env = await new PodEnvResolver(lookup).resolve(basePod(container), container, facts);
    const m = Object.fromEntries(env.map((e) => [e.name, e.value]));
    expect(m).toMatchObject({ L: 'info', USER: 'u', KUBERNETES_SERVICE_HOST: '10.96.0.1', DB_SERVICE_HOST: '10.96.0.31' });
    expect(lookup.serviceCalls.sort()).toEqual(['default', 'shop']);
  });

  it('honours enableServiceLinks: false from the pod spec and lists only the master namespace', async () => {
    const lookup = new MapLookup([], [], services);
    const container = c([]);
    const env = await new PodEnvResolver(lookup).resolve(basePod(container, { enableServiceLinks: false }), container, facts);
    expect(env.map((e) => e.name)).toContain('KUBERNETES_SERVICE_HOST');
    expect(env.map((e) => e.name)).not.toContain('DB_SERVICE_HOST');
    expect(lookup.serviceCalls).toEqual(['default']);
  });

  it('uses its enableServiceLinks option when the pod spec leaves it unset', async () => {
    const container = c([]);
    const env = await new PodEnvResolver(new MapLookup([], [], services), { enableServiceLinks: false }).resolve(basePod(container), container, facts);
    expect(env.map((e) => e.name)).not.toContain('DB_SERVICE_HOST');
  });

  it('reports skipped envFrom keys through onWarning', async () => {
    const warnings: string[] = [];
    const container = c([], { envFrom: [{ configMapRef: { name: 'cfg' } }] });
    await new PodEnvResolver(new MapLookup([cm('cfg', { 'a.b c': '1' })]), { onWarning: (_pod, w) => warnings.push(w.reason) }).resolve(
      basePod(container),
      container,
      facts,
    );
    expect(warnings).toEqual(['InvalidEnvironmentVariableNames']);
  });

  it('turns a failed lookup into a ContainerConfigError', async () => {
    const container = c([{ name: 'L', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }]);
    const resolver = new PodEnvResolver(new MapLookup([], [], [], new Error('apiserver unreachable')));
    await expect(resolver.resolve(basePod(container), container, facts)).rejects.toThrow(ContainerConfigError);
    await expect(resolver.resolve(basePod(container), container, facts)).rejects.toThrow('apiserver unreachable');
  });
});
