/**
 * Decoding whole bodies, built by hand with upstream's field numbers the way Go's marshaller writes
 * them: every non-pointer field present (zero or not), pointer fields only when set.
 */
import { describe, expect, it } from 'vitest';
import { ProtobufError } from './errors.js';
import { decodeObject, readEnvelope } from './object.js';
import { pb } from './test-encoder.js';

const JAN_2026 = 1767225600; // 2026-01-01T00:00:00Z

/** ObjectMeta as Go writes it: all string/int fields, an empty creationTimestamp, then maps and lists. */
function goMeta(m: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): Uint8Array {
  return pb.msg(
    pb.str(1, m.name ?? ''),
    pb.str(2, ''),
    pb.str(3, m.namespace ?? ''),
    pb.str(4, ''),
    pb.str(5, ''),
    pb.str(6, ''),
    pb.int(7, 0),
    pb.sub(8), // zero Time: an empty message
    ...Object.entries(m.labels ?? {}).map(([k, v]) => pb.entry(11, k, v)),
    ...Object.entries(m.annotations ?? {}).map(([k, v]) => pb.entry(12, k, v)),
  );
}

function failure(fn: () => unknown): ProtobufError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProtobufError) return err;
    throw err;
  }
  throw new Error('expected a ProtobufError');
}

describe('decodeObject: configuration kinds', () => {
  it('decodes a ConfigMap: data, binaryData as base64, empty values and labels kept, immutable false kept', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 'c', namespace: 't1', labels: { tier: '' } })),
      pb.entry(2, 'a', 'b'),
      pb.entry(2, 'empty', ''),
      pb.bytesEntry(3, 'bin', Uint8Array.of(0, 1, 2, 255)),
      pb.bool(4, false),
    );
    expect(decodeObject(pb.envelope('v1', 'ConfigMap', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c', namespace: 't1', labels: { tier: '' } },
      data: { a: 'b', empty: '' },
      binaryData: { bin: 'AAEC/w==' },
      immutable: false,
    });
  });

  it('keeps a map key named __proto__ as an ordinary key, as JSON.parse does', () => {
    const raw = pb.msg(pb.sub(1, goMeta({ name: 'c', labels: JSON.parse('{"__proto__":"x"}') as Record<string, string> })));
    const meta = decodeObject(pb.envelope('v1', 'ConfigMap', raw))['metadata'] as { labels: Record<string, string> };
    expect(Object.keys(meta.labels)).toEqual(['__proto__']);
    expect(meta.labels).toEqual(JSON.parse('{"__proto__":"x"}'));
  });

  it('decodes a Secret: data bytes become base64, type and stringData as strings', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 's', namespace: 't1' })),
      pb.bytesEntry(2, 'p', Buffer.from('q')),
      pb.str(3, 'Opaque'),
      pb.entry(4, 'plain', 'text'),
    );
    expect(decodeObject(pb.envelope('v1', 'Secret', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 't1' },
      data: { p: 'cQ==' },
      type: 'Opaque',
      stringData: { plain: 'text' },
    });
  });

  it('decodes a Namespace whose spec and status are empty structs into metadata alone', () => {
    const raw = pb.msg(pb.sub(1, goMeta({ name: 't1' })), pb.sub(2), pb.sub(3, pb.str(1, '')));
    expect(decodeObject(pb.envelope('v1', 'Namespace', raw))).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 't1' } });
  });

  it('decodes a ServiceAccount with secrets references and automount false', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 'sa', namespace: 't1' })),
      pb.sub(2, pb.str(1, 'Secret'), pb.str(2, ''), pb.str(3, 'tok'), pb.str(4, ''), pb.str(5, ''), pb.str(6, ''), pb.str(7, '')),
      pb.sub(3, pb.str(1, 'regcred')),
      pb.bool(4, false),
    );
    expect(decodeObject(pb.envelope('v1', 'ServiceAccount', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'sa', namespace: 't1' },
      secrets: [{ kind: 'Secret', name: 'tok' }],
      imagePullSecrets: [{ name: 'regcred' }],
      automountServiceAccountToken: false,
    });
  });
});

