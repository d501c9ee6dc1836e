import { describe, expect, it } from 'vitest';
import { LAB_CNI, builtPluginPath, cniNetworkName, knodeCni, referenceBridgeCni } from './cni-config.js';

const NODE = { lab: 'lab', host: 'w2', podCidr: '10.244.2.0/24', hostDir: '/var/lib/knode-lab/lab/w2' };
const knode = knodeCni({ pluginPath: '/opt/knode/dist/cni/knode-cni.js', nodePath: '/usr/local/node20/bin/node' });

describe('knodeCni (the lab default)', () => {
  it('writes a 1.0.0 conflist naming the lab and node, reading the pod CIDR from the node state the agent writes, state under the host dir and port mappings', () => {
    expect(JSON.parse(knode.buildConfig(NODE))).toEqual({
      cniVersion: '1.0.0',
      name: 'knode-lab-w2',
      plugins: [
        {
          type: 'knode-cni',
          dataDir: '/var/lib/knode-lab/lab/w2/cni/knode',
          nodeStateFile: '/var/lib/knode-lab/lab/w2/cni/node.json',
          capabilities: { portMappings: true },
        },
      ],
    });
  });

  it('gives each node its own bin dir: loopback linked to Debian by the lab, knode-cni left to the agent (its thin client)', () => {
    expect(knode.binDir(NODE.hostDir)).toBe('/var/lib/knode-lab/lab/w2/cni/bin');
    expect(knode.binLinks).toEqual({ loopback: '/usr/lib/cni/loopback' });
    // the bundle is still required: the thin client runs it when the agent is down
    expect(knode.requiredFiles).toEqual(['/opt/knode/dist/cni/knode-cni.js', '/usr/lib/cni/loopback']);
  });

  it('gives each node its own agent CNI socket under its host dir, short enough for a unix socket', () => {
    expect(knode.agentSocket?.(NODE.hostDir)).toBe('/var/lib/knode-lab/lab/w2/cni/knode-cni.sock');
    expect(knode.agentSocket?.('/var/lib/knode-lab/lab/w20')).not.toBe(knode.agentSocket?.(NODE.hostDir));
    expect(referenceBridgeCni.agentSocket).toBeUndefined();
  });

  it('puts the directory of node on containerd PATH (the bundle runs with `node`)', () => {
    expect(knode.runtimePath).toEqual(['/usr/local/node20/bin']);
  });

  it('leaves cross-node routing to the overlay: no static routes, the agent writes the node state file the config names', () => {
    expect(knode.staticPodRoutes).toBe(false);
    expect(knode.nodeStateFile?.(NODE.hostDir)).toBe('/var/lib/knode-lab/lab/w2/cni/node.json');
    expect(referenceBridgeCni.staticPodRoutes).toBe(true);
    expect(referenceBridgeCni.nodeStateFile).toBeUndefined();
  });

  it('is what the lab uses', () => {
    expect(LAB_CNI.requiredFiles[0]).toMatch(/\/dist\/cni\/knode-cni\.js$/);
    expect(LAB_CNI.agentSocket).toBeDefined();
    expect(LAB_CNI.runtimePath).toEqual([process.execPath.replace(/\/[^/]+$/, '')]);
  });
});

describe('builtPluginPath', () => {
  it.each([
    ['bundled entry', '/opt/knode/dist/cli/main.js', '/opt/knode/dist/cni/knode-cni.js'],
    ['bundled chunk', '/opt/knode/dist/chunks/chunk-ABC.js', '/opt/knode/dist/cni/knode-cni.js'],
    ['source (tests)', '/opt/knode/lab/cni-config.ts', '/opt/knode/dist/cni/knode-cni.js'],
  ])('finds dist/cni/knode-cni.js from the %s', (_what, from, want) => {
    expect(builtPluginPath(from)).toBe(want);
  });
});

describe('referenceBridgeCni (kept as an alternative)', () => {
  it('uses Debian plugins in place, with host-local state under the host dir', () => {
    expect(referenceBridgeCni.binDir(NODE.hostDir)).toBe('/usr/lib/cni');
    expect(referenceBridgeCni.binLinks).toEqual({});
    expect(referenceBridgeCni.requiredFiles).toEqual(['/usr/lib/cni/bridge', '/usr/lib/cni/host-local', '/usr/lib/cni/loopback']);
    const conf = JSON.parse(referenceBridgeCni.buildConfig(NODE)) as { name: string; plugins: Array<{ type: string; ipam: { ranges: unknown; dataDir: string } }> };
    expect(conf.name).toBe(cniNetworkName('lab', 'w2'));
    expect(conf.plugins[0]?.type).toBe('bridge');
    expect(conf.plugins[0]?.ipam.ranges).toEqual([[{ subnet: '10.244.2.0/24' }]]);
    expect(conf.plugins[0]?.ipam.dataDir).toBe('/var/lib/knode-lab/lab/w2/cni/ipam');
  });
});
