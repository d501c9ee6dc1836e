/**
 * lib/pki: the cluster's certificates, keys and kubeconfigs.
 *
 *   pem.ts          PEM <-> DER, PKCS#8 keys, key generation
 *   certs.ts        CA, serving and client certificates (pure given keys)
 *   csr.ts          PKCS#10 requests and the signer for approved ones
 *   cluster-pki.ts  plan/build of <data-dir>/pki (pure over file contents)
 *   files.ts        atomic writes and loadOrCreateClusterPKI (the only fs code)
 *   kubeconfig.ts   build/write/parse kubeconfig YAML
 * ECDSA P-256 + SHA-256 throughout: Go's crypto/tls (kubectl, client-go) and OpenSSL (Node) accept it.
 */
export * from './errors.js';
export * from './pem.js';
export * from './certs.js';
export * from './csr.js';
export * from './cluster-pki.js';
export * from './files.js';
export * from './kubeconfig.js';
export type { KeyPair, CryptoKey } from './x509.js';
