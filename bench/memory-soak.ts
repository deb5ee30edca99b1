/**
 * Measurement "soak": memory under steady load. One `outdial start`: its idle RSS (started,
 * provisioned, no call yet), then full calls with a 1 s hold at each rate in turn (100 cps, then
 * 300 cps) for `--soak-seconds` each (default 120; issue 14's soak is 600), RSS and V8 heap
 * (GET /metrics) sampled every second. The plateau of a rate is the mean RSS over the last third
 * of its soak; the slope over its second half says whether it was still climbing. Goal (issue
 * 14): plateau ≤ 1.5× idle at 100 cps; the plateau at the second rate shows growth with rate.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { round, runStep, type StepResult } from './lib/call-load.ts';
import { judge, notMeasured, ratioText, type GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { provisionCarrier, startOutdial, type OutdialProcess } from './lib/outdial-process.ts';
import { rssBytes } from './lib/proc-stats.ts';
import { parsePrometheusText, sampleValue } from './lib/prometheus-text.ts';
import { fmt, table } from './lib/report.ts';
import { sleep } from './lib/sipp-run.ts';

export interface SoakRate {
  rate: number;
  seconds: number;
  calls: number;
  succeeded: number | null;
  /** calls completed at the carrier too */
  carrierSucceeded: number | null;
  clean: boolean;
  problems: string[];
  /** mean RSS over the last third of the soak */
  plateauMiB: number;
  maxMiB: number;
  /** MiB per minute over the second half (least squares); ≈ 0 when flat */
  slopeMiBPerMin: number;
  /** V8 heapUsed, mean over the last third (from /metrics), when readable */
  heapUsedMiB: number | null;
  samples: Array<{ t: number; rssMiB: number; heapMiB: number | null }>;
}

export interface SoakResult {
  idleMiB: number;
  idleHeapMiB: number | null;
  holdMs: number;
  rates: SoakRate[];
}

const MiB = 1024 * 1024;
const HEAP_METRIC = 'outdial_nodejs_heap_size_used_bytes';

async function heapMiB(o: OutdialProcess): Promise<number | null> {
  try {
    const v = sampleValue(parsePrometheusText(await o.metrics()), HEAP_METRIC);
    return v === undefined ? null : round(v / MiB, 1);
  } catch {
    return null;
  }
}

function slope(points: Array<{ t: number; v: number }>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  const num = points.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0);
  const den = points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const completed = (x: SoakRate) => x.succeeded === x.calls && x.carrierSucceeded === x.calls;
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

