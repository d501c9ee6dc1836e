/**
 * What the host is: CPUs, memory, huge pages, the kubelet root filesystem, identity (machine-id,
 * product UUID, boot id), kernel and OS image; and the figures the pressure conditions need (available
 * memory, free space, threads in use). Parsers are pure and tested on strings; `LinuxHostProbe` is the
 * thin effect that reads /proc, /sys and /etc (roots injectable, so tests point it at a tmp dir).
 *
 * Cost model: a handful of small file reads and one statfs per call; the status reporter calls both
 * methods once per status check (10 s by default).
 */
import { readdir, readFile, statfs } from 'node:fs/promises';
import { arch, cpus, release } from 'node:os';
import { join } from 'node:path';

export interface MachineInfo {
  readonly cpus: number;
  readonly memoryBytes: number;
  /** Total bytes of pre-allocated huge pages per page size, keyed by resource suffix (`2Mi`, `1Gi`). */
  readonly hugepages: Readonly<Record<string, number>>;
  /** Size of the filesystem holding the kubelet root directory; absent when statfs failed. */
  readonly ephemeralStorageBytes?: number;
  readonly machineID: string;
  readonly systemUUID: string;
  readonly bootID: string;
  readonly kernelVersion: string;
  readonly osImage: string;
  /** GOARCH spelling: amd64, arm64... */
  readonly architecture: string;
}

/** Any figure may be missing (file unreadable): a missing figure never signals pressure. */
export interface PressureStats {
  readonly memoryAvailableBytes?: number;
  readonly nodefsAvailableBytes?: number;
  readonly nodefsCapacityBytes?: number;
  readonly pidMax?: number;
  readonly pidsInUse?: number;
}

export interface HostProbe {
  machineInfo(): Promise<MachineInfo>;
  pressureStats(): Promise<PressureStats>;
}

// ---- pure parsers -------------------------------------------------------------------------------

/** /proc/meminfo -> bytes per field (`kB` lines scaled; unit-less counts kept as they are). */
export function parseMeminfo(text: string): ReadonlyMap<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([\w()]+):\s+(\d+)(?:\s+(kB))?\s*$/.exec(line);
    if (!m?.[1] || m[2] === undefined) continue;
    const n = Number(m[2]);
    out.set(m[1], m[3] === 'kB' ? n * 1024 : n);
  }
  return out;
}

