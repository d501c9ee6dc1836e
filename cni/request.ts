/**
 * Environment + stdin -> one typed `CniRequest`, or the spec's error for the first thing wrong, in the
 * order a runtime can fix them: the command (4), the variables it needs (4), the config's JSON (6), its
 * content (7) and version (1). Pure: the environment and stdin are arguments.
 */
import { decodeConfig, isValidIfname, parseNetConf } from './config.js';
import { CniInvalidConfigError, CniInvalidEnvError } from './errors.js';
import type { CniCommand, CniRequest } from './types.js';
import { assertCommandAllowed } from './version.js';

export type CniEnv = Readonly<Record<string, string | undefined>>;

const COMMANDS: readonly CniCommand[] = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'];

const REQUIRED: Readonly<Record<CniCommand, readonly string[]>> = {
  ADD: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  CHECK: ['CNI_CONTAINERID', 'CNI_NETNS', 'CNI_IFNAME', 'CNI_PATH'],
  DEL: ['CNI_CONTAINERID', 'CNI_IFNAME', 'CNI_PATH'],
  GC: ['CNI_PATH'],
  STATUS: ['CNI_PATH'],
  VERSION: [],
};

/** The spec's rule for a container ID. */
export const CONTAINER_ID_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export function parseCommand(env: CniEnv): CniCommand {
  const c = env['CNI_COMMAND'];
  if (c === undefined || c === '') throw new CniInvalidEnvError('CNI_COMMAND is not set');
  if (!(COMMANDS as readonly string[]).includes(c)) {
    throw new CniInvalidEnvError(`unknown CNI_COMMAND "${c}"; expected one of ${COMMANDS.join(', ')}`);
  }
  return c as CniCommand;
}

/** `CNI_ARGS`: `K1=V1;K2=V2`. */
export function parseCniArgs(s: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (s === undefined || s === '') return out;
  for (const pair of s.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CniInvalidEnvError(`CNI_ARGS: "${pair}" is not KEY=VALUE`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return out;
}

export function parseRequest(env: CniEnv, stdin: string): CniRequest {
  const command = parseCommand(env);
  if (command === 'VERSION') return { command };
  const missing = REQUIRED[command].filter((k) => !env[k]);
  if (missing.length > 0) {
    throw new CniInvalidEnvError(`${command} needs environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`);
  }
  const conf = parseNetConf(decodeConfig(stdin));
  assertCommandAllowed(command, conf.cniVersion);
  switch (command) {
    case 'GC':
      if (conf.validAttachments === undefined) {
        throw new CniInvalidConfigError('GC needs "cni.dev/valid-attachments" in the config (refusing to free every attachment)');
      }
      return { command, conf, validAttachments: conf.validAttachments };
    case 'STATUS':
      return { command, conf };
    case 'ADD':
    case 'CHECK':
    case 'DEL': {
      const containerId = env['CNI_CONTAINERID'] ?? '';
      if (!CONTAINER_ID_RE.test(containerId)) {
        throw new CniInvalidEnvError(
          `CNI_CONTAINERID "${containerId}" is invalid: use letters, digits, "_", "." and "-", starting with a letter or digit`,
        );
      }
      const ifname = env['CNI_IFNAME'] ?? '';
      if (!isValidIfname(ifname)) {
        throw new CniInvalidEnvError(`CNI_IFNAME "${ifname}" is not a valid interface name (1-15 characters, no "/", ":" or spaces)`);
      }
      const netns = env['CNI_NETNS'];
      if (netns !== undefined && netns !== '' && (!netns.startsWith('/') || /\s/.test(netns))) {
        throw new CniInvalidEnvError(`CNI_NETNS must be an absolute path without spaces, got "${netns}"`);
      }
      const args = parseCniArgs(env['CNI_ARGS']);
      const base = { containerId, ifname, args, conf };
      if (command === 'DEL') return { command, ...base, ...(netns ? { netns } : {}) };
      return { command, ...base, netns: netns ?? '' };
    }
    default: {
      const never: never = command;
      return never;
    }
  }
}
