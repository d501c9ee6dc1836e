/**
 * `node dist/bench/dns.js`: the cluster DNS server of `knode server` under load.
 *
 * Starts a fresh `knode server --controllers none --dns-port <free>` on loopback, creates S Services
 * (default 1,000; 16 requests in flight), then measures:
 *   - propagation: 50 more Services, one at a time; for each, the time from the create's answer to
 *     the first A answer carrying its ClusterIP (asked every 2 ms);
 *   - load: Q A-questions (default 20,000) for random existing Service names, C in flight (default 32)
 *     on one UDP socket, matched by id: answers/s and latency percentiles; every answer is checked
 *     (NOERROR, one A record) and counted as failed otherwise;
 *   - reference, same run and same client: a plain UDP echo server (a child `node` process doing nothing
 *     but sending each datagram back): the floor of a UDP round trip through Node on this machine, so
 *     the ratio says what answering costs on top of the transport.
 * There is no DNS server on this machine to compare against (no CoreDNS, dnsmasq or BIND installed).
 *
 * Flags: --services S (1..20000), --queries Q (100..1000000), --concurrency C (1..512), --timeout S
 * (default 600). Report on stdout, progress on stderr. The server, the echo process and the temp dir
 * are removed on success, failure, Ctrl-C and the deadline.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import type { Service } from '../api/core/service-types.js';
import { decodeResponse, encodeQuery } from '../control-plane/dns/message.js';
import { KubeClient } from '../lib/client/client.js';
import { resources } from '../lib/client/resource.js';
import { freePort } from '../test/helpers/server.js';
import { stopChild } from './lib/cleanup.js';
import type { Cleanup } from './lib/cleanup.js';
import { startKnodeServer } from './lib/knode-server.js';
import type { Progress } from './lib/progress.js';
import { intFlag, runReport } from './lib/run-report.js';
import { fmtMs, fmtRate, fmtRatio, summarize } from './lib/stats.js';
import type { LatencySummary } from './lib/stats.js';
import { renderTable } from './lib/table.js';

const NS = 'bench';

interface Options {
  services: number;
  queries: number;
  concurrency: number;
  timeout: number;
}

interface LoadResult {
  readonly answered: number;
  readonly failed: number;
  readonly seconds: number;
  readonly latency: LatencySummary;
}

/**
 * Closed loop over one UDP socket: `total` questions, `inFlight` at a time; `check` says whether an
 * answer is right. Unanswered questions count as failed after 2 s.
 */
async function closedLoop(port: number, total: number, inFlight: number, question: (i: number) => Buffer, check: (i: number, answer: Buffer) => boolean, progress: Progress, what: string): Promise<LoadResult> {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const pending = new Map<number, { i: number; t0: number; timer: NodeJS.Timeout }>();
  const samples: number[] = [];
  let failed = 0;
  let sent = 0;
  let done = 0;
  progress.start(what, total);
  const t0 = performance.now();
  await new Promise<void>((resolve) => {
    const finish = (id: number, ok: boolean): void => {
      const p = pending.get(id);
      if (p === undefined) return;
      pending.delete(id);
      clearTimeout(p.timer);
      if (ok) samples.push(performance.now() - p.t0);
      else failed++;
      done++;
      progress.tick();
      if (done === total) resolve();
      else next();
    };
    sock.on('message', (msg: Buffer) => {
      if (msg.length < 2) return;
      const id = msg.readUInt16BE(0);
      const p = pending.get(id);
      if (p !== undefined) finish(id, check(p.i, msg));
    });
    const next = (): void => {
      if (sent >= total) return;
      const i = sent++;
      const id = i & 0xffff;
      const timer = setTimeout(() => finish(id, false), 2_000);
      pending.set(id, { i, t0: performance.now(), timer });
      sock.send(question(i), port, '127.0.0.1');
    };
    for (let k = 0; k < Math.min(inFlight, total); k++) next();
  });
  const seconds = (performance.now() - t0) / 1000;
  progress.done();
  sock.close();
  return { answered: samples.length, failed, seconds, latency: summarize(samples) };
}