describe('decodeObject: workloads', () => {
  const container = pb.msg(
    pb.str(1, 'busybox'),
    pb.str(2, 'busybox'),
    pb.str(5, ''),
    pb.sub(6, pb.str(1, ''), pb.int(2, 0), pb.int(3, 8080), pb.str(4, 'TCP'), pb.str(5, '')),
    pb.sub(8, pb.quantityEntry(1, 'cpu', '500m'), pb.quantityEntry(2, 'memory', '64Mi')),
    pb.str(13, ''),
    pb.str(14, ''),
    pb.bool(16, false),
    pb.bool(17, false),
    pb.bool(18, false),
    pb.str(20, ''),
  );
  const podSpec = pb.msg(
    pb.sub(2, container),
    pb.str(3, ''),
    pb.str(6, ''),
    pb.str(8, ''),
    pb.bool(11, false),
    pb.sub(14), // securityContext: a pointer set to an empty struct
    pb.str(19, ''),
  );
  const deployment = pb.msg(
    pb.sub(1, goMeta({ name: 'd', namespace: 't1', labels: { app: 'd' } })),
    pb.sub(
      2,
      pb.int(1, 0), // replicas: *int32 set to 0
      pb.sub(2, pb.entry(1, 'app', 'd')),
      pb.sub(3, pb.sub(1, goMeta({ labels: { app: 'd' } })), pb.sub(2, podSpec)),
      pb.sub(4, pb.str(1, 'RollingUpdate'), pb.sub(2, pb.intOrInt(1, 0), pb.intOrStr(2, '25%'))),
      pb.int(5, 0),
      pb.bool(7, false),
    ),
    pb.sub(3, pb.int(1, 0), pb.int(2, 0), pb.int(3, 0), pb.int(4, 0), pb.int(5, 0), pb.int(7, 0)),
  );

  it('decodes a Deployment: replicas 0 kept, zero non-pointer fields dropped, IntOrString and quantities', () => {
    expect(decodeObject(pb.envelope('apps/v1', 'Deployment', deployment))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 't1', labels: { app: 'd' } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'd' } },
        template: {
          metadata: { labels: { app: 'd' } },
          spec: {
            containers: [
              {
                name: 'busybox',
                image: 'busybox',
                ports: [{ containerPort: 8080, protocol: 'TCP' }],
                resources: { limits: { cpu: '500m' }, requests: { memory: '64Mi' } },
              },
            ],
            securityContext: {},
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '25%' } },
      },
    });
  });

  it('decodes inline structs: volume sources, env key selectors and probe handlers', () => {
    const c = pb.msg(
      pb.str(1, 'app'),
      pb.sub(7, pb.str(1, 'MODE'), pb.str(2, ''), pb.sub(3, pb.sub(3, pb.sub(1, pb.str(1, 'cfg')), pb.str(2, 'mode')))),
      pb.sub(11, pb.sub(1, pb.sub(2, pb.str(1, '/healthz'), pb.intOrStr(2, 'http'), pb.str(3, ''), pb.str(4, 'HTTP'))), pb.int(2, 0), pb.int(4, 10)),
      pb.sub(15, pb.int(4, 0), pb.bool(5, true)),
    );
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 'p', namespace: 'default' })),
      pb.sub(
        2,
        pb.sub(1, pb.str(1, 'scratch'), pb.sub(2, pb.sub(2, pb.str(1, '')))),
        pb.sub(1, pb.str(1, 'cfg'), pb.sub(2, pb.sub(19, pb.sub(1, pb.str(1, 'cfg')), pb.int(3, 0o644)))),
        pb.sub(1, pb.str(1, 'cloud'), pb.sub(2, pb.sub(3, pb.str(1, 'disk')))),
        pb.sub(2, c),
        pb.int(25, -10),
      ),
    );
    const pod = decodeObject(pb.envelope('v1', 'Pod', raw));
    expect(pod['spec']).toEqual({
      volumes: [
        { name: 'scratch', emptyDir: {} },
        { name: 'cfg', configMap: { name: 'cfg', defaultMode: 420 } },
        // a source we do not model stays visible, so strict validation reports it
        { name: 'cloud', gcePersistentDisk: {} },
      ],
      containers: [
        {
          name: 'app',
          env: [{ name: 'MODE', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'mode' } } }],
          readinessProbe: { httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' }, periodSeconds: 10 },
          securityContext: { runAsUser: 0, runAsNonRoot: true },
        },
      ],
      priority: -10,
    });
  });

  it('accepts packed repeated numbers as well as unpacked ones', () => {
    const packed = pb.bytes(4, Uint8Array.from([...pb.varint(1000n), ...pb.varint(2000n)]));
    const raw = pb.msg(pb.sub(2, pb.sub(14, packed, pb.int(4, 3000))));
    expect(decodeObject(pb.envelope('v1', 'Pod', raw))['spec']).toEqual({ securityContext: { supplementalGroups: [1000, 2000, 3000] } });
  });
});

