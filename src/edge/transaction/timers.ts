/** RFC 3261 17 / Table 4 timer values, all derived from T1, T2 and T4 in one place. */

export interface TimerConfig {
  t1: number;
  t2: number;
  t4: number;
}

export interface TimerValues {
  T1: number;
  T2: number;
  T4: number;
  /** INVITE request retransmit interval, UDP only; doubles each time (17.1.1.2) */
  A: number;
  /** INVITE transaction timeout */
  B: number;
  /** wait for response retransmits in client INVITE Completed. RFC 3261 asks >32 s on UDP; 64*T1 is
   *  exactly 32 s at the default T1 and lets tests with a short T1 finish quickly. */
  D: number;
  /** non-INVITE request retransmit interval, UDP only; doubles up to T2 (17.1.2.2) */
  E: number;
  /** non-INVITE transaction timeout */
  F: number;
  /** INVITE final response retransmit interval; doubles up to T2 (17.2.1) */
  G: number;
  /** wait time for ACK receipt */
  H: number;
  /** wait for ACK retransmits in server INVITE Confirmed */
  I: number;
  /** wait for non-INVITE request retransmits */
  J: number;
  /** wait for non-INVITE response retransmits */
  K: number;
  /** RFC 6026 Timer L (server Accepted) and M (client Accepted) */
  L: number;
  M: number;
}

export function deriveTimers(c: TimerConfig): TimerValues {
  const { t1, t2, t4 } = c;
  return { T1: t1, T2: t2, T4: t4, A: t1, B: 64 * t1, D: 64 * t1, E: t1, F: 64 * t1, G: t1, H: 64 * t1, I: t4, J: 64 * t1, K: t4, L: 64 * t1, M: 64 * t1 };
}

/** Time source; tests substitute a fake so that timer schedules can be checked exactly. now() is in ms, monotonic, not wall time. */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
  now(): number;
}

export const realClock: Clock = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Transaction timers must not keep a closing process alive.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  // monotonic: what the edge measures with it are intervals (linger-queue.ts), which a wall clock set back would stretch
  now: () => performance.now(),
};
