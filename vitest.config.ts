import { defineConfig } from 'vitest/config';

// Three kinds of tests (see docs/testing.md):
//  unit  *.test.ts beside the code: pure logic and fakes, no root, fast.
//  host  *.host.test.ts: real processes, sockets, files, nft/netlink in throwaway namespaces.
//  e2e   test/**/*.test.ts: the real server (and later the lab) driven by real kubectl.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{api,lib,control-plane,kubelet,kube-proxy,cni,lab,cli,proto,bench}/**/*.test.ts'],
          exclude: ['**/*.host.test.ts', 'node_modules/**', 'dist/**'],
        },
      },
      {
        test: {
          name: 'host',
          include: ['**/*.host.test.ts'],
          exclude: ['node_modules/**', 'dist/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/**/*.test.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
