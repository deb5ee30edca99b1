/**
 * How an instance follows provider and route changes committed through any instance
 * (docs/cluster.md §8.3). Every committed row change has an entry in `change_log` (written by
 * triggers, so changes made outside outdial count too), numbered in commit order, announced by
 * NOTIFY on commit. The feed keeps the number of the last entry it delivered and, whenever it
 * hears of a newer one, reads every entry after it together with the rows as they now are, and
 * hands them to the store's listeners (the dial-plan cache applies them incrementally).
 *
 * Nothing is missed when the listening connection is lost: the feed polls the change log while
 * it is down and catches up from its last entry when it listens again. An instance away for
 * longer than the log keeps entries (pruned after `retentionMs`) is told to reload everything.
 *
 * Its own commits are delivered at once with the committed row, without a query, when nothing
 * committed before them is still unread; otherwise after a catch-up, so delivery stays in
 * commit order.
 */
import pg from 'pg';
import type { Logger } from '../../log/logger.ts';
import type { ProviderRecord, RouteRecord, RoutingChange } from '../../routing/model.ts';
import { providerFromRow } from '../sqlite/sqlite-provider-store.ts';
import { HEAD, type Committed } from './postgres-connection.ts';
import { CHANGE_CHANNEL } from './postgres-migrations.ts';

/** connecting: dialling the listening connection. listening: LISTEN is on. down: waiting to redial. */
export type FeedLinkState = 'idle' | 'connecting' | 'listening' | 'down' | 'closed';

const LEGAL: Readonly<Record<FeedLinkState, readonly FeedLinkState[]>> = {
  idle: ['connecting', 'closed'],
  connecting: ['listening', 'down', 'closed'],
  listening: ['down', 'closed'],
  down: ['connecting', 'closed'],
  closed: [],
};

export interface ChangeFeedOptions {
  readonly pool: pg.Pool;
  /** for the listening connection (its own, outside the pool) */
  readonly clientConfig: pg.ClientConfig;
  readonly logger: Logger;
  /** `postgres://user@host:port/db`, for log lines */
  readonly description: string;
  readonly emit: (change: RoutingChange) => void;
  /** how often the log is read anyway while listening (a connection that died silently); default 5 s */
  readonly pollMs?: number;
  /** how often it is read while not listening; default 500 ms */
  readonly pollDownMs?: number;
  /** how long entries are kept; default 1 hour */
  readonly retentionMs?: number;
  /** how often this instance prunes older entries; default 1 minute */
  readonly pruneEveryMs?: number;
  /** the first wait before listening again (doubled per failed attempt); default 100 ms */
  readonly minReconnectDelayMs?: number;
  /** the longest wait between attempts to listen again; default 2 s */
  readonly maxReconnectDelayMs?: number;
}

/** entries read per query while catching up */
const BATCH = 500;

interface EntryRow {
  pruned: string;
  seq: string;
  kind: string;
  row_id: string;
  provider: Parameters<typeof providerFromRow>[0] | null;
  route: RouteRecord | null;
}

/**
 * One statement, so one snapshot: the pruning mark and the entries after `$1` with their rows
 * as of that snapshot (never older than the entry). A plain index range scan: its cost stays far
 * below the planner's JIT threshold (compiling would cost more than the query).
 */
const READ_ENTRIES = `
SELECT (SELECT through FROM change_log_pruned)::text AS pruned, l.seq::text AS seq, l.kind, l.row_id,
  CASE l.kind WHEN 'provider' THEN (SELECT row_to_json(x) FROM providers x WHERE x.id = l.row_id) END AS provider,
  CASE l.kind WHEN 'route' THEN (SELECT row_to_json(x) FROM routes x WHERE x.id = l.row_id) END AS route
FROM change_log l WHERE l.seq > $1 ORDER BY l.seq LIMIT $2`;

/** The pruning mark alone, when no entry follows the last one delivered. */
const READ_PRUNED = 'SELECT through::text AS pruned FROM change_log_pruned';

/** The position of a fresh reader: everything so far is in what it reads next. */
export const HEAD_SEQ = `SELECT ${HEAD} AS head`;

const PRUNE = `
WITH cut AS (SELECT max(seq) AS through FROM change_log WHERE tm < clock_timestamp() - $1 * interval '1 millisecond'),
gone AS (DELETE FROM change_log WHERE seq <= (SELECT through FROM cut) RETURNING 1)
UPDATE change_log_pruned SET through = (SELECT through FROM cut)
WHERE (SELECT through FROM cut) > through
RETURNING through::text AS through, (SELECT count(*) FROM gone)::int AS removed`;

