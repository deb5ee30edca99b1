/**
 * Memory per concurrent call: outdial's resident set (VmRSS) with no call, then with N calls held
 * up at once (the platform pauses before its BYE; sipp -l caps the calls open at N), on a fresh
 * outdial process that has first carried some calls (so JIT code and pools are already there).
 * RSS is what the operator pays for; it also moves with V8's heap growth policy, so the figure is
 * a measured difference, not a per-object size.
 */
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../test/support/free-port.ts';
import { runStep, round } from './call-throughput.ts';
import { provisionCarrier, startOutdial } from './outdial-process.ts';
import { rssBytes } from './proc-stats.ts';
import {
  BENCH_NUMBER,
  CARRIER_SCENARIO,
  PLATFORM_SCENARIO,
  finishSipp,
  sleep,
  startSipp,
  waitSippReady,
} from './sipp-run.ts';

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

    const carrierPort = await freePort();
    const target = await route(carrierPort);
    const carrier = startSipp({ name: 'held-carrier', scenario: CARRIER_SCENARIO, dir, port: carrierPort, calls: opts.heldCalls, timeoutSec: 120 });
    try {
      await waitSippReady(carrier);
      const platform = startSipp({
        name: 'held-platform',
        scenario: PLATFORM_SCENARIO,
        dir,
        port: await freePort(),
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
      if (opts.holdMs < 4000) throw new Error('holdMs must leave time to sample (>= 4000)');
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
        allCallsSucceeded: p.exit.code === 0 && p.stats?.successful === opts.heldCalls,
      };
    } finally {
      await carrier.child.stop(1000);
    }
  } finally {
    await outdial.stop();
  }
}
