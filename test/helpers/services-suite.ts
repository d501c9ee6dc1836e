/**
 * Services through the kube-proxy of `knode agent`, in either mode on a real lab (`knode lab up
 * --nodes 2`: the server runs the EndpointSlice controller, each worker's agent runs the proxy),
 * checked the way upstream's Service conformance tests do it (targets.md "Services"): a client pod's
 * testserver `/dial` endpoint asks a Service many times and every answer must be a backend pod's name.
 *
 * Backends: web-w1 (HTTP 8083, UDP 8081) and web-w2 (HTTP 9083, UDP 9081): the Services name their
 * target ports (`http`, `udp`), so a named port resolves to a different number on each pod.
 *
 * The lab has no default route (platform rules), so it gives each worker a route for the Service
 * range onto its underlay, as any real node's default route would (without it a packet to a cluster
 * IP that no rule DNATs would die in routing before the proxy's reject rules see it, and the node
 * itself could not reach a cluster IP at all); beforeAll checks it is there. Requests go into lab
 * namespaces (`ip netns exec ... curl`), never through the machine's own namespace; `lab down` runs in
 * afterAll whatever happened.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labName, TestLab } from './lab.js';
import { CLI } from './server.js';
import { waitFor } from './wait.js';

/** Registers the whole Services suite for one proxy mode (its own lab: `knode lab up --proxy-mode`). */
export function describeServices(mode: 'nftables' | 'iptables'): void {
  const lab = new TestLab(labName(mode === 'nftables' ? 'kp' : 'kpi'));
  const IMAGE = 'knode.local/testserver:1.0';

  /**
   * The proxy's rules on a host as text: its nft tables (`knode-proxy` and the service tables
   * `knode-proxy-svc-N`), or the whole nat table in iptables mode.
   */
  async function proxyRules(host: string): Promise<string> {
    if (mode === 'iptables') {
      const r = await lab.inHost(host, ['iptables-save', '-t', 'nat']);
      return r.code === 0 ? r.stdout : '';
    }
    const r = await lab.inHost(host, ['nft', 'list', 'ruleset', 'ip']);
    if (r.code !== 0) return '';
    return r.stdout
      .split(/^(?=table )/m)
      .filter((block) => /^table ip knode-proxy(-svc-\d+)? \{/.test(block))
      .join('');
  }
  const SERVICE_CIDR = '10.96.0.0/12';

  interface PodView {
    metadata: { name: string };
    status?: { podIP?: string; conditions?: Array<{ type: string; status: string }>; phase?: string; containerStatuses?: Array<{ restartCount: number }> };
  }
  interface ServiceView {
    spec: { clusterIP: string; ports: Array<{ name?: string; port: number; nodePort?: number }>; healthCheckNodePort?: number };
  }

  const isReady = (p: PodView | undefined): boolean => p?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

  async function readyPodIP(name: string): Promise<string> {
    return waitFor(
      `pod ${name} Ready`,
      async () => {
        const r = await lab.kubectl(['get', 'pod', name, '-o', 'json']);
        const p = r.code === 0 ? (JSON.parse(r.stdout) as PodView) : undefined;
        return isReady(p) ? p?.status?.podIP : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 250 },
    );
  }

  function testserver(name: string, node: string, labels: Record<string, string>, http = 8083, udp = 8081): unknown {
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: {
        nodeName: node,
        terminationGracePeriodSeconds: 1,
        containers: [
          {
            name: 'app',
            image: IMAGE,
            args: [`--http-port=${http}`, `--udp-port=${udp}`],
            ports: [
              { name: 'http', containerPort: http },
              { name: 'udp', containerPort: udp, protocol: 'UDP' },
            ],
            readinessProbe: { tcpSocket: { port: http }, periodSeconds: 1 },
          },
        ],
      },
    };
  }

  type Port = { name: string; port: number; targetPort: string | number; protocol?: 'TCP' | 'UDP' };
  async function createService(name: string, selector: Record<string, string>, ports: Port[], spec: Record<string, unknown> = {}): Promise<ServiceView> {
    await lab.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector, ports, ...spec } });
    return JSON.parse(await lab.kubectlOk(['get', 'service', name, '-o', 'json'])) as ServiceView;
  }

  interface DialAnswer {
    responses: string[];
    errors: string[];
  }

  /** The testserver at `via` (reached from inside `host`) asks target:port `tries` times. */
  async function dial(host: string, via: string, protocol: 'http' | 'udp', target: string, port: number, tries: number, request = 'hostname'): Promise<DialAnswer> {
    const url = `http://${via}:8083/dial?request=${request}&protocol=${protocol}&host=${target}&port=${port}&tries=${tries}`;
    const r = await lab.inHost(host, ['curl', '-sS', '--max-time', '60', url], 70_000);
    if (r.code !== 0) throw new Error(`curl ${url} in ${host} failed (${r.code}): ${r.stderr}`);
    return JSON.parse(r.stdout) as DialAnswer;
  }

  /** Waits until `tries` dials answer only from `allowed`, and returns the set of names heard. */
  async function heard(host: string, via: string, protocol: 'http' | 'udp', target: string, port: number, tries: number, allowed: readonly string[]): Promise<Set<string>> {
    let last: DialAnswer | undefined;
    return waitFor(
      () => `${protocol} ${target}:${port} answering from ${allowed.join(',')} (last: ${JSON.stringify(last)})`,
      async () => {
        last = await dial(host, via, protocol, target, port, tries);
        const ok = last.errors.length === 0 && last.responses.length === tries && last.responses.every((r) => allowed.includes(r));
        return ok ? new Set(last.responses) : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  /**
   * Upstream's "hit every endpoint" check: dials until one round of `tries` answers without error from
   * every name in `expected`, and returns the names of that round. A round that hears a name outside
   * `expected` is returned at once, so the caller's equality assertion fails on it rather than waiting
   * it out; rounds that hear only some backends are retried (the proxies may still be programming the
   * Service), so a partial answer is never mistaken for the final one.
   */
  async function heardAll(host: string, via: string, protocol: 'http' | 'udp', target: string, port: number, tries: number, expected: readonly string[]): Promise<Set<string>> {
    let last: DialAnswer | undefined;
    return waitFor(
      () => `${protocol} ${target}:${port} answering from all of ${expected.join(',')} (last: ${JSON.stringify(last)})`,
      async () => {
        last = await dial(host, via, protocol, target, port, tries);
        const names = new Set(last.responses);
        if ([...names].some((n) => !expected.includes(n))) return names;
        const complete = last.errors.length === 0 && last.responses.length === tries && names.size === expected.length;
        return complete ? names : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
  }

  const ips: Record<string, string> = {};
  const nodeIP: Record<string, string> = {};

  beforeAll(async () => {
    await lab.up(2, { proxyMode: mode });
    for (const w of ['w1', 'w2']) {
      const node = JSON.parse(await lab.kubectlOk(['get', 'node', w, '-o', 'json'])) as { status: { addresses: Array<{ type: string; address: string }> } };
      nodeIP[w] = node.status.addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
      const r = await lab.inHost(w, ['ip', 'route', 'show', SERVICE_CIDR]);
      if (!r.stdout.includes(SERVICE_CIDR)) throw new Error(`the lab gave ${w} no route for ${SERVICE_CIDR}: ${r.stdout}${r.stderr}`);
    }
    await lab.apply(testserver('web-w1', 'w1', { app: 'web', hairpin: 'yes', local: 'yes' }));
    await lab.apply(testserver('web-w2', 'w2', { app: 'web' }, 9083, 9081));
    await lab.apply(testserver('client-w1', 'w1', { app: 'client' }));
    await lab.apply(testserver('client-w2', 'w2', { app: 'client' }));
    for (const p of ['web-w1', 'web-w2', 'client-w1', 'client-w2']) ips[p] = await readyPodIP(p);
  }, 300_000);

  afterAll(async () => {
    await lab.down();
  }, 180_000);

  const WEB = ['web-w1', 'web-w2'];
  const HTTP: Port = { name: 'http', port: 80, targetPort: 'http' };

  describe(`Services (${mode}): ClusterIP, NodePort, multiport`, () => {
    it.each(['client-w1', 'client-w2'])('a ClusterIP answers %s from both backends (named target port resolved per pod)', async (client) => {
      const svc = await createService('web', { app: 'web' }, [HTTP]);
      const host = client === 'client-w1' ? 'w1' : 'w2';
      expect(await heardAll(host, ips[client] ?? '', 'http', svc.spec.clusterIP, 80, 20, WEB)).toEqual(new Set(WEB));
    });

    it('cluster DNS: pods on both nodes find a Service by its short name (kube-dns through the proxy to the control plane) and reach it', async () => {
      const svc = await createService('by-name', { app: 'web' }, [HTTP]);
      for (const client of ['client-w1', 'client-w2']) {
        // busybox's nslookup asks the nameserver of the pod's resolv.conf (10.96.0.10) for the full name
        const full = await waitFor(`${client}: nslookup by-name.default.svc.cluster.local`, async () => {
          const r = await lab.kubectl(['exec', client, '--', 'nslookup', '-type=a', 'by-name.default.svc.cluster.local']);
          return r.code === 0 ? r.stdout : undefined;
        }, { timeoutMs: 30_000, intervalMs: 500 });
        expect(full).toContain(`Address: ${svc.spec.clusterIP}`);
        // wget resolves the short name through the search path (ndots 5), as an application does
        const answer = await waitFor(`${client}: wget http://by-name/hostname`, async () => {
          const r = await lab.kubectl(['exec', client, '--', 'wget', '-qO-', 'http://by-name/hostname']); // (busybox-static's wget -T crashes)
          return r.code === 0 ? r.stdout : undefined;
        }, { timeoutMs: 30_000, intervalMs: 500 });
        expect(WEB).toContain(answer);
      }
    });

    it('a NodePort answers at each node IP, from a pod (including its own node) and from the node itself', async () => {
      const svc = await createService('web-np', { app: 'web' }, [HTTP], { type: 'NodePort' });
      const np = svc.spec.ports[0]?.nodePort ?? 0;
      expect(np).toBeGreaterThanOrEqual(30000);
      for (const w of ['w1', 'w2']) {
        expect(await heardAll('w1', ips['client-w1'] ?? '', 'http', nodeIP[w] ?? '', np, 20, WEB)).toEqual(new Set(WEB));
      }
      for (const [from, to] of [['w1', 'w1'], ['w1', 'w2'], ['w2', 'w1']] as const) {
        const r = await lab.inHost(from, ['curl', '-sS', '--max-time', '5', `http://${nodeIP[to]}:${np}/hostname`]);
        expect(r.code, `${from} -> ${to}:${np}: ${r.stderr}`).toBe(0);
        expect(WEB).toContain(r.stdout);
      }
    });

    it('a multiport Service with named target ports answers on every port and protocol', async () => {
      const svc = await createService('multi', { app: 'web' }, [HTTP, { name: 'dns', port: 53, targetPort: 'udp', protocol: 'UDP' }]);
      expect(await heardAll('w2', ips['client-w2'] ?? '', 'http', svc.spec.clusterIP, 80, 20, WEB)).toEqual(new Set(WEB));
      expect(await heardAll('w2', ips['client-w2'] ?? '', 'udp', svc.spec.clusterIP, 53, 20, WEB)).toEqual(new Set(WEB));
    });

    it('answers /healthz on the node IP with the last sync time', async () => {
      const r = await lab.inHost('w1', ['curl', '-sS', '-w', '\n%{http_code}', `http://${nodeIP['w1']}:10256/healthz`]);
      const [body, code] = r.stdout.split('\n');
      expect(code).toBe('200');
      const h = JSON.parse(body ?? '{}') as { lastUpdated: string; currentTime: string; nodeEligible: boolean };
      expect(Date.parse(h.lastUpdated)).toBeLessThanOrEqual(Date.parse(h.currentTime));
      expect(h.nodeEligible).toBe(true);
    });

    it('serves the health check node port of an externalTrafficPolicy Local Service with the local endpoint count', async () => {
      const svc = await createService('lb-local', { local: 'yes' }, [HTTP], { type: 'LoadBalancer', externalTrafficPolicy: 'Local' });
      const hc = svc.spec.healthCheckNodePort ?? 0;
      expect(hc).toBeGreaterThan(0);
      const probe = async (w: string): Promise<[string, unknown]> => {
        const r = await lab.inHost(w, ['curl', '-sS', '-w', '\n%{http_code}', `http://${nodeIP[w]}:${hc}/`]);
        const [body, code] = r.stdout.split('\n');
        return [code ?? '', body !== undefined && body !== '' ? JSON.parse(body) : undefined];
      };
      const service = { namespace: 'default', name: 'lb-local' };
      await waitFor('w1 healthy with 1 local endpoint', async () => JSON.stringify(await probe('w1')) === JSON.stringify(['200', { service, localEndpoints: 1, serviceProxyHealthy: true }]));
      expect(await probe('w2')).toEqual(['503', { service, localEndpoints: 0, serviceProxyHealthy: true }]);
    });
  });

  describe(`Services (${mode}): affinity, protocols, rejection, hairpin`, () => {
    it('session affinity ClientIP gives 15 identical answers; switched off, several backends answer; on again, sticky again', async () => {
      const svc = await createService('sticky', { app: 'web' }, [HTTP], { sessionAffinity: 'ClientIP' });
      const ip = svc.spec.clusterIP;
      expect((await heard('w1', ips['client-w1'] ?? '', 'http', ip, 80, 15, WEB)).size).toBe(1);
      await lab.kubectlOk(['patch', 'service', 'sticky', '--type', 'merge', '-p', '{"spec":{"sessionAffinity":"None"}}']);
      await waitFor('several backends answering once affinity is off', async () => (await heard('w1', ips['client-w1'] ?? '', 'http', ip, 80, 20, WEB)).size === 2);
      await lab.kubectlOk(['patch', 'service', 'sticky', '--type', 'merge', '-p', '{"spec":{"sessionAffinity":"ClientIP"}}']);
      await waitFor('sticky again', async () => (await heard('w1', ips['client-w1'] ?? '', 'http', ip, 80, 15, WEB)).size === 1);
    });

    it('the same port on TCP and UDP; with UDP removed, an open UDP flow stops within 30 s and TCP keeps answering', async () => {
      const tcp: Port = { name: 'tcp', port: 8000, targetPort: 'http' };
      const svc = await createService('both', { app: 'web' }, [tcp, { name: 'udp', port: 8000, targetPort: 'udp', protocol: 'UDP' }]);
      const ip = svc.spec.clusterIP;
      expect(await heard('w1', ips['client-w1'] ?? '', 'http', ip, 8000, 10, WEB)).not.toEqual(new Set());
      expect(await heard('w1', ips['client-w1'] ?? '', 'udp', ip, 8000, 10, WEB)).not.toEqual(new Set());
      // one long-lived UDP flow (a fixed source port) from the node: its conntrack entry keeps its NAT
      // for 120 s unless the proxy deletes it
      const script = `const s=require('dgram').createSocket('udp4');s.on('message',(m)=>console.log(Date.now()+' '+m));s.bind(40000,()=>setInterval(()=>s.send('hostname',8000,'${ip}'),200));`;
      const flow = spawn('ip', ['netns', 'exec', lab.netns('w1'), process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      const replies: number[] = [];
      flow.stdout.on('data', (d: Buffer) => {
        for (const line of d.toString().trim().split('\n')) replies.push(Number(line.split(' ')[0]));
      });
      try {
        await waitFor('UDP replies on the long-lived flow', () => replies.length >= 5);
        const removedAt = Date.now();
        await createService('both', { app: 'web' }, [tcp]);
        const stoppedAt = await waitFor(
          'the UDP flow to stop',
          () => {
            const last = replies.at(-1) ?? 0;
            return Date.now() - last > 2_000 ? last : undefined;
          },
          { timeoutMs: 35_000, intervalMs: 200 },
        );
        expect(stoppedAt - removedAt).toBeLessThan(30_000);
        expect(await heard('w1', ips['client-w1'] ?? '', 'http', ip, 8000, 5, WEB)).not.toEqual(new Set());
      } finally {
        flow.kill('SIGKILL');
      }
    });

    it('a Service without endpoints rejects at once: connection refused within 1 s', async () => {
      const svc = await createService('empty', { app: 'nothing' }, [HTTP]);
      const ip = svc.spec.clusterIP;
      // from a pod: one try answers (with an error) well before the dial's 1 s connect timeout
      await waitFor('the rejection in place', async () => (await dial('w1', ips['client-w1'] ?? '', 'http', ip, 80, 1)).errors.length === 1);
      const t0 = performance.now();
      const answer = await dial('w1', ips['client-w1'] ?? '', 'http', ip, 80, 1);
      expect(performance.now() - t0).toBeLessThan(1_000);
      expect(answer).toEqual({ responses: [], errors: [`http ${ip}:80: no answer`] });
      // from the node: a TCP reset, i.e. ECONNREFUSED (not EHOSTUNREACH, not a timeout), within 1 s
      const connect = `const t=Date.now();require('net').connect(80,'${ip}').on('connect',()=>{console.log('connected');process.exit(0)}).on('error',(e)=>{console.log(e.code+' '+(Date.now()-t));process.exit(0)});setTimeout(()=>{console.log('timeout');process.exit(0)},5000)`;
      const r = await lab.inHost('w2', [process.execPath, '-e', connect]);
      const [code, ms] = r.stdout.trim().split(' ');
      expect(code, r.stdout + r.stderr).toBe('ECONNREFUSED');
      expect(Number(ms)).toBeLessThan(1_000);
    });

    it('hairpin: a pod reaching its own Service lands on itself and gets an answer', async () => {
      const svc = await createService('self', { hairpin: 'yes' }, [HTTP]);
      expect(await heard('w1', ips['web-w1'] ?? '', 'http', svc.spec.clusterIP, 80, 5, ['web-w1'])).toEqual(new Set(['web-w1']));
    });
  });

  describe(`Services (${mode}): restarts and cleanup`, () => {
    it('keeps an established TCP connection through a ClusterIP across agent restarts', async () => {
      await lab.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'tcp-server', labels: { app: 'tcp-server' } },
        spec: { nodeName: 'w2', restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', 'sleep 100000 | nc -l -p 9000'] }] },
      });
      const serverIP = await readyPodIP('tcp-server');
      const svc = await createService('tcp', { app: 'tcp-server' }, [{ name: 'nc', port: 9000, targetPort: 9000 }]);
      // the server accepts one connection only and the client does not retry: start the client once
      // w1's proxy DNATs the ClusterIP to the server (a probe connection would use the server up)
      await waitFor('w1 to program the tcp Service', async () => (await proxyRules('w1')).includes(`${serverIP}:9000`));
      await lab.apply({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'tcp-client' },
        spec: {
          nodeName: 'w1',
          restartPolicy: 'Never',
          terminationGracePeriodSeconds: 1,
          containers: [{ name: 'app', image: IMAGE, command: ['sh', '-c', `i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done | nc ${svc.spec.clusterIP} 9000`] }],
        },
      });
      await readyPodIP('tcp-client');
      const ticks = async (): Promise<number> => {
        const last = (await lab.kubectlOk(['logs', 'tcp-server'])).trim().split('\n').at(-1)?.match(/^tick (\d+)$/);
        return last ? Number(last[1]) : 0;
      };
      await waitFor('ticks flowing through the ClusterIP', async () => (await ticks()) >= 3);
      const restartedAt = Date.now();
      await lab.restartAgent('w1');
      await lab.restartAgent('w2');
      // the restarted proxies synced (their /healthz reports a sync after the restart)
      for (const w of ['w1', 'w2']) {
        await waitFor(`${w}'s new proxy synced`, async () => {
          const r = await lab.inHost(w, ['curl', '-sS', `http://${nodeIP[w]}:10256/healthz`]);
          return r.code === 0 && Date.parse((JSON.parse(r.stdout) as { lastUpdated: string }).lastUpdated) >= restartedAt;
        });
      }
      const seen = await waitFor('the restarted kubelet serving logs', () => ticks(), { timeoutMs: 30_000 });
      await waitFor('ticks still flowing on the same connection', async () => (await ticks()) >= seen + 10, { timeoutMs: 20_000 });
      const log = (await lab.kubectlOk(['logs', 'tcp-server'])).trim().split('\n');
      expect(log.map((l) => Number(l.replace('tick ', '')))).toEqual(log.map((_, i) => i + 1));
    }, 150_000);

    it('knode proxy --cleanup removes the proxy\'s rules and nothing else; the running proxy restores them at its next sync', async () => {
      const nftTables = async (): Promise<string> => (await lab.inHost('w2', ['nft', 'list', 'tables'])).stdout;
      const own = (): Promise<boolean> => proxyRules('w2').then((t) => (mode === 'nftables' ? t.includes('table ip knode-proxy') : /^:KNODE-/m.test(t)));
      expect(await own()).toBe(true);
      // someone else's rule in the same built-in chain the proxy jumps from: cleanup must leave it
      if (mode === 'iptables') await lab.inHost('w2', ['iptables', '-t', 'nat', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '1', '-m', 'comment', '--comment', 'not-knode', '-j', 'RETURN']);
      const r = await lab.inHost('w2', [process.execPath, CLI, 'proxy', '--cleanup'], 30_000);
      expect(r.code, r.stderr).toBe(0);
      expect(await own()).toBe(false);
      const left = await proxyRules('w2');
      expect(left).not.toContain('KNODE');
      expect(left).not.toContain('knode-proxy');
      if (mode === 'iptables') expect(left).toContain('not-knode');
      expect(await nftTables()).toContain('table ip knode-overlay');
      // the agent's proxy still believes in its rules: its next partial sync fails, the full one after restores them
      await createService('after-cleanup', { app: 'web' }, [HTTP]);
      await waitFor('the rules restored by the running proxy', () => own(), { timeoutMs: 15_000 });
      expect(await heardAll('w2', ips['client-w2'] ?? '', 'http', (JSON.parse(await lab.kubectlOk(['get', 'svc', 'web', '-o', 'json'])) as ServiceView).spec.clusterIP, 80, 10, WEB)).toEqual(new Set(WEB));
    });
  });
}
