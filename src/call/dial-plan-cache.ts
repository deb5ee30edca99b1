import type { Logger } from '../log/logger.ts';
import {
  applyRoutingChanges,
  buildDialPlanSnapshot,
  type DialPlanSnapshot,
  type RoutingRowChange,
} from '../routing/dial-plan.ts';
import type { RoutingChange } from '../routing/model.ts';
import type { RoutingSource } from '../store/store-types.ts';

/**
 * The in-memory dial plan the per-call path reads (docs/routing.md: never a database query per
 * call). Committed admin changes arrive with their rows and are applied to the snapshot soon
 * after (a route change re-indexes only its customer); a call that arrives first applies them
 * itself, so "the very next call" always sees the change. Only a change the store cannot name
 * (another process wrote the file) reads everything again, in the background: until that read
 * is back, calls use the current snapshot with the named changes applied.
 */
export class DialPlanCache {
  private pending: RoutingRowChange[] = [];
  /** Named changes seen since the running full read started: applied again on its result. */
  private sinceReload: RoutingRowChange[] | undefined;
  private reloadAgain = false;
  private reloadScheduled = false;
  private scheduled = false;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly updateListeners = new Set<() => void>();
  private updateQueued = false;

  /** Reads the whole plan once; the returned cache then follows the source's change feed. */
  static async load(source: RoutingSource, logger: Logger): Promise<DialPlanCache> {
    const early: RoutingChange[] = [];
    // Subscribe before reading, so nothing committed during the read is missed.
    const off = source.onChange((change) => early.push(change));
    let snapshot: DialPlanSnapshot;
    try {
      snapshot = await DialPlanCache.read(source, logger);
    } finally {
      off();
    }
    const cache = new DialPlanCache(source, logger, snapshot);
    for (const change of early) cache.accept(change);
    return cache;
  }

  private constructor(
    private readonly source: RoutingSource,
    private readonly logger: Logger,
    private snapshot: DialPlanSnapshot,
  ) {
    this.unsubscribe = source.onChange((change) => this.accept(change));
  }

  current(): DialPlanSnapshot {
    this.scheduled = false;
    if (this.pending.length > 0) {
      const started = process.hrtime.bigint();
      const changes = this.pending;
      this.pending = [];
      this.snapshot = applyRoutingChanges(this.snapshot, changes);
      this.logger.debug({ changes: changes.length, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'dial plan updated');
      this.announceUpdate();
    }
    return this.snapshot;
  }

  /**
   * Calls `listener` soon after each change of the snapshot (jobs that follow the providers, such
   * as the registrar); returns the unsubscribe function.
   */
  onUpdate(listener: () => void): () => void {
    this.updateListeners.add(listener);
    return () => this.updateListeners.delete(listener);
  }

  private announceUpdate(): void {
    if (this.updateQueued || this.updateListeners.size === 0) return;
    this.updateQueued = true;
    setImmediate(() => {
      this.updateQueued = false;
      if (this.closed) return;
      for (const listener of [...this.updateListeners]) {
        try {
          listener();
        } catch (err) {
          this.logger.error({ err }, 'dial plan listener failed');
        }
      }
    });
  }

  /** Resolves when no full read is running (tests and shutdown wait on it). */
  async settled(): Promise<void> {
    while (this.reloadScheduled || this.sinceReload !== undefined) await new Promise<void>((resolve) => setImmediate(resolve));
  }

  close(): void {
    this.closed = true;
    this.unsubscribe();
    this.updateListeners.clear();
  }

  private accept(change: RoutingChange): void {
    if (change.kind === 'reload') {
      this.reload();
      return;
    }
    this.pending.push(change);
    this.sinceReload?.push(change);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.current());
  }

  /**
   * One full read at a time: signals in the same tick share one read, and signals while a read
   * runs cost one more read after it (what they announce may have missed the running one).
   */
  private reload(): void {
    if (this.sinceReload !== undefined) {
      this.reloadAgain = true;
      return;
    }
    if (this.reloadScheduled) return;
    this.reloadScheduled = true;
    setImmediate(() => {
      this.reloadScheduled = false;
      if (!this.closed) this.startReload();
    });
  }

  private startReload(): void {
    this.sinceReload = [];
    DialPlanCache.read(this.source, this.logger).then(
      (fresh) => {
        const replay = this.sinceReload ?? [];
        this.sinceReload = undefined;
        if (this.closed) return;
        // Changes announced before the read began are in `fresh`; later ones are in `replay`.
        this.pending = [];
        this.snapshot = replay.length > 0 ? applyRoutingChanges(fresh, replay) : fresh;
        this.announceUpdate();
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.reload();
        }
      },
      (err: unknown) => {
        this.sinceReload = undefined;
        this.reloadAgain = false;
        // Calls go on with the snapshot they have; the next reload signal tries again.
        this.logger.error({ err }, 'dial plan reload failed');
      },
    );
  }

  private static async read(source: RoutingSource, logger: Logger): Promise<DialPlanSnapshot> {
    const started = process.hrtime.bigint();
    // Built while the rows are read, so a full read never holds every route row at once
    // where the store streams them (docs/performance.md §4).
    const snapshot = await source.readLiveInto((providers, routes) => buildDialPlanSnapshot(providers, routes));
    logger.debug(
      { providers: snapshot.providers.size, routes: snapshot.routeCount, ms: Number(process.hrtime.bigint() - started) / 1e6 },
      'dial plan rebuilt',
    );
    return snapshot;
  }
}
