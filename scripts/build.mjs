// Bundles each entry point into dist/ with esbuild. npm packages stay external
// (native addons such as better-sqlite3 cannot be bundled), only our own code is inlined.
import { build } from 'esbuild';
import { readdirSync, existsSync, writeFileSync, chmodSync, rmSync } from 'node:fs';

const entries = { 'cli/main': 'cli/main.ts' };
if (existsSync('bench')) {
  for (const f of readdirSync('bench')) {
    if (f.endsWith('.ts') && !f.endsWith('.test.ts')) entries[`bench/${f.slice(0, -3)}`] = `bench/${f}`;
  }
}
await build({
  entryPoints: entries,
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  // Subcommands import their component lazily (`knode agent` never loads the control plane): shared
  // code goes to chunks so each process loads only what it runs.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  sourcemap: 'linked',
  logLevel: 'warning',
});

// The CNI plugin is its own bundle: it runs once per pod start, so it loads only its own code (no npm
// packages) as CommonJS (~5 ms faster to start than ESM). The shebang drops NODE_EXTRA_CA_CERTS (reading a
// CA bundle costs ~45 ms per start, and the plugin makes no TLS connection) and NODE_OPTIONS. The
// package.json beside it keeps the .js file CommonJS inside this ESM package. See cni/README.md.
await build({
  entryPoints: { 'cni/knode-cni': 'cni/main.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  banner: { js: '#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS -u NODE_OPTIONS node' },
  logLevel: 'warning',
});
writeFileSync('dist/cni/package.json', '{ "type": "commonjs" }\n');
chmodSync('dist/cni/knode-cni.js', 0o755);

// The C thin client of the agent's CNI server (cni/client/knode-cni-client.c): one small exec per pod
// instead of sh + curl. Static when libc.a is there (no dynamic loader at each start: measured faster
// on these VMs), else dynamic. Without gcc the agent keeps installing the sh client (cni/install.ts
// picks whichever exists), so a missing compiler is a log line, not a failed build.
{
  const { spawnSync } = await import('node:child_process');
  const src = 'cni/client/knode-cni-client.c';
  const out = 'dist/cni/knode-cni-client';
  rmSync(out, { force: true }); // never leave a stale client from an earlier build
  const flags = ['-O2', '-std=c11', '-Wall', '-Wextra', '-o', out, src];
  let r = spawnSync('gcc', ['-static', ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error === undefined && r.status !== 0) r = spawnSync('gcc', flags, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.error !== undefined) {
    console.log(`build: gcc not found (${r.error.message}): ${out} not built, knode agent installs the sh client instead`);
  } else if (r.status !== 0) {
    throw new Error(`gcc failed to compile ${src} (exit ${r.status})`);
  }
}

// The pod fast path (cni/fastpath/): the tc programs compiled for BPF by clang, and the helper the agent
// runs to load and attach them (gcc + libbpf). Without clang or libbpf-dev neither is built and the agent
// runs pods on the normal path only (it says so in its log): a log line here, not a failed build.
{
  const { spawnSync } = await import('node:child_process');
  const { mkdirSync } = await import('node:fs');
  const dir = 'dist/cni/fastpath';
  const object = `${dir}/fastpath.bpf.o`;
  const helper = `${dir}/knode-fastpath`;
  mkdirSync(dir, { recursive: true });
  rmSync(object, { force: true });
  rmSync(helper, { force: true });
  const multiarch = spawnSync('gcc', ['-print-multiarch'], { encoding: 'utf8' }).stdout?.trim();
  const clang = spawnSync(
    'clang',
    ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', ...(multiarch ? [`-I/usr/include/${multiarch}`] : []), '-c', 'cni/fastpath/fastpath.bpf.c', '-o', object],
    { stdio: ['ignore', 'inherit', 'inherit'] },
  );
  const gcc = clang.error === undefined && clang.status === 0
    ? spawnSync('gcc', ['-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', '-o', helper, 'cni/fastpath/knode-fastpath.c', '-lbpf'], { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' })
    : undefined;
  if (clang.error !== undefined) {
    console.log(`build: clang not found: the pod fast path is not built (apt-get install clang libbpf-dev)`);
  } else if (clang.status !== 0) {
    throw new Error(`clang failed to compile cni/fastpath/fastpath.bpf.c (exit ${clang.status})`);
  } else if (gcc?.status !== 0) {
    rmSync(object, { force: true });
    const why = gcc?.error?.message ?? gcc?.stderr.trim().split('\n').slice(-2).join(' | ');
    if (/bpf\/(libbpf|bpf)\.h|-lbpf/.test(why ?? '')) console.log(`build: libbpf-dev is missing: the pod fast path is not built (${why})`);
    else throw new Error(`gcc failed to compile cni/fastpath/knode-fastpath.c: ${why}`);
  }
}
