/**
 * What the call path asks before it places a call or an attempt (docs/cluster.md §2): a slot among
 * `maxCalls` concurrent ones under a key, and room among `maxCps` attempts per second. The call
 * path does not know whether the answer comes from this process (local-call-limiter.ts) or from
 * the whole cluster through Redis (redis-call-limiter.ts).
 *
 * Keys are the caller's: e.g. `calls` for the concurrent-call limit of the whole service and
 * `provider:<id>` for a provider's `max_calls` / `max_cps`.
 */

/** 0 means unlimited, for both. */
export interface CallLimits {
  /** concurrent slots under the key (a non-negative integer) */
  readonly maxCalls: number;
  /** new slots per second under the key (a non-negative number, may be fractional) */
  readonly maxCps: number;
}

/** A slot held; `release()` gives it back (once; later calls do nothing). */
export interface CallSlot {
  readonly admitted: true;
  readonly key: string;
  release(): void;
}

/** Which limit refused. */
export interface LimitRefusal {
  readonly admitted: false;
  readonly limit: 'max_calls' | 'max_cps';
}

export type Admission = CallSlot | LimitRefusal;

export interface CallLimiter {
  /**
   * Takes a slot under `key` if both limits allow it, atomically: an attempt refused for
   * `max_calls` uses no room in `max_cps`, and one refused for `max_cps` holds no slot. Rejects
   * only for limits that are not limits (checkLimits), never because of Redis, and never waits on
   * an unreachable Redis longer than its command timeout: when the cluster cannot answer, this
   * instance decides alone.
   */
  admit(key: string, limits: CallLimits): Promise<Admission>;
  /** admit() with only a concurrent-call limit: the slot, or null when all `max` are held */
  tryAcquire(key: string, max: number): Promise<CallSlot | null>;
  /** admit() with only a rate; the attempt holds no slot. True when it may go. */
  tryRate(key: string, perSecond: number): Promise<boolean>;
  /** slots this instance holds under `key` now */
  held(key: string): number;
  /** slots held under `key` by the whole cluster (this instance's alone when it decides alone) */
  clusterHeld(key: string): Promise<number>;
  /** stops timers and lets go of the cluster's state for this instance; held slots are dropped */
  close(): Promise<void>;
}

export const REFUSED_MAX_CALLS: LimitRefusal = Object.freeze({ admitted: false, limit: 'max_calls' });
export const REFUSED_MAX_CPS: LimitRefusal = Object.freeze({ admitted: false, limit: 'max_cps' });

/** Refuses limits that are not a number of slots and a rate (a programming error, not a call's). */
export function checkLimits(limits: CallLimits): void {
  if (!Number.isInteger(limits.maxCalls) || limits.maxCalls < 0) throw new RangeError(`maxCalls must be a non-negative integer, got ${limits.maxCalls}`);
  if (!Number.isFinite(limits.maxCps) || limits.maxCps < 0) throw new RangeError(`maxCps must be a non-negative number, got ${limits.maxCps}`);
}
