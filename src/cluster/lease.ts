/**
 * "One instance at a time" for jobs such as health probes and carrier REGISTERs (docs/cluster.md
 * §4). A `Lease` tells its job when to run (`onChange(true)`) and when to stop (`onChange(false)`).
 * `StoreLease` campaigns for a lease kept in a `LeaseStore` (Redis or PostgreSQL) that expires
 * unless its holder renews it, so a crashed holder's lease passes to another instance within the
 * lease time; `AlwaysHeldLease` is the single instance's, held from start to stop.
 */
import type { Logger } from '../log/logger.ts';

export interface Lease {
  readonly name: string;
  /** whether this instance is the one that may run the job now */
  isHeld(): boolean;
  /**
   * Starts campaigning (once). `onChange(true)` when this instance becomes the holder: start the
   * job; `onChange(false)` when it stops being it (lost, or stop()): stop the job.
   */
  start(onChange: (held: boolean) => void): void;
  /** Stops campaigning; a holder stops its job (onChange(false)) and gives the lease up. */
  stop(): Promise<void>;
}

export type LeaseClaim = { readonly held: true } | { readonly held: false; /** when the current holder's lease ends, if it is not renewed */ readonly retryInMs: number };

/** Where leases live. Every call is atomic in the store and uses the store's clock alone. */
export interface LeaseStore {
  /** for log lines */
  readonly description: string;
  /** Takes the lease if it is free or expired, or renews it if `owner` holds it, for `ttlMs`. */
  claim(name: string, owner: string, ttlMs: number): Promise<LeaseClaim>;
  /** Gives the lease up if `owner` holds it. */
  release(name: string, owner: string): Promise<void>;
}

/** Time source; tests substitute a fake (the same shape as the SIP transaction layer's clock). */
export interface LeaseClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realLeaseClock: LeaseClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // A lease's timers must not keep a closing process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** The single instance's lease: held from start() to stop(). */
export class AlwaysHeldLease implements Lease {
  private held = false;
  private onChange: ((held: boolean) => void) | undefined;

  constructor(readonly name: string) {}

  isHeld(): boolean {
    return this.held;
  }

  start(onChange: (held: boolean) => void): void {
    if (this.onChange) throw new Error(`lease ${this.name}: already started`);
    this.onChange = onChange;
    this.held = true;
    onChange(true);
  }

  async stop(): Promise<void> {
    if (!this.held) return;
    this.held = false;
    this.onChange?.(false);
  }
}

/** idle: not started. seeking: not the holder, trying. held: the holder. stopped: for good. */
export type LeaseState = 'idle' | 'seeking' | 'held' | 'stopped';

const LEGAL: Readonly<Record<LeaseState, readonly LeaseState[]>> = {
  idle: ['seeking', 'stopped'],
  seeking: ['held', 'stopped'],
  held: ['seeking', 'stopped'],
  stopped: [],
};

export interface StoreLeaseOptions {
  readonly store: LeaseStore;
  readonly name: string;
  /** this instance's id (unique in the cluster) */
  readonly owner: string;
  readonly logger: Logger;
  /** how long the lease lasts without renewal: a crashed holder's job resumes elsewhere within this; default 10 s */
  readonly ttlMs?: number;
  /** how often the holder renews; default a third of ttlMs */
  readonly renewMs?: number;
  /** how often a non-holder tries (it also tries right when the holder's lease would end); default renewMs */
  readonly retryMs?: number;
  /** how long one store call may take before it counts as failed; default renewMs */
  readonly callTimeoutMs?: number;
  readonly clock?: LeaseClock;
}

export class StoreLease implements Lease {
  readonly name: string;
  private readonly store: LeaseStore;
  private readonly owner: string;
  private readonly logger: Logger;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;
  private readonly callTimeoutMs: number;
  /** the holder stops this long before the store's expiry could pass, for drift and stalls */
  private readonly marginMs: number;
  private readonly clock: LeaseClock;
  private leaseState: LeaseState = 'idle';
  private onChange: (held: boolean) => void = () => {};
  private nextTry: unknown;
  private expiry: unknown;
  private storeFailing = false;
  private inFlight = false;

  constructor(opts: StoreLeaseOptions) {
    this.store = opts.store;
    this.name = opts.name;
    this.owner = opts.owner;
    this.logger = opts.logger;
    this.ttlMs = opts.ttlMs ?? 10_000;
    this.renewMs = opts.renewMs ?? Math.floor(this.ttlMs / 3);
    this.retryMs = opts.retryMs ?? this.renewMs;
    this.callTimeoutMs = opts.callTimeoutMs ?? this.renewMs;
    this.marginMs = Math.floor(this.ttlMs / 10);
    this.clock = opts.clock ?? realLeaseClock;
    if (!(this.renewMs > 0 && this.renewMs + this.marginMs < this.ttlMs)) throw new RangeError('lease renewMs must be positive and well below ttlMs');
  }

