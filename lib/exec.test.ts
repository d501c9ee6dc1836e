import { describe, expect, it } from 'vitest';
import { ExecError, FakeExec, formatArgv, mustRun, realExec } from './exec.js';

describe('realExec', () => {
  it('passes argv verbatim (no shell) and returns stdout, stderr and the exit code', async () => {
    const r = await realExec.run(['printf', '%s|', 'a b', '$HOME', ';']);
    expect(r).toEqual({ stdout: 'a b|$HOME|;|', stderr: '', code: 0 });
  });
  it('feeds stdin', async () => {
    expect((await realExec.run(['cat'], { stdin: 'line\n' })).stdout).toBe('line\n');
  });
  it('resolves with a non-zero code instead of throwing', async () => {
    const r = await realExec.run(['ls', '/definitely/not/here']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/No such file/);
  });
  it('rejects with ERR_EXEC_START when the program does not exist', async () => {
    await expect(realExec.run(['/no/such/program'])).rejects.toMatchObject({ code: 'ERR_EXEC_START', exitCode: -1, argv: ['/no/such/program'] });
  });
  it('kills a process that outlives its timeout', async () => {
    await expect(realExec.run(['sleep', '5'], { timeoutMs: 50 })).rejects.toThrow(/timed out/);
  });
});

describe('mustRun', () => {
  it('throws an ExecError keeping argv, exit code and stderr', async () => {
    const exec = new FakeExec(() => ({ code: 2, stderr: 'RTNETLINK answers: File exists\n' }));
    const err = await mustRun(exec, ['ip', 'link', 'add', 'x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExecError);
    expect(err).toMatchObject({ code: 'ERR_EXEC_FAILED', argv: ['ip', 'link', 'add', 'x'], exitCode: 2, stderr: 'RTNETLINK answers: File exists\n' });
    expect((err as Error).message).toBe('ip link add x exited with code 2: RTNETLINK answers: File exists');
  });
});

describe('FakeExec', () => {
  it('records calls with their stdin', async () => {
    const exec = new FakeExec();
    await exec.run(['ip', '-batch', '-'], { stdin: 'netns add a\n' });
    expect(exec.calls).toEqual([{ argv: ['ip', '-batch', '-'], stdin: 'netns add a\n' }]);
    expect(exec.commands()).toEqual(['ip -batch -']);
  });
});

describe('formatArgv', () => {
  it('quotes only what a shell would split or expand', () => {
    expect(formatArgv(['ip', '-n', 'knode-lab-w1', 'addr', 'add', '10.0.0.1/24'])).toBe('ip -n knode-lab-w1 addr add 10.0.0.1/24');
    expect(formatArgv(['sh', '-c', "echo 'hi' $X"])).toBe(`sh -c 'echo '\\''hi'\\'' $X'`);
  });
});