export const memorySoakMeasurement = measurement<SoakResult>({
  name: 'soak',
  title: 'Memory under steady load (soak: RSS at two rates, 1 s calls)',
  byDefault: true,
  async run(ctx) {
    const { rates, seconds, sampleEveryMs } = ctx.plan.soak;
    const holdMs = 1000;
    const dir = mkdtempSync(path.join(ctx.runDir, 'soak-'));
    const o = await startOutdial({ dir });
    try {
      const link = await provisionCarrier(o, '127.0.0.1:9');
      await sleep(ctx.plan.idle.settleMs);
      const idle = rssBytes(o.pid);
      const idleHeap = await heapMiB(o);
      const out: SoakRate[] = [];
      for (const rate of rates) {
        const calls = rate * seconds;
        const samples: SoakRate['samples'] = [];
        let started: bigint | undefined;
        let sampling = true;
        const sampler = (async () => {
          while (sampling) {
            await sleep(sampleEveryMs);
            if (!sampling || started === undefined) continue;
            try {
              samples.push({ t: Number(process.hrtime.bigint() - started) / 1e9, rssMiB: round(rssBytes(o.pid) / MiB, 1), heapMiB: await heapMiB(o) });
            } catch {
              /* the process is gone: the step reports it */
            }
          }
        })();
        let step: StepResult;
        try {
          step = await runStep(
            {
              name: `soak-${rate}`,
              dir,
              route: async (port) => {
                await link.pointAt(`127.0.0.1:${port}`);
                return o.sip;
              },
              pauseMs: holdMs,
              onStarted: (ns) => (started = ns),
            },
            rate,
            calls,
          );
        } finally {
          sampling = false;
          await sampler;
        }
        // the calls' own span: samples after the last INVITE (hold, teardown) are left out
        const span = samples.filter((x) => x.t <= seconds);
        const lastThird = span.filter((x) => x.t >= (seconds * 2) / 3);
        const secondHalf = span.filter((x) => x.t >= seconds / 2);
        const heaps = lastThird.map((x) => x.heapMiB).filter((h): h is number => h !== null);
        out.push({
          rate,
          seconds,
          calls,
          succeeded: step.platform?.successful ?? null,
          carrierSucceeded: step.carrier?.successful ?? null,
          clean: step.clean,
          problems: step.problems,
          plateauMiB: round(mean(lastThird.map((x) => x.rssMiB)), 1),
          maxMiB: round(Math.max(...span.map((x) => x.rssMiB)), 1),
          slopeMiBPerMin: round(slope(secondHalf.map((x) => ({ t: x.t / 60, v: x.rssMiB }))), 1),
          heapUsedMiB: heaps.length ? round(mean(heaps), 1) : null,
          samples: span,
        });
        ctx.log(`  soak ${rate} cps × ${seconds} s: plateau ${out[out.length - 1]!.plateauMiB} MiB (idle ${round(idle / MiB, 1)}), ${step.clean ? 'clean' : step.problems.join('; ')}`);
      }
      return { idleMiB: round(idle / MiB, 1), idleHeapMiB: idleHeap, holdMs, rates: out };
    } finally {
      await o.stop();
    }
  },
  render(r) {
    return `${table(
      ['rate', 'soak', 'calls ok', 'RSS idle', 'RSS plateau (last third)', 'plateau / idle', 'RSS max', 'slope (2nd half)', 'heap used plateau', 'clean'],
      r.rates.map((x) => [`${x.rate} cps`, `${x.seconds} s`, `${x.succeeded ?? '–'}/${x.calls}`, `${fmt(r.idleMiB)} MiB`, `${fmt(x.plateauMiB)} MiB`, `${fmt(x.plateauMiB / r.idleMiB, 2)}×`, `${fmt(x.maxMiB)} MiB`, `${fmt(x.slopeMiBPerMin)} MiB/min`, x.heapUsedMiB === null ? '–' : `${fmt(x.heapUsedMiB)} MiB (idle ${fmt(r.idleHeapMiB)})`, x.clean ? 'yes' : `no: ${x.problems.join('; ')}`]),
    )}\n\nThe rates run one after the other on the same process (idle measured once, before the first call); hold ${r.holdMs} ms. A positive slope means the plateau was not reached: run longer with --soak-seconds=600.`;
  },
  goals(r, _ctx, why): GoalRow[] {
    const g1 = { issue: '#14', goal: 'memory under steady load: RSS plateau / idle at 100 cps (1 s calls)', target: '≤ 1.5×' };
    const g2 = { issue: '#14', goal: 'memory growth with rate: plateau at the second rate', target: 'reported' };
    if (!r) return notMeasured([g1, g2], why);
    const [a, b] = r.rates;
    const rows: GoalRow[] = [];
    if (a) {
      rows.push({
        ...g1,
        goal: `memory under steady load: RSS plateau / idle at ${a.rate} cps (${r.holdMs / 1000} s calls, ${a.seconds} s)`,
        measured: `${fmt(a.plateauMiB)} MiB plateau (slope ${fmt(a.slopeMiBPerMin)} MiB/min)`,
        baseline: `${fmt(r.idleMiB)} MiB idle`,
        ratio: ratioText(a.plateauMiB, r.idleMiB),
        // the memory goal holds for a load that completes: every call, at both ends
        verdict: completed(a) ? judge(a.plateauMiB / r.idleMiB, '<=', 1.5) : 'FAIL',
        ...(a.clean ? {} : { note: `${completed(a) ? 'every call completed, but' : 'calls did not all complete:'} ${a.problems.join('; ')}` }),
        value: a.plateauMiB,
        baselineValue: r.idleMiB,
      });
    }
    if (a && b) {
      rows.push({
        ...g2,
        goal: `memory growth with rate: plateau at ${b.rate} cps vs ${a.rate} cps`,
        measured: `${fmt(b.plateauMiB)} MiB at ${b.rate} cps (${fmt(b.plateauMiB / r.idleMiB, 2)}× idle)`,
        baseline: `${fmt(a.plateauMiB)} MiB at ${a.rate} cps`,
        ratio: ratioText(b.plateauMiB, a.plateauMiB),
        verdict: 'INFO',
        ...(completed(b) ? {} : { note: `the ${b.rate} cps soak did not complete (${b.succeeded ?? '?'}/${b.calls} calls succeeded): outdial was overloaded, its plateau is not a steady state` }),
        value: b.plateauMiB,
        baselineValue: a.plateauMiB,
      });
    }
    return rows;
  },
});
