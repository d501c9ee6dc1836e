import { describe, expect, it } from 'vitest';
import { hasListener, IperfError, parseIperfJson } from './iperf.js';
import { parseSandboxInfo } from './netns-probe.js';

const clientJson = JSON.stringify({
  start: { tcp_mss_default: 1398 },
  end: {
    sum_sent: { seconds: 3, bytes: 5.5e9, bits_per_second: 14.66e9, retransmits: 4869 },
    sum_received: { seconds: 3.0001, bytes: 5.5e9, bits_per_second: 14.65e9 },
  },
});

describe('parseIperfJson', () => {
  it('takes the receiver sum as the figure, with sender retransmits and the MSS', () => {
    expect(parseIperfJson(clientJson)).toEqual({ receivedBps: 14.65e9, sentBps: 14.66e9, seconds: 3.0001, retransmits: 4869, mss: 1398 });
  });

  it('prefers the MSS set with -M and gives the CPU cost per received byte', () => {
    const doc = {
      start: { tcp_mss: 1398, tcp_mss_default: 1448 },
      end: {
        sum_sent: { seconds: 2, bytes: 2e9, bits_per_second: 8e9 },
        sum_received: { seconds: 2, bytes: 2e9, bits_per_second: 8e9 },
        cpu_utilization_percent: { host_total: 60, remote_total: 40 },
      },
    };
    // (0.6 + 0.4) CPU x 2 s = 2 CPU-seconds for 2e9 bytes: 1 ns per byte
    expect(parseIperfJson(JSON.stringify(doc))).toEqual({ receivedBps: 8e9, sentBps: 8e9, seconds: 2, mss: 1398, cpuNsPerByte: 1 });
  });

  it("turns iperf3's own error object into an IperfError with its message", () => {
    expect(() => parseIperfJson(JSON.stringify({ start: {}, end: {}, error: 'unable to connect to server: Connection refused' }))).toThrow(
      /iperf3: unable to connect to server: Connection refused/,
    );
  });

  it.each([
    { name: 'empty output', text: '' },
    { name: 'not JSON', text: 'iperf3: error' },
    { name: 'no end sums', text: JSON.stringify({ start: {}, end: {} }) },
  ])('rejects $name', ({ text }) => {
    expect(() => parseIperfJson(text)).toThrow(IperfError);
  });
});

describe('hasListener', () => {
  const header = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
  it('finds a LISTEN socket on the port (IPv6 wildcard, as iperf3 binds)', () => {
    const text = `${header}   0: 00000000000000000000000000000000:1451 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n`;
    expect(hasListener(text, 5201)).toBe(true);
  });
  it('ignores other ports and non-listening sockets on the port', () => {
    const text = `${header}   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n   1: 0100007F:1451 0200007F:C350 01 00000000:00000000 00:00000000 00000000 0 0 2\n`;
    expect(hasListener(text, 5201)).toBe(false);
  });
});

describe('parseSandboxInfo (containerd 1.6 verbose PodSandboxStatus info)', () => {
  it('reads the pid and the runtimeSpec network namespace path', () => {
    const info = JSON.stringify({
      pid: 8910,
      runtimeSpec: { linux: { namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'network', path: '/state/netns/cni-61a7' }] } },
    });
    expect(parseSandboxInfo(info)).toEqual({ pid: 8910, netnsPath: '/state/netns/cni-61a7' });
  });
  it('answers nothing it cannot find (hostNetwork sandbox: no network path, pid 0 once stopped)', () => {
    expect(parseSandboxInfo(JSON.stringify({ pid: 0, runtimeSpec: { linux: { namespaces: [{ type: 'network' }] } } }))).toEqual({});
  });
});
