/**
 * Reading API objects in e2e tests through kubectl's `-o json`, plus a dotted-path accessor so tests can
 * assert on deep fields (`spec.template.spec.containers.0.image`) without declaring every API type.
 * Each read is one kubectl process (~100 ms).
 */
import type { TestServer } from './server.js';

/** Follows a dotted path (numeric segments index arrays); undefined when any step is missing. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const seg of path.split('.')) {
    if (Array.isArray(cur)) cur = (cur as unknown[])[Number(seg)];
    else if (typeof cur === 'object' && cur !== null) cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

/** The value at `path` as an array (empty when missing). */
export function listAt(obj: unknown, path: string): readonly unknown[] {
  const v = at(obj, path);
  return Array.isArray(v) ? (v as unknown[]) : [];
}

/** Runs `kubectl <args> -o json` and parses the answer; throws when kubectl fails. */
export async function getJson(server: TestServer, args: readonly string[]): Promise<unknown> {
  return JSON.parse(await server.kubectlOk([...args, '-o', 'json'])) as unknown;
}

/** One object, or undefined when the server says NotFound. Other failures throw. */
export async function tryGet(server: TestServer, resource: string, name: string, namespace?: string): Promise<unknown> {
  const r = await server.kubectl(['get', resource, name, ...(namespace !== undefined ? ['-n', namespace] : []), '-o', 'json']);
  if (r.code === 0) return JSON.parse(r.stdout) as unknown;
  if (/\(NotFound\)/.test(r.stderr)) return undefined;
  throw new Error(`kubectl get ${resource} ${name} failed (${r.code}): ${r.stderr}`);
}

/** The names of the items of a list object. */
export function itemNames(list: unknown): string[] {
  return listAt(list, 'items').map((i) => String(at(i, 'metadata.name')));
}

/**
 * Creates a namespace from a manifest (JSON body) rather than `kubectl create namespace`, so a suite's
 * fixtures do not depend on the imperative generators, which are tested on their own.
 */
export async function createNamespace(server: TestServer, name: string): Promise<void> {
  await server.kubectlOk(['create', '-f', '-'], { input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n` });
}
