/**
 * The few API calls the lab makes with the admin kubeconfig, through the shared client (lib/client):
 * create the workers' bootstrap token Secret (upstream's format, from the apiserver's own
 * bootstrap-token module) and read node readiness for `lab status` and `up`'s last step.
 * Cost: one TLS connection per call site; these run a handful of times per command.
 */
import { bootstrapTokenSecret, DEFAULT_NODE_TOKEN_GROUP } from '../control-plane/apiserver/auth/bootstrap-token.js';
import { KubeClient } from '../lib/client/client.js';
import { isAlreadyExists } from '../lib/client/errors.js';
import { resources } from '../lib/client/resource.js';

export { generateBootstrapToken } from '../control-plane/apiserver/auth/bootstrap-token.js';

async function withClient<T>(kubeconfig: string, fn: (c: KubeClient) => Promise<T>): Promise<T> {
  const client = await KubeClient.fromKubeconfigFile(kubeconfig);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

/** Makes `token` valid for joining the lab's nodes (no expiry: it lives as long as the lab). */
export async function createBootstrapToken(kubeconfig: string, token: string, lab: string): Promise<void> {
  const secret = bootstrapTokenSecret(token, { description: `knode lab ${lab}: joins the lab's workers`, groups: [DEFAULT_NODE_TOKEN_GROUP] });
  await withClient(kubeconfig, async (c) => {
    try {
      await c.create(resources.secrets, secret, { namespace: secret.metadata.namespace });
    } catch (err) {
      // a retried step already created it
      if (!isAlreadyExists(err)) throw err;
    }
  });
}

export interface NodeReadiness {
  readonly name: string;
  /** The Ready condition's status: True, False or Unknown (Unknown also when absent). */
  readonly ready: string;
}

function field(obj: unknown, ...path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

/** Node names and their Ready condition, from Node objects. */
export function nodeReadiness(items: readonly unknown[]): NodeReadiness[] {
  return items.map((n) => {
    const name = field(n, 'metadata', 'name');
    const conds = field(n, 'status', 'conditions');
    const ready = Array.isArray(conds) ? conds.find((c: unknown) => field(c, 'type') === 'Ready') : undefined;
    const status = field(ready, 'status');
    return { name: typeof name === 'string' ? name : '?', ready: typeof status === 'string' ? status : 'Unknown' };
  });
}

export async function listNodes(kubeconfig: string, timeoutMs = 5_000): Promise<NodeReadiness[]> {
  return withClient(kubeconfig, async (c) => nodeReadiness((await c.list(resources.nodes, { timeoutMs })).items));
}