  get state(): LeaseState {
    return this.leaseState;
  }

  isHeld(): boolean {
    return this.leaseState === 'held';
  }

  /** read through a call: the state may change while a claim is on its way */
  private stopped(): boolean {
    return this.leaseState === 'stopped';
  }

  start(onChange: (held: boolean) => void): void {
    this.onChange = onChange;
    this.transition('seeking');
    void this.attempt();
  }

  async stop(): Promise<void> {
    if (this.leaseState === 'stopped') return;
    const wasHeld = this.leaseState === 'held';
    this.transition('stopped');
    this.clock.clearTimeout(this.nextTry);
    this.clock.clearTimeout(this.expiry);
    if (!wasHeld) return;
    this.notify(false);
    this.logger.info({ lease: this.name, owner: this.owner }, 'lease released');
    await this.bounded(this.store.release(this.name, this.owner)).catch((err: unknown) =>
      this.logger.warn({ lease: this.name, err: errorText(err) }, 'lease release failed'),
    );
  }

  /** One claim (a take when seeking, a renewal when held), then the next one scheduled. */
  private async attempt(): Promise<void> {
    if (this.inFlight || this.leaseState === 'stopped') return;
    this.inFlight = true;
    const sentAt = this.clock.now();
    let claim: LeaseClaim;
    try {
      claim = await this.bounded(this.store.claim(this.name, this.owner, this.ttlMs));
    } catch (err) {
      this.inFlight = false;
      if (this.stopped()) return;
      this.storeFailed(err);
      // A holder keeps the lease until its expiry timer says otherwise, and tries again sooner.
      this.scheduleTry(this.leaseState === 'held' ? Math.max(1, Math.floor(this.renewMs / 2)) : this.retryMs);
      return;
    }
    this.inFlight = false;
    if (this.stopped()) {
      // stop() came while the claim was on its way: give back what it may have taken.
      if (claim.held) await this.bounded(this.store.release(this.name, this.owner)).catch(() => {});
      return;
    }
    this.storeAnswered();
    if (claim.held) {
      // The store's expiry runs from when it got the claim, which is after `sentAt`.
      this.armExpiry(sentAt + this.ttlMs - this.marginMs);
      if (this.leaseState === 'seeking') {
        this.transition('held');
        this.logger.info({ lease: this.name, owner: this.owner, store: this.store.description }, 'lease acquired');
        this.notify(true);
      }
      this.scheduleTry(this.renewMs);
      return;
    }
    if (this.leaseState === 'held') this.lose('taken by another instance');
    // Try again every retryMs (a holder that stopped released the lease), and right when the
    // holder's lease would end if that is sooner (a crashed holder renews no more).
    this.scheduleTry(Math.max(1, Math.min(claim.retryInMs + 1, this.retryMs)));
  }

  private armExpiry(at: number): void {
    this.clock.clearTimeout(this.expiry);
    this.expiry = this.clock.setTimeout(() => {
      if (this.leaseState === 'held') {
        this.lose('not renewed in time');
        this.scheduleTry(this.retryMs);
      }
    }, Math.max(0, at - this.clock.now()));
  }

  private lose(why: string): void {
    this.clock.clearTimeout(this.expiry);
    this.transition('seeking');
    this.logger.warn({ lease: this.name, owner: this.owner, reason: why }, 'lease lost');
    this.notify(false);
  }

  private scheduleTry(ms: number): void {
    this.clock.clearTimeout(this.nextTry);
    this.nextTry = this.clock.setTimeout(() => void this.attempt(), ms);
  }

  private notify(held: boolean): void {
    try {
      this.onChange(held);
    } catch (err) {
      this.logger.error({ lease: this.name, err: errorText(err) }, 'lease job failed to follow');
    }
  }

  private storeFailed(err: unknown): void {
    if (this.storeFailing) return;
    this.storeFailing = true;
    this.logger.warn({ lease: this.name, store: this.store.description, err: errorText(err) }, 'lease store unreachable');
  }

  private storeAnswered(): void {
    if (!this.storeFailing) return;
    this.storeFailing = false;
    this.logger.info({ lease: this.name, store: this.store.description }, 'lease store reachable');
  }

  private bounded<T>(p: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const t = this.clock.setTimeout(() => reject(new Error(`lease store call took over ${this.callTimeoutMs} ms`)), this.callTimeoutMs);
      p.then(
        (v) => {
          this.clock.clearTimeout(t);
          resolve(v);
        },
        (err: unknown) => {
          this.clock.clearTimeout(t);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private transition(to: LeaseState): void {
    if (!LEGAL[this.leaseState].includes(to)) throw new Error(`lease ${this.name}: illegal transition ${this.leaseState} -> ${to}`);
    this.leaseState = to;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
