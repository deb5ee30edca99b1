/**
 * Call load, the bench's common instrument: sipp platform (UAC) → [outdial | a peer proxy |
 * nothing] → sipp carrier (UAS), full calls (INVITE, 100, 180, 200, ACK, BYE, 200), one fixed-rate
 * step or stepped rates. A step is clean when every call succeeded and neither sipp had to
 * retransmit anything (a retransmission means a response or the ACK came later than T1 = 500 ms).
 * Stepping stops at the first step that is not clean.
 * The CPU the system under test used during each step is read from /proc before and after.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { udpReceiveBufferDrops } from './proc-stats.ts';
import {
  BENCH_NUMBER,
  CARRIER_SCENARIO,
  PLATFORM_SCENARIO,
  finishSipp,
  startBenchSipp,
  type SippStats,
} from './sipp-run.ts';

export interface StepResult {
  rate: number;
  calls: number;
  clean: boolean;
  /** why the step is not clean (empty when clean) */
  problems: string[];
  platform: SippStats | undefined;
  carrier: SippStats | undefined;
  /** from the platform's first INVITE to its exit */
  wallSec: number;
  /** UDP datagrams dropped on full receive buffers during the step (whole machine) */
  udpDrops: number;
  /** CPU seconds the system under test used during the step (undefined for the direct baseline) */
  cpuSec?: number;
  cpuSecPer1000Calls?: number;
  /** cpuSec / wallSec: how many cores the system under test kept busy */
  coresBusy?: number;
  /** the -trace_msg logs, when the plan asked for them */
  platformMessages?: string;
  carrierMessages?: string;
}

export interface StepPlan {
  /** label of the system under test, used in file names */
  name: string;
  /** the run directory */
  dir: string;
  /**
   * Readies the path to a carrier listening on `carrierPort` (a fresh port per step, so late
   * packets of one step never reach the next step's carrier) and returns where the platform sends
   * INVITEs: outdial's SIP port after repointing the provider, a proxy, or the carrier itself.
   */
  route: (carrierPort: number) => Promise<{ host: string; port: number }>;
  /** CPU seconds used so far by the system under test (absent for the direct baseline) */
  cpu?: () => number;
  /** call hold time between ACK and BYE */
  pauseMs?: number;
  /** keep sipp's -trace_msg logs of both sides (post-dial delay; costs sipp CPU) */
  traceMessages?: boolean;
  /** the carrier's scenario (default: answer at once) and its -key values */
  carrierScenario?: string;
  carrierKeys?: Record<string, string>;
  /** the platform's scenario (default: bench/sipp/platform-uac.xml) and more of its arguments */
  platformScenario?: string;
  platformKeys?: Record<string, string>;
  platformArgs?: string[];
  /** the number dialled (-s); default BENCH_NUMBER */
  service?: string;
  /** called once the platform has started sending, with the step's start time (hrtime ns) */
  onStarted?: (startedNs: bigint) => void;
}

/** A proxy process the bench starts in front of a step's carrier (the Kamailio peer, the Node floor). */
export interface PeerProxy {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A plan through a peer proxy started for each step's carrier (its config names the carrier's
 * port, and each step has a fresh carrier): the previous step's peer is stopped first. `cpu`
 * reads the peer's CPU seconds; `stop` ends the last peer.
 */
export function peerPlan<P extends PeerProxy>(opts: {
  name: string;
  dir: string;
  pauseMs: number;
  start: (carrierPort: number) => Promise<P>;
  cpu: (peer: P) => number;
}): { plan: StepPlan; stop(): Promise<void> } {
  let peer: P | undefined;
  const plan: StepPlan = {
    name: opts.name,
    dir: opts.dir,
    route: async (carrierPort) => {
      await peer?.stop();
      peer = await opts.start(carrierPort);
      return { host: '127.0.0.1', port: peer.port };
    },
    cpu: () => (peer ? opts.cpu(peer) : NaN),
    pauseMs: opts.pauseMs,
  };
  return { plan, stop: async () => void (await peer?.stop()) };
}

