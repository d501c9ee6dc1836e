import { describe, expect, it } from 'vitest';
import { buildReferenceConf, ipInCidr, judge, planPhases, renderSandboxReport } from './sandbox-create-plan.js';
import type { PhaseResult } from './sandbox-create-plan.js';

describe('planPhases', () => {
  it('alternates which side goes first, round by round (ABBA)', () => {
    expect(planPhases(1)).toEqual(['knode', 'reference']);
    expect(planPhases(3)).toEqual(['knode', 'reference', 'reference', 'knode', 'knode', 'reference']);
  });
});

describe('buildReferenceConf', () => {
  const conf = JSON.parse(buildReferenceConf({ lab: 'bsb', host: 'w1', hostDir: '/var/lib/knode-lab/bsb/w1', subnet: '10.244.250.0/24', bridge: 'cniref0' })) as {
    name: string;
    plugins: Array<{ type: string; bridge: string; ipam: { type: string; ranges: unknown; dataDir: string } }>;
  };

  it('keeps the lab network name, so lab down finds the CNI result cache by prefix', () => {
    expect(conf.name).toBe('knode-bsb-w1');
  });

  it('uses its own bridge, subnet and IPAM dir under the node dir', () => {
    expect(conf.plugins).toHaveLength(1);
    expect(conf.plugins[0]).toMatchObject({ type: 'bridge', bridge: 'cniref0', ipam: { type: 'host-local', ranges: [[{ subnet: '10.244.250.0/24' }]] } });
    expect(conf.plugins[0]?.ipam.dataDir).toBe('/var/lib/knode-lab/bsb/w1/cni/bench-reference-ipam');
  });
});

describe('ipInCidr', () => {
  const cases: ReadonlyArray<[string, string, boolean]> = [
    ['10.244.250.7', '10.244.250.0/24', true],
    ['10.244.1.7', '10.244.250.0/24', false],
    ['10.244.1.255', '10.244.1.0/24', true],
    ['', '10.244.1.0/24', false],
    ['10.244.1.0/24', '10.244.1.0/24', false],
    ['10.244.1.3', 'not a cidr', false],
  ];
  it.each(cases)('%s in %s is %s', (ip, cidr, expected) => {
    expect(ipInCidr(ip, cidr)).toBe(expected);
  });
});

describe('judge', () => {
  const phase = (cni: PhaseResult['cni'], run: number[]): PhaseResult => ({ cni, run, stop: [], remove: [] });

  it('pools every phase of a side and passes when both ratios are within the goal', () => {
    const v = judge([phase('knode', [120, 130]), phase('reference', [100, 100]), phase('reference', [100]), phase('knode', [140])], 1.5);
    expect(v.knode.count).toBe(3);
    expect(v.reference.count).toBe(3);
    expect(v.p50Ratio).toBeCloseTo(1.3);
    expect(v.p99Ratio).toBeCloseTo(1.4);
    expect(v.verdict).toBe('PASS');
  });

  it('misses when the tail alone is over the goal', () => {
    expect(judge([phase('knode', [100, 100, 400]), phase('reference', [100, 100, 100])], 1.5).verdict).toBe('MISS');
  });

  it('is n/a, never PASS, without reference samples', () => {
    expect(judge([phase('knode', [100])], 1.5).verdict).toBe('n/a');
  });
});

describe('renderSandboxReport', () => {
  it('shows one row per phase, the pooled rows, the ratios and the verdict', () => {
    const text = renderSandboxReport({
      sandboxes: 2,
      inFlight: 1,
      lab: 'bsb',
      runtime: 'containerd v1.6.20',
      referenceSubnet: '10.244.250.0/24',
      goalRatio: 1.5,
      cores: 2,
      phases: [
        { cni: 'knode', run: [300, 320], stop: [50, 60], remove: [10, 12], machineBusyPercent: 87.4 },
        { cni: 'reference', run: [250, 260], stop: [40, 45], remove: [9, 9] },
      ],
    });
    expect(text).toContain('phases KR');
    expect(text).toMatch(/phase 1\s+knode-cni\s+2\s+300\s+320\s+310\s+320\s+50\s+10\s+87\n/);
    expect(text).toMatch(/all\s+bridge\+host-local\s+2\s+250\s+260/);
    expect(text).toMatch(/RunPodSandbox p50\s+1\.20x\s+PASS/);
    expect(text).toContain('verdict (issue 4, sandbox creation ratio <= 1.5 at p50 and p99): PASS');
  });
});