describe('decodeObject: services', () => {
  it('decodes ports with numeric and named targetPort, dropping nodePort 0 and the empty status', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 'svc', namespace: 't1' })),
      pb.sub(
        2,
        pb.sub(1, pb.str(1, '80-8080'), pb.str(2, 'TCP'), pb.int(3, 80), pb.intOrInt(4, 8080), pb.int(5, 0)),
        pb.sub(1, pb.str(1, 'https'), pb.str(2, 'TCP'), pb.int(3, 443), pb.intOrStr(4, 'web-tls'), pb.int(5, 0)),
        pb.entry(2, 'app', 'svc'),
        pb.str(3, ''),
        pb.str(4, 'ClusterIP'),
        pb.str(7, ''),
        pb.int(12, 0),
        pb.bool(13, false),
      ),
      pb.sub(3, pb.sub(1)),
    );
    expect(decodeObject(pb.envelope('v1', 'Service', raw))).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'svc', namespace: 't1' },
      spec: {
        ports: [
          { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
          { name: 'https', protocol: 'TCP', port: 443, targetPort: 'web-tls' },
        ],
        selector: { app: 'svc' },
        type: 'ClusterIP',
      },
    });
  });
});

describe('decodeObject: times', () => {
  it('prints Time in whole seconds and drops the zero time', () => {
    const meta = pb.msg(pb.str(1, 'p'), pb.time(8, JAN_2026, 999_000_000), pb.time(9, JAN_2026 + 30), pb.int(10, 0));
    expect(decodeObject(pb.envelope('v1', 'Pod', pb.msg(pb.sub(1, meta))))['metadata']).toEqual({
      name: 'p',
      creationTimestamp: '2026-01-01T00:00:00Z',
      deletionTimestamp: '2026-01-01T00:00:30Z',
      deletionGracePeriodSeconds: 0,
    });
  });

  it("treats Go's year-1 zero time like an empty one", () => {
    const meta = pb.msg(pb.str(1, 'p'), pb.time(8, -62135596800));
    expect(decodeObject(pb.envelope('v1', 'Pod', pb.msg(pb.sub(1, meta))))['metadata']).toEqual({ name: 'p' });
  });

  it('prints MicroTime with six fractional digits (Event.eventTime, Lease.renewTime)', () => {
    const event = pb.msg(pb.sub(1, goMeta({ name: 'e', namespace: 'default' })), pb.time(10, JAN_2026, 123_456_789), pb.int(8, 2));
    expect(decodeObject(pb.envelope('v1', 'Event', event))).toMatchObject({ eventTime: '2026-01-01T00:00:00.123456Z', count: 2 });
    const lease = pb.msg(pb.sub(1, goMeta({ name: 'n1' })), pb.sub(2, pb.str(1, 'n1'), pb.int(2, 40), pb.time(4, JAN_2026)));
    expect(decodeObject(pb.envelope('coordination.k8s.io/v1', 'Lease', lease))['spec']).toEqual({
      holderIdentity: 'n1',
      leaseDurationSeconds: 40,
      renewTime: '2026-01-01T00:00:00.000000Z',
    });
  });

  it('refuses a timestamp past year 9999', () => {
    const meta = pb.msg(pb.time(8, 253402300800));
    const err = failure(() => decodeObject(pb.envelope('v1', 'Pod', pb.msg(pb.sub(1, meta)))));
    expect(err.code).toBe('ERR_PROTOBUF_BAD_VALUE');
    expect(err.path).toBe('metadata.creationTimestamp');
  });
});

