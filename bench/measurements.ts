/** Every measurement of `npm run bench`, in run order (bench/run.ts runs the selected ones). */
import { adminApiMeasurement } from './admin-api.ts';
import { cpuPerCallMeasurement } from './cpu-per-call.ts';
import { cpuProfileMeasurement } from './cpu-profile.ts';
import { dbStallsMeasurement } from './db-stalls.ts';
import { dialPlanMeasurement } from './dial-plan-scale.ts';
import { digestAuthMeasurement } from './digest-auth.ts';
import { idleRssMeasurement } from './idle-rss.ts';
import { kamailioThroughputMeasurement } from './kamailio-throughput.ts';
import type { Measurement } from './lib/measurement.ts';
import { memoryPerCallMeasurement } from './memory-per-call.ts';
import { memorySoakMeasurement } from './memory-soak.ts';
import { postDialDelayMeasurement } from './post-dial-delay.ts';
import { propagationMeasurement } from './propagation.ts';
import { throughputMeasurement } from './throughput.ts';

// Each module's result type is its own; the runner handles them as opaque values.
export const MEASUREMENTS = [
  idleRssMeasurement,
  throughputMeasurement,
  cpuPerCallMeasurement,
  kamailioThroughputMeasurement,
  postDialDelayMeasurement,
  dbStallsMeasurement,
  memoryPerCallMeasurement,
  memorySoakMeasurement,
  dialPlanMeasurement,
  propagationMeasurement,
  adminApiMeasurement,
  digestAuthMeasurement,
  cpuProfileMeasurement,
] as unknown as ReadonlyArray<Measurement<never>>;
