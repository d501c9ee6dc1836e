/**
 * The protocol of the thin clients (the header names, the route) and the sh one. `knode agent` installs
 * the C client (client/knode-cni-client.c: same request, same fallback, ~30 ms less per call than
 * sh + curl on the 2-core VM) when the build made it, and this script otherwise.
 *
 * The `knode-cni` a runtime runs when the node agent serves CNI (cni/agent-server.ts): a POSIX sh
 * script that forwards the invocation to the agent over its unix socket with curl, so a pod's CNI
 * call costs sh + curl (~5-10 ms of start-up) instead of a Node start (~27 ms CPU-heavy, more under
 * load). Same contract as the binary: CNI_* variables and the config on stdin in, the result or the
 * spec's error JSON on stdout, exit 0 or 1.
 *
 * Correct when the agent is down: with no socket, no curl, nothing listening (curl 7), or any other
 * transport failure (the agent died mid-request), the script runs the binary itself with the stdin it
 * saved (`exec node knode-cni.js`). Running a command a second time is safe: ADD reuses the
 * container's reserved IP and rebuilds its veth; DEL, GC, CHECK, STATUS and VERSION are idempotent.
 * Only an HTTP answer from the agent (200, or 400 with the error JSON: curl 22) is final.
 *
 * Values come from the runtime's environment at run time and are only ever expanded inside double
 * quotes; the three paths are fixed at generation time, single-quoted. A value curl could not carry
 * verbatim in a header (a control or non-ASCII byte, leading or trailing space, which HTTP parsers
 * trim) goes the fallback way, so the binary sees it exactly. Empty and unset variables are both
 * left out: the plugin treats them alike (cni/request.ts).
 */

/** The HTTP header carrying each CNI variable (the agent's side reads them back, agent-server.ts). */
export const CNI_ENV_HEADERS = {
  CNI_COMMAND: 'X-Cni-Command',
  CNI_CONTAINERID: 'X-Cni-Containerid',
  CNI_NETNS: 'X-Cni-Netns',
  CNI_IFNAME: 'X-Cni-Ifname',
  CNI_ARGS: 'X-Cni-Args',
  CNI_PATH: 'X-Cni-Path',
} as const;

export type CniEnvName = keyof typeof CNI_ENV_HEADERS;

/** The only route the agent serves. */
export const CNI_URL_PATH = '/cni';

export interface ThinClientOptions {
  /** The agent's unix socket. */
  readonly socketPath: string;
  /** Absolute path of `node`, for the fallback. */
  readonly nodePath: string;
  /** Absolute path of the built binary (dist/cni/knode-cni.js), for the fallback. */
  readonly pluginPath: string;
}

/** `'...'` for sh: nothing inside single quotes is special except the quote itself. */
export function shQuote(s: string): string {
  if (s.includes('\0')) throw new Error(`a path for the knode-cni script contains a NUL byte: ${JSON.stringify(s)}`);
  return `'${s.replaceAll("'", "'\\''")}'`;
}

export function thinClientScript(opts: ThinClientOptions): string {
  for (const [what, p] of [['socket', opts.socketPath], ['node', opts.nodePath], ['plugin', opts.pluginPath]] as const) {
    if (!p.startsWith('/')) throw new Error(`the knode-cni script needs an absolute ${what} path, got ${JSON.stringify(p)}`);
  }
  const names = Object.keys(CNI_ENV_HEADERS) as CniEnvName[];
  const headerLines = names.map((n) => `[ -n "\${${n}-}" ] && set -- "$@" -H "${CNI_ENV_HEADERS[n]}: \$${n}"`);
  return [
    '#!/bin/sh',
    '# knode-cni, thin client of the node agent: written by `knode agent` (cni/thin-client.ts), rewritten at',
    '# its start. Forwards this CNI call to the agent; runs the plugin itself when the agent cannot answer.',
    `sock=${shQuote(opts.socketPath)}`,
    `node=${shQuote(opts.nodePath)}`,
    `plugin=${shQuote(opts.pluginPath)}`,
    '',
    '# stdin once, byte for byte, with builtins only (a `cat` would cost one more exec per pod)',
    'input=',
    'while IFS= read -r line; do input="$input$line',
    '"; done',
    'input="$input$line"',
    '',
    'run_plugin() {',
    '  unset NODE_OPTIONS NODE_EXTRA_CA_CERTS # as the binary\'s shebang does',
    '  [ -n "$input" ] || exec "$node" "$plugin" </dev/null',
    '  exec "$node" "$plugin" <<KNODE_CNI_STDIN',
    '$input',
    'KNODE_CNI_STDIN',
    '}',
    '',
    '# only values curl carries verbatim in a header: printable ASCII, no space at either end',
    'carry=yes',
    `for v in ${names.map((n) => `"\${${n}-}"`).join(' ')}; do`,
    "  case $v in *[![:print:]]* | ' '* | *' ') carry=no ;; esac",
    'done',
    '',
    'if [ "$carry" = yes ] && [ -S "$sock" ] && command -v curl >/dev/null 2>&1; then',
    "  set -- -q -sS --fail-with-body --noproxy '*' --unix-socket \"$sock\" -X POST --data-binary @- -H 'Content-Type: application/json' -H 'Expect:'",
    ...headerLines.map((l) => `  ${l}`),
    '  # the answer is kept until curl has finished, so a broken transfer prints nothing before the fallback',
    `  out=$(printf '%s' "$input" | curl "$@" 'http://knode${CNI_URL_PATH}'; rc=$?; printf x; exit $rc)`,
    '  rc=$?',
    '  case $rc in',
    "    0) printf '%s' \"${out%x}\"; exit 0 ;;",
    "    22) printf '%s' \"${out%x}\"; exit 1 ;; # the agent answered with the spec's error JSON",
    '  esac',
    '  # 7: nothing listens (agent down or restarting); anything else: the agent went away mid-request',
    'fi',
    'run_plugin',
    '',
  ].join('\n');
}
