/**
 * Measurement "memory": RSS per held call. outdial's resident set (VmRSS) with no call, then with
 * N calls held up at once (the platform pauses before its BYE; sipp -l caps the calls open at N),
 * on a fresh outdial process that has first carried some calls (so JIT code and pools are already
 * there). RSS is what the operator pays for; it also moves with V8's heap growth policy, so the
 * figure is a measured difference, not a per-object size. Goal (issue 14): ≤ 12 KiB per held call
 * (500 held calls against none).
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { round, runStep } from './lib/call-load.ts';
import { judge, notMeasured, type GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { provisionCarrier, startOutdial } from './lib/outdial-process.ts';
import { rssBytes } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';
import { BENCH_NUMBER, CARRIER_SCENARIO, PLATFORM_SCENARIO, finishSipp, sleep, startBenchSipp } from './lib/sipp-run.ts';

export interface MemoryPerCallResult {
  heldCalls: number;
  rampRate: number;
  holdMs: number;
  /** calls the platform had open when RSS was sampled (sipp's CurrentCall) */
  openAtSample: number | null;
  rssIdleMiB: number;
  rssHeldMiB: number;
  rssAfterMiB: number;
  /** (RSS held - RSS idle) / held calls */
  kibPerCall: number;
  allCallsSucceeded: boolean;
}

const MiB = 1024 * 1024;

export async function measureMemoryPerCall(
  runDir: string,
  opts: { heldCalls: number; rampRate: number; holdMs: number; warmupCalls: number },
): Promise<MemoryPerCallResult> {
  if (opts.holdMs < 4000) throw new Error('holdMs must leave time to sample (>= 4000)');
  const dir = mkdtempSync(path.join(runDir, 'memory-'));
  const outdial = await startOutdial({ dir });
  try {
    const carrierLink = await provisionCarrier(outdial, '127.0.0.1:9');
    const route = async (port: number) => {
      await carrierLink.pointAt(`127.0.0.1:${port}`);
      return outdial.sip;
    };
    // Warm up: JIT, buffers, the first GC cycles.
    await runStep({ name: 'memory-warmup', dir, route, pauseMs: 200 }, 100, opts.warmupCalls);
    await sleep(2000);
    const idle = rssBytes(outdial.pid);

    const carrier = await startBenchSipp({ name: 'held-carrier', scenario: CARRIER_SCENARIO, dir, calls: opts.heldCalls, timeoutSec: 120 });
    try {
      const target = await route(carrier.port);
      const platform = await startBenchSipp({
        name: 'held-platform',
        scenario: PLATFORM_SCENARIO,
        dir,
        remote: target,
        calls: opts.heldCalls,
        rate: opts.rampRate,
        limit: opts.heldCalls,
        pauseMs: opts.holdMs,
        service: BENCH_NUMBER,
        timeoutSec: 120,
      });
      // Sample once every call is up: after the ramp, plus 2 s for sipp's 1 s statistics period.
      const rampMs = (opts.heldCalls / opts.rampRate) * 1000;
      await sleep(rampMs + 2000);
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(rssBytes(outdial.pid));
        await sleep(200);
      }
      const openAtSample = platform.stats()?.currentCalls ?? null;
      const held = Math.max(...samples);
      const p = await finishSipp(platform, rampMs + opts.holdMs + 30000);
      await finishSipp(carrier, 3000);
      await sleep(1000);
      const after = rssBytes(outdial.pid);
      return {
        heldCalls: opts.heldCalls,
        rampRate: opts.rampRate,
        holdMs: opts.holdMs,
        openAtSample,
        rssIdleMiB: round(idle / MiB, 1),
        rssHeldMiB: round(held / MiB, 1),
        rssAfterMiB: round(after / MiB, 1),
        kibPerCall: round((held - idle) / opts.heldCalls / 1024, 1),
        allCallsSucceeded: p.result.code === 0 && p.stats?.successful === opts.heldCalls,
      };
    } finally {
      await carrier.stop();
    }
  } finally {
    await outdial.stop();
  }
}

export const memoryPerCallMeasurement = measurement<MemoryPerCallResult>({
  name: 'memory',
  title: 'Memory per held call (outdial VmRSS)',
  byDefault: true,
  run: (ctx) => measureMemoryPerCall(ctx.runDir, ctx.plan.memory),
  render(x) {
    return table(['held calls', 'open at sample', 'ramp', 'hold', 'RSS idle', 'RSS held', 'RSS after', 'per call', 'all calls ok'], [
      [x.heldCalls, x.openAtSample ?? '–', `${x.rampRate} cps`, `${x.holdMs} ms`, `${fmt(x.rssIdleMiB)} MiB`, `${fmt(x.rssHeldMiB)} MiB`, `${fmt(x.rssAfterMiB)} MiB`, `${fmt(x.kibPerCall)} KiB`, x.allCallsSucceeded ? 'yes' : 'no'],
    ]);
  },
  goals(x, _ctx, why): GoalRow[] {
    const g = { issue: '#14', goal: `RSS per held call (${x?.heldCalls ?? 500} held calls against none)`, target: '≤ 12 KiB' };
    if (!x) return notMeasured([g], why);
    const bad = !x.allCallsSucceeded || (x.openAtSample !== null && x.openAtSample < x.heldCalls);
    return [{
      ...g,
      measured: `${fmt(x.kibPerCall)} KiB (${fmt(x.rssHeldMiB)} MiB held)`,
      baseline: `${fmt(x.rssIdleMiB)} MiB with no call`,
      ratio: '–',
      verdict: bad ? 'FAIL' : judge(x.kibPerCall, '<=', 12),
      ...(bad ? { note: `not every call was up or completed (open at sample ${x.openAtSample}, all ok: ${x.allCallsSucceeded})` } : {}),
      value: x.kibPerCall,
      baselineValue: x.rssIdleMiB,
    }];
  },
});
