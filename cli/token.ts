/**
 * `knode token create|list|delete`: bootstrap tokens for joining nodes, managed through the apiserver
 * with the admin kubeconfig of a data directory (like `kubeadm token`). A token is a Secret
 * `kube-system/bootstrap-token-<id>`; `create` prints `<id>.<secret>` alone on stdout so scripts can
 * capture it, and the CA pin for `--discovery-token-ca-cert-hash` on stderr.
 */
import { Command, InvalidArgumentError } from 'commander';
import { join, resolve } from 'node:path';
import type { KubeObject } from '../api/meta.js';
import {
  BOOTSTRAP_TOKEN_NAMESPACE,
  BOOTSTRAP_TOKEN_SECRET_PREFIX,
  BOOTSTRAP_TOKEN_SECRET_TYPE,
  bootstrapTokenSecret,
  DEFAULT_NODE_TOKEN_GROUP,
  DESCRIPTION_KEY,
  EXPIRATION_KEY,
  EXTRA_GROUPS_KEY,
  generateBootstrapToken,
  parseBootstrapToken,
  TOKEN_ID_KEY,
  TOKEN_SECRET_KEY,
  USAGE_AUTHENTICATION_KEY,
  USAGE_SIGNING_KEY,
} from '../control-plane/apiserver/auth/bootstrap-token.js';
import { caCertHash } from '../lib/client/cluster-info.js';
import { KubeClient } from '../lib/client/client.js';
import { isNotFound } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';
import { humanDuration } from '../control-plane/apiserver/tables/duration.js';
import { parseDuration } from './flags.js';

interface TokenFlags {
  dataDir: string;
  kubeconfig?: string;
}

interface SecretObject extends KubeObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** `24h`, `90m`, `1h30m`; `0` means the token never expires. Returns seconds. */
export function parseTtl(v: string): number {
  if (v === '0') return 0;
  const ms = parseDuration(v);
  if (ms === undefined || ms < 1000) throw new InvalidArgumentError(`--ttl must be a duration such as 24h, 30m or 1h30m (0: never expires), got ${JSON.stringify(v)}.`);
  return Math.round(ms / 1000);
}

const decode = (s: SecretObject, key: string): string | undefined => {
  const v = s.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
};

/** The rows of `knode token list`, with kubeadm's columns (TTL relative to `now`). */
export function formatTokenTable(secrets: readonly SecretObject[], now: Date): string {
  const rows: string[][] = [['TOKEN', 'TTL', 'EXPIRES', 'USAGES', 'DESCRIPTION', 'EXTRA GROUPS']];
  for (const s of secrets) {
    if (s.type !== BOOTSTRAP_TOKEN_SECRET_TYPE) continue;
    const id = decode(s, TOKEN_ID_KEY) ?? '';
    const secret = decode(s, TOKEN_SECRET_KEY) ?? '';
    const expires = decode(s, EXPIRATION_KEY);
    const left = expires !== undefined ? Date.parse(expires) - now.getTime() : undefined;
    const ttl = left === undefined ? '<forever>' : Number.isNaN(left) ? '<invalid>' : left <= 0 ? '<expired>' : humanDuration(left);
    const usages = [
      decode(s, USAGE_AUTHENTICATION_KEY) === 'true' ? 'authentication' : undefined,
      decode(s, USAGE_SIGNING_KEY) === 'true' ? 'signing' : undefined,
    ].filter((u): u is string => u !== undefined);
    rows.push([`${id}.${secret}`, ttl, expires ?? '<never>', usages.join(',') || '<none>', decode(s, DESCRIPTION_KEY) ?? '<none>', decode(s, EXTRA_GROUPS_KEY) ?? '<none>']);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd((widths[i] ?? 0) + 3))).join('')).join('\n') + '\n';
}

async function adminClient(flags: TokenFlags): Promise<KubeClient> {
  return KubeClient.fromKubeconfigFile(flags.kubeconfig ?? join(resolve(flags.dataDir), 'admin.kubeconfig'));
}

const common = (cmd: Command): Command =>
  cmd
    .option('--data-dir <dir>', 'data directory of the control plane (its admin.kubeconfig is used)', './knode-data')
    .option('--kubeconfig <file>', 'kubeconfig to use instead of <data-dir>/admin.kubeconfig');

function createCommand(): Command {
  return common(new Command('create'))
    .description('create a bootstrap token for joining a node, and print it')
    .option('--ttl <duration>', 'how long the token is valid (0: forever)', parseTtl, 24 * 3600)
    .option('--description <text>', 'what the token is for (shown by `knode token list`)')
    .option('--groups <groups>', 'extra groups (comma-separated, each system:bootstrappers:...)', DEFAULT_NODE_TOKEN_GROUP)
    .action(async (flags: TokenFlags & { ttl: number; description?: string; groups: string }) => {
      const client = await adminClient(flags);
      try {
        const token = generateBootstrapToken();
        const groups = flags.groups.split(',').map((g) => g.trim()).filter((g) => g !== '');
        const secret = bootstrapTokenSecret(token, {
          ttlSeconds: flags.ttl,
          groups,
          ...(flags.description !== undefined ? { description: flags.description } : {}),
        });
        await client.create(resources.secrets, secret);
        process.stdout.write(`${token}\n`);
        if (client.config.caPem !== undefined) process.stderr.write(`CA pin for --discovery-token-ca-cert-hash: ${caCertHash(client.config.caPem)}\n`);
      } finally {
        client.close();
      }
    });
}

function listCommand(): Command {
  return common(new Command('list'))
    .description('list bootstrap tokens')
    .action(async (flags: TokenFlags) => {
      const client = await adminClient(flags);
      try {
        const list = await client.list<SecretObject>(resources.secrets, { namespace: BOOTSTRAP_TOKEN_NAMESPACE, fieldSelector: `type=${BOOTSTRAP_TOKEN_SECRET_TYPE}` });
        process.stdout.write(formatTokenTable(list.items, new Date()));
      } finally {
        client.close();
      }
    });
}

function deleteCommand(): Command {
  return common(new Command('delete'))
    .description('delete bootstrap tokens (by <id> or <id>.<secret>)')
    .argument('<tokens...>', 'token ids or whole tokens')
    .action(async (tokens: string[], flags: TokenFlags) => {
      const client = await adminClient(flags);
      try {
        for (const t of tokens) {
          const id = parseBootstrapToken(t)?.id ?? t;
          if (!/^[a-z0-9]{6}$/.test(id)) throw new Error(`${JSON.stringify(t)} is neither a token id ([a-z0-9]{6}) nor a token (<id>.<secret>)`);
          try {
            await client.delete(resources.secrets, `${BOOTSTRAP_TOKEN_SECRET_PREFIX}${id}`, { namespace: BOOTSTRAP_TOKEN_NAMESPACE });
          } catch (err) {
            if (isNotFound(err)) throw new Error(`bootstrap token with id ${JSON.stringify(id)} not found`);
            throw err;
          }
          process.stdout.write(`bootstrap token "${id}" deleted\n`);
        }
      } finally {
        client.close();
      }
    });
}

export function tokenCommand(): Command {
  return new Command('token').description('manage bootstrap tokens for joining nodes').addCommand(createCommand()).addCommand(listCommand()).addCommand(deleteCommand());
}
