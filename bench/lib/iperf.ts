/**
 * One iperf3 TCP measurement between two network namespaces: `iperf3 -s -1` in the server's netns,
 * `iperf3 -c <addr> -t S -J` in the client's, both entered with `nsenter --net=<path>` (nsenter execs
 * iperf3, so the pid we hold is iperf3's own and can be killed directly). Debian's iperf3 runs from
 * the machine's filesystem: the pod's image needs no iperf3.
 *
 * The server is ready once its listening socket shows in `/proc/<pid>/net/tcp{,6}`: that file lists
 * the sockets of the netns the pid lives in, so no exec and no sleep is needed, and iperf3's own
 * "Server listening" line is not used because stdout to a pipe is block-buffered.
 *
 * Every process is registered with the bench's Cleanup as soon as it exists and is bounded by a
 * timer (SIGKILL by pid); a client gets S + 20 s, a server that never sees its client is killed once
 * the client is done.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild } from './cleanup.js';
import type { Cleanup } from './cleanup.js';

export const IPERF_PORT = 5201;

export interface IperfResult {
  /** end.sum_received.bits_per_second: what reached the receiver. */
  readonly receivedBps: number;
  /** end.sum_sent.bits_per_second. */
  readonly sentBps: number;
  /** TCP retransmissions counted by the sender (Linux only; undefined when iperf3 omits it). */
  readonly retransmits?: number;
  /** The client socket's MSS: the one set with -M (start.tcp_mss), else the default at connect (start.tcp_mss_default). */
  readonly mss?: number;
  readonly seconds: number;
  /**
   * CPU time both iperf3 processes spent per byte received, in ns (end.cpu_utilization_percent host_total +
   * remote_total, times the run's length, over the bytes). Both ends run on this machine and most of the
   * kernel path runs in their context (veth hands a packet to the peer's backlog on the sending CPU), so
   * this is the path's cost: less sensitive to other load than bits/s, which is what is left of 2 cores.
   */
  readonly cpuNsPerByte?: number;
}

export class IperfError extends Error {
  readonly code = 'ERR_BENCH_IPERF';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'IperfError';
  }
}

function field(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[key];
  }
  return cur;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Parses `iperf3 -c ... -J` output; throws IperfError on iperf3's own error object or a missing sum. */
export function parseIperfJson(text: string): IperfResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IperfError(`iperf3 printed no JSON (${text.trim().slice(0, 200) || 'empty output'})`, { cause: err });
  }
  const error = field(doc, 'error');
  if (typeof error === 'string') throw new IperfError(`iperf3: ${error}`);
  const receivedBps = num(field(doc, 'end', 'sum_received', 'bits_per_second'));
  const sentBps = num(field(doc, 'end', 'sum_sent', 'bits_per_second'));
  const seconds = num(field(doc, 'end', 'sum_received', 'seconds'));
  if (receivedBps === undefined || sentBps === undefined || seconds === undefined) {
    throw new IperfError('iperf3 JSON lacks end.sum_received / end.sum_sent');
  }
  const retransmits = num(field(doc, 'end', 'sum_sent', 'retransmits'));
  const mss = num(field(doc, 'start', 'tcp_mss')) ?? num(field(doc, 'start', 'tcp_mss_default'));
  const hostCpu = num(field(doc, 'end', 'cpu_utilization_percent', 'host_total'));
  const remoteCpu = num(field(doc, 'end', 'cpu_utilization_percent', 'remote_total'));
  const bytes = num(field(doc, 'end', 'sum_received', 'bytes'));
  const cpuNsPerByte =
    hostCpu !== undefined && remoteCpu !== undefined && bytes !== undefined && bytes > 0 ? (((hostCpu + remoteCpu) / 100) * seconds * 1e9) / bytes : undefined;
  return {
    receivedBps,
    sentBps,
    seconds,
    ...(retransmits !== undefined ? { retransmits } : {}),
    ...(mss !== undefined ? { mss } : {}),
    ...(cpuNsPerByte !== undefined ? { cpuNsPerByte } : {}),
  };
}

/** True when a /proc/net/tcp{,6} table holds a LISTEN (state 0A) socket on `port`. */
export function hasListener(procNetTcp: string, port: number): boolean {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const line of procNetTcp.split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    const local = cols[1];
    if (local !== undefined && local.endsWith(`:${hexPort}`) && cols[3] === '0A') return true;
  }
  return false;
}

interface Started {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

function start(cleanup: Cleanup, name: string, argv: readonly string[]): Started {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new IperfError('empty argv');
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  cleanup.addProcess(name, child);
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (e) => {
      err += String(e);
      resolve(-1);
    });
    child.once('close', (code) => resolve(code));
  });
  return { child, exited, stdout: () => out, stderr: () => err };
}

async function waitListening(server: Started, port: number, timeoutMs: number): Promise<void> {
  const pid = server.child.pid;
  const deadline = Date.now() + timeoutMs;
  let gone = false;
  void server.exited.then(() => (gone = true));
  while (Date.now() < deadline && !gone && pid !== undefined) {
    for (const table of ['tcp6', 'tcp']) {
      const text = await readFile(`/proc/${pid}/net/${table}`, 'utf8').catch(() => '');
      if (hasListener(text, port)) return;
    }
    await sleep(20);
  }
  throw new IperfError(`iperf3 server (pid ${pid ?? '?'}) did not listen on :${port} within ${timeoutMs} ms${gone ? `: ${server.stderr().trim() || 'it exited'}` : ''}`);
}

export interface IperfPairOptions {
  readonly serverNetns: string;
  readonly clientNetns: string;
  /** The address the client connects to (the server's address in its own netns). */
  readonly target: string;
  readonly seconds: number;
  readonly port?: number;
  /** `-M`: the client's TCP MSS, e.g. an underlay run with the segment size the pods get. */
  readonly mss?: number;
}

/** Runs one server + client pair and returns the client's figures; both processes are gone afterwards. */
export async function runIperfPair(cleanup: Cleanup, o: IperfPairOptions): Promise<IperfResult> {
  const port = o.port ?? IPERF_PORT;
  const server = start(cleanup, 'iperf3 server', ['nsenter', `--net=${o.serverNetns}`, 'iperf3', '-s', '-1', '-p', String(port)]);
  try {
    await waitListening(server, port, 5000);
    const client = start(cleanup, 'iperf3 client', [
      'nsenter',
      `--net=${o.clientNetns}`,
      'iperf3',
      '-c',
      o.target,
      '-p',
      String(port),
      '-t',
      String(o.seconds),
      '-J',
      '--connect-timeout',
      '3000',
      ...(o.mss !== undefined ? ['-M', String(o.mss)] : []),
    ]);
    const limitMs = (o.seconds + 20) * 1000;
    const timer = setTimeout(() => void stopChild(client.child, 0), limitMs);
    const code = await client.exited;
    clearTimeout(timer);
    if (code !== 0 && client.stdout().trim() === '') {
      throw new IperfError(`iperf3 client to ${o.target} exited with ${code ?? 'a signal'} (limit ${limitMs / 1000} s): ${client.stderr().trim()}`);
    }
    return parseIperfJson(client.stdout());
  } finally {
    // a one-off server exits by itself once its client is done; give it a moment, then kill it
    await Promise.race([server.exited, sleep(3000)]);
    await stopChild(server.child, 1000);
  }
}
