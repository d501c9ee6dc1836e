import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { binarySuffix, goArch, hugepageSizeBytes, LinuxHostProbe, osImageOf, parseLoadavgThreads, parseMeminfo, parseOsRelease } from './host-info.js';

const MEMINFO = `MemTotal:       16331868 kB
MemFree:         1203456 kB
MemAvailable:    9876543 kB
HugePages_Total:       4
Hugepagesize:       2048 kB
`;

describe('parseMeminfo', () => {
  it('scales kB fields to bytes and keeps counts as they are', () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.get('MemTotal')).toBe(16331868 * 1024);
    expect(m.get('MemAvailable')).toBe(9876543 * 1024);
    expect(m.get('HugePages_Total')).toBe(4);
  });
  it('ignores lines it cannot read', () => {
    expect([...parseMeminfo('garbage\n\nMemTotal: x kB\n').keys()]).toEqual([]);
  });
});

describe('parseOsRelease / osImageOf', () => {
  it.each([
    ['double-quoted PRETTY_NAME', 'NAME="Debian GNU/Linux"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n', 'Debian GNU/Linux 12 (bookworm)'],
    ['single-quoted', "PRETTY_NAME='Alpine Linux v3.19'\n", 'Alpine Linux v3.19'],
    ['unquoted', 'PRETTY_NAME=Arch\n', 'Arch'],
    ['escaped quote', 'PRETTY_NAME="Say \\"hi\\""\n', 'Say "hi"'],
    ['missing: Linux, as cadvisor reports', 'NAME=x\n# PRETTY_NAME="no"\n', 'Linux'],
    ['empty file', '', 'Linux'],
  ])('%s', (_name, text, want) => {
    expect(osImageOf(parseOsRelease(text))).toBe(want);
  });
});

describe('small parsers', () => {
  it('reads the total scheduling entities from /proc/loadavg', () => {
    expect(parseLoadavgThreads('0.52 0.58 0.59 3/1234 56789\n')).toBe(1234);
    expect(parseLoadavgThreads('nonsense')).toBeUndefined();
  });
  it.each([
    ['hugepages-2048kB', 2 * 1024 * 1024, '2Mi'],
    ['hugepages-1048576kB', 1024 ** 3, '1Gi'],
  ])('page size of %s', (dir, bytes, suffix) => {
    expect(hugepageSizeBytes(dir)).toBe(bytes);
    expect(binarySuffix(bytes)).toBe(suffix);
  });
  it('rejects entries that are not page sizes', () => {
    expect(hugepageSizeBytes('other')).toBeUndefined();
  });
  it.each([
    ['x64', 'amd64'],
    ['arm64', 'arm64'],
    ['ia32', '386'],
    ['ppc64', 'ppc64le'],
    ['s390x', 's390x'],
  ])('process.arch %s is GOARCH %s', (node, go) => {
    expect(goArch(node)).toBe(go);
  });
});

describe('LinuxHostProbe', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'knode-hostinfo-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function fixture(files: Record<string, string>): Promise<void> {
    for (const [path, content] of Object.entries(files)) {
      await mkdir(join(dir, path, '..'), { recursive: true });
      await writeFile(join(dir, path), content);
    }
  }

  function probe(): LinuxHostProbe {
    return new LinuxHostProbe({
      rootDir: dir,
      procDir: join(dir, 'proc'),
      sysDir: join(dir, 'sys'),
      etcDir: join(dir, 'etc'),
      cpuCount: () => 4,
      kernelRelease: () => '6.1.0-test',
      nodeArch: 'x64',
    });
  }

  it('reads machine identity, memory, huge pages and the root filesystem', async () => {
    await fixture({
      'proc/meminfo': MEMINFO,
      'proc/sys/kernel/random/boot_id': 'b00t-1d\n',
      'etc/machine-id': 'abc123\n',
      'etc/os-release': 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
      'sys/class/dmi/id/product_uuid': 'UUID-1\n',
      'sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages': '4\n',
      'sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages': '0\n',
    });
    const info = await probe().machineInfo();
    expect(info).toMatchObject({
      cpus: 4,
      memoryBytes: 16331868 * 1024,
      hugepages: { '2Mi': 4 * 2 * 1024 * 1024, '1Gi': 0 },
      machineID: 'abc123',
      systemUUID: 'UUID-1',
      bootID: 'b00t-1d',
      kernelVersion: '6.1.0-test',
      osImage: 'Debian GNU/Linux 12 (bookworm)',
      architecture: 'amd64',
    });
    expect(info.ephemeralStorageBytes).toBeGreaterThan(0);
  });

  it('reports what it can when files are missing', async () => {
    const info = await probe().machineInfo();
    expect(info).toMatchObject({ memoryBytes: 0, hugepages: {}, machineID: '', bootID: '', osImage: 'Linux' });
  });

  it('reads the pressure figures', async () => {
    await fixture({ 'proc/meminfo': MEMINFO, 'proc/sys/kernel/pid_max': '32768\n', 'proc/loadavg': '0.1 0.2 0.3 2/900 100\n' });
    const stats = await probe().pressureStats();
    expect(stats).toMatchObject({ memoryAvailableBytes: 9876543 * 1024, pidMax: 32768, pidsInUse: 900 });
    expect(stats.nodefsCapacityBytes).toBeGreaterThan(0);
    expect(stats.nodefsAvailableBytes).toBeLessThanOrEqual(stats.nodefsCapacityBytes ?? 0);
  });

  it('leaves out figures it cannot read, and the filesystem when the root dir is missing', async () => {
    const p = new LinuxHostProbe({ rootDir: join(dir, 'absent'), procDir: join(dir, 'proc') });
    expect(await p.pressureStats()).toEqual({});
    expect((await p.machineInfo()).ephemeralStorageBytes).toBeUndefined();
  });
});