async function run(opts: Options, cleanup: Cleanup, progress: Progress): Promise<string> {
  const dnsPort = await freePort();
  progress.note(`starting knode server (--dns-port ${dnsPort}, --controllers none)`);
  const server = await startKnodeServer(cleanup, { sync: 'NORMAL', dnsPort, extraArgs: ['--controllers', 'none'] });
  const client = await KubeClient.fromKubeconfigFile(server.kubeconfigPath);
  try {
    await client.create(resources.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    const ips: string[] = [];
    progress.start(`creating ${opts.services} Services`, opts.services);
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < opts.services) {
          const i = next++;
          const svc = await client.create<Service>(resources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${i}` }, spec: { ports: [{ name: 'http', port: 80 }] } }, { namespace: NS });
          ips[i] = svc.spec?.clusterIP ?? '';
          progress.tick();
        }
      }),
    );
    progress.done();

    // ---- propagation: create -> resolvable
    const ask = (name: string): Promise<Buffer | undefined> =>
      new Promise((resolve) => {
        const s = createSocket('udp4');
        const timer = setTimeout(() => {
          s.close();
          resolve(undefined);
        }, 500);
        s.on('message', (m: Buffer) => {
          clearTimeout(timer);
          s.close();
          resolve(m);
        });
        s.send(encodeQuery(1, name), dnsPort, '127.0.0.1');
      });
    const propagation: number[] = [];
    progress.start('propagation (50 Services, one at a time)', 50);
    for (let k = 0; k < 50; k++) {
      const svc = await client.create<Service>(resources.services, { apiVersion: 'v1', kind: 'Service', metadata: { name: `late-${k}` }, spec: { ports: [{ name: 'http', port: 80 }] } }, { namespace: NS });
      const t0 = performance.now();
      const ip = svc.spec?.clusterIP ?? '';
      for (;;) {
        const m = await ask(`late-${k}.${NS}.svc.cluster.local`);
        const a = m !== undefined ? decodeResponse(m) : undefined;
        if (a?.answers.some((r) => r.data.type === 'A' && r.data.address === ip)) break;
        if (performance.now() - t0 > 10_000) throw new Error(`late-${k} did not resolve within 10 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      propagation.push(performance.now() - t0);
      progress.tick();
    }
    progress.done();

    // ---- load
    const names = ips.map((_, i) => encodeQuery(0, `svc-${i}.${NS}.svc.cluster.local`));
    const pick = (i: number): number => (i * 7919) % opts.services;
    /** The i-th datagram: a question for a spread-out Service name, with id i (both legs send the same). */
    const question = (i: number): Buffer => {
      const q = Buffer.from(names[pick(i)]!);
      q.writeUInt16BE(i & 0xffff, 0);
      return q;
    };
    const dns = await closedLoop(
      dnsPort,
      opts.queries,
      opts.concurrency,
      question,
      (i, answer) => {
        const r = decodeResponse(answer);
        return r.rcode === 0 && r.answers.length === 1 && r.answers[0]!.data.type === 'A' && r.answers[0]!.data.address === ips[pick(i)];
      },
      progress,
      `DNS: ${opts.queries} questions, ${opts.concurrency} in flight`,
    );

    // ---- reference: UDP echo in its own process
    const echoPort = await freePort();
    const echo = spawn(process.execPath, ['-e', `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(m,r.port,r.address));s.bind(${echoPort},'127.0.0.1',()=>console.log('ready'))`], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.addProcess('udp echo', echo);
    await new Promise<void>((resolve, reject) => {
      echo.stdout?.once('data', () => resolve());
      echo.once('exit', (code) => reject(new Error(`the UDP echo process exited (${code})`)));
    });
    const ref = await closedLoop(
      echoPort,
      opts.queries,
      opts.concurrency,
      question,
      () => true,
      progress,
      `UDP echo: ${opts.queries} datagrams, ${opts.concurrency} in flight`,
    );
    await stopChild(echo, 2_000);

    const p = summarize(propagation);
    const row = (label: string, r: LoadResult): string[] => [label, String(r.answered), String(r.failed), fmtRate(r.answered / r.seconds), fmtMs(r.latency.p50), fmtMs(r.latency.p90), fmtMs(r.latency.p99), fmtMs(r.latency.max)];
    return [
      '# knode cluster DNS benchmark',
      `${opts.services} Services; ${opts.queries} questions, ${opts.concurrency} in flight, one UDP socket; client, server and echo share the machine's CPUs`,
      '',
      renderTable(['server', 'answered', 'failed', 'per s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms'], [row('knode DNS (A, cluster zone)', dns), row('reference: UDP echo (node)', ref)], ['left', 'right', 'right', 'right', 'right', 'right', 'right', 'right']),
      '',
      `knode / echo: answers per second ${fmtRatio(dns.answered / dns.seconds, ref.answered / ref.seconds)}, p50 ${fmtRatio(dns.latency.p50, ref.latency.p50)}, p99 ${fmtRatio(dns.latency.p99, ref.latency.p99)}`,
      `propagation, Service created -> its name resolves (50, one at a time): p50 ${fmtMs(p.p50)} ms, p99 ${fmtMs(p.p99)} ms, max ${fmtMs(p.max)} ms`,
      '',
    ].join('\n');
  } finally {
    client.close();
    await server.stop();
  }
}


async function main(): Promise<void> {
  const opts = new Command('bench-dns')
    .option('--services <n>', 'Services to create', intFlag('--services', 1, 20_000), 1_000)
    .option('--queries <n>', 'questions in the load phase', intFlag('--queries', 100, 1_000_000), 20_000)
    .option('--concurrency <n>', 'questions in flight', intFlag('--concurrency', 1, 512), 32)
    .option('--timeout <s>', 'abort the whole run after this many seconds', intFlag('--timeout', 10, 86_400), 600)
    .parse(process.argv)
    .opts<Options>();
  await runReport(opts.timeout, (cleanup, progress) => run(opts, cleanup, progress));
}

await main();
