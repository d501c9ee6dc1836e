import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Container } from '../../api/core/pod.js';
import { createCA, createServingCert, encodeCertKeyPair } from '../../lib/pki/index.js';
import { buildHttpGetRequest } from './http-get.js';
import { runHttpProbe } from './runners.js';

const container: Container = { name: 'web', ports: [{ name: 'http', containerPort: 8080 }] };

describe('buildHttpGetRequest', () => {
  it('targets the pod IP, the named port and the path, with kube-probe User-Agent and Accept */*', () => {
    const req = buildHttpGetRequest({ port: 'http', path: '/healthz?verbose=1' }, container, '10.244.1.5', 'probe');
    expect(req.url.href).toBe('http://10.244.1.5:8080/healthz?verbose=1');
    expect(req.headers).toEqual([
      ['User-Agent', 'kube-probe/1.32'],
      ['Accept', '*/*'],
    ]);
    expect(req.host).toBeUndefined();
  });

  it('uses host and scheme when given, and a path without a leading slash', () => {
    const req = buildHttpGetRequest({ port: 8443, host: 'example.test', scheme: 'HTTPS', path: 'ready' }, container, '10.244.1.5', 'lifecycle');
    expect(req.url.href).toBe('https://example.test:8443/ready');
    expect(req.headers).toContainEqual(['User-Agent', 'kube-lifecycle/1.32']);
  });

  it('brackets IPv6 pod addresses', () => {
    expect(buildHttpGetRequest({ port: 8080 }, container, 'fd00::5', 'probe').url.href).toBe('http://[fd00::5]:8080/');
  });

  it('honours user headers: a Host entry sets the Host, an empty Accept or User-Agent sends none', () => {
    const req = buildHttpGetRequest(
      {
        port: 80,
        httpHeaders: [
          { name: 'Host', value: 'muffins.example' },
          { name: 'accept', value: '' },
          { name: 'User-Agent', value: '' },
          { name: 'X-Custom', value: 'a' },
          { name: 'X-Custom', value: 'b' },
        ],
      },
      container,
      '10.0.0.1',
      'probe',
    );
    expect(req.host).toBe('muffins.example');
    expect(req.headers).toEqual([
      ['X-Custom', 'a'],
      ['X-Custom', 'b'],
    ]);
  });
});

describe('runHttpProbe against a loopback server', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  });

  async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void, server: Server = createServer()): Promise<number> {
    server.on('request', handler);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    return (server.address() as AddressInfo).port;
  }

  const probeAt = (port: number, path = '/', extra: Partial<Parameters<typeof buildHttpGetRequest>[0]> = {}, host = '127.0.0.1', timeout = 1) =>
    runHttpProbe(buildHttpGetRequest({ port, path, ...extra }, container, host, 'probe'), timeout);

  it('succeeds on 2xx and returns the body', async () => {
    const port = await serve((_req, res) => res.writeHead(204).end());
    expect(await probeAt(port)).toEqual({ result: 'success', output: '' });
    const port2 = await serve((_req, res) => res.end('ok body'));
    expect(await probeAt(port2)).toEqual({ result: 'success', output: 'ok body' });
  });

  it('fails on 4xx/5xx with upstream wording', async () => {
    const port = await serve((_req, res) => res.writeHead(503).end('down'));
    expect(await probeAt(port)).toEqual({ result: 'failure', output: 'HTTP probe failed with statuscode: 503' });
  });

  it('sends the request headers: User-Agent, custom headers and the Host override', async () => {
    let seen: IncomingMessage['headers'] = {};
    const port = await serve((req, res) => {
      seen = req.headers;
      res.end('ok');
    });
    await probeAt(port, '/', { httpHeaders: [{ name: 'X-Muffins', value: 'yes' }, { name: 'Host', value: 'cupcakes.example' }] });
    expect(seen['user-agent']).toBe('kube-probe/1.32');
    expect(seen['x-muffins']).toBe('yes');
    expect(seen['host']).toBe('cupcakes.example');
    expect(seen['accept']).toBe('*/*');
  });

  it('follows a redirect on the same host, keeping the Host header', async () => {
    const port = await serve((req, res) => {
      if (req.url === '/old') res.writeHead(302, { Location: '/new' }).end();
      else if (req.url === '/new' && req.headers.host === 'h.example') res.end('moved here');
      else res.writeHead(500).end();
    });
    expect(await probeAt(port, '/old', { httpHeaders: [{ name: 'Host', value: 'h.example' }] })).toEqual({ result: 'success', output: 'moved here' });
  });

  it('follows a redirect to another port of the same host name', async () => {
    const target = await serve((_req, res) => res.writeHead(500).end());
    const port = await serve((_req, res) => res.writeHead(301, { Location: `http://127.0.0.1:${target}/x` }).end());
    expect((await probeAt(port)).result).toBe('failure');
  });

  it('does not follow a redirect to another host: success with a warning', async () => {
    const port = await serve((_req, res) => res.writeHead(302, { Location: 'http://192.0.2.1/fail' }).end('see other'));
    expect(await probeAt(port)).toEqual({ result: 'warning', output: 'Probe terminated redirects, Response body: see other' });
  });

  it('fails a redirect loop after 10 redirects', async () => {
    let hits = 0;
    const port = await serve((_req, res) => {
      hits++;
      res.writeHead(302, { Location: '/loop' }).end();
    });
    const out = await probeAt(port, '/loop');
    expect(out).toEqual({ result: 'failure', output: `Get "http://127.0.0.1:${port}/loop": stopped after 10 redirects` });
    expect(hits).toBe(10);
  });

  it('fails when the server does not answer within the timeout', async () => {
    const port = await serve(() => {
      // never answers
    });
    const started = Date.now();
    const out = await runHttpProbe(buildHttpGetRequest({ port, path: '/slow' }, container, '127.0.0.1', 'probe'), 0.2);
    expect(out.result).toBe('failure');
    expect(out.output).toBe(`Get "http://127.0.0.1:${port}/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails with connection refused worded as Go does', async () => {
    const port = await serve((_req, res) => res.end());
    await new Promise<void>((r) => servers.pop()?.close(() => r()));
    expect(await probeAt(port, '/healthz')).toEqual({
      result: 'failure',
      output: `Get "http://127.0.0.1:${port}/healthz": dial tcp 127.0.0.1:${port}: connect: connection refused`,
    });
  });

  it('reads at most 10 KiB of the body', async () => {
    const port = await serve((_req, res) => res.end('a'.repeat(64 * 1024)));
    const out = await probeAt(port);
    expect(out.result).toBe('success');
    expect(out.output).toHaveLength(10 * 1024);
  });

  it('probes HTTPS without verifying the certificate', async () => {
    const ca = await createCA('probe-test-ca');
    const { certPem, keyPem } = await encodeCertKeyPair(await createServingCert(ca, { commonName: 'pod', ips: ['10.9.9.9'], dnsNames: [] }));
    const port = await serve((_req, res) => res.end('secure'), createHttpsServer({ cert: certPem, key: keyPem }));
    expect(await probeAt(port, '/', { scheme: 'HTTPS' })).toEqual({ result: 'success', output: 'secure' });
  });
});
