/**
 * PEM text <-> DER bytes, with no certificate library behind it: shared by pem.ts (the control plane's
 * @peculiar/x509 side) and the agent's lite-csr.ts / lite-cert.ts. Cost: microseconds per block.
 */
import { InvalidPemError } from './errors.js';

export const PEM_CERTIFICATE = 'CERTIFICATE';
export const PEM_PRIVATE_KEY = 'PRIVATE KEY';
export const PEM_CERTIFICATE_REQUEST = 'CERTIFICATE REQUEST';

export interface PemBlock {
  readonly label: string;
  readonly der: Buffer;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** Encodes DER bytes as one PEM block: base64 in 64-column lines, with a trailing newline. */
export function pemEncode(label: string, der: ArrayBuffer | Uint8Array): string {
  const b64 = Buffer.from(der instanceof Uint8Array ? der : new Uint8Array(der)).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** Every PEM block in `text`, in order. Text between blocks (comments, openssl dumps) is ignored. */
export function pemDecodeAll(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const m of text.matchAll(BLOCK)) {
    const label = m[1] ?? '';
    const body = (m[2] ?? '').replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) throw new InvalidPemError(label, 'body is not base64');
    blocks.push({ label, der: Buffer.from(body, 'base64') });
  }
  return blocks;
}

/** The DER bytes of the first block labelled `label`; throws InvalidPemError when there is none. */
export function pemDecode(text: string, label: string): Buffer {
  const block = pemDecodeAll(text).find((b) => b.label === label);
  if (block === undefined || block.der.length === 0) throw new InvalidPemError(label, 'no such block found');
  return block.der;
}