/** os-release(5): KEY=value lines, values optionally quoted with shell escapes. */
export function parseOsRelease(text: string): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1);
    const q = value[0];
    if ((q === '"' || q === "'") && value.endsWith(q) && value.length >= 2) {
      value = value.slice(1, -1);
      if (q === '"') value = value.replace(/\\([\\"$`])/g, '$1');
    }
    out[line.slice(0, eq)] = value;
  }
  return out;
}

/** The OS image as upstream (cadvisor) reports it: PRETTY_NAME, else `Linux`. */
export function osImageOf(osRelease: Readonly<Record<string, string>>): string {
  const v = osRelease['PRETTY_NAME'];
  return v !== undefined && v !== '' ? v : 'Linux';
}

/** /proc/loadavg's fourth field is `running/total` scheduling entities: total is what pids are spent on. */
export function parseLoadavgThreads(text: string): number | undefined {
  const m = /^\S+\s+\S+\s+\S+\s+\d+\/(\d+)/.exec(text.trim());
  return m?.[1] !== undefined ? Number(m[1]) : undefined;
}

/** `hugepages-2048kB` (a /sys/kernel/mm/hugepages entry) -> page size in bytes. */
export function hugepageSizeBytes(dirName: string): number | undefined {
  const m = /^hugepages-(\d+)kB$/.exec(dirName);
  return m?.[1] !== undefined ? Number(m[1]) * 1024 : undefined;
}

/** Node's process.arch -> GOARCH, which is what kubernetes.io/arch and nodeInfo carry. */
export function goArch(nodeArch: string): string {
  switch (nodeArch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      // Node names little-endian POWER `ppc64`; Kubernetes only runs there as ppc64le
      return 'ppc64le';
    default:
      return nodeArch; // arm64, arm, s390x, riscv64, loong64 match already
  }
}

// ---- effects ------------------------------------------------------------------------------------

export interface LinuxHostProbeOptions {
  /** The kubelet root directory (`--root-dir`): its filesystem is nodefs / ephemeral-storage. */
  readonly rootDir: string;
  readonly procDir?: string;
  readonly sysDir?: string;
  readonly etcDir?: string;
  /** Overrides for tests. */
  readonly cpuCount?: () => number;
  readonly kernelRelease?: () => string;
  readonly nodeArch?: string;
}

export class LinuxHostProbe implements HostProbe {
  private readonly procDir: string;
  private readonly sysDir: string;
  private readonly etcDir: string;

  constructor(private readonly opts: LinuxHostProbeOptions) {
    this.procDir = opts.procDir ?? '/proc';
    this.sysDir = opts.sysDir ?? '/sys';
    this.etcDir = opts.etcDir ?? '/etc';
  }

  async machineInfo(): Promise<MachineInfo> {
    const [meminfo, osRelease, machineID, systemUUID, bootID, hugepages, fs] = await Promise.all([
      readText(join(this.procDir, 'meminfo')),
      readText(join(this.etcDir, 'os-release')),
      readText(join(this.etcDir, 'machine-id')),
      readText(join(this.sysDir, 'class', 'dmi', 'id', 'product_uuid')),
      readText(join(this.procDir, 'sys', 'kernel', 'random', 'boot_id')),
      this.hugepages(),
      this.filesystem(),
    ]);
    return {
      cpus: (this.opts.cpuCount ?? (() => cpus().length))(),
      memoryBytes: parseMeminfo(meminfo ?? '').get('MemTotal') ?? 0,
      hugepages,
      ...(fs !== undefined ? { ephemeralStorageBytes: fs.capacity } : {}),
      machineID: (machineID ?? '').trim(),
      systemUUID: (systemUUID ?? '').trim(),
      bootID: (bootID ?? '').trim(),
      kernelVersion: (this.opts.kernelRelease ?? release)(),
      osImage: osImageOf(parseOsRelease(osRelease ?? '')),
      architecture: goArch(this.opts.nodeArch ?? arch()),
    };
  }

  async pressureStats(): Promise<PressureStats> {
    const [meminfo, pidMax, loadavg, fs] = await Promise.all([
      readText(join(this.procDir, 'meminfo')),
      readText(join(this.procDir, 'sys', 'kernel', 'pid_max')),
      readText(join(this.procDir, 'loadavg')),
      this.filesystem(),
    ]);
    const available = meminfo !== undefined ? parseMeminfo(meminfo).get('MemAvailable') : undefined;
    const max = pidMax !== undefined ? Number(pidMax.trim()) : NaN;
    const inUse = loadavg !== undefined ? parseLoadavgThreads(loadavg) : undefined;
    return {
      ...(available !== undefined ? { memoryAvailableBytes: available } : {}),
      ...(fs !== undefined ? { nodefsAvailableBytes: fs.available, nodefsCapacityBytes: fs.capacity } : {}),
      ...(Number.isFinite(max) && max > 0 ? { pidMax: max } : {}),
      ...(inUse !== undefined ? { pidsInUse: inUse } : {}),
    };
  }

  private async hugepages(): Promise<Record<string, number>> {
    const base = join(this.sysDir, 'kernel', 'mm', 'hugepages');
    let entries: string[];
    try {
      entries = await readdir(base);
    } catch {
      return {}; // no huge page support (or no /sys in a container)
    }
    const out: Record<string, number> = {};
    for (const entry of entries.sort()) {
      const size = hugepageSizeBytes(entry);
      if (size === undefined) continue;
      const count = Number((await readText(join(base, entry, 'nr_hugepages')))?.trim() ?? '0');
      out[binarySuffix(size)] = (Number.isFinite(count) ? count : 0) * size;
    }
    return out;
  }

  private async filesystem(): Promise<{ capacity: number; available: number } | undefined> {
    try {
      const s = await statfs(this.opts.rootDir);
      return { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize };
    } catch {
      return undefined;
    }
  }
}

/** 2097152 -> `2Mi`, 1073741824 -> `1Gi`: the suffix of a `hugepages-<size>` resource name. */
export function binarySuffix(bytes: number): string {
  const units = ['', 'Ki', 'Mi', 'Gi', 'Ti'];
  let v = bytes;
  let i = 0;
  while (i < units.length - 1 && v >= 1024 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i] ?? ''}`;
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}
