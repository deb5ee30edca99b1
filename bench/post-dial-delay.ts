/**
 * Measurement "pdd": post-dial delay added by `outdial start` at 100 cps (platform INVITE sent →
 * carrier INVITE received, from both sipps' message traces, lib/invite-delay.ts), beside the
 * same calls sipp → sipp with no hop. Added = outdial − direct, per percentile.
 * Goal (issue 14): added p99 < 2 ms. outdialPlan warms the process up with the bench's 1 s calls;
 * the first 100 calls of this step's own shape (no hold, BYE right after the ACK) still run code
 * being compiled, so they are measured and reported apart ("first calls") before the measured
 * ones.
 */
import { judge, notMeasured, type GoalRow } from './lib/goals.ts';
import { measurePostDialDelay, type PostDialDelayResult } from './lib/invite-delay.ts';
import { measurement } from './lib/measurement.ts';
import { fmt, table } from './lib/report.ts';
import { outdialPlan } from './throughput.ts';

export interface PddResult {
  direct: PostDialDelayResult;
  outdial: PostDialDelayResult;
  addedP99Ms: number;
  addedMedianMs: number;
  /** the step's first calls, reported apart (absent in results before 2026-12-02 04:30 UTC) */
  first?: PostDialDelayResult;
}

/** The step's first calls, measured before the ones the goal is read on. */
const FIRST_CALLS = 100;

/** Drops the per-call pairs (kept out of the JSON: thousands of rows). */
export function withoutPairs<T extends { delays?: unknown }>(r: T): Omit<T, 'delays'> {
  const { delays: _d, ...rest } = r;
  return rest;
}

export function pddRow(p: PostDialDelayResult): Array<string | number> {
  return [p.name, `${p.rate} cps`, `${p.paired}/${p.calls}`, fmt(p.delayMs.median, 3), fmt(p.delayMs.p90, 3), fmt(p.delayMs.p99, 3), fmt(p.delayMs.max, 3), p.step.clean ? 'yes' : `no: ${p.step.problems.join('; ')}`];
}

export const PDD_HEADER = ['path', 'rate', 'paired', 'median ms', 'p90 ms', 'p99 ms', 'max ms', 'clean'];

export const postDialDelayMeasurement = measurement<PddResult>({
  name: 'pdd',
  title: 'Post-dial delay (platform INVITE sent → carrier INVITE received)',
  byDefault: true,
  async run(ctx) {
    const { rate, calls } = ctx.plan.pdd;
    const direct = withoutPairs(await measurePostDialDelay({ name: 'direct', dir: ctx.runDir, route: async (port) => ({ host: '127.0.0.1', port }), pauseMs: 0 }, rate, calls));
    const o = await outdialPlan(ctx, 'pdd-outdial');
    let outdial: PostDialDelayResult;
    let first: PostDialDelayResult;
    try {
      first = withoutPairs(await measurePostDialDelay({ ...o.plan, name: 'outdial, first calls', pauseMs: 0 }, rate, Math.min(FIRST_CALLS, calls)));
      outdial = withoutPairs(await measurePostDialDelay({ ...o.plan, name: 'outdial', pauseMs: 0 }, rate, calls));
    } finally {
      await o.stop();
    }
    const r3 = (n: number) => Math.round(n * 1000) / 1000;
    return { direct, outdial, first, addedP99Ms: r3(outdial.delayMs.p99 - direct.delayMs.p99), addedMedianMs: r3(outdial.delayMs.median - direct.delayMs.median) };
  },
  render(r) {
    const rows = [pddRow(r.direct), ...(r.first ? [pddRow(r.first)] : []), pddRow(r.outdial)];
    const first = r.first
      ? ` The "first calls" row is the step's first ${r.first.calls} calls (no hold), after the warm-up of 1 s calls; the goal is read on the calls after them.`
      : '';
    return `${table(PDD_HEADER, rows)}\n\nAdded by outdial (outdial − direct): median ${fmt(r.addedMedianMs, 3)} ms, p99 ${fmt(r.addedP99Ms, 3)} ms. sipp stamps a message when it logs it, on both sides alike: the direct row is the harness's own share.${first}`;
  },
  goals(r, _ctx, why): GoalRow[] {
    const g = { issue: '#14', goal: 'post-dial delay added, p99 at 100 cps', target: '< 2 ms' };
    if (!r) return notMeasured([g], why);
    g.goal = `post-dial delay added, p99 at ${r.outdial.rate} cps`;
    const unpaired = r.outdial.paired < r.outdial.calls ? `only ${r.outdial.paired}/${r.outdial.calls} calls paired` : undefined;
    return [{
      ...g,
      measured: `${fmt(r.addedP99Ms, 3)} ms added (outdial p99 ${fmt(r.outdial.delayMs.p99, 3)} ms at ${r.outdial.rate} cps)`,
      baseline: `direct p99 ${fmt(r.direct.delayMs.p99, 3)} ms`,
      ratio: '–',
      verdict: unpaired ? 'FAIL' : judge(r.addedP99Ms, '<', 2),
      ...(unpaired || r.first
        ? { note: [unpaired, r.first && `the step's first ${r.first.calls} calls, reported apart: added p99 ${fmt(r.first.delayMs.p99 - r.direct.delayMs.p99, 3)} ms, max ${fmt(r.first.delayMs.max, 3)} ms`].filter(Boolean).join('; ') }
        : {}),
      value: r.addedP99Ms,
      baselineValue: r.direct.delayMs.p99,
    }];
  },
});
