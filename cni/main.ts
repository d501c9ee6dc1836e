/**
 * knode-cni: the executable a container runtime runs from its CNI bin dir. Bundled alone
 * (dist/cni/knode-cni.js, CommonJS, no npm dependency) because it sits on every pod's start path:
 * what it loads is what each pod waits for. See cni/README.md for the measured start-up budget.
 */
import { readFileSync, writeSync } from 'node:fs';
import { realExec } from '../lib/exec.js';
import { NetExecutor, resolveTools } from './executor.js';
import { FileStore } from './ipam/file-store.js';
import { realNodeHost } from './node-host.js';
import { createPlugin } from './plugin.js';
import { dispatch } from './skel.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return ''; // no stdin (closed or a terminal): VERSION still works, the rest fail decoding
  }
}

async function main(): Promise<number> {
  const plugin = createPlugin({
    net: new NetExecutor(realExec, resolveTools(process.env['PATH'])),
    host: realNodeHost,
    openStore: (dir) => new FileStore(dir),
  });
  return dispatch(
    {
      env: process.env,
      stdin: readStdin(),
      // synchronous: the process exits right after, and stdout may be a pipe the runtime reads to EOF
      write: (text) => {
        writeSync(1, text);
      },
    },
    plugin,
  );
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`knode-cni: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
