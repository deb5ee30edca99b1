/**
 * The load plan: every count, rate and duration of a run, fixed here so that runs compare. The
 * full plan follows issue 14's conditions; the quick plan runs every section with tiny counts
 * (a smoke of the instrument, not a measurement).
 */

export interface Plan {
  /** call hold time (ACK → BYE) for throughput, CPU and soak calls */
  holdMs: number;
  /** calls a fresh outdial carries before it is measured (JIT, pools, first GC cycles) */
  warmup: { rate: number; calls: number };
  idle: { settleMs: number };
  /** rates double from startRate up to maxRate until a step is not clean, then bisect */
  throughput: { startRate: number; maxRate: number; secondsPerStep: number; refineSteps: number; minCalls: number };
  /** CPU per call, outdial and the Kamailio peer at the same fixed load */
  cpu: { rate: number; calls: number };
  pdd: { rate: number; calls: number };
  stalls: {
    /** routes in the table */
    routes: number;
    /** of which the default customer's (the rate deck every customer falls back to) */
    defaultCustomerRoutes: number;
    rate: number;
    /** seconds of calls per step */
    seconds: number;
    writerEveryMs: number;
    /** the lock is taken this long after the calls start, and held lockSec */
    lockAtSec: number;
    lockSec: number;
    healthzEveryMs: number;
  };
  memory: { heldCalls: number; rampRate: number; holdMs: number; warmupCalls: number };
  soak: { rates: number[]; seconds: number; sampleEveryMs: number };
  dialPlanRoutes: number[];
  propagation: { changes: number; adminWrites: number; pollEveryMs: number };
  admin: { connections: number; durationSec: number };
  digest: { rate: number; calls: number };
  profile: { rate: number; calls: number };
}

export const FULL_PLAN: Plan = {
  holdMs: 1000,
  warmup: { rate: 200, calls: 600 },
  idle: { settleMs: 3000 },
  throughput: { startRate: 100, maxRate: 3200, secondsPerStep: 3, refineSteps: 2, minCalls: 100 },
  // issue 14's table: 150 cps × 3000 full calls
  cpu: { rate: 150, calls: 3000 },
  pdd: { rate: 100, calls: 2000 },
  stalls: { routes: 100_000, defaultCustomerRoutes: 20_000, rate: 100, seconds: 10, writerEveryMs: 10, lockAtSec: 3, lockSec: 3, healthzEveryMs: 10 },
  memory: { heldCalls: 500, rampRate: 100, holdMs: 15000, warmupCalls: 300 },
  soak: { rates: [100, 300], seconds: 120, sampleEveryMs: 1000 },
  dialPlanRoutes: [1_000, 100_000, 1_000_000],
  propagation: { changes: 20, adminWrites: 200, pollEveryMs: 5 },
  admin: { connections: 10, durationSec: 5 },
  digest: { rate: 150, calls: 3000 },
  profile: { rate: 300, calls: 3000 },
};

export const QUICK_PLAN: Plan = {
  holdMs: 200,
  warmup: { rate: 50, calls: 20 },
  idle: { settleMs: 1000 },
  throughput: { startRate: 50, maxRate: 100, secondsPerStep: 1, refineSteps: 0, minCalls: 20 },
  cpu: { rate: 50, calls: 100 },
  pdd: { rate: 50, calls: 100 },
  stalls: { routes: 2_000, defaultCustomerRoutes: 500, rate: 50, seconds: 3, writerEveryMs: 10, lockAtSec: 1, lockSec: 1, healthzEveryMs: 10 },
  memory: { heldCalls: 40, rampRate: 40, holdMs: 4000, warmupCalls: 20 },
  soak: { rates: [50, 100], seconds: 6, sampleEveryMs: 500 },
  dialPlanRoutes: [1_000, 10_000],
  propagation: { changes: 3, adminWrites: 20, pollEveryMs: 5 },
  admin: { connections: 2, durationSec: 1 },
  digest: { rate: 50, calls: 100 },
  profile: { rate: 50, calls: 100 },
};
