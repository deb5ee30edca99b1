import type { Logger } from '../log/logger.ts';
import { buildDialPlanSnapshot, type DialPlanSnapshot } from '../routing/dial-plan.ts';
import type { RoutingSource } from '../routing/model.ts';

/**
 * The in-memory dial plan the per-call path reads (routing spec §2: never a database query per
 * call). A committed admin change marks it stale and schedules a rebuild; a call that arrives
 * before the rebuild ran rebuilds it first, so "the very next call" always sees the change.
 */
export class DialPlanCache {
  private snapshot: DialPlanSnapshot;
  private stale = false;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly source: RoutingSource,
    private readonly logger: Logger,
  ) {
    this.snapshot = this.build();
    this.unsubscribe = source.onChange(() => {
      if (this.stale) return;
      this.stale = true;
      setImmediate(() => this.current());
    });
  }

  current(): DialPlanSnapshot {
    if (this.stale) {
      this.stale = false;
      this.snapshot = this.build();
    }
    return this.snapshot;
  }

  close(): void {
    this.unsubscribe();
  }

  private build(): DialPlanSnapshot {
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
