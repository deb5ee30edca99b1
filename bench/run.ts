/**
 * `npm run bench`: every outdial benchmark in one bounded run on loopback, each beside its
 * baseline, then a table on stdout and the whole result as JSON in bench/out/<timestamp>.json.
 *
 *   npm run bench                          everything (about 6 minutes on 2 cores)
 *   npm run bench -- --only=throughput,pdd  a subset: throughput, cpu, pdd, kamailio, memory,
 *                                          dialplan, admin, profile
 *   npm run bench -- --dialplan-max=100000  skip the 1M-route dial plan (the slowest part)
 *   npm run bench -- --keep-dir             keep the run directory (sipp statistics, traces)
 *
 * Every child process (outdial, sipp, kamailio, the dial-plan child) is stopped at the end, on a
 * failed section, and on Ctrl-C. A failed section is reported and the others still run; the
 * exit code is then 1.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { measureAdminApi } from './admin-api.ts';
import { runStep, runSteps, type StepPlan } from './call-throughput.ts';
import { installCleanupHandlers, stopAllChildren } from './child-processes.ts';
import { profileCallPath } from './cpu-profile.ts';
import { runDialPlanScale } from './dial-plan-scale.ts';
import { kamailioBinary, startKamailio, type KamailioPeer } from './kamailio-peer.ts';
import { measureMemoryPerCall } from './memory-per-call.ts';
import { REPO_ROOT, provisionCarrier, startOutdial, type OutdialProcess } from './outdial-process.ts';
import { measurePostDialDelay } from './post-dial-delay.ts';
import { cpuSeconds, groupCpuSeconds } from './proc-stats.ts';
import { describeMachine, renderReport, type BenchReport } from './report.ts';

const SECTIONS = ['throughput', 'cpu', 'pdd', 'kamailio', 'memory', 'dialplan', 'admin', 'profile'] as const;
type Section = (typeof SECTIONS)[number];

/** The load plan: fixed here so that runs compare. */
const PLAN = {
  /** call hold time (ACK → BYE) for throughput, CPU and profile runs */
  holdMs: 1000,
  /** rates double from startRate up to maxRate until a step is not clean, then bisect refineSteps times */
  steps: { startRate: 100, maxRate: 3200, secondsPerStep: 4, refineSteps: 2 },
  warmupCalls: 600,
  cpu: { rate: 200, calls: 2000 },
  pdd: { rate: 20, calls: 400 },
  memory: { heldCalls: 500, rampRate: 100, holdMs: 15000, warmupCalls: 300 },
  admin: { connections: 10, durationSec: 5 },
  profile: { rate: 300, calls: 3000 },
  dialPlanRoutes: [1_000, 100_000, 1_000_000],
};

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, 'dialplan-max': { type: 'string' }, 'keep-dir': { type: 'boolean' } },
    strict: true,
  });
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
  for (const s of only ?? []) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`unknown section ${s}; known: ${SECTIONS.join(', ')}`);
  const wanted = (s: Section) => only === undefined || only.has(s);
  const dialPlanMax = values['dialplan-max'] ? Number(values['dialplan-max']) : Infinity;

  installCleanupHandlers();
  const started = Date.now();
  const runDir = mkdtempSync(path.join(tmpdir(), 'outdial-bench-'));
  const kamailio = kamailioBinary();
  const report: BenchReport = {
    machine: describeMachine(kamailio),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    durationSec: 0,
    errors: [],
  };
  const log = (text: string) => process.stderr.write(`bench: ${text}\n`);
  const section = async (name: string, fn: () => Promise<void>) => {
    const t = Date.now();
    log(`${name} …`);
    try {
      await fn();
      log(`${name} done in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      report.errors.push({ section: name, message: message.slice(0, 2000) });
      log(`${name} FAILED: ${message}`);
    }
  };
  const stepLog = (name: string) => (s: { rate: number; calls: number; clean: boolean; problems: string[]; cpuSecPer1000Calls?: number }) =>
    log(`  ${name} ${s.rate} cps × ${s.calls}: ${s.clean ? 'clean' : s.problems.join('; ')}${s.cpuSecPer1000Calls !== undefined ? `, ${s.cpuSecPer1000Calls} CPU s/1000 calls` : ''}`);

  const holdMs = PLAN.holdMs;
  const direct: StepPlan = { name: 'direct', dir: runDir, route: async (port) => ({ host: '127.0.0.1', port }), pauseMs: holdMs };

  try {
    if (wanted('throughput')) {
      await section('throughput: sipp → sipp (baseline)', async () => {
        report.throughput = { ...report.throughput, direct: await runSteps(direct, PLAN.steps, stepLog('direct')) };
      });
    }

    // One outdial process for throughput, the fixed-rate CPU figure and post-dial delay.
    if (wanted('throughput') || wanted('cpu') || wanted('pdd')) {
      let outdial: OutdialProcess | undefined;
      await section('outdial: start and provision', async () => {
        outdial = await startOutdial({ dir: runDir });
      });
      if (outdial) {
        const o = outdial;
        try {
          const link = await provisionCarrier(o, '127.0.0.1:9');
          const plan: StepPlan = {
            name: 'outdial',
            dir: runDir,
            route: async (port) => {
              await link.pointAt(`127.0.0.1:${port}`);
              return o.sip;
            },
            cpu: () => cpuSeconds(o.pid),
            pauseMs: holdMs,
          };
          await section('outdial: warm-up', async () => {
            const w = await runStep(plan, 200, PLAN.warmupCalls);
            if (!w.clean) log(`  warm-up not clean: ${w.problems.join('; ')}`);
          });
          if (wanted('throughput')) {
            await section('throughput: sipp → outdial → sipp', async () => {
              report.throughput = { ...report.throughput, outdial: await runSteps(plan, PLAN.steps, stepLog('outdial')) };
            });
          }
          if (wanted('cpu')) {
            await section(`cpu: ${PLAN.cpu.calls} calls at ${PLAN.cpu.rate} cps`, async () => {
              const s = await runStep(plan, PLAN.cpu.rate, PLAN.cpu.calls);
              stepLog('cpu')(s);
              report.cpuPerCall = {
                target: 'outdial',
                rate: PLAN.cpu.rate,
                calls: PLAN.cpu.calls,
                holdMs,
                cpuSec: s.cpuSec ?? NaN,
                cpuSecPer1000Calls: s.cpuSecPer1000Calls ?? NaN,
                clean: s.clean,
                step: s,
              };
            });
          }
          if (wanted('pdd')) {
            await section(`post-dial delay: outdial, ${PLAN.pdd.calls} calls at ${PLAN.pdd.rate} cps`, async () => {
              report.postDialDelay = { ...report.postDialDelay, outdial: await measurePostDialDelay({ ...plan, pauseMs: 0 }, PLAN.pdd.rate, PLAN.pdd.calls) };
            });
          }
        } finally {
          await o.stop();
        }
      }
    }
    if (wanted('pdd')) {
      await section(`post-dial delay: direct, ${PLAN.pdd.calls} calls at ${PLAN.pdd.rate} cps`, async () => {
        report.postDialDelay = { ...report.postDialDelay, direct: await measurePostDialDelay({ ...direct, pauseMs: 0 }, PLAN.pdd.rate, PLAN.pdd.calls) };
      });
    }

    if (wanted('kamailio')) {
      if (!kamailio) {
        report.throughput = { ...report.throughput, kamailio: 'skipped (kamailio not installed)' };
        log('kamailio: skipped (kamailio not installed)');
      } else {
        await section('throughput: sipp → kamailio → sipp', async () => {
          let k: KamailioPeer | undefined;
          try {
            const plan: StepPlan = {
              name: 'kamailio',
              dir: runDir,
              // kamailio.cfg names the carrier's port, so each step gets a freshly configured proxy.
              route: async (port) => {
                await k?.stop();
                k = await startKamailio(runDir, port, 1);
                return { host: '127.0.0.1', port: k.port };
              },
              cpu: () => (k ? groupCpuSeconds(k.child.pid) : NaN),
              pauseMs: holdMs,
            };
            report.throughput = { ...report.throughput, kamailio: await runSteps(plan, PLAN.steps, stepLog('kamailio')) };
          } finally {
            await k?.stop();
          }
        });
      }
    }

    if (wanted('memory')) {
      await section(`memory: ${PLAN.memory.heldCalls} held calls`, async () => {
        report.memoryPerCall = await measureMemoryPerCall(runDir, PLAN.memory);
      });
    }
    if (wanted('admin')) {
      await section('admin API', async () => {
        report.adminApi = await measureAdminApi(runDir, PLAN.admin);
      });
    }
    if (wanted('dialplan')) {
      await section('dial plan at scale', async () => {
        report.dialPlan = await runDialPlanScale(PLAN.dialPlanRoutes.filter((n) => n <= dialPlanMax));
      });
    }
    if (wanted('profile')) {
      await section(`profile: ${PLAN.profile.calls} calls at ${PLAN.profile.rate} cps under --cpu-prof`, async () => {
        report.profile = await profileCallPath(runDir, { ...PLAN.profile, holdMs, warmupCalls: PLAN.warmupCalls });
      });
    }
  } finally {
    await stopAllChildren();
  }

  report.durationSec = Math.round((Date.now() - started) / 1000);
  const outDir = path.join(REPO_ROOT, 'bench/out');
  mkdirSync(outDir, { recursive: true });
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const outFile = path.join(outDir, `${stamp}.json`);
  if (report.profile) {
    const kept = path.join(outDir, `${stamp}.cpuprofile`);
    copyFileSync(report.profile.profileFile, kept); // open in Chrome DevTools → Performance
    report.profile.profileFile = path.relative(REPO_ROOT, kept);
  }
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${renderReport(report)}\nJSON: ${path.relative(process.cwd(), outFile)}\n`);
  if (values['keep-dir']) log(`sipp statistics and logs kept in ${runDir}`);
  else rmSync(runDir, { recursive: true, force: true });
  return report.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