export class ChangeFeed {
  private linkState: FeedLinkState = 'idle';
  private lastSeq = 0;
  private listener: pg.Client | undefined;
  /** delivery is serialized: each catch-up or own commit runs after the previous one finished */
  private queue: Promise<void> = Promise.resolve();
  private catchUpQueued = false;
  private pollTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelay: number;
  private readonly minReconnectDelayMs: number;
  private catchUpFailing = false;
  private everListened = false;
  private downLogged = false;
  /** the client being dialled, so that a late event of an abandoned one is ignored */
  private dialling: pg.Client | undefined;
  private readonly pollMs: number;
  private readonly pollDownMs: number;
  private readonly retentionMs: number;
  private readonly pruneEveryMs: number;
  private readonly maxReconnectDelayMs: number;

  constructor(private readonly opts: ChangeFeedOptions) {
    this.pollMs = opts.pollMs ?? 5000;
    this.pollDownMs = opts.pollDownMs ?? 500;
    this.retentionMs = opts.retentionMs ?? 3_600_000;
    this.pruneEveryMs = opts.pruneEveryMs ?? 60_000;
    this.minReconnectDelayMs = opts.minReconnectDelayMs ?? 100;
    this.maxReconnectDelayMs = Math.max(this.minReconnectDelayMs, opts.maxReconnectDelayMs ?? 2000);
    this.reconnectDelay = this.minReconnectDelayMs;
  }

  get state(): FeedLinkState {
    return this.linkState;
  }

  /** The last entry delivered. */
  get position(): number {
    return this.lastSeq;
  }

  /** The server process of the listening connection (pg_stat_activity.pid), while there is one. */
  listenerPid(): number | undefined {
    return (this.listener as (pg.Client & { processID?: number }) | undefined)?.processID ?? undefined;
  }

  /** Starts at `head` (entries up to it are in what the caller reads itself) and listens. */
  async start(head: number): Promise<void> {
    this.lastSeq = head;
    this.pruneTimer = setInterval(() => void this.prune(), this.pruneEveryMs);
    this.pruneTimer.unref();
    await this.listen();
  }

  /**
   * This instance committed `write`; delivers `change` in commit order. Never rejects: the
   * write has committed whatever happens here.
   */
  ownCommit<T>(write: Committed<T>, change: RoutingChange): Promise<void> {
    return this.enqueue(async () => {
      if (write.lastSeq <= this.lastSeq) return; // a catch-up delivered it already, as it now is
      if (write.prevSeq <= this.lastSeq) {
        this.deliver(change);
        this.lastSeq = write.lastSeq;
        return;
      }
      // Another instance's commits came first and are not read yet: they go first.
      if (!(await this.catchUpNow())) this.deliver(change);
    });
  }

  /** Reads the log now (a test or a caller that must see every commit so far). */
  catchUp(): Promise<void> {
    return this.enqueue(async () => {
      await this.catchUpNow();
    });
  }

