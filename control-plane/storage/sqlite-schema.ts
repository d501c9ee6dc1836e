/**
 * The SQLite schema of the store and every statement it runs, prepared once and cached.
 *
 * Tables:
 * - `log`: one row per revision (the revision is the rowid, so reads by revision are B-tree lookups).
 *   A delete is a tombstone row (deleted = 1, value NULL). `prev_revision` points at the key's
 *   previous live version (NULL when the row creates the key), which gives watch events their `prev`
 *   and lets compaction find superseded rows without scanning history.
 * - `log_key_revision` index: (key, revision), for reading a range as of an old revision.
 * - `live`: each existing key's latest revision, so get/list/count at the current revision touch only
 *   live keys (O(log n) seek + rows returned), however long the history is.
 * - `meta`: the schema version and the compacted revision.
 * The current revision is not stored: it is max(revision in log, compacted revision), since
 * compaction deletes only rows at or below the compacted revision.
 */
import type Database from 'better-sqlite3';
import type { KeyRange } from './ranges.js';
import type { KeyValue } from './store.js';

export const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS log (
  revision INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  value TEXT,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER,
  deleted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS log_key_revision ON log (key, revision);
CREATE TABLE IF NOT EXISTS live (key TEXT PRIMARY KEY, revision INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT OR IGNORE INTO meta (name, value) VALUES ('schema_version', ${SCHEMA_VERSION}), ('compacted_revision', 0);
`;

/** A log row joined with the previous version of its key, as watch replay reads it. */
export interface LogRow {
  readonly revision: number;
  readonly key: string;
  readonly value: string | null;
  readonly createRevision: number;
  readonly deleted: number;
  readonly prevRevision: number | null;
  readonly prevValue: string | null;
  readonly prevCreateRevision: number | null;
}

export interface NewLogRow {
  readonly revision: number;
  readonly key: string;
  readonly value: string | null;
  readonly createRevision: number;
  readonly prevRevision: number | null;
  readonly deleted: 0 | 1;
}

interface RangeParams {
  readonly start: string;
  readonly end: string | null;
}

const KV_COLUMNS = 'l.key AS key, l.value AS value, l.create_revision AS createRevision, l.revision AS modRevision';

/** `column` within the range; the upper bound is left out when the range is open-ended. */
function rangeSql(column: string, range: KeyRange): string {
  return range.end === undefined ? `${column} >= @start` : `${column} >= @start AND ${column} < @end`;
}

function rangeParams(range: KeyRange): RangeParams {
  return { start: range.start, end: range.end ?? null };
}

/** SQLite's "no limit" is -1. */
function sqlLimit(limit: number): number {
  return Number.isFinite(limit) ? limit : -1;
}

export class SqliteStatements {
  private readonly cache = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Creates the tables (idempotent) and refuses a database written by a newer schema. */
  migrate(): void {
    this.db.exec(SCHEMA);
    const version = this.readMeta('schema_version');
    if (version !== SCHEMA_VERSION) {
      throw new Error(`store schema version ${version} is not supported (expected ${SCHEMA_VERSION})`);
    }
  }

  private stmt<P extends object, R = unknown>(sql: string): Database.Statement<[P], R> {
    let s = this.cache.get(sql);
    if (s === undefined) {
      s = this.db.prepare(sql);
      this.cache.set(sql, s);
    }
    return s as Database.Statement<[P], R>;
  }

  readMeta(name: string): number {
    const row = this.stmt<{ name: string }, { value: number }>('SELECT value FROM meta WHERE name = @name').get({ name });
    return row?.value ?? 0;
  }

  writeMeta(name: string, value: number): void {
    this.stmt<{ name: string; value: number }>('UPDATE meta SET value = @value WHERE name = @name').run({ name, value });
  }

  maxRevision(): number {
    const row = this.stmt<{ none?: never }, { rev: number | null }>('SELECT max(revision) AS rev FROM log').get({});
    return row?.rev ?? 0;
  }

  getLive(key: string): KeyValue | undefined {
    return this.stmt<{ key: string }, KeyValue>(
      `SELECT ${KV_COLUMNS} FROM live v JOIN log l ON l.revision = v.revision WHERE v.key = @key`,
    ).get({ key });
  }

  listLive(range: KeyRange, limit: number): KeyValue[] {
    return this.stmt<RangeParams & { limit: number }, KeyValue>(
      `SELECT ${KV_COLUMNS} FROM live v JOIN log l ON l.revision = v.revision
       WHERE ${rangeSql('v.key', range)} ORDER BY v.key LIMIT @limit`,
    ).all({ ...rangeParams(range), limit: sqlLimit(limit) });
  }

  countLive(range: KeyRange): number {
    const row = this.stmt<RangeParams, { n: number }>(
      `SELECT count(*) AS n FROM live WHERE ${rangeSql('key', range)}`,
    ).get(rangeParams(range));
    return row?.n ?? 0;
  }

  // The newest row of each key at or below @revision, found on the covering (key, revision) index;
  // only the winners are then read from the log to get their values and tombstone flags.
  private static latestAt(range: KeyRange): string {
    return `(SELECT key, max(revision) AS revision FROM log
             WHERE ${rangeSql('key', range)} AND revision <= @revision GROUP BY key) m
            JOIN log l ON l.revision = m.revision`;
  }

  listAt(range: KeyRange, revision: number, limit: number): KeyValue[] {
    return this.stmt<RangeParams & { revision: number; limit: number }, KeyValue>(
      `SELECT ${KV_COLUMNS} FROM ${SqliteStatements.latestAt(range)}
       WHERE l.deleted = 0 ORDER BY m.key LIMIT @limit`,
    ).all({ ...rangeParams(range), revision, limit: sqlLimit(limit) });
  }

  countAt(range: KeyRange, revision: number): number {
    const row = this.stmt<RangeParams & { revision: number }, { n: number }>(
      `SELECT count(*) AS n FROM ${SqliteStatements.latestAt(range)} WHERE l.deleted = 0`,
    ).get({ ...rangeParams(range), revision });
    return row?.n ?? 0;
  }

  // `+l.key` keeps SQLite on the revision order of the primary key: replay reads recent rows in
  // revision order, and the key index would make it sort the whole prefix's history instead.
  events(range: KeyRange, after: number, limit: number): LogRow[] {
    return this.stmt<RangeParams & { after: number; limit: number }, LogRow>(
      `SELECT l.revision AS revision, l.key AS key, l.value AS value, l.create_revision AS createRevision,
              l.deleted AS deleted, p.revision AS prevRevision, p.value AS prevValue,
              p.create_revision AS prevCreateRevision
       FROM log l LEFT JOIN log p ON p.revision = l.prev_revision
       WHERE l.revision > @after AND ${rangeSql('+l.key', range)} ORDER BY l.revision LIMIT @limit`,
    ).all({ ...rangeParams(range), after, limit: sqlLimit(limit) });
  }

  insertLog(row: NewLogRow): void {
    this.stmt<NewLogRow>(
      `INSERT INTO log (revision, key, value, create_revision, prev_revision, deleted)
       VALUES (@revision, @key, @value, @createRevision, @prevRevision, @deleted)`,
    ).run(row);
  }

  insertLive(key: string, revision: number): void {
    this.stmt<{ key: string; revision: number }>('INSERT INTO live (key, revision) VALUES (@key, @revision)').run({
      key,
      revision,
    });
  }

  updateLive(key: string, revision: number): void {
    this.stmt<{ key: string; revision: number }>('UPDATE live SET revision = @revision WHERE key = @key').run({
      key,
      revision,
    });
  }

  deleteLive(key: string): void {
    this.stmt<{ key: string }>('DELETE FROM live WHERE key = @key').run({ key });
  }

  /**
   * Drops the history that compaction from `from` to `to` makes unreadable. Every row except a key's
   * newest is either a tombstone or the `prev_revision` of the row after it, so the rows written in
   * (from, to] name exactly the rows they superseded; rows superseded earlier went at earlier
   * compactions. Cost: proportional to the writes since the last compaction.
   */
  compact(from: number, to: number): void {
    this.stmt<{ from: number; to: number }>(
      `DELETE FROM log WHERE revision IN
         (SELECT prev_revision FROM log WHERE revision > @from AND revision <= @to AND prev_revision IS NOT NULL)`,
    ).run({ from, to });
    this.stmt<{ from: number; to: number }>(
      'DELETE FROM log WHERE revision > @from AND revision <= @to AND deleted = 1',
    ).run({ from, to });
    this.writeMeta('compacted_revision', to);
  }
}
