// Bundles each entry point into dist/ with esbuild. npm packages stay external
// (native addons such as better-sqlite3 cannot be bundled), only our own code is inlined.
import { build } from 'esbuild';
import { readdirSync, existsSync } from 'node:fs';

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
  sourcemap: 'linked',
  logLevel: 'warning',
});
