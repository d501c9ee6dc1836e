import { describe, expect, it } from 'vitest';
import { DISABLED_PLUGINS, buildContainerdConfig, containerdLayout } from './config.js';

describe('containerdLayout', () => {
  it('keeps everything of an instance under its dir', () => {
    expect(containerdLayout('/var/lib/knode-lab/x/w1/containerd')).toEqual({
      dir: '/var/lib/knode-lab/x/w1/containerd',
      root: '/var/lib/knode-lab/x/w1/containerd/root',
      state: '/var/lib/knode-lab/x/w1/containerd/state',
      config: '/var/lib/knode-lab/x/w1/containerd/config.toml',
      socket: '/var/lib/knode-lab/x/w1/containerd/containerd.sock',
      runcRoot: '/var/lib/knode-lab/x/w1/containerd/runc',
      cniConfDir: '/var/lib/knode-lab/x/w1/containerd/cni/net.d',
      logFile: '/var/lib/knode-lab/x/w1/containerd/containerd.log',
    });
  });

  it('takes the socket, CNI conf dir and log file from the caller when given', () => {
    const l = containerdLayout('/d', { socket: '/run/k.sock', cniConfDir: '/etc/cni/k', logFile: '/var/log/k.log' });
    expect([l.socket, l.cniConfDir, l.logFile]).toEqual(['/run/k.sock', '/etc/cni/k', '/var/log/k.log']);
  });
});

describe('buildContainerdConfig', () => {
  const layout = containerdLayout('/srv/lab/w1/containerd');
  const toml = buildContainerdConfig({ layout, sandboxImage: 'knode.local/pause:3.10', cniBinDir: '/usr/lib/cni' });
  const lines = toml.split('\n').map((l) => l.trim());
  /** The `key = value` lines of one [table]. */
  const table = (name: string): string[] => {
    const start = lines.indexOf(`[${name}]`);
    expect(start, `table ${name}`).toBeGreaterThanOrEqual(0);
    const rest = lines.slice(start + 1);
    const end = rest.findIndex((l) => l.startsWith('['));
    return rest.slice(0, end < 0 ? undefined : end).filter((l) => l.includes(' = '));
  };
  const cri = 'plugins."io.containerd.grpc.v1.cri"';

  it.each([
    ['', ['version = 2', 'root = "/srv/lab/w1/containerd/root"', 'state = "/srv/lab/w1/containerd/state"']],
    ['grpc', ['address = "/srv/lab/w1/containerd/containerd.sock"']],
    ['ttrpc', ['address = "/srv/lab/w1/containerd/containerd.sock.ttrpc"']],
    [cri, ['sandbox_image = "knode.local/pause:3.10"', 'restrict_oom_score_adj = true', 'netns_mounts_under_state_dir = true', 'stream_server_address = "127.0.0.1"', 'stream_server_port = "0"']],
    [`${cri}.containerd`, ['snapshotter = "overlayfs"', 'default_runtime_name = "runc"']],
    [`${cri}.containerd.runtimes.runc`, ['runtime_type = "io.containerd.runc.v2"']],
    [`${cri}.containerd.runtimes.runc.options`, ['SystemdCgroup = false', 'Root = "/srv/lab/w1/containerd/runc"']],
    [`${cri}.cni`, ['bin_dir = "/usr/lib/cni"', 'conf_dir = "/srv/lab/w1/containerd/cni/net.d"', 'max_conf_num = 1']],
  ])('sets [%s]', (name, expected) => {
    const entries = name === '' ? lines.slice(0, lines.findIndex((l) => l.startsWith('['))) : table(name);
    expect(entries).toEqual(expect.arrayContaining(expected));
  });

  it('disables only plugins a CRI node never needs', () => {
    const line = lines.find((l) => l.startsWith('disabled_plugins'));
    expect(line).toBe(`disabled_plugins = [${DISABLED_PLUGINS.map((p) => `"${p}"`).join(', ')}]`);
    // the CRI plugin needs the tasks service, which needs runtime v1 loaded
    expect(DISABLED_PLUGINS).not.toContain('io.containerd.runtime.v1.linux');
    expect(DISABLED_PLUGINS).not.toContain('io.containerd.grpc.v1.cri');
    expect(DISABLED_PLUGINS).not.toContain('io.containerd.snapshotter.v1.overlayfs');
  });

  it('quotes paths as TOML strings', () => {
    const odd = buildContainerdConfig({ layout: containerdLayout('/tmp/a "b"\\c'), sandboxImage: 'p', cniBinDir: '/x' });
    expect(odd).toContain('root = "/tmp/a \\"b\\"\\\\c/root"');
  });

  it('honours a log level and stream address', () => {
    const t = buildContainerdConfig({ layout, sandboxImage: 'p', cniBinDir: '/x', logLevel: 'debug', streamServerAddress: '172.31.250.11' });
    expect(t).toContain('level = "debug"');
    expect(t).toContain('stream_server_address = "172.31.250.11"');
  });
});
