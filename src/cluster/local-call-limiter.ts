/**
 * Limits counted in this process: what runs without Redis, and what the Redis limiter falls back
 * to when Redis cannot answer (docs/cluster.md §2.3). `LocalLimits` is the bookkeeping both share;
 * `LocalCallLimiter` is the CallLimiter over it.
 */
import { checkLimits, REFUSED_MAX_CALLS, REFUSED_MAX_CPS, type Admission, type CallLimiter, type CallLimits, type CallSlot } from './call-limiter.ts';
import { SlidingWindow } from './rate-window.ts';

interface KeyState {
  /** slots held here, plus those asked of Redis and not yet answered */
  count: number;
  window: SlidingWindow | undefined;
  /** counted in Redis too (the key was admitted with a limit): the heartbeat reports its count */
  shared: boolean;
}

export class LocalLimits {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  held(key: string): number {
    return this.keys.get(key)?.count ?? 0;
  }

  /**
   * Decides here alone, and takes the slot (and the rate room) when both limits allow it: null
   * when admitted (the caller makes the slot), else the refusal. `shared` marks a key the cluster
   * counts, so that the heartbeat reports it once Redis is back.
   */
  admit(key: string, limits: CallLimits, shared = false): Admission | null {
    const state = this.state(key);
    if (shared) state.shared = true;
    if (limits.maxCalls > 0 && state.count >= limits.maxCalls) return REFUSED_MAX_CALLS;
    if (limits.maxCps > 0 && !this.windowFor(state, limits.maxCps).tryRecord(this.now())) return REFUSED_MAX_CPS;
    state.count++;
    return null;
  }

  /** Counts a slot asked of Redis before the answer, so that later requests see it. */
  reserve(key: string, shared: boolean): number {
    const state = this.state(key);
    if (shared) state.shared = true;
    return state.count++;
  }

  isShared(key: string): boolean {
    return this.keys.get(key)?.shared ?? false;
  }

  /** Takes back a reservation Redis refused, or a slot released. */
  give(key: string): number {
    const state = this.keys.get(key);
    if (!state || state.count === 0) return 0;
    state.count--;
    if (state.count === 0 && !state.shared && (!state.window || state.window.idle(this.now()))) this.keys.delete(key);
    return state.count;
  }

  /** Records an attempt Redis admitted, so a fallback starts from what was really sent. */
  noteAttempt(key: string, perSecond: number): void {
    this.windowFor(this.state(key), perSecond).record(this.now());
  }

  /** The shared keys and their counts, for the heartbeat that reasserts them in Redis. */
  sharedCounts(): Array<[key: string, count: number]> {
    const out: Array<[string, number]> = [];
    for (const [key, state] of this.keys) if (state.shared) out.push([key, state.count]);
    return out;
  }

  /**
   * After Redis has taken this instance's counts: a shared key that was reported at 0 and is
   * still at 0 needs no more reporting.
   */
  forgetReported(reported: ReadonlyArray<readonly [string, number]>): void {
    const now = this.now();
    for (const [key, count] of reported) {
      const state = this.keys.get(key);
      if (count === 0 && state && state.count === 0) {
        state.shared = false;
        if (!state.window || state.window.idle(now)) this.keys.delete(key);
      }
    }
  }

  clear(): void {
    this.keys.clear();
  }

  private state(key: string): KeyState {
    let state = this.keys.get(key);
    if (!state) {
      state = { count: 0, window: undefined, shared: false };
      this.keys.set(key, state);
    }
    return state;
  }

  private windowFor(state: KeyState, perSecond: number): SlidingWindow {
    // A provider whose max_cps was changed gets a window for the new rate.
    if (!state.window || state.window.perSecond !== perSecond) state.window = new SlidingWindow(perSecond);
    return state.window;
  }
}

/** A slot that gives itself back once. */
export class HeldSlot implements CallSlot {
  readonly admitted = true as const;
  private released = false;

  constructor(
    readonly key: string,
    private readonly onRelease: (key: string) => void,
  ) {}

  release(): void {
    if (this.released) return;
    this.released = true;
    this.onRelease(this.key);
  }
}

/** The limiter of a single instance: every limit counted in this process. */
export class LocalCallLimiter implements CallLimiter {
  private readonly limits: LocalLimits;
  private readonly releaseSlot = (key: string) => void this.limits.give(key);

  constructor(now?: () => number) {
    this.limits = new LocalLimits(now);
  }

  admitNow(key: string, limits: CallLimits): Admission {
    checkLimits(limits);
    return this.limits.admit(key, limits) ?? new HeldSlot(key, this.releaseSlot);
  }

  async admit(key: string, limits: CallLimits): Promise<Admission> {
    return this.admitNow(key, limits);
  }

  async tryAcquire(key: string, max: number): Promise<CallSlot | null> {
    const a = this.admitNow(key, { maxCalls: max, maxCps: 0 });
    return a.admitted ? a : null;
  }

  async tryRate(key: string, perSecond: number): Promise<boolean> {
    const a = this.admitNow(key, { maxCalls: 0, maxCps: perSecond });
    if (!a.admitted) return false;
    a.release();
    return true;
  }

  held(key: string): number {
    return this.limits.held(key);
  }

  async clusterHeld(key: string): Promise<number> {
    return this.limits.held(key);
  }

  async close(): Promise<void> {
    this.limits.clear();
  }
}
