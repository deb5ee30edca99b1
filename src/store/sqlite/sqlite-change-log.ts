/**
 * How a SQLite store follows the provider and route commits of other connections to its file
 * (another outdial, a script, an operator's sqlite3 shell), row by row (docs/performance.md §8).
 * Triggers (migration 5) give every committed provider or route row change an entry in
 * `change_log`, numbered in commit order (SQLite has one writer at a time). The reader keeps the
 * number of the last entry it has dealt with, its watermark. `PRAGMA data_version` says when
 * another connection committed; then it reads the entries after the watermark and the rows they
 * name, as committed, in one read transaction (one WAL snapshot), and announces each changed row
 * once, in the order of its last entry. It announces `reload` only when it cannot name what
 * changed: entries after its watermark were pruned, more entries arrived than are cheaper to
 * apply than a full read, an entry names a row that is gone (a plain SQL DELETE), or the log
 * cannot be read.
 *
 * This process's own commits are announced by the store with their rows as they commit; they
 * have entries too. When no other connection committed since the last check, every entry after
 * the watermark is this process's own, and the watermark moves past them unread. When another
 * one did, the own entries among the new ones are read and announced again with the rows as they
 * now are: harmless, since a change carries the whole row (RoutingSource, store-types.ts).
 */
import type { Logger } from '../../log/logger.ts';
import type { ProviderRecord, RouteRecord, RoutingChange } from '../../routing/model.ts';
import type { SqliteConnection } from './sqlite-connection.ts';
import type { Db } from './sqlite-db.ts';
import { providerFromRow } from './sqlite-provider-store.ts';

export interface SqliteChangeLogOptions {
  /** entries older than this are pruned; default 1 hour */
  readonly retentionMs?: number;
  /** at most this many entries are kept (the oldest go first); default 50,000 */
  readonly maxEntries?: number;
  /**
   * At most this many new entries at one check are applied one by one (default 10,000); fewer
   * when the tables are small (see incrementalLimit).
   */
  readonly maxIncremental?: number;
}

/**
 * Reading and applying one changed row costs about four times what one row of a full read and
 * rebuild costs (at 100k routes: 40-90 µs against about 10 µs, docs/performance.md §8.1), so
 * beyond a quarter of the rows last read, a full read is the cheaper way; but never fewer than
 * this many are applied one by one.
 */
const MIN_INCREMENTAL = 100;

/** What one check found. */
export type ChangeLogCheck =
  | { kind: 'none' }
  | { kind: 'rows'; changes: RoutingChange[] }
  | { kind: 'reload'; why: 'pruned' | 'too many' | 'row gone' | 'unreadable' };

/**
 * A prune removes at most this many entries, so one prune is a short write on the event loop
 * (a few ms); the store prunes again soon while prunes come back full.
 */
export const PRUNE_BATCH = 1000;

interface Entry {
  seq: number;
  kind: string;
  row_id: string;
}

export class SqliteChangeLog {
  /** The last entry dealt with; undefined until the log could be read once. */
  private seq: number | undefined;
  /** `PRAGMA data_version` in the snapshot the watermark was taken in. */
  private dataVersion = -1;
  /** data_version at the last `reload` announced because the log could not be read. */
  private failedAt: number | undefined;
  private failing = false;
  private readonly retentionMs: number;
  private readonly maxEntries: number;
  private readonly maxIncremental: number;
  /** Providers and routes in the last full read (readLive). */
  private tableRows = Infinity;

  constructor(
    private readonly conn: SqliteConnection,
    private readonly logger: Logger,
    options: SqliteChangeLogOptions = {},
  ) {
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.maxEntries = options.maxEntries ?? 50_000;
    this.maxIncremental = options.maxIncremental ?? 10_000;
    // The position of a fresh reader: the rows it reads next (readLive) include every entry so far.
    try {
      this.db.transaction(() => {
        this.dataVersion = this.readDataVersion();
        this.seq = this.head();
      }).deferred();
    } catch (err) {
      this.logger.warn({ err }, 'change log unreadable; reloading the dial plan on outside commits');
    }
  }

  /** The store's readLive read this many providers and routes (what a full read costs). */
  noteFullRead(rows: number): void {
    this.tableRows = rows;
  }

  /** How many new entries are applied one by one at most, before a full read is cheaper. */
  get incrementalLimit(): number {
    return Math.min(this.maxIncremental, Math.max(MIN_INCREMENTAL, Math.floor(this.tableRows / 4)));
  }

  /** The watermark: the last entry dealt with (undefined while the log has never been readable). */
  get position(): number | undefined {
    return this.seq;
  }

  private get db(): Db {
    return this.conn.db;
  }

  /**
   * Reads what other connections committed since the last check; the caller announces the
   * result. Synchronous: one read transaction, nothing else runs in between.
   */
  check(): ChangeLogCheck {
    let found: ChangeLogCheck;
    try {
      found = this.db.transaction(() => this.readNew()).deferred();
    } catch (err) {
      return this.unreadable(err);
    }
    if (this.failing) {
      this.failing = false;
      this.failedAt = undefined;
      this.logger.info({ seq: this.seq }, 'change log readable again');
    }
    return found;
  }

