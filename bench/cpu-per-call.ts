/**
 * Measurement "cpu": CPU per full call through `outdial start` beside the Kamailio peer (a
 * stateful proxy doing the same Request-URI rewrite, lib/kamailio.ts) at the same fixed rate and
 * call count (issue 14's conditions: 150 cps × 3000, 1 s hold), each process's utime + stime
 * from /proc before and after (outdial's process group; kamailio's group: its workers).
 * Goal: outdial ≤ 2× Kamailio. Beside them, for reference, the floor: a stateless Node proxy
 * (lib/node-floor-proxy.ts), what any Node process pays per call here.
 */
import { peerPlan, runStep, type PeerProxy, type StepResult } from './lib/call-load.ts';
import { judge, notAvailable, notMeasured, ratioText, type GoalRow } from './lib/goals.ts';
import { startKamailio } from './lib/kamailio.ts';
import { measurement, type BenchContext } from './lib/measurement.ts';
import { startNodeFloorProxy } from './lib/node-floor-proxy.ts';
import { cpuSeconds, groupCpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';
import { outdialPlan, stepLog } from './throughput.ts';

type Step = Omit<StepResult, 'platform' | 'carrier'>;

export interface CpuPerCallResult {
  rate: number;
  calls: number;
  holdMs: number;
  outdial: Step;
  /** a string when there is no Kamailio (why) */
  kamailio: Step | string;
  /** the stateless Node proxy at the same load (absent in results before 2026-12-02 16:15 UTC; a string when it failed) */
  floor?: Step | string;
}

const strip = ({ platform: _p, carrier: _c, ...rest }: StepResult): Step => rest;

/** One step through a peer started for the step's carrier (kamailio.cfg and the floor proxy name its port). */
async function peerStep<P extends PeerProxy>(ctx: BenchContext, label: string, name: string, start: (carrierPort: number) => Promise<P>, cpu: (peer: P) => number): Promise<Step> {
  const { rate, calls } = ctx.plan.cpu;
  const peer = peerPlan({ name, dir: ctx.runDir, pauseMs: ctx.plan.holdMs, start, cpu });
  try {
    const step = await runStep(peer.plan, rate, calls);
    stepLog(ctx, label)(step);
    return strip(step);
  } finally {
    await peer.stop();
  }
}

/** The floor at the same load; a failure is reported in its row, not thrown. */
async function nodeFloor(ctx: BenchContext): Promise<Step | string> {
  try {
    return await peerStep(ctx, 'node floor', 'cpu-node-floor', startNodeFloorProxy, (f) => cpuSeconds(f.child.pid));
  } catch (err) {
    return `not measured: ${(err as Error).message.split('\n')[0]}`;
  }
}

const msPerCall = (s: Step) => (s.cpuSecPer1000Calls ?? NaN);

export const cpuPerCallMeasurement = measurement<CpuPerCallResult>({
  name: 'cpu',
  title: 'CPU per call (fixed load, the same for outdial and the Kamailio peer)',
  byDefault: true,
  async run(ctx) {
    const { rate, calls } = ctx.plan.cpu;
    const o = await outdialPlan(ctx, 'cpu-outdial');
    let outdial: StepResult;
    try {
      outdial = await runStep(o.plan, rate, calls);
      stepLog(ctx, 'outdial')(outdial);
    } finally {
      await o.stop();
    }
    const kamailio = ctx.kamailio
      ? await peerStep(ctx, 'kamailio', 'cpu-kamailio', (carrierPort) => startKamailio(ctx.runDir, carrierPort, 1), (k) => groupCpuSeconds(k.child.pid))
      : (ctx.kamailioWhy ?? 'kamailio not installed');
    return { rate, calls, holdMs: ctx.plan.holdMs, outdial: strip(outdial), kamailio, floor: await nodeFloor(ctx) };
  },
  render(r) {
    const row = (name: string, s: Step) => [name, `${r.rate} cps`, s.calls, fmt(s.cpuSec ?? NaN, 2), fmt(msPerCall(s), 3), fmt(s.coresBusy ?? NaN, 2), s.clean ? 'yes' : `no: ${s.problems.join('; ')}`];
    const rows = [row('outdial start', r.outdial)];
    if (typeof r.kamailio === 'string') rows.push(['kamailio', r.kamailio, '–', '–', '–', '–', '–']);
    else rows.push(row('kamailio (1 UDP worker)', r.kamailio));
    if (typeof r.floor === 'string') rows.push(['stateless Node proxy (floor)', r.floor, '–', '–', '–', '–', '–']);
    else if (r.floor) rows.push(row('stateless Node proxy (floor)', r.floor));
    return `${table(['target', 'rate', 'calls', 'CPU s (utime+stime)', 'CPU ms / call', 'cores busy', 'clean'], rows)}\n\nHold ${r.holdMs} ms; outdial was warmed up first. Kamailio is a stateful proxy (no second dialog, no SDP, no failover): the ratio bounds what a SIP-only core pays here. The stateless Node proxy (bench/lib/node-floor-proxy.ts: its own 100 Trying, the Request-URI rewrite, a Via and a Record-Route, no state) is what a Node process that does almost nothing pays per call on this machine.`;
  },
  goals(r, _ctx, why): GoalRow[] {
    const g = { issue: '#14', goal: 'CPU per full call through `outdial start` vs the Kamailio peer, same rate', target: '≤ 2×' };
    if (!r) return notMeasured([g], why);
    const o = msPerCall(r.outdial);
    if (typeof r.kamailio === 'string') return notAvailable([g], r.kamailio).map((x) => ({ ...x, measured: `${fmt(o, 3)} ms / call` }));
    const k = msPerCall(r.kamailio);
    const cleanNote = r.outdial.clean && r.kamailio.clean ? undefined : `a step was not clean: ${[...r.outdial.problems, ...r.kamailio.problems].join('; ')}`;
    return [{
      ...g,
      measured: `${fmt(o, 3)} ms / call (${r.rate} cps × ${r.calls})`,
      baseline: `${fmt(k, 3)} ms / call Kamailio`,
      ratio: ratioText(o, k),
      verdict: cleanNote ? 'FAIL' : judge(o / k, '<=', 2),
      ...(cleanNote ? { note: cleanNote } : {}),
      value: o,
      baselineValue: k,
    }];
  },
});
