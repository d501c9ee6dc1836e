/**
 * The watch stream: one JSON object per line (`{"type":"ADDED","object":{...}}`), chunked, as client-go
 * and kubectl expect. Bookmarks (when the client allows them) carry the newest revision this watch has
 * delivered, so they never run ahead of an undelivered event. The stream ends after `timeoutSeconds`
 * (upstream picks 30-60 min when the client gives none), when the client goes away, or with an ERROR
 * event (410 Expired) when the requested revision has been compacted.
 */
import { buildFilter } from './filter.js';
import { boolParam, negotiate } from './http-util.js';
import type { RequestCtx } from './handlers.js';
import { shapeOne } from './handlers.js';
import { validateListVersion, watchObjects } from './registry-read.js';
import type { ApiWatchEvent } from './registry-read.js';
import { apiVersionOfEntry } from './resource-table.js';
import type { KubeObject } from '../../api/meta.js';
import { badRequest } from './errors.js';

export async function serveWatch(ctx: RequestCtx): Promise<void> {
  const shape = negotiate(ctx.req.headers.accept);
  const q = ctx.query;
  const filter = buildFilter(ctx.entry, q['labelSelector'], q['fieldSelector']);
  // refuse bad parameters before the stream starts, so they get a proper 4xx Status
  validateListVersion(q['resourceVersion'], q['resourceVersionMatch'], true);
  const bookmarks = boolParam(q['allowWatchBookmarks']);
  let timeoutSeconds = 1800 + Math.floor(Math.random() * 1800);
  if (q['timeoutSeconds'] !== undefined) {
    const t = Number(q['timeoutSeconds']);
    if (!Number.isInteger(t) || t < 0) throw badRequest(`timeoutSeconds: invalid value ${JSON.stringify(q['timeoutSeconds'])}`);
    if (t > 0) timeoutSeconds = t;
  }
  const abort = new AbortController();
  const { res } = ctx;
  let progress = 0;
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    abort.abort();
    clearInterval(bookmarkTimer);
    clearTimeout(timeoutTimer);
    res.end();
  };
  const write = (ev: ApiWatchEvent): void => {
    if (ended) return;
    const object = ev.type === 'ERROR' || ev.type === 'BOOKMARK' ? ev.object : shapeOne(ctx, shape, ev.object as KubeObject);
    res.write(`${JSON.stringify({ type: ev.type, object })}\n`);
  };
  const bookmark = (): void => {
    write({
      type: 'BOOKMARK',
      object: { kind: ctx.entry.def.kind, apiVersion: apiVersionOfEntry(ctx.entry), metadata: { resourceVersion: String(progress) } },
    });
  };
  const bookmarkTimer = setInterval(() => {
    if (bookmarks) bookmark();
  }, ctx.deps.bookmarkIntervalMs);
  const timeoutTimer = setTimeout(() => {
    if (bookmarks) bookmark();
    finish();
  }, timeoutSeconds * 1000);
  ctx.req.on('close', finish);
  res.on('close', finish);

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Transfer-Encoding': 'chunked',
    'Cache-Control': 'no-cache, private',
  });
  // Send headers now: clients (kubectl get -w) wait for them before printing anything.
  res.flushHeaders();
  try {
    await watchObjects(
      ctx.deps.registry,
      ctx.entry,
      {
        ...(ctx.info.namespace !== undefined ? { namespace: ctx.info.namespace } : {}),
        filter,
        ...(q['resourceVersion'] !== undefined ? { resourceVersion: q['resourceVersion'] } : {}),
        signal: abort.signal,
      },
      {
        send: write,
        end: (err) => {
          if (err) ctx.deps.log.warn({ err: err.message, resource: ctx.entry.def.plural }, 'watch ended by the store');
          finish();
        },
      },
      (rev) => {
        progress = Math.max(progress, rev);
      },
    );
  } catch (err) {
    // headers are sent: report the failure in-band, as upstream does
    const status = err instanceof Error && 'toStatus' in err ? (err as { toStatus(): unknown }).toStatus() : { kind: 'Status', apiVersion: 'v1', status: 'Failure', message: String(err), code: 500 };
    res.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
    finish();
  }
}