describe('decodeObject: options and subresource bodies', () => {
  it('decodes DeleteOptions sent under any group version, keeping gracePeriodSeconds 0', () => {
    const raw = pb.msg(pb.int(1, 0), pb.sub(2, pb.str(1, 'u-1')), pb.str(4, 'Foreground'), pb.str(5, 'All'));
    expect(decodeObject(pb.envelope('apps/v1', 'DeleteOptions', raw), { apiVersion: 'meta.k8s.io/v1', kind: 'DeleteOptions' })).toEqual({
      apiVersion: 'apps/v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: 0,
      preconditions: { uid: 'u-1' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
  });

  it('decodes a Binding and a policy/v1 Eviction', () => {
    const binding = pb.msg(pb.sub(1, goMeta({ name: 'p', namespace: 'default' })), pb.sub(2, pb.str(1, 'Node'), pb.str(3, 'n1')));
    expect(decodeObject(pb.envelope('v1', 'Binding', binding))).toEqual({
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'p', namespace: 'default' },
      target: { kind: 'Node', name: 'n1' },
    });
    const eviction = pb.msg(pb.sub(1, goMeta({ name: 'p' })), pb.sub(2, pb.int(1, 5)));
    expect(decodeObject(pb.envelope('policy/v1', 'Eviction', eviction))['deleteOptions']).toEqual({ gracePeriodSeconds: 5 });
  });

  it('uses the expected type when the envelope carries no TypeMeta', () => {
    const body = Buffer.concat([Uint8Array.of(0x6b, 0x38, 0x73, 0x00), pb.bytes(2, pb.msg(pb.sub(1, goMeta({ name: 'c' }))))]);
    expect(decodeObject(body, { apiVersion: 'v1', kind: 'ConfigMap' })).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } });
  });

  it('skips field numbers it does not know, of every wire type', () => {
    const raw = pb.msg(
      pb.sub(1, goMeta({ name: 'c' }), pb.str(99, 'future')),
      pb.int(90, 7),
      Uint8Array.of(0xd1, 0x05, 1, 2, 3, 4, 5, 6, 7, 8), // field 90, fixed64
      Uint8Array.of(0xd5, 0x05, 1, 2, 3, 4), // field 90, fixed32
      pb.entry(2, 'a', 'b'),
    );
    expect(decodeObject(pb.envelope('v1', 'ConfigMap', raw))).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { a: 'b' } });
  });
});