  /**
   * Removes entries older than the retention, and the oldest beyond maxEntries, at most
   * PRUNE_BATCH, oldest first; resolves how many. Never waits for another writer's lock (it resolves
   * 0 then; the next prune tries again).
   */
  async prune(): Promise<number> {
    const cutoff = new Date(Date.now() - this.retentionMs).toISOString();
    const r = await this.conn.writeWithoutWaiting(() => {
      const db = this.db;
      const through = (db.prepare('SELECT through FROM change_log_pruned').get() as { through: number }).through;
      const oldest = db.prepare('SELECT max(seq) AS s, max(CASE WHEN tm < ? THEN seq END) AS aged FROM (SELECT seq, tm FROM change_log ORDER BY seq LIMIT ?)').get(cutoff, PRUNE_BATCH) as {
        s: number | null;
        aged: number | null;
      };
      const newest = (db.prepare('SELECT max(seq) AS s FROM change_log').get() as { s: number | null }).s ?? 0;
      const cut = Math.max(oldest.aged ?? 0, Math.min(newest - this.maxEntries, oldest.s ?? 0));
      if (cut <= through) return 0;
      const removed = db.prepare('DELETE FROM change_log WHERE seq <= ?').run(cut).changes;
      db.prepare('UPDATE change_log_pruned SET through = ?').run(cut);
      return removed;
    });
    const removed = r === 'busy' ? 0 : r;
    if (removed > 0) this.logger.debug({ removed }, 'change log pruned');
    return removed;
  }

  /** Inside the check's read transaction. */
  private readNew(): ChangeLogCheck {
    // The first statement takes the snapshot, so data_version is the snapshot's (WAL).
    const version = this.readDataVersion();
    if (this.seq !== undefined && version === this.dataVersion) {
      // No other connection committed: the new entries, if any, are this process's own.
      this.seq = this.head();
      return { kind: 'none' };
    }
    const reload = (why: 'pruned' | 'too many' | 'row gone'): ChangeLogCheck => {
      this.seq = this.head();
      this.dataVersion = version;
      return { kind: 'reload', why };
    };
    const pruned = (this.db.prepare('SELECT through FROM change_log_pruned').get() as { through: number }).through;
    // Entries this reader never saw are gone: what they said is only in the tables.
    if (this.seq === undefined || pruned > this.seq) return reload('pruned');
    const limit = this.incrementalLimit;
    const entries = this.db.prepare('SELECT seq, kind, row_id FROM change_log WHERE seq > ? ORDER BY seq LIMIT ?').all(this.seq, limit + 1) as Entry[];
    if (entries.length > limit) return reload('too many');
    // A row changed several times is announced once, as it now is, where its last entry is.
    const latest = new Map<string, Entry>();
    for (const e of entries) {
      const key = `${e.kind}:${e.row_id}`;
      latest.delete(key);
      latest.set(key, e);
    }
    const changes: RoutingChange[] = [];
    const provider = this.db.prepare('SELECT * FROM providers WHERE id = ?');
    const route = this.db.prepare('SELECT * FROM routes WHERE id = ?');
    for (const e of latest.values()) {
      if (e.kind === 'provider') {
        const row = provider.get(e.row_id) as Parameters<typeof providerFromRow>[0] | undefined;
        if (!row) return reload('row gone');
        changes.push({ kind: 'provider', row: providerFromRow(row) as ProviderRecord });
      } else if (e.kind === 'route') {
        const row = route.get(e.row_id) as RouteRecord | undefined;
        if (!row) return reload('row gone');
        changes.push({ kind: 'route', row });
      }
      // An entry of a kind this build does not know (a newer outdial's) is not the dial plan's.
    }
    if (entries.length > 0) this.seq = entries[entries.length - 1]!.seq;
    this.dataVersion = version;
    return changes.length > 0 ? { kind: 'rows', changes } : { kind: 'none' };
  }

  /**
   * The log could not be read: announce `reload` once per outside commit (as before the log
   * existed), keep the watermark, and catch up from it when the log is readable again.
   */
  private unreadable(err: unknown): ChangeLogCheck {
    if (!this.failing) {
      this.failing = true;
      this.logger.warn({ err, seq: this.seq }, 'change log unreadable; reloading the dial plan on outside commits');
    }
    let version: number | undefined;
    try {
      version = this.readDataVersion();
    } catch {
      version = undefined;
    }
    if (version !== undefined && version === this.dataVersion) return { kind: 'none' };
    if (version !== undefined && version === this.failedAt) return { kind: 'none' };
    this.failedAt = version;
    return { kind: 'reload', why: 'unreadable' };
  }

  /** The newest entry, or the pruning mark when no entry is left after it. */
  private head(): number {
    const r = this.db.prepare('SELECT max(coalesce((SELECT max(seq) FROM change_log), 0), (SELECT through FROM change_log_pruned)) AS head').get() as { head: number };
    return r.head;
  }

  private readDataVersion(): number {
    return Number(this.db.pragma('data_version', { simple: true }));
  }
}
