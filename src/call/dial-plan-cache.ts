import type { Logger } from '../log/logger.ts';
import {
  applyRoutingChanges,
  buildDialPlanSnapshot,
  type DialPlanSnapshot,
  type RoutingRowChange,
} from '../routing/dial-plan.ts';
import type { RoutingChange, RoutingSource } from '../routing/model.ts';

/**
 * The in-memory dial plan the per-call path reads (routing spec §2: never a database query per
 * call). Committed admin changes arrive with their rows and are applied to the snapshot soon
 * after (a route change re-indexes only its customer); a call that arrives first applies them
 * itself, so "the very next call" always sees the change. Only a change the store cannot name
 * (another process wrote the file) reads everything again.
 */
export class DialPlanCache {
  private snapshot: DialPlanSnapshot;
  private pending: RoutingRowChange[] = [];
  private reloadNeeded = false;
  private scheduled = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: RoutingSource,
    private readonly logger: Logger,
  ) {
    this.snapshot = this.rebuild();
    this.unsubscribe = source.onChange((change: RoutingChange) => {
      if (change.kind === 'reload') this.reloadNeeded = true;
      else this.pending.push(change);
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.current());
    });
  }

  current(): DialPlanSnapshot {
    this.scheduled = false;
    if (this.reloadNeeded) {
      this.reloadNeeded = false;
      this.pending = [];
      this.snapshot = this.rebuild();
    } else if (this.pending.length > 0) {
      const started = process.hrtime.bigint();
      const changes = this.pending;
      this.pending = [];
      this.snapshot = applyRoutingChanges(this.snapshot, changes);
      this.logger.debug({ changes: changes.length, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'dial plan updated');
    }
    return this.snapshot;
  }

  close(): void {
    this.unsubscribe();
  }

  private rebuild(): DialPlanSnapshot {
    const started = process.hrtime.bigint();
    const { providers, routes } = this.source.readLive();
    const snapshot = buildDialPlanSnapshot(providers, routes);
    this.logger.debug(
      { providers: providers.length, routes: routes.length, ms: Number(process.hrtime.bigint() - started) / 1e6 },
      'dial plan rebuilt',
    );
    return snapshot;
  }
}
