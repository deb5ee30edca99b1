/**
 * Measurement "kamailio-throughput" (on request: --only=kamailio-throughput): the Kamailio peer's
 * highest clean rate at the same stepped rates as bench/throughput.ts. Not a goal of issue 14
 * (its table leaves Kamailio's rate blank), so it is not in the default run.
 */
import { peerPlan, runSteps, type SteppedResult } from './lib/call-load.ts';
import type { GoalRow } from './lib/goals.ts';
import { startKamailio } from './lib/kamailio.ts';
import { measurement } from './lib/measurement.ts';
import { groupCpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';
import { stepLog } from './throughput.ts';

export const kamailioThroughputMeasurement = measurement<SteppedResult | string>({
  name: 'kamailio-throughput',
  title: 'Kamailio peer throughput (stepped rates, 1 UDP worker)',
  byDefault: false,
  async run(ctx) {
    if (!ctx.kamailio) return ctx.kamailioWhy ?? 'kamailio not installed';
    const peer = peerPlan({
      name: 'kamailio',
      dir: ctx.runDir,
      pauseMs: ctx.plan.holdMs,
      start: (carrierPort) => startKamailio(ctx.runDir, carrierPort, 1),
      cpu: (k) => groupCpuSeconds(k.child.pid),
    });
    try {
      return await runSteps(peer.plan, ctx.plan.throughput, stepLog(ctx, 'kamailio'));
    } finally {
      await peer.stop();
    }
  },
  render(r) {
    if (typeof r === 'string') return r;
    return `highest clean rate ${r.maxCleanRate ?? 'none'} cps, first failing ${r.firstFailingRate ?? 'none'} cps\n\n${table(
      ['cps', 'calls', 'result', 'CPU s / 1000 calls', 'UDP rcvbuf drops'],
      [...r.steps].sort((a, b) => a.rate - b.rate).map((x) => [x.rate, x.calls, x.clean ? 'clean' : `NOT clean: ${x.problems.join('; ')}`, fmt(x.cpuSecPer1000Calls ?? NaN, 2), x.udpDrops]),
    )}`;
  },
  goals(): GoalRow[] {
    return [];
  },
});
