/**
 * `npm run bench`: every outdial measurement in one bounded run on loopback, each beside its
 * baseline in the same run, then the goal table and one section per measurement on stdout, and
 * the whole result as JSON in bench/out/<timestamp>.json. See USAGE below and README §Benchmarks.
 *
 * Every child process (outdial, sipp, kamailio, PostgreSQL, the dial-plan and lock-holder
 * children) is stopped at the end, on a failed section and on Ctrl-C. A failed section is
 * reported and the others still run; the exit code is then 1.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { detectCapabilities } from './lib/capabilities.ts';
import { installCleanupHandlers, stopAllChildren } from './lib/child-processes.ts';
import type { GoalRow } from './lib/goals.ts';
import { ensureKamailio } from './lib/kamailio.ts';
import type { BenchContext, Measurement } from './lib/measurement.ts';
import { REPO_ROOT } from './lib/outdial-process.ts';
import { FULL_PLAN, QUICK_PLAN, type Plan } from './lib/plan.ts';
import { describeMachine, firstLine, renderReport, type BenchReport } from './lib/report.ts';
import { MEASUREMENTS } from './measurements.ts';

const USAGE = `usage: npm run bench -- [options]

  (no option)            every default measurement, full counts (13-16 minutes on 2 cores)
  --quick                every default measurement with tiny counts: a smoke of the instrument
                         (2-4 minutes; add --only=kamailio-throughput for the on-request one)
  --only=a,b             just these measurements; --skip=a,b: all default ones but these
  --soak-seconds=N       seconds per soak rate (default 120; issue 14's soak is 600)
  --dialplan-max=N       leave out dial-plan tables above N routes (1M is the goal's size)
  --workers-var=NAME     outdial's worker-count variable, if detection misses it
  --no-install           do not apt-get install kamailio when it is missing
  --keep-dir             keep the run directory (sipp statistics, traces, logs)
  --self-check           check the bench's own parsing, verdicts, rendering and sipp scenarios
  --list                 list the measurements

measurements: ${'{list}'}
`;

function usage(): string {
  return USAGE.replace('{list}', MEASUREMENTS.map((m) => `${m.name}${m.byDefault ? '' : ' (on request)'}`).join(', '));
}

function planFor(quick: boolean, values: { 'soak-seconds'?: string; 'dialplan-max'?: string }): Plan {
  const base = quick ? QUICK_PLAN : FULL_PLAN;
  const plan: Plan = structuredClone(base);
  if (values['soak-seconds']) {
    const s = Number(values['soak-seconds']);
    if (!Number.isInteger(s) || s < 5) throw new Error('--soak-seconds must be an integer ≥ 5');
    plan.soak.seconds = s;
  }
  if (values['dialplan-max']) {
    const max = Number(values['dialplan-max']);
    if (!Number.isFinite(max) || max < 1) throw new Error('--dialplan-max must be a number');
    plan.dialPlanRoutes = plan.dialPlanRoutes.filter((n) => n <= max);
  }
  return plan;
}

function names(list: string | undefined): Set<string> | undefined {
  if (list === undefined) return undefined;
  const set = new Set(list.split(',').map((s) => s.trim()).filter((s) => s !== ''));
  for (const s of set) if (!MEASUREMENTS.some((m) => m.name === s)) throw new Error(`unknown measurement ${s}; known: ${MEASUREMENTS.map((m) => m.name).join(', ')}`);
  return set;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      skip: { type: 'string' },
      quick: { type: 'boolean' },
      'soak-seconds': { type: 'string' },
      'dialplan-max': { type: 'string' },
      'workers-var': { type: 'string' },
      'no-install': { type: 'boolean' },
      'keep-dir': { type: 'boolean' },
      'self-check': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(usage());
    return 0;
  }
  if (values.list) {
    for (const m of MEASUREMENTS) process.stdout.write(`${m.name.padEnd(20)} ${m.byDefault ? '' : '(on request) '}${m.title}\n`);
    return 0;
  }
  if (values['self-check']) {
    const { runSelfCheck } = await import('./self-check.ts');
    return runSelfCheck();
  }
  if (!firstLine('sh', ['-c', 'command -v sipp'])) throw new Error('sipp is not installed: apt-get install sip-tester (Debian) — the bench drives every call with it');

  const only = names(values.only);
  const skip = names(values.skip) ?? new Set<string>();
  const quick = values.quick ?? false;
  const selected = (m: Measurement<never>) => (only ? only.has(m.name) : m.byDefault && !skip.has(m.name));
  const plan = planFor(quick, values);
  const log = (text: string) => process.stderr.write(`bench: ${text}\n`);

  installCleanupHandlers();
  const started = Date.now();
  const stamp = new Date(started).toISOString().replace(/[:.]/g, '-');
  const outDir = path.join(REPO_ROOT, 'bench/out');
  const runDir = mkdtempSync(path.join(tmpdir(), 'outdial-bench-'));
  const wantsKamailio = MEASUREMENTS.some((m) => selected(m) && (m.name === 'cpu' || m.name === 'kamailio-throughput'));
  const kamailio = wantsKamailio ? ensureKamailio({ install: !values['no-install'], log }) : { binary: undefined, why: 'not needed by the selected measurements' };
  if (wantsKamailio && !kamailio.binary) log(`kamailio: ${kamailio.why}`);
  const capabilities = detectCapabilities(values['workers-var'] ? { workersVar: values['workers-var'] } : {});
  log(`capabilities: workers ${capabilities.workersVar ?? 'none'}, edge thread ${capabilities.edgeThreadVar ?? 'none'}, ${capabilities.dbUrl ? 'OUTDIAL_DB_URL accepted' : 'no OUTDIAL_DB_URL'}, ${capabilities.built ? `built JS ${path.relative(REPO_ROOT, capabilities.built.file)}${capabilities.built.stale ? ' (STALE)' : ''}` : 'no built JS'}`);

  const results = new Map<string, unknown>();
  const ctx: BenchContext = { runDir, quick, plan, capabilities, kamailio: kamailio.binary, kamailioWhy: kamailio.why, outStem: path.join(outDir, stamp), results, log };
  const report: BenchReport = {
    machine: describeMachine(kamailio.binary),
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    quick,
    durationSec: 0,
    capabilities: { workersVar: capabilities.workersVar ?? null, edgeThreadVar: capabilities.edgeThreadVar ?? null, dbUrl: capabilities.dbUrl, built: capabilities.built ?? null, kamailio: kamailio.binary ?? kamailio.why ?? null },
    goals: [],
    sections: {},
    errors: [],
  };
  const why = new Map<string, string>();
  try {
    for (const m of MEASUREMENTS) {
      if (!selected(m)) {
        why.set(m.name, only ? 'not run (--only)' : m.byDefault ? 'not run (--skip)' : 'not run (on request only)');
        continue;
      }
      const t = Date.now();
      log(`${m.name}: ${m.title} …`);
      try {
        const result = await m.run(ctx);
        results.set(m.name, result);
        const durationSec = Math.round((Date.now() - t) / 100) / 10;
        report.sections[m.name] = { title: m.title, durationSec, markdown: m.render(result, ctx), result };
        log(`${m.name} done in ${durationSec} s`);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        report.errors.push({ section: m.name, message: message.slice(0, 2000) });
        report.sections[m.name] = { title: m.title, durationSec: Math.round((Date.now() - t) / 100) / 10, error: message.slice(0, 2000) };
        why.set(m.name, `failed: ${message.split('\n')[0]!.slice(0, 200)}`);
        log(`${m.name} FAILED: ${err instanceof Error ? err.stack : message}`);
        await stopAllChildren();
      }
    }
  } finally {
    await stopAllChildren();
  }
  const goals: GoalRow[] = [];
  for (const m of MEASUREMENTS) goals.push(...m.goals(results.get(m.name) as never, ctx, why.get(m.name) ?? 'no result'));
  report.goals = goals;
  report.durationSec = Math.round((Date.now() - started) / 1000);
  mkdirSync(outDir, { recursive: true });
  const outFile = path.join(outDir, `${stamp}.json`);
  writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`\n${renderReport(report)}\nJSON: ${path.relative(process.cwd(), outFile)}\n`);
  if (values['keep-dir']) log(`sipp statistics and logs kept in ${runDir}`);
  else rmSync(runDir, { recursive: true, force: true });
  return report.errors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    await stopAllChildren();
    process.exit(1);
  },
);
