/**
 * The LIST phase: all N ConfigMaps of the namespace, five times as JSON and five times as a kubectl
 * Table (what `kubectl get cm` asks for), then one paginated pass with limit=500 as client-go's
 * reflector and `kubectl get --chunk-size=500` do. Runs are sequential on one warm connection so they
 * measure the server, not contention; the time is request sent -> last byte of the body, and the
 * bench checks the item count after the clock stopped.
 */
import type { KubeHttp } from './kube-http.js';
import type { Progress } from './progress.js';
import { NAMESPACE } from './workload.js';
import { maxOf, median } from './stats.js';
import type { LatencySummary } from './stats.js';
import { summarize } from './stats.js';

export const ACCEPT_JSON = 'application/json';
export const ACCEPT_TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps`;

export interface ListRuns {
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  readonly maxMs: number;
  /** Response size of the last run. */
  readonly bytes: number;
  /** Items (or Table rows) in the last run. */
  readonly items: number;
}

export interface PagedList {
  readonly totalMs: number;
  readonly pages: number;
  readonly items: number;
  readonly perPage: LatencySummary;
}

export interface ListResults {
  readonly json: ListRuns;
  readonly table: ListRuns;
  readonly paged: PagedList;
}

function countItems(body: Buffer, table: boolean): number {
  const parsed = JSON.parse(body.toString('utf8')) as { items?: unknown; rows?: unknown };
  const list = table ? parsed.rows : parsed.items;
  return Array.isArray(list) ? list.length : -1;
}

async function timedRuns(http: KubeHttp, accept: string, runs: number, expected: number, progress: Progress): Promise<ListRuns> {
  const table = accept === ACCEPT_TABLE;
  const what = table ? 'LIST as Table' : 'LIST as JSON';
  progress.start(what, runs);
  const times: number[] = [];
  let bytes = 0;
  let items = 0;
  for (let i = 0; i < runs; i++) {
    const r = await http.ok({ method: 'GET', path: PATH, accept, timeoutMs: 120_000 });
    times.push(r.doneAt - r.sentAt);
    bytes = r.body.length;
    items = countItems(r.body, table);
    if (items !== expected) throw new Error(`${what} returned ${items} items, expected ${expected}`);
    progress.tick();
  }
  progress.done();
  return { runsMs: times, medianMs: median(times), maxMs: maxOf(times), bytes, items };
}

async function pagedPass(http: KubeHttp, limit: number, expected: number, progress: Progress): Promise<PagedList> {
  progress.start(`LIST paginated (limit=${limit})`, Math.ceil(expected / limit));
  const perPage: number[] = [];
  let items = 0;
  let token: string | undefined;
  let totalMs = 0;
  do {
    const q = `limit=${limit}${token !== undefined ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const r = await http.ok({ method: 'GET', path: `${PATH}?${q}`, timeoutMs: 60_000 });
    perPage.push(r.doneAt - r.sentAt);
    totalMs += r.doneAt - r.sentAt;
    const parsed = JSON.parse(r.body.toString('utf8')) as { items?: unknown; metadata?: { continue?: unknown } };
    items += Array.isArray(parsed.items) ? parsed.items.length : 0;
    const next = parsed.metadata?.continue;
    token = typeof next === 'string' && next !== '' ? next : undefined;
    progress.tick();
    if (perPage.length > expected / limit + 10) throw new Error(`paginated LIST did not end after ${perPage.length} pages`);
  } while (token !== undefined);
  progress.done();
  if (items !== expected) throw new Error(`paginated LIST returned ${items} items, expected ${expected}`);
  // totalMs sums request times only: the bench's own JSON.parse between pages is not the server's cost.
  return { totalMs, pages: perPage.length, items, perPage: summarize(perPage) };
}

/** `afterStep` runs after the JSON runs, the Table runs and the paginated pass (the bench notes RSS there). */
export async function runLists(
  http: KubeHttp,
  expected: number,
  progress: Progress,
  afterStep: (step: string) => Promise<void> = async () => undefined,
): Promise<ListResults> {
  // No untimed warm-up: the first run's first-use costs (JIT of the list path) show up in the max,
  // and the median of five is what the goal is judged on.
  const json = await timedRuns(http, ACCEPT_JSON, 5, expected, progress);
  await afterStep('LIST as JSON');
  const table = await timedRuns(http, ACCEPT_TABLE, 5, expected, progress);
  await afterStep('LIST as Table');
  const paged = await pagedPass(http, 500, expected, progress);
  await afterStep('paginated LIST');
  return { json, table, paged };
}
