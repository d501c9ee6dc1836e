/**
 * Spec versions: which ones we speak, which command each allows, and how a result looks in each.
 * 0.3.x/0.4.0 results carry `version: "4"` on every IP; 1.0.0 dropped it; 1.1.0 adds `mtu` on interfaces.
 * Pure.
 */
import { CniIncompatibleVersionError } from './errors.js';
import type { CniCommand, CniResult } from './types.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const LATEST_VERSION = '1.1.0';

/** Numeric comparison of dotted versions; missing parts count as 0. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function isSupportedVersion(v: string): boolean {
  return (SUPPORTED_VERSIONS as readonly string[]).includes(v);
}

/** The first spec version that defines each command. */
const MIN_VERSION: Readonly<Record<CniCommand, string>> = {
  ADD: '0.3.0',
  DEL: '0.3.0',
  VERSION: '0.3.0',
  CHECK: '0.4.0',
  GC: '1.1.0',
  STATUS: '1.1.0',
};

/** Throws code 1 when the config's version predates the command (CHECK < 0.4.0, GC/STATUS < 1.1.0). */
export function assertCommandAllowed(command: CniCommand, cniVersion: string): void {
  const min = MIN_VERSION[command];
  if (compareVersions(cniVersion, min) < 0) {
    throw new CniIncompatibleVersionError(`config version ${cniVersion} does not allow ${command} (needs ${min} or later)`);
  }
}

/** The result as the given version's JSON object. */
export function renderResult(result: CniResult, cniVersion: string): Record<string, unknown> {
  const v1 = compareVersions(cniVersion, '1.0.0') >= 0;
  const v11 = compareVersions(cniVersion, '1.1.0') >= 0;
  return {
    cniVersion,
    interfaces: result.interfaces.map((i) => ({
      name: i.name,
      mac: i.mac,
      ...(i.sandbox !== undefined ? { sandbox: i.sandbox } : {}),
      ...(v11 && i.mtu !== undefined ? { mtu: i.mtu } : {}),
    })),
    ips: result.ips.map((ip) => ({
      ...(v1 ? {} : { version: '4' }),
      address: ip.address,
      ...(ip.gateway !== undefined ? { gateway: ip.gateway } : {}),
      ...(ip.interface !== undefined ? { interface: ip.interface } : {}),
    })),
    routes: result.routes.map((r) => ({ dst: r.dst, ...(r.gw !== undefined ? { gw: r.gw } : {}) })),
    dns: result.dns,
  };
}

/** `VERSION`'s answer. */
export function renderVersionInfo(): Record<string, unknown> {
  return { cniVersion: LATEST_VERSION, supportedVersions: [...SUPPORTED_VERSIONS] };
}