/** One step: a fresh carrier, `calls` calls at `rate` cps, both sipp processes waited for. */
export async function runStep(plan: StepPlan, rate: number, calls: number): Promise<StepResult> {
  const dir = mkdtempSync(path.join(plan.dir, `${plan.name}-${rate}cps-`));
  const pauseMs = plan.pauseMs ?? 0;
  // Bounds: the calls' own duration plus 10 s; a step that needs longer has failed anyway.
  const timeoutSec = Math.ceil(calls / rate + pauseMs / 1000) + 10;
  const carrier = await startBenchSipp({
    name: 'carrier',
    scenario: plan.carrierScenario ?? CARRIER_SCENARIO,
    dir,
    calls,
    timeoutSec: timeoutSec + 5,
    traceMessages: plan.traceMessages ?? false,
    ...(plan.carrierKeys ? { keys: plan.carrierKeys } : {}),
  });
  try {
    const target = await plan.route(carrier.port);
    const cpuBefore = plan.cpu?.();
    const dropsBefore = udpReceiveBufferDrops();
    const started = process.hrtime.bigint();
    const platform = await startBenchSipp({
      name: 'platform',
      scenario: plan.platformScenario ?? PLATFORM_SCENARIO,
      dir,
      remote: target,
      calls,
      rate,
      pauseMs,
      service: plan.service ?? BENCH_NUMBER,
      timeoutSec,
      traceMessages: plan.traceMessages ?? false,
      ...(plan.platformKeys ? { keys: plan.platformKeys } : {}),
      ...(plan.platformArgs ? { extraArgs: plan.platformArgs } : {}),
    });
    plan.onStarted?.(started);
    const p = await finishSipp(platform, (timeoutSec + 5) * 1000);
    const wallSec = Number(process.hrtime.bigint() - started) / 1e9;
    const cpuAfter = plan.cpu?.();
    const udpDrops = udpReceiveBufferDrops() - dropsBefore;
    const c = await finishSipp(carrier, 3000);
    const problems: string[] = [];
    if (p.timedOut) problems.push('platform sipp did not finish in time');
    if (p.result.code !== 0) problems.push(`platform sipp exit ${p.result.code ?? p.result.signal}`);
    if (!p.stats) problems.push('no platform statistics');
    else {
      if (p.stats.successful !== calls) problems.push(`${p.stats.successful}/${calls} calls succeeded`);
      if (p.stats.failed > 0) problems.push(`${p.stats.failed} failed calls`);
      if (p.stats.retransmissions > 0) problems.push(`${p.stats.retransmissions} platform retransmissions`);
    }
    if (c.stats) {
      if (c.stats.successful !== calls) problems.push(`${c.stats.successful}/${calls} calls completed at the carrier`);
      if (c.stats.failed > 0) problems.push(`${c.stats.failed} carrier-side failed calls`);
      if (c.stats.retransmissions > 0) problems.push(`${c.stats.retransmissions} carrier retransmissions`);
    } else problems.push('no carrier statistics');
    const result: StepResult = { rate, calls, clean: problems.length === 0, problems, platform: p.stats, carrier: c.stats, wallSec: round(wallSec, 3), udpDrops };
    if (plan.traceMessages) {
      result.platformMessages = platform.messageFile;
      result.carrierMessages = carrier.messageFile;
    }
    if (cpuBefore !== undefined && cpuAfter !== undefined) {
      result.cpuSec = round(cpuAfter - cpuBefore, 3);
      result.cpuSecPer1000Calls = round(((cpuAfter - cpuBefore) / calls) * 1000, 3);
      result.coresBusy = round((cpuAfter - cpuBefore) / wallSec, 2);
    }
    return result;
  } finally {
    await carrier.stop();
  }
}

export interface SteppedResult {
  name: string;
  secondsPerStep: number;
  holdMs: number;
  steps: StepResult[];
  /** highest rate whose step was clean; null when even the first was not */
  maxCleanRate: number | null;
  /** the lowest rate tried that was not clean; null when every rate tried was clean */
  firstFailingRate: number | null;
}

/**
 * Doubles the rate from `startRate` until a step is not clean (or `maxRate` is passed), then
 * bisects between the last clean and the first failing rate `refineSteps` times, so the limit is
 * found to within (fail - clean) / 2^refineSteps without walking every rate. Each step carries
 * `secondsPerStep` worth of calls (at least `minCalls`, default 100).
 */
export async function runSteps(
  plan: StepPlan,
  opts: { startRate: number; maxRate: number; secondsPerStep: number; refineSteps: number; minCalls?: number },
  onStep: (s: StepResult) => void = () => undefined,
): Promise<SteppedResult> {
  const steps: StepResult[] = [];
  let clean: number | null = null;
  let failing: number | null = null;
  const step = async (rate: number): Promise<boolean> => {
    const s = await runStep(plan, rate, Math.max(opts.minCalls ?? 100, Math.round(rate * opts.secondsPerStep)));
    steps.push(s);
    onStep(s);
    if (s.clean) clean = Math.max(clean ?? 0, rate);
    else failing = Math.min(failing ?? Infinity, rate);
    return s.clean;
  };
  for (let rate = opts.startRate; rate <= opts.maxRate; rate *= 2) {
    if (!(await step(rate))) break;
  }
  for (let i = 0; i < opts.refineSteps && clean !== null && failing !== null; i++) {
    const mid = roundRate((clean + failing) / 2);
    if (mid <= clean || mid >= failing) break;
    await step(mid);
  }
  return { name: plan.name, secondsPerStep: opts.secondsPerStep, holdMs: plan.pauseMs ?? 0, steps, maxCleanRate: clean, firstFailingRate: failing };
}

/** sipp takes integer rates; keep bisection points readable (multiples of 10 above 100). */
function roundRate(r: number): number {
  return r >= 100 ? Math.round(r / 10) * 10 : Math.round(r);
}

export function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
