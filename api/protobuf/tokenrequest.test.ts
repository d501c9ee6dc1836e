import { describe, expect, it } from 'vitest';
import { decodeObject } from './object.js';

/**
 * The body kubectl 1.x sent for
 *   kubectl create token robot --duration=20m --audience=aud1 --bound-object-kind=Pod --bound-object-name=p1 --bound-object-uid=u1
 * captured with -v=8 against knode: the field numbers of TokenRequest come from the wire, not from memory.
 */
const KUBECTL_CREATE_TOKEN = Buffer.from(
  [
    '6b 38 73 00 0a 28 0a 18 61 75 74 68 65 6e 74 69',
    '63 61 74 69 6f 6e 2e 6b 38 73 2e 69 6f 2f 76 31',
    '12 0c 54 6f 6b 65 6e 52 65 71 75 65 73 74 12 36',
    '0a 10 0a 00 12 00 1a 00 22 00 2a 00 32 00 38 00',
    '42 00 12 1c 0a 04 61 75 64 31 1a 11 0a 03 50 6f',
    '64 12 02 76 31 1a 02 70 31 22 02 75 31 20 b0 09',
    '1a 04 0a 00 12 00 1a 00 22 00',
  ]
    .join(' ')
    .replace(/ /g, ''),
  'hex',
);

describe('TokenRequest from kubectl create token (protobuf)', () => {
  it('decodes audiences, boundObjectRef and expirationSeconds', () => {
    const obj = decodeObject(KUBECTL_CREATE_TOKEN);
    expect(obj['apiVersion']).toBe('authentication.k8s.io/v1');
    expect(obj['kind']).toBe('TokenRequest');
    expect(obj['spec']).toEqual({ audiences: ['aud1'], boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p1', uid: 'u1' }, expirationSeconds: 1200 });
  });
});
