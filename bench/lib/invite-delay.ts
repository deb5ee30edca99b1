/**
 * The post-dial-delay instrument (used by bench/post-dial-delay.ts and bench/db-stalls.ts): from
 * the moment the platform's INVITE leaves to the moment the carrier receives its INVITE, per call, from the timestamps sipp writes in its
 * -trace_msg logs (microseconds, wall clock; both sipp processes run on this machine, so their
 * clocks are the same clock). outdial makes a new Call-ID for the carrier leg, so the two INVITEs
 * of a call are paired by X-Bench-Seq (the platform's call number), which outdial passes through
 * (OUTDIAL_PASS_HEADERS=X-Bench-Seq). sipp stamps a message when it logs it, just after sending or
 * receiving it, on both sides alike; the direct baseline shows what that and the harness add.
 */
import { readFileSync } from 'node:fs';
import { runStep, type StepPlan, type StepResult } from './call-load.ts';
import { summarize, type Summary } from './summary-stats.ts';

export interface PostDialDelayResult {
  name: string;
  rate: number;
  calls: number;
  /** calls whose two INVITEs were both found and paired */
  paired: number;
  /** INVITE sent by the platform → INVITE received by the carrier, in milliseconds */
  delayMs: Summary;
  step: Omit<StepResult, 'platform' | 'carrier'>;
}

/** sipp's block separator: a dashed line, then `YYYY-MM-DD HH:MM:SS.uuuuuu`. */
const BLOCK = /^-{10,} (\d{4}-\d{2}-\d{2}) (\d{2}):(\d{2}):(\d{2})\.(\d{6})\s*$/;

/**
 * The first INVITE per X-Bench-Seq in a sipp message log that was `direction` (sent/received),
 * as microseconds since the epoch (local time, the same for both logs).
 */
export function inviteTimes(log: string, direction: 'sent' | 'received'): Map<string, number> {
  const times = new Map<string, number>();
  const lines = log.split('\n');
  let stamp: number | undefined;
  let blockDirection: string | undefined;
  let isInvite = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = BLOCK.exec(line);
    if (m) {
      const [, date, h, min, sec, micros] = m;
      stamp = Date.parse(`${date}T${h}:${min}:${sec}`) * 1000 + Number(micros);
      const next = lines[i + 1] ?? '';
      blockDirection = /message sent/.test(next) ? 'sent' : /message received/.test(next) ? 'received' : undefined;
      isInvite = false;
      continue;
    }
    if (stamp === undefined) continue;
    if (line.startsWith('INVITE ')) isInvite = true;
    const seq = /^X-Bench-Seq:\s*(\d+)/i.exec(line);
    if (seq && isInvite && blockDirection === direction && !times.has(seq[1]!)) times.set(seq[1]!, stamp);
  }
  return times;
}

export interface InviteDelay {
  /** when the platform sent the INVITE, µs since the epoch */
  sentUs: number;
  /** until the carrier received its INVITE, ms */
  delayMs: number;
}

/** Each call's platform INVITE paired with the carrier's INVITE by X-Bench-Seq. */
export function pairInviteDelays(platformLog: string, carrierLog: string): InviteDelay[] {
  const sent = inviteTimes(platformLog, 'sent');
  const received = inviteTimes(carrierLog, 'received');
  const delays: InviteDelay[] = [];
  for (const [seq, at] of sent) {
    const got = received.get(seq);
    if (got !== undefined) delays.push({ sentUs: at, delayMs: (got - at) / 1000 });
  }
  return delays;
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

export function summarizeDelays(delays: readonly number[]): Summary {
  const s = summarize(delays);
  return { n: s.n, min: r3(s.min), median: r3(s.median), p90: r3(s.p90), p99: r3(s.p99), max: r3(s.max), mean: r3(s.mean) };
}

/** One step with both sides' message traces; `delays` keeps every pair (for time windows). */
export async function measurePostDialDelay(plan: StepPlan, rate: number, calls: number): Promise<PostDialDelayResult & { delays: InviteDelay[] }> {
  const step = await runStep({ ...plan, traceMessages: true }, rate, calls);
  const delays = pairInviteDelays(readFileSync(step.platformMessages ?? '', 'utf8'), readFileSync(step.carrierMessages ?? '', 'utf8'));
  const { platform: _p, carrier: _c, ...rest } = step;
  return {
    name: plan.name,
    rate,
    calls,
    paired: delays.length,
    delayMs: summarizeDelays(delays.map((d) => d.delayMs)),
    step: rest,
    delays,
  };
}