describe('decodeObject: malformed bodies', () => {
  const configMap = pb.msg(pb.sub(1, goMeta({ name: 'c' })), pb.entry(2, 'a', 'b'));

  it.each([
    ['a JSON body', Buffer.from('{"kind":"ConfigMap"}'), 'ERR_PROTOBUF_NO_MAGIC', 0],
    ['an empty body', Buffer.alloc(0), 'ERR_PROTOBUF_NO_MAGIC', 0],
    // the raw field's length (at byte 22, after magic and TypeMeta) runs past the cut
    ['a body cut inside the object', pb.envelope('v1', 'ConfigMap', configMap).subarray(0, 30), 'ERR_PROTOBUF_TRUNCATED', 22],
  ])('refuses %s', (_, body, code, offset) => {
    const err = failure(() => decodeObject(body, { apiVersion: 'v1', kind: 'ConfigMap' }));
    expect(err.code).toBe(code);
    expect(err.offset).toBe(offset);
  });

  it('names the field of a truncated value inside the object', () => {
    // data entry whose value claims 9 bytes with 1 left
    const raw = pb.msg(pb.sub(1, goMeta({ name: 'c' })), pb.bytes(2, Uint8Array.of(0x0a, 0x01, 0x61, 0x12, 0x09, 0x62)));
    const err = failure(() => decodeObject(pb.envelope('v1', 'ConfigMap', raw)));
    expect(err.code).toBe('ERR_PROTOBUF_TRUNCATED');
    expect(err.path).toBe('data[a]');
  });

  it('refuses a field of the wrong wire type, naming it', () => {
    const raw = pb.msg(pb.sub(1, goMeta({ name: 'd' })), pb.sub(2, pb.str(1, 'three')));
    const err = failure(() => decodeObject(pb.envelope('apps/v1', 'Deployment', raw)));
    expect(err.code).toBe('ERR_PROTOBUF_WIRE_TYPE');
    expect(err.message).toMatch(/\(spec\.replicas\): field 1 has wire type length-delimited, expected varint$/);
  });

  it('refuses a body of another kind than the one addressed', () => {
    const err = failure(() => decodeObject(pb.envelope('v1', 'Secret', configMap), { apiVersion: 'v1', kind: 'ConfigMap' }));
    expect(err.code).toBe('ERR_PROTOBUF_WRONG_KIND');
    expect(err.detail).toBe('the body holds a Secret (v1), expected a ConfigMap (v1)');
  });

  it('tells core and events.k8s.io Events apart', () => {
    const err = failure(() => decodeObject(pb.envelope('events.k8s.io/v1', 'Event', configMap), { apiVersion: 'v1', kind: 'Event' }));
    expect(err.code).toBe('ERR_PROTOBUF_WRONG_KIND');
  });

  it('refuses a kind it has no table for', () => {
    expect(failure(() => decodeObject(pb.envelope('example.com/v1', 'Widget', configMap))).detail).toBe('no protobuf decoding for Widget in example.com/v1');
  });

  it('refuses kinds named after object prototype properties', () => {
    for (const kind of ['constructor', '__proto__', 'toString']) {
      expect(failure(() => decodeObject(pb.envelope('v1', kind, configMap))).code).toBe('ERR_PROTOBUF_WRONG_KIND');
    }
  });

  it('refuses a compressed envelope', () => {
    const body = Buffer.concat([pb.envelope('v1', 'ConfigMap', configMap), pb.str(3, 'gzip')]);
    expect(failure(() => decodeObject(body)).code).toBe('ERR_PROTOBUF_UNSUPPORTED');
  });

  it('refuses an IntOrString of an unknown type', () => {
    const raw = pb.msg(pb.sub(2, pb.sub(1, pb.int(3, 80), pb.sub(4, pb.int(1, 2)))));
    const err = failure(() => decodeObject(pb.envelope('v1', 'Service', raw)));
    expect(err.code).toBe('ERR_PROTOBUF_BAD_VALUE');
    expect(err.path).toBe('spec.ports[0].targetPort');
  });

  it('reads the envelope fields', () => {
    const env = readEnvelope(pb.envelope('apps/v1', 'Deployment', Uint8Array.of(1, 2, 3)));
    expect(env).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', contentEncoding: '', contentType: '' });
    expect(env.raw.end - env.raw.start).toBe(3);
  });
});