  async close(): Promise<void> {
    if (this.linkState === 'closed') return;
    this.transition('closed');
    clearTimeout(this.pollTimer);
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pruneTimer);
    const listener = this.listener;
    this.listener = undefined;
    if (listener) await listener.end().catch(() => {});
    await this.queue;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const next = this.queue.then(job).catch((err: unknown) => this.opts.logger.error({ err }, 'change feed job failed'));
    this.queue = next;
    return next;
  }

  /** A catch-up soon, unless one is already waiting to start (it will read this too). */
  private requestCatchUp(): void {
    if (this.catchUpQueued || this.linkState === 'closed') return;
    this.catchUpQueued = true;
    void this.enqueue(async () => {
      this.catchUpQueued = false;
      await this.catchUpNow();
    });
  }

  /** Delivers every entry after the last one delivered; false when the log could not be read. */
  private async catchUpNow(): Promise<boolean> {
    if (this.linkState === 'closed') return true;
    try {
      for (;;) {
        const { rows: entries } = await this.opts.pool.query<EntryRow & pg.QueryResultRow>(READ_ENTRIES, [String(this.lastSeq), BATCH]);
        // No entry at all: maybe nothing new, maybe everything after ours pruned.
        const pruned = Number(entries[0]?.pruned ?? (await this.opts.pool.query<{ pruned: string }>(READ_PRUNED)).rows[0]?.pruned ?? 0);
        if (pruned > this.lastSeq) {
          // Entries this instance never read are gone: what they said is only in the tables.
          this.opts.logger.warn({ db: this.opts.description, last_seen: this.lastSeq, pruned_through: pruned }, 'change log pruned past this instance; reloading the dial plan');
          this.lastSeq = pruned;
          this.deliver({ kind: 'reload' });
          continue;
        }
        this.deliverEntries(entries);
        if (entries.length > 0) this.lastSeq = Number(entries[entries.length - 1]!.seq);
        if (this.catchUpFailing) {
          this.catchUpFailing = false;
          this.opts.logger.info({ db: this.opts.description, seq: this.lastSeq }, 'change log readable again');
        }
        if (entries.length < BATCH) return true;
      }
    } catch (err) {
      if (!this.catchUpFailing) {
        this.catchUpFailing = true;
        this.opts.logger.warn({ db: this.opts.description, err: errorText(err), seq: this.lastSeq }, 'change log unreadable; retrying');
      }
      return false;
    }
  }

  /** A row changed several times in one batch is delivered once, as it now is. */
  private deliverEntries(entries: readonly EntryRow[]): void {
    const latest = new Map<string, EntryRow>();
    for (const e of entries) {
      const key = `${e.kind}:${e.row_id}`;
      latest.delete(key);
      latest.set(key, e);
    }
    for (const e of latest.values()) {
      if (e.kind === 'provider' && e.provider) this.deliver({ kind: 'provider', row: providerFromRow(e.provider) as ProviderRecord });
      else if (e.kind === 'route' && e.route) this.deliver({ kind: 'route', row: e.route });
      // An entry of a kind this build does not know (a newer instance's) is not the dial plan's.
    }
  }

  private deliver(change: RoutingChange): void {
    try {
      this.opts.emit(change);
    } catch (err) {
      this.opts.logger.error({ err }, 'store change listener failed');
    }
  }

  private async listen(): Promise<void> {
    if (this.linkState === 'closed') return;
    this.transition('connecting');
    const client = new pg.Client({ ...this.opts.clientConfig, application_name: 'outdial-listen' });
    this.dialling = client;
    const lost = (err: Error) => this.lost(client, err);
    client.on('error', lost);
    client.on('end', () => lost(new Error('connection ended')));
    client.on('notification', (msg) => {
      if (msg.channel === CHANGE_CHANNEL && Number(msg.payload) > this.lastSeq) this.requestCatchUp();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch (err) {
      client.end().catch(() => {});
      this.lost(client, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (this.linkState !== 'connecting') {
      // closed (or lost) while connecting
      await client.end().catch(() => {});
      return;
    }
    this.dialling = undefined;
    this.listener = client;
    this.transition('listening');
    this.reconnectDelay = this.minReconnectDelayMs;
    this.downLogged = false;
    this.opts.logger.info({ db: this.opts.description, seq: this.lastSeq }, this.everListened ? 'change feed listening again; catching up' : 'change feed listening');
    this.everListened = true;
    this.schedulePoll(this.pollMs);
    // Whatever was committed while nobody listened.
    this.requestCatchUp();
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.linkState === 'closed' || this.linkState === 'down') return;
    if (client !== this.listener && client !== this.dialling) return; // an abandoned client
    client.removeAllListeners();
    client.on('error', () => {}); // it may still report its socket's end
    this.listener = undefined;
    this.dialling = undefined;
    this.transition('down');
    if (!this.downLogged) {
      this.downLogged = true;
      this.opts.logger.warn({ db: this.opts.description, err: errorText(err), seq: this.lastSeq }, 'change feed not listening; following the change log by polling');
    }
    this.schedulePoll(this.pollDownMs);
    this.reconnectTimer = setTimeout(() => void this.listen(), this.reconnectDelay);
    this.reconnectTimer.unref();
    this.reconnectDelay = Math.min(this.reconnectDelay * 2, this.maxReconnectDelayMs);
  }

  private schedulePoll(ms: number): void {
    clearTimeout(this.pollTimer);
    const tick = () => {
      if (this.linkState === 'closed') return;
      this.requestCatchUp();
      this.pollTimer = setTimeout(tick, this.linkState === 'listening' ? this.pollMs : this.pollDownMs);
      this.pollTimer.unref();
    };
    this.pollTimer = setTimeout(tick, ms);
    this.pollTimer.unref();
  }

  private async prune(): Promise<void> {
    try {
      const { rows } = await this.opts.pool.query<{ through: string; removed: number }>(PRUNE, [this.retentionMs]);
      if (rows[0]) this.opts.logger.debug({ through: Number(rows[0].through), removed: rows[0].removed }, 'change log pruned');
    } catch (err) {
      this.opts.logger.debug({ err: errorText(err) }, 'change log not pruned');
    }
  }

  private transition(to: FeedLinkState): void {
    if (!LEGAL[this.linkState].includes(to)) throw new Error(`change feed: illegal transition ${this.linkState} -> ${to}`);
    this.linkState = to;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
