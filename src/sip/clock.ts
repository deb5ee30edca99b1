/**
 * Time for RFC timers (RFC 3261 §17 Table 4, RFC 4028 §10): every timer a state machine owns is
 * set through a Clock, so tests drive them with a manual clock instead of waiting. The shape is
 * the edge transaction layer's Clock, so one fake serves both.
 */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  now(): number;
}

export const systemClock: Clock = {
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms);
    // Call timers (connect timeout, ACK wait, session expiry) must not keep a closing process alive.
    t.unref();
    return t;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  now: () => Date.now(),
};

/** RFC 3261 §17.1.1.2 / §13.3.1.4: 64 × T1, how long a 2xx waits for its ACK (Timer B/H/L span). */
export function ackWaitMs(t1Ms: number): number {
  return 64 * t1Ms;
}
