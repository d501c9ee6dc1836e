/**
 * knode-cni: the executable a container runtime runs from its CNI bin dir. Bundled alone
 * (dist/cni/knode-cni.js, CommonJS, no npm dependency) because it sits on every pod's start path:
 * what it loads is what each pod waits for. See cni/README.md for the measured start-up budget. Where
 * the node agent serves CNI, the runtime runs the thin client (thin-client.ts) instead, and this
 * binary only when the agent cannot answer.
 */
import { readFileSync, writeSync } from 'node:fs';
import { createBinaryCniHandlers } from './agent-server.js';
import { dispatch } from './skel.js';

function readStdin(): string {
  try {
    return readFileSync(0, 'utf8');
  } catch {
    return ''; // no stdin (closed or a terminal): VERSION still works, the rest fail decoding
  }
}

async function main(): Promise<number> {
  // the composition the node agent serves (agent-server.ts, behind the thin client), with execs only
  const plugin = createBinaryCniHandlers(process.env['PATH']);
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
