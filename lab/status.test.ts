import { describe, expect, it } from 'vitest';
import { formatStatus } from './status.js';
import type { LabStatus } from './status.js';

const base: LabStatus = {
  name: 'lab',
  stateDir: '/var/lib/knode-lab/lab',
  phase: 'ready',
  upSeconds: 3.1,
  underlay: '172.31.250.0/24',
  root: { link: 'knode-lab', address: '172.31.250.1', exists: true },
  switchNetns: { name: 'knode-lab-sw', exists: true },
  hosts: [
    { name: 'cp', role: 'control-plane', netns: 'knode-lab-cp', netnsExists: true, address: '172.31.250.10' },
    { name: 'w1', role: 'worker', netns: 'knode-lab-w1', netnsExists: false, address: '172.31.250.11', podCidr: '10.244.1.0/24' },
  ],
  processes: [
    { host: 'cp', kind: 'server', pid: 100, alive: true, logFile: '/s/cp/server.log' },
    { host: 'w1', kind: 'containerd', pid: 200, alive: false, logFile: '/s/w1/containerd.log' },
  ],
  api: { url: 'https://172.31.250.10:6443', kubeconfig: '/s/cp/admin.kubeconfig' },
  cni: 'reference bridge',
  bootstrapToken: 'abcdef.0123456789abcdef',
  nodes: [{ name: 'w1', ready: 'True' }],
};

describe('formatStatus', () => {
  it('shows the phase, the underlay, one row per host and per process, and node readiness', () => {
    const text = formatStatus(base);
    expect(text).toContain('lab lab: ready (up took 3.1s)');
    expect(text).toContain('underlay    172.31.250.0/24; root ns: knode-lab 172.31.250.1 (present)');
    expect(text).toContain('w1    worker         knode-lab-w1  MISSING  172.31.250.11  10.244.1.0/24');
    expect(text).toContain('w1    containerd  200  NO     /s/w1/containerd.log');
    expect(text).toMatch(/NODE\s+READY\nw1\s+True/);
  });
  it('says the server uses its embedded store when the lab has no etcd', () => {
    expect(formatStatus(base)).toContain('store       embedded (SQLite in the server\'s data dir)');
  });
  it('lists the etcd endpoints and each member as a process', () => {
    const text = formatStatus({
      ...base,
      etcd: { members: ['etcd0', 'etcd1'], endpoints: ['http://172.31.250.10:2379', 'http://172.31.250.10:12379'] },
      processes: [
        { host: 'cp', kind: 'etcd', member: 'etcd0', pid: 90, alive: true, logFile: '/s/cp/etcd-etcd0.log' },
        { host: 'cp', kind: 'etcd', member: 'etcd1', pid: 91, alive: false, logFile: '/s/cp/etcd-etcd1.log' },
        ...base.processes,
      ],
    });
    expect(text).toContain('store       etcd, 2 members: http://172.31.250.10:2379, http://172.31.250.10:12379');
    expect(text).toContain('cp    etcd etcd0  90   yes    /s/cp/etcd-etcd0.log');
    expect(text).toContain('cp    etcd etcd1  91   NO     /s/cp/etcd-etcd1.log');
  });
  it('says why nodes are unknown, and shows a failed up\'s error', () => {
    const text = formatStatus({ ...base, phase: 'failed', error: 'starting containerd on w1 failed: boom', nodes: { error: 'the server is not running' } });
    expect(text).toContain('lab lab: failed (up took 3.1s): starting containerd on w1 failed: boom');
    expect(text).toContain('nodes: unknown (the server is not running)');
  });
});
