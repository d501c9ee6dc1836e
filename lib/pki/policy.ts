/**
 * The certificate policy shared by both certificate writers (certs.ts, on @peculiar/x509, for the
 * control plane; lite-cert.ts, on node:crypto, for the agent): lifetimes, clock-skew backdating and
 * which names a certificate may carry. Kept apart from both so the agent can use it without loading
 * @peculiar/x509. Pure.
 */
import { isIP } from 'node:net';
import { InvalidSanError } from './errors.js';

export const CA_VALIDITY_DAYS = 3650;
export const LEAF_VALIDITY_DAYS = 365;
/** How far notBefore is backdated to tolerate clock skew between the issuer and its peers. */
export const CLOCK_SKEW_MS = 60_000;
const DAY_MS = 86_400_000;

const DNS_LABEL = /^(?:[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?)$/i;

/** True for a DNS name a certificate may carry: RFC 1123 labels, optionally one leading `*.` wildcard. */
export function isDnsName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = (name.startsWith('*.') ? name.slice(2) : name).split('.');
  return labels.every((l) => DNS_LABEL.test(l));
}

/** The SANs without duplicates, in order; throws InvalidSanError on anything that is neither IP nor DNS name. */
export function checkSans(ips: readonly string[], dnsNames: readonly string[]): { ips: string[]; dnsNames: string[] } {
  const outIps = [...new Set(ips)];
  const outDns = [...new Set(dnsNames)];
  for (const ip of outIps) if (isIP(ip) === 0) throw new InvalidSanError(ip);
  for (const dns of outDns) if (!isDnsName(dns)) throw new InvalidSanError(dns);
  return { ips: outIps, dnsNames: outDns };
}

/**
 * notBefore/notAfter for a certificate issued at `now`; a leaf never outlives its CA, since every
 * verifier would reject it past the CA's notAfter anyway and a shorter honest date is clearer.
 */
export function validityWindow(now: Date, days: number, cap?: Date): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(now.getTime() - CLOCK_SKEW_MS);
  const wanted = new Date(now.getTime() + days * DAY_MS);
  const notAfter = cap !== undefined && cap.getTime() < wanted.getTime() ? cap : wanted;
  return { notBefore, notAfter };
}
