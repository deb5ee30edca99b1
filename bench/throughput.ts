/**
 * Measurement "throughput": the highest clean rate of full calls (stepped rates, lib/call-load.ts)
 * through `outdial start`, beside sipp → sipp with no hop (the harness's own limit), and how it
 * grows with cores: when outdial has a worker/process-count option (lib/capabilities.ts), at 1
 * worker and at one per core; until then "single process only". The CPU column is outdial's
 * process group (workers it forks included); "cores busy" = CPU s / wall s of the step.
 */
import os from 'node:os';
import { WORKER_VARIABLES } from './lib/capabilities.ts';
import { runStep, runSteps, type SteppedResult, type StepPlan, type StepResult } from './lib/call-load.ts';
import { judge, notMeasured, ratioText, type GoalRow } from './lib/goals.ts';
import { measurement, type BenchContext } from './lib/measurement.ts';
import { provisionCarrier, startOutdial } from './lib/outdial-process.ts';
import { groupCpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';

export interface ThroughputResult {
  direct: SteppedResult;
  /** one entry per worker setting tried (a single entry with workers null: no such option) */
  outdial: Array<{ workers: number | null; workersVar: string | null; steps: SteppedResult; threads?: 1 | 2 }>;
}

export function stepLog(ctx: BenchContext, name: string) {
  return (s: StepResult) =>
    ctx.log(`  ${name} ${s.rate} cps × ${s.calls}: ${s.clean ? 'clean' : s.problems.join('; ')}${s.cpuSecPer1000Calls !== undefined ? `, ${s.cpuSecPer1000Calls} CPU s/1000 calls, ${s.coresBusy} cores busy` : ''}`);
}

/** A fresh outdial (env extra), warmed up, as a StepPlan; `stop` ends it. */
export async function outdialPlan(ctx: BenchContext, name: string, env: Record<string, string> = {}): Promise<{ plan: StepPlan; stop: () => Promise<void> }> {
  const o = await startOutdial({ dir: ctx.runDir, env });
  try {
    const link = await provisionCarrier(o, '127.0.0.1:9');
    const plan: StepPlan = {
      name,
      dir: ctx.runDir,
      route: async (port) => {
        await link.pointAt(`127.0.0.1:${port}`);
        return o.sip;
      },
      // the process group: worker processes outdial may fork are counted with it
      cpu: () => groupCpuSeconds(o.pid),
      pauseMs: ctx.plan.holdMs,
    };
    const w = await runStep(plan, ctx.plan.warmup.rate, ctx.plan.warmup.calls);
    if (!w.clean) ctx.log(`  ${name} warm-up not clean: ${w.problems.join('; ')}`);
    return { plan, stop: () => o.stop() };
  } catch (err) {
    await o.stop();
    throw err;
  }
}

function bestStep(s: SteppedResult): StepResult | undefined {
  return s.steps.find((x) => x.rate === s.maxCleanRate && x.clean);
}

function pathName(o: ThroughputResult['outdial'][number]): string {
  if (o.workers !== null) return `sipp → outdial (${o.workersVar}=${o.workers}) → sipp`;
  if (o.threads === 2) return `sipp → outdial (${o.workersVar}=on: edge thread) → sipp`;
  return o.threads === 1 ? 'sipp → outdial (one thread) → sipp' : 'sipp → outdial → sipp';
}

export const throughputMeasurement = measurement<ThroughputResult>({
  name: 'throughput',
  title: 'Call throughput (full calls INVITE/100/180/200/ACK, hold, BYE/200 over UDP on loopback; stepped rates)',
  byDefault: true,
  async run(ctx) {
    const steps = ctx.plan.throughput;
    const direct = await runSteps({ name: 'direct', dir: ctx.runDir, route: async (port) => ({ host: '127.0.0.1', port }), pauseMs: ctx.plan.holdMs }, steps, stepLog(ctx, 'direct'));
    const workersVar = ctx.capabilities.workersVar;
    const threadVar = ctx.capabilities.edgeThreadVar;
    const outdial: ThroughputResult['outdial'] = [];
    const tryOne = async (label: string, env: Record<string, string>, entry: Omit<ThroughputResult['outdial'][number], 'steps'>) => {
      const o = await outdialPlan(ctx, label, env);
      try {
        outdial.push({ ...entry, steps: await runSteps(o.plan, steps, stepLog(ctx, label)) });
      } finally {
        await o.stop();
      }
    };
    if (workersVar) {
      for (const workers of new Set([1, Math.max(2, os.availableParallelism())])) await tryOne(`outdial-${workers}w`, { [workersVar]: String(workers) }, { workers, workersVar });
    } else if (threadVar) {
      // No worker count, but the edge can take a second core: one thread, then two.
      await tryOne('outdial', { [threadVar]: 'off' }, { workers: null, workersVar: null, threads: 1 });
      await tryOne('outdial-edge-thread', { [threadVar]: 'on' }, { workers: null, workersVar: threadVar, threads: 2 });
    } else {
      await tryOne('outdial', {}, { workers: null, workersVar: null });
    }
    return { direct, outdial };
  },
  render(r) {
    const summary: Array<Array<string | number>> = [];
    const add = (name: string, s: SteppedResult) => {
      const best = bestStep(s);
      summary.push([name, s.maxCleanRate === null ? 'none clean' : `${s.maxCleanRate} cps`, s.firstFailingRate === null ? 'none failed' : `${s.firstFailingRate} cps`, best?.cpuSecPer1000Calls !== undefined ? fmt(best.cpuSecPer1000Calls, 2) : '–', best?.coresBusy !== undefined ? fmt(best.coresBusy, 2) : '–']);
    };
    add('sipp → sipp (harness baseline)', r.direct);
    for (const o of r.outdial) add(pathName(o), o.steps);
    const rows: Array<Array<string | number>> = [];
    const stepRows = (name: string, s: SteppedResult) =>
      [...s.steps].sort((a, b) => a.rate - b.rate).map((x) => [name, x.rate, x.calls, x.clean ? 'clean' : `NOT clean: ${x.problems.join('; ')}`, x.cpuSecPer1000Calls !== undefined ? fmt(x.cpuSecPer1000Calls, 2) : '–', x.coresBusy !== undefined ? fmt(x.coresBusy, 2) : '–', x.udpDrops]);
    rows.push(...stepRows('direct', r.direct));
    for (const o of r.outdial) rows.push(...stepRows(o.workers !== null ? `outdial ${o.workers}w` : o.threads === 2 ? 'outdial, edge thread' : 'outdial', o.steps));
    const first = r.direct;
    return [
      table(['path', 'highest clean rate', 'first failing rate', 'CPU s / 1000 calls at that rate', 'cores busy'], summary),
      `${first.secondsPerStep} s of calls per step, hold ${first.holdMs} ms; rates double, then bisect. Clean = every call completed at both ends, no failed call, no retransmission by either sipp.${r.outdial.length === 1 && r.outdial[0]!.workers === null ? ' outdial has no worker/process-count option: single process only.' : ''}`,
      table(['path', 'cps', 'calls', 'result', 'CPU s / 1000 calls', 'cores busy', 'UDP rcvbuf drops'], rows),
    ].join('\n\n');
  },
  goals(r, ctx, why): GoalRow[] {
    const g1 = { issue: '#14', goal: 'highest clean rate through `outdial start` (2 cores)', target: '≥ 2400 cps' };
    const g2 = { issue: '#14', goal: 'highest clean rate as cores are added (workers 1 → N)', target: 'reported' };
    if (!r) return notMeasured([g1, g2], why);
    const single = r.outdial.find((o) => o.workers === null || o.workers === 1) ?? r.outdial[0]!;
    const best = r.outdial.reduce((a, b) => ((b.steps.maxCleanRate ?? 0) > (a.steps.maxCleanRate ?? 0) ? b : a));
    const bestStepRow = bestStep(best.steps);
    const rows: GoalRow[] = [{
      ...g1,
      measured: `${best.steps.maxCleanRate ?? 'none'} cps${best.workers !== null ? ` (${best.workers} worker${best.workers === 1 ? '' : 's'})` : ''}${bestStepRow?.coresBusy !== undefined ? `, ${fmt(bestStepRow.coresBusy, 2)} cores busy` : ''}`,
      baseline: `${r.direct.maxCleanRate ?? 'none'} cps sipp → sipp`,
      ratio: ratioText(best.steps.maxCleanRate, r.direct.maxCleanRate),
      verdict: judge(best.steps.maxCleanRate ?? 0, '>=', 2400),
      value: best.steps.maxCleanRate,
      baselineValue: r.direct.maxCleanRate,
    }];
    const twoThreads = r.outdial.find((o) => o.threads === 2);
    const oneThread = r.outdial.find((o) => o.threads === 1);
    if (!ctx.capabilities.workersVar && twoThreads && oneThread) {
      rows.push({
        ...g2,
        measured: `${twoThreads.steps.maxCleanRate ?? 'none'} cps with the edge in its own thread (${twoThreads.workersVar}=on, 2 threads)`,
        baseline: `${oneThread.steps.maxCleanRate ?? 'none'} cps in one thread`,
        ratio: ratioText(twoThreads.steps.maxCleanRate, oneThread.steps.maxCleanRate),
        verdict: 'INFO',
        value: twoThreads.steps.maxCleanRate,
        baselineValue: oneThread.steps.maxCleanRate,
        note: 'outdial has no worker count; its second core is the edge thread (docs/performance.md §3)',
      });
    } else if (!ctx.capabilities.workersVar) {
      rows.push({ ...g2, measured: 'single process only', baseline: '–', ratio: '–', verdict: 'NOT AVAILABLE', note: `outdial has no worker/process-count option (looked for ${WORKER_VARIABLES.join(', ')} in the config's variables and in \`outdial start --help\`)` });
    } else {
      const n = r.outdial.find((o) => o.workers !== null && o.workers > 1);
      rows.push({ ...g2, measured: `${n?.steps.maxCleanRate ?? '–'} cps at ${n?.workers ?? '?'} workers`, baseline: `${single.steps.maxCleanRate ?? '–'} cps at 1 worker`, ratio: ratioText(n?.steps.maxCleanRate, single.steps.maxCleanRate), verdict: 'INFO', value: n?.steps.maxCleanRate ?? null, baselineValue: single.steps.maxCleanRate });
    }
    return rows;
  },
});
