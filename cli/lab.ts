/**
 * `knode lab`: a multi-node cluster on this machine, each host a network namespace (see lab/README.md).
 *   knode lab up [--nodes N] [--name lab] [--state-dir D] [--underlay CIDR] [--etcd N] [--no-rollback]
 *   knode lab status [--json]     knode lab kubeconfig     knode lab down     knode lab image import TAR
 * Thin: parses flags, wires the real Exec/Launcher/runtime, prints.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { resolve } from 'node:path';
import { realExec } from '../lib/exec.js';
import { labDown } from '../lab/down.js';
import { LabInputError, LabStateError } from '../lab/errors.js';
import { labImportImage } from '../lab/image-import.js';
import { realNodeRuntime } from '../lab/node-runtime-real.js';
import { DEFAULT_LAB_NAME, MAX_ETCD_MEMBERS, MAX_WORKERS, defaultStateDir, downCommand, parseEtcdMembers, validateLabName } from '../lab/plan.js';
import { realLauncher } from '../lab/processes.js';
import { StreamProgress } from '../lab/progress.js';
import { readLabState } from '../lab/state.js';
import { formatStatus, labStatus } from '../lab/status.js';
import { labUp } from '../lab/up.js';

interface TargetFlags {
  name: string;
  stateDir?: string;
}

function nameFlag(v: string): string {
  try {
    return validateLabName(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function nodesFlag(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n < 1 || n > MAX_WORKERS) throw new InvalidArgumentError(`--nodes must be a number of workers from 1 to ${MAX_WORKERS}, got ${JSON.stringify(v)}.`);
  return n;
}

function etcdFlag(v: string): number {
  try {
    return parseEtcdMembers(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function withTarget(cmd: Command): Command {
  return cmd
    .option('--name <lab>', 'lab name (1-9 lowercase letters/digits; prefixes namespaces and links)', nameFlag, DEFAULT_LAB_NAME)
    .option('--state-dir <dir>', 'where the lab keeps its state (default /var/lib/knode-lab/<name>)');
}

function stateDirOf(f: TargetFlags): string {
  return resolve(f.stateDir ?? defaultStateDir(f.name));
}

function progress(): StreamProgress {
  return new StreamProgress((t) => process.stderr.write(t));
}

/** Whether the root program has an `agent` command: the lab starts agents only once it exists. */
function agentAvailable(cmd: Command): boolean {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.commands.some((c) => c.name() === 'agent');
}

/** Whether the root program's `server` takes `--etcd-servers`: `--etcd` needs it. */
function serverTakesEtcd(cmd: Command): boolean {
  let root = cmd;
  while (root.parent) root = root.parent;
  return root.commands.some((c) => c.name() === 'server' && c.options.some((o) => o.long === '--etcd-servers'));
}

/** How this very knode is run, so the lab starts the same build (node + script path). */
function knodeCommand(): string[] {
  const script = process.argv[1];
  return script !== undefined ? [process.execPath, resolve(script)] : [process.execPath];
}

export function labCommand(): Command {
  const lab = new Command('lab').description('a multi-node cluster on this machine, each host in its own network namespace');

  lab.addCommand(
    withTarget(new Command('up'))
      .description('create the lab: control plane + N workers, each with its own containerd')
      .option('--nodes <n>', 'number of worker hosts', nodesFlag, 2)
      .option('--underlay <cidr>', 'the hosts\' subnet (default: the first free of 172.31.250.0/24, 172.31.251.0/24, ...)')
      .option('--etcd <n>', `members of an etcd cluster on cp for the server to store everything in (0: its embedded store; at most ${MAX_ETCD_MEMBERS})`, etcdFlag, 0)
      .option('--no-rollback', 'on failure, leave what was created for inspection (remove it with `knode lab down`)')
      .addOption(new Option('--proxy-mode <mode>', 'the workers\' kube-proxy mode').choices(['nftables', 'iptables', 'none']).default('nftables'))
      .action(async function (this: Command, f: TargetFlags & { nodes: number; underlay?: string; etcd: number; rollback: boolean; proxyMode: 'nftables' | 'iptables' | 'none' }) {
        if (f.etcd > 0 && !serverTakesEtcd(this)) throw new LabInputError('--etcd needs `knode server --etcd-servers`, which this build does not have.');
        const stateDir = stateDirOf(f);
        const state = await labUp(
          {
            name: f.name,
            workers: f.nodes,
            stateDir,
            ...(f.underlay !== undefined ? { underlay: f.underlay } : {}),
            knodeCommand: knodeCommand(),
            etcdMembers: f.etcd,
            agentAvailable: agentAvailable(this),
            rollback: f.rollback,
            proxyMode: f.proxyMode,
          },
          { exec: realExec, launcher: realLauncher, runtime: realNodeRuntime(realExec), progress: progress() },
        );
        process.stderr.write(`lab ${state.name} is up in ${state.upSeconds ?? '?'}s; remove it with \`${downCommand(state.name, stateDir)}\`\n`);
        process.stdout.write(`kubectl --kubeconfig ${state.plan.api.kubeconfig} get nodes\n`);
      }),
  );

  lab.addCommand(
    withTarget(new Command('down'))
      .description('remove everything the lab created (safe to repeat, safe after a failed up)')
      .action(async (f: TargetFlags) => {
        const stateDir = stateDirOf(f);
        const r = await labDown({ name: f.name, stateDir }, { exec: realExec, progress: progress(), runtime: realNodeRuntime(realExec) });
        process.stderr.write(
          `lab ${f.name} removed: ${r.stoppedProcesses} processes stopped (+${r.strayProcesses} strays), ${r.unmounted} mounts, ${r.namespaces.length} namespaces, ${r.cgroupsRemoved} cgroup trees${r.hadState ? '' : ' (there was no state file)'}\n`,
        );
      }),
  );

  lab.addCommand(
    withTarget(new Command('status'))
      .description('hosts, namespaces, processes, underlay addresses and node readiness')
      .option('--json', 'print the status as JSON')
      .action(async (f: TargetFlags & { json?: boolean }) => {
        const s = await labStatus(stateDirOf(f));
        if (s === undefined) {
          process.stderr.write(`no lab ${JSON.stringify(f.name)} (no state in ${stateDirOf(f)})\n`);
          process.exitCode = 1;
          return;
        }
        process.stdout.write(f.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
      }),
  );

  lab.addCommand(
    withTarget(new Command('kubeconfig'))
      .description('print the path of the lab\'s admin kubeconfig')
      .action(async (f: TargetFlags) => {
        const state = await readLabState(stateDirOf(f));
        if (state === undefined) throw new LabStateError(`no lab ${JSON.stringify(f.name)} (no state in ${stateDirOf(f)}).`);
        process.stdout.write(`${state.plan.api.kubeconfig}\n`);
      }),
  );

  const image = new Command('image').description('images in the lab\'s nodes');
  image.addCommand(
    withTarget(new Command('import'))
      .description('import a docker-archive tar into every worker\'s containerd')
      .argument('<tar>', 'docker-archive tar (docker save / lab images)')
      .action(async (tar: string, f: TargetFlags) => {
        const hosts = await labImportImage(stateDirOf(f), tar, realNodeRuntime(realExec), progress());
        process.stderr.write(`imported into ${hosts.join(', ')}\n`);
      }),
  );
  lab.addCommand(image);
  return lab;
}
