import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CNI_ENV_HEADERS, shQuote, thinClientScript } from './thin-client.js';

const opts = { socketPath: '/run/knode/cni/knode-cni.sock', nodePath: '/usr/bin/node', pluginPath: '/opt/knode/dist/cni/knode-cni.js' };
const K8S_ARGS = 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc';

describe('shQuote', () => {
  it.each([
    ['/plain/path', "'/plain/path'"],
    ["/it's/here", "'/it'\\''s/here'"],
    ['/a b/$HOME/`id`/"q"', "'/a b/$HOME/`id`/\"q\"'"],
  ])('%s', (input, want) => {
    expect(shQuote(input)).toBe(want);
    // and sh gives the very string back
    expect(spawnSync('sh', ['-c', `printf '%s' ${shQuote(input)}`], { encoding: 'utf8' }).stdout).toBe(input);
  });

  it('refuses a NUL byte', () => {
    expect(() => shQuote('/a\0b')).toThrow('NUL');
  });
});

describe('thinClientScript text', () => {
  const text = thinClientScript(opts);

  it('is a POSIX sh script with the three paths single-quoted and nothing else fixed', () => {
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    expect(text).toContain("sock='/run/knode/cni/knode-cni.sock'\n");
    expect(text).toContain("node='/usr/bin/node'\n");
    expect(text).toContain("plugin='/opt/knode/dist/cni/knode-cni.js'\n");
    expect(spawnSync('sh', ['-n'], { input: text }).status).toBe(0);
  });

  it('sends each CNI variable as its header, only from the environment at run time, inside double quotes', () => {
    for (const [name, header] of Object.entries(CNI_ENV_HEADERS)) {
      expect(text).toContain(`[ -n "\${${name}-}" ] && set -- "$@" -H "${header}: $${name}"`);
    }
    // outside double-quoted strings no CNI variable is expanded (no word splitting, no globbing)
    const unquoted = text.replace(/"(?:[^"\\]|\\.)*"/g, '""');
    expect(text).toMatch(/\$\{?CNI_/);
    expect(unquoted).not.toMatch(/\$\{?CNI_/);
  });

  it('calls curl with --fail-with-body over the socket, posting stdin, ignoring ~/.curlrc and proxies', () => {
    expect(text).toMatch(/-q -sS --fail-with-body --noproxy '\*' --unix-socket "\$sock" -X POST --data-binary @-/);
    expect(text).toContain("'http://knode/cni'");
  });

  it('keeps a path with a quote, a space or a dollar intact', () => {
    const odd = thinClientScript({ ...opts, pluginPath: "/opt/it's mine/$x/knode-cni.js" });
    expect(odd).toContain("plugin='/opt/it'\\''s mine/$x/knode-cni.js'\n");
    expect(spawnSync('sh', ['-n'], { input: odd }).status).toBe(0);
  });

  it.each([
    ['a relative socket', { socketPath: 'knode-cni.sock' }, /absolute socket path/],
    ['a relative node', { nodePath: 'node' }, /absolute node path/],
    ['a relative plugin', { pluginPath: 'dist/cni/knode-cni.js' }, /absolute plugin path/],
  ])('refuses %s', (_what, over, msg) => {
    expect(() => thinClientScript({ ...opts, ...over })).toThrow(msg);
  });
});

/**
 * The script run as a runtime runs it (environment + stdin), with a fake `curl` and `node` that
 * record what they were given: no agent, no root.
 */
describe('thinClientScript run', () => {
  let dir = '';
  let server: Server;
  let script = '';
  const socketPath = (): string => join(dir, 'agent.sock');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'knode-thin-'));
    const fake = (name: string, body: string): void => {
      writeFileSync(join(dir, 'bin', name), `#!/bin/sh\n${body}\n`);
      chmodSync(join(dir, 'bin', name), 0o755);
    };
    spawnSync('mkdir', ['-p', join(dir, 'bin'), join(dir, 'nocurl')]);
    // fake curl: records argv (one per line) and stdin, prints $FAKE_OUT, exits $FAKE_RC
    fake('curl', `for a in "$@"; do printf '%s\\n' "$a"; done > "$REC/curl.argv"\ncat > "$REC/curl.stdin"\nprintf '%s' "$FAKE_OUT"\nexit "$FAKE_RC"`);
    // fake node: records argv, stdin and NODE_OPTIONS, answers like the binary would
    fake('node', `printf '%s\\n' "$@" > "$REC/node.argv"\ncat > "$REC/node.stdin"\nprintf '%s' "\${NODE_OPTIONS-unset}" > "$REC/node.opts"\nprintf '{"from":"node"}\\n'\nexit 3`);
    for (const tool of ['cat', 'sh', 'printf']) spawnSync('sh', ['-c', `ln -s "$(command -v ${tool})" ${join(dir, 'nocurl', tool)}`]);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(socketPath(), resolve));
    script = join(dir, 'knode-cni');
    writeFileSync(script, thinClientScript({ socketPath: socketPath(), nodePath: join(dir, 'bin', 'node'), pluginPath: '/opt/knode/dist/cni/knode-cni.js' }));
    chmodSync(script, 0o755);
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  interface Run {
    readonly code: number | null;
    readonly stdout: string;
    readonly curl?: { argv: string[]; stdin: string };
    readonly node?: { argv: string[]; stdin: string; nodeOptions: string };
  }

  async function run(env: Record<string, string>, stdin: string, o: { curlOut?: string; curlRc?: number; path?: string; script?: string } = {}): Promise<Run> {
    const rec = mkdtempSync(join(dir, 'rec-'));
    const child = spawn(o.script ?? script, [], {
      env: { PATH: o.path ?? `${join(dir, 'bin')}:/usr/bin:/bin`, REC: rec, FAKE_OUT: o.curlOut ?? '', FAKE_RC: String(o.curlRc ?? 0), NODE_OPTIONS: '--inspect', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stdin.end(stdin);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const read = (f: string): string | undefined => {
      try {
        return readFileSync(join(rec, f), 'utf8');
      } catch {
        return undefined;
      }
    };
    const curlArgv = read('curl.argv');
    const nodeArgv = read('node.argv');
    return {
      code,
      stdout,
      ...(curlArgv !== undefined ? { curl: { argv: curlArgv.split('\n').slice(0, -1), stdin: read('curl.stdin') ?? '' } } : {}),
      ...(nodeArgv !== undefined ? { node: { argv: nodeArgv.split('\n').slice(0, -1), stdin: read('node.stdin') ?? '', nodeOptions: read('node.opts') ?? '' } } : {}),
    };
  }

  const ADD = { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'abc', CNI_NETNS: '/run/netns/p1', CNI_IFNAME: 'eth0', CNI_ARGS: K8S_ARGS, CNI_PATH: '/opt/cni/bin' };
  const CONF = '{"cniVersion":"1.0.0","name":"n","type":"knode-cni","note":"a \\\\ b $HOME `id` \'q\'"}\n\n';

  const headersOf = (argv: readonly string[]): string[] => argv.flatMap((a, i) => (argv[i - 1] === '-H' && a.startsWith('X-Cni-') ? [a] : []));

  it('posts stdin byte for byte with every variable as a header (CNI_ARGS with ; and = intact), and prints the answer', async () => {
    const r = await run(ADD, CONF, { curlOut: '{"cniVersion":"1.0.0","ips":[]}\n' });
    expect(r).toMatchObject({ code: 0, stdout: '{"cniVersion":"1.0.0","ips":[]}\n' });
    expect(r.curl?.stdin).toBe(CONF);
    expect(headersOf(r.curl?.argv ?? [])).toEqual([
      'X-Cni-Command: ADD',
      'X-Cni-Containerid: abc',
      'X-Cni-Netns: /run/netns/p1',
      'X-Cni-Ifname: eth0',
      `X-Cni-Args: ${K8S_ARGS}`,
      'X-Cni-Path: /opt/cni/bin',
    ]);
    expect(r.curl?.argv).toContain(socketPath());
    expect(r.curl?.argv.at(-1)).toBe('http://knode/cni');
    expect(r.node).toBeUndefined();
  });

  it.each([
    ['no trailing newline', '{"cniVersion":"1.0.0"}'],
    ['pretty-printed with indentation', '{\n  "cniVersion": "1.0.0",\n\t"name": "n"\n}\n'],
    ['CRLF line ends and a backslash at a line end', '{"a":"x\\\\"}\r\n  \\\n'],
  ])('passes stdin %s through unchanged', async (_what, stdin) => {
    const r = await run(ADD, stdin, { curlOut: '{}' });
    expect(r.curl?.stdin).toBe(stdin);
  });

  it('leaves out unset and empty variables (VERSION has only CNI_COMMAND)', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION', CNI_ARGS: '' }, '', { curlOut: '{"cniVersion":"1.1.0"}\n' });
    expect(r.code).toBe(0);
    expect(headersOf(r.curl?.argv ?? [])).toEqual(['X-Cni-Command: VERSION']);
    expect(r.curl?.stdin).toBe('');
  });

  it('prints an empty answer as nothing (DEL)', async () => {
    const r = await run({ ...ADD, CNI_COMMAND: 'DEL' }, CONF);
    expect(r).toMatchObject({ code: 0, stdout: '' });
  });

  it('exits 1 with the agent\'s error JSON when curl reports an HTTP error (22)', async () => {
    const err = '{"cniVersion":"1.0.0","code":7,"msg":"bad"}\n';
    const r = await run(ADD, CONF, { curlOut: err, curlRc: 22 });
    expect(r).toMatchObject({ code: 1, stdout: err });
    expect(r.node).toBeUndefined();
  });

  it.each([
    ['nothing listens (7)', 7],
    ['the agent died mid-answer (52)', 52],
    ['the transfer broke (56)', 56],
  ])('runs the binary with the saved stdin when %s, dropping what curl printed', async (_what, rc) => {
    const r = await run(ADD, CONF, { curlOut: '{"partial', curlRc: rc });
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('{"from":"node"}\n');
    expect(r.node?.argv).toEqual(['/opt/knode/dist/cni/knode-cni.js']);
    // the heredoc adds one newline, which JSON ignores
    expect(r.node?.stdin).toBe(`${CONF}\n`);
    expect(r.node?.nodeOptions).toBe('unset');
  });

  it('runs the binary without calling curl when the socket is missing', async () => {
    const gone = join(dir, 'gone-knode-cni');
    writeFileSync(gone, thinClientScript({ socketPath: join(dir, 'no.sock'), nodePath: join(dir, 'bin', 'node'), pluginPath: '/p.js' }));
    chmodSync(gone, 0o755);
    const r = await run(ADD, CONF, { script: gone });
    expect(r.curl).toBeUndefined();
    expect(r.node?.argv).toEqual(['/p.js']);
    expect(r.stdout).toBe('{"from":"node"}\n');
  });

  it('runs the binary when curl is not installed', async () => {
    const r = await run(ADD, CONF, { path: join(dir, 'nocurl') });
    expect(r.curl).toBeUndefined();
    expect(r.node?.stdin).toBe(`${CONF}\n`);
  });

  it('gives the binary an empty stdin when there was none', async () => {
    const r = await run({ CNI_COMMAND: 'VERSION' }, '', { curlRc: 7 });
    expect(r.node?.stdin).toBe('');
  });

  it.each([
    ['a newline in CNI_ARGS', { CNI_ARGS: 'A=1\nX-Evil: 1' }],
    ['a tab in the netns path', { CNI_NETNS: '/run/netns/a\tb' }],
    ['a trailing space in the container ID', { CNI_CONTAINERID: 'abc ' }],
    ['a leading space in the ifname', { CNI_IFNAME: ' eth0' }],
    ['a non-ASCII pod name', { CNI_ARGS: 'K8S_POD_NAME=caf\u00e9' }],
  ])('hands %s to the binary, which sees it exactly (no header could carry it)', async (_what, over) => {
    const r = await run({ ...ADD, ...over }, CONF, { curlOut: '{}' });
    expect(r.curl).toBeUndefined();
    expect(r.node?.argv).toEqual(['/opt/knode/dist/cni/knode-cni.js']);
  });

  it('carries a space inside a value (only the ends are trimmed by HTTP)', async () => {
    const r = await run({ ...ADD, CNI_ARGS: 'K=a b' }, CONF, { curlOut: '{}' });
    expect(headersOf(r.curl?.argv ?? [])).toContain('X-Cni-Args: K=a b');
  });
});
