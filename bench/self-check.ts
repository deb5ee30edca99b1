/**
 * The bench's check of itself, without vitest (the bench is not part of `npm test`):
 *
 *   npm run bench -- --self-check        (or: node --import tsx bench/self-check.ts)
 *
 * The parsers on made-up input (sipp statistics and traces, Prometheus text), the verdicts and
 * the report, every measurement's goal rows, then the instruments on real processes: the
 * event-loop probe against a server whose loop is made to stall (both metric sources), the
 * SQLite lock holder against a real file, sipp → sipp calls through the bench's scenarios with
 * post-dial-delay pairing, and the digest carriers accepting right credentials and refusing
 * wrong ones. Prints one line per check and "N passed, M failed"; exits 1 on a failure.
 */
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createLogger } from '../src/log/logger.ts';
import { DEFAULT_CUSTOMER_ID } from '../src/routing/model.ts';
import { openStore } from '../src/store/store.ts';
import { databaseDelayVerdict } from './db-stalls.ts';
import { runStep } from './lib/call-load.ts';
import { detectCapabilities, findBuiltEntry, variableFromHelp } from './lib/capabilities.ts';
import { installCleanupHandlers, spawnTracked, stopAllChildren } from './lib/child-processes.ts';
import { EVENT_LOOP_DELAY_HISTOGRAM, PROM_CLIENT_LAG_MAX, histogramDelay, judgeEventLoop, startEventLoopProbe } from './lib/event-loop-probe.ts';
import { judge, judgeBounded, ratioText } from './lib/goals.ts';
import { inviteTimes, measurePostDialDelay, pairInviteDelays } from './lib/invite-delay.ts';
import { kamailioConfig } from './lib/kamailio.ts';
import type { BenchContext } from './lib/measurement.ts';
import { FULL_PLAN, QUICK_PLAN } from './lib/plan.ts';
import { histogramBuckets, parsePrometheusText, sampleValue } from './lib/prometheus-text.ts';
import { renderReport, type BenchReport } from './lib/report.ts';
import { COUNTRY_CODES, insertRoutes, prefixPool, prng, uuidFrom } from './lib/route-fixture.ts';
import { AUTHENTICATING_PLATFORM_SCENARIO, DIGEST_401_CARRIER_SCENARIO, DIGEST_407_CARRIER_SCENARIO, DIGEST_CREDENTIALS, parseSippStats, sleep } from './lib/sipp-run.ts';
import { startSqliteLockHolder } from './lib/sqlite-lock-holder.ts';
import { percentile, summarize } from './lib/summary-stats.ts';
import { MEASUREMENTS } from './measurements.ts';

type Check = { name: string; fn: () => void | Promise<void> };
const checks: Check[] = [];
const check = (name: string, fn: Check['fn']) => checks.push({ name, fn });

const scratch = mkdtempSync(path.join(tmpdir(), 'outdial-bench-check-'));

check('percentiles are nearest-rank', () => {
  const xs = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 100), 100);
  assert.ok(Number.isNaN(percentile([], 50)));
  const s = summarize([3, 1, 2]);
  assert.deepEqual([s.min, s.median, s.max, s.n], [1, 2, 3, 3]);
});

check('sipp -trace_stat: the last line read by column name', () => {
  const csv = [
    'StartTime;LastResetTime;CurrentTime;ElapsedTime(P);ElapsedTime(C);TotalCallCreated;CurrentCall;SuccessfulCall(C);FailedCall(C);Retransmissions(C);OutOfCallMsgs(C);DeadCallMsgs(C)',
    'x;x;x;00:00:01:000000;00:00:01:000000;10;10;0;0;0;0;0',
    'x;x;x;00:00:01:000000;00:01:02:500000;200;3;195;2;7;1;0',
  ].join('\n');
  const s = parseSippStats(csv)!;
  assert.deepEqual([s.created, s.currentCalls, s.successful, s.failed, s.retransmissions, s.outOfCall, s.deadCall], [200, 3, 195, 2, 7, 1, 0]);
  assert.equal(s.elapsedSec, 62.5);
  assert.equal(parseSippStats('only a header'), undefined);
});

/** A sipp -trace_msg block. */
const block = (stamp: string, dir: 'sent' | 'received', first: string, seq: number) =>
  `----------------------------------------------- ${stamp}\nUDP message ${dir === 'sent' ? 'sent (100 bytes):' : 'received [100] bytes :'}\n\n${first}\nVia: x\nX-Bench-Seq: ${seq}\nContent-Length: 0\n\n`;

check('post-dial delay: INVITEs paired by X-Bench-Seq, in ms; responses and duplicates ignored', () => {
  const platform = [
    block('2026-12-01 10:00:00.000100', 'sent', 'INVITE sip:+1@h SIP/2.0', 1),
    block('2026-12-01 10:00:00.000500', 'sent', 'INVITE sip:+1@h SIP/2.0', 1), // a retransmission: the first counts
    block('2026-12-01 10:00:00.010000', 'sent', 'INVITE sip:+1@h SIP/2.0', 2),
    block('2026-12-01 10:00:00.020000', 'received', 'SIP/2.0 200 OK', 1),
  ].join('');
  const carrier = [
    block('2026-12-01 10:00:00.001600', 'received', 'INVITE sip:+1@c SIP/2.0', 1),
    block('2026-12-01 10:00:00.013000', 'received', 'INVITE sip:+1@c SIP/2.0', 2),
    block('2026-12-01 10:00:00.030000', 'received', 'INVITE sip:+1@c SIP/2.0', 3), // no platform INVITE: unpaired
  ].join('');
  assert.equal(inviteTimes(platform, 'sent').size, 2);
  const d = pairInviteDelays(platform, carrier).map((x) => x.delayMs);
  assert.deepEqual(d, [1.5, 3]);
});

const METRICS_TEXT = `# HELP outdial_nodejs_eventloop_lag_max_seconds The maximum recorded event loop delay.
# TYPE outdial_nodejs_eventloop_lag_max_seconds gauge
outdial_nodejs_eventloop_lag_max_seconds 0.034
outdial_calls_total{outcome="answered",status="200"} 12
outdial_calls_total{outcome="failed",status="503",note="a \\"quoted\\" value"} 1
outdial_event_loop_delay_seconds_bucket{le="0.005",worker="1"} 90
outdial_event_loop_delay_seconds_bucket{le="0.02",worker="1"} 98
outdial_event_loop_delay_seconds_bucket{le="0.1",worker="1"} 100
outdial_event_loop_delay_seconds_bucket{le="+Inf",worker="1"} 100
outdial_event_loop_delay_seconds_bucket{le="0.005",worker="2"} 10
outdial_event_loop_delay_seconds_bucket{le="0.02",worker="2"} 10
outdial_event_loop_delay_seconds_bucket{le="0.1",worker="2"} 10
outdial_event_loop_delay_seconds_bucket{le="+Inf",worker="2"} 10
`;

check('Prometheus text: samples, labels with escapes, +Inf, histogram series added up', () => {
  const s = parsePrometheusText(METRICS_TEXT);
  assert.equal(sampleValue(s, PROM_CLIENT_LAG_MAX), 0.034);
  assert.equal(sampleValue(s, 'outdial_calls_total', { outcome: 'failed' }), 1);
  assert.equal(s.find((x) => x.labels.note)?.labels.note, 'a "quoted" value');
  assert.deepEqual(histogramBuckets(s, EVENT_LOOP_DELAY_HISTOGRAM), [
    { le: 0.005, count: 100 },
    { le: 0.02, count: 108 },
    { le: 0.1, count: 110 },
    { le: Infinity, count: 110 },
  ]);
});

check('event-loop histogram: the difference of two scrapes gives the count over 20 ms and bounds on the largest', () => {
  const first = parsePrometheusText(METRICS_TEXT);
  const later = parsePrometheusText(METRICS_TEXT.replace('{le="0.1",worker="1"} 100', '{le="0.1",worker="1"} 103').replace('{le="+Inf",worker="1"} 100', '{le="+Inf",worker="1"} 103'));
  assert.deepEqual(histogramDelay(first, later), { maxLowerMs: 20, maxUpperMs: 100, over20ms: 3 });
  assert.deepEqual(histogramDelay(first, first), { maxLowerMs: 0, maxUpperMs: 0, over20ms: 0 });
});

check('verdicts: limits, bounded quantities, ratios', () => {
  assert.equal(judge(1.9, '<', 2), 'PASS');
  assert.equal(judge(2, '<', 2), 'FAIL');
  assert.equal(judge(2, '<=', 2), 'PASS');
  assert.equal(judge(2400, '>=', 2400), 'PASS');
  assert.equal(judge(NaN, '<', 2), 'NOT MEASURED');
  assert.equal(judgeBounded(5, 15, 20), 'PASS');
  assert.equal(judgeBounded(15, 25, 20), 'UNCLEAR');
  assert.equal(judgeBounded(21, 31, 20), 'FAIL');
  assert.equal(ratioText(3, 1.5), '2.00×');
  assert.equal(ratioText(3, 0), '–');
});

const ctx: BenchContext = {
  runDir: scratch,
  quick: true,
  plan: QUICK_PLAN,
  capabilities: { envVars: [], workersVar: undefined, edgeThreadVar: undefined, dbUrl: false, built: undefined, helpText: '' },
  kamailio: undefined,
  kamailioWhy: 'not installed',
  outStem: path.join(scratch, 'out'),
  results: new Map(),
  log: () => undefined,
};

check('database-caused delay: over 20 ms and over the quiet step fails; as long as the quiet step is unclear', () => {
  const probe = (lower: number, upper: number) => ({ windowSec: 1, metric: { source: PROM_CLIENT_LAG_MAX, maxLowerMs: lower, maxUpperMs: upper, over20ms: 0, scrapes: 2, scrapeFailures: 0 }, healthz: { samples: 1, medianMs: 1, p99Ms: 1, maxMs: 1, over20ms: 0, failures: 0 } }) as const;
  assert.equal(databaseDelayVerdict(probe(0, 12), probe(0, 11)).verdict, 'PASS');
  assert.equal(databaseDelayVerdict(probe(990, 1000), probe(0, 11)).verdict, 'FAIL');
  assert.equal(databaseDelayVerdict(probe(40, 50), probe(45, 55)).verdict, 'UNCLEAR');
  assert.equal(databaseDelayVerdict(probe(15, 25), probe(0, 11)).verdict, 'UNCLEAR');
});

check('every measurement lists its goals even without a result, with the reason', () => {
  const rows = MEASUREMENTS.flatMap((m) => m.goals(undefined as never, ctx, `why-${m.name}`));
  for (const r of rows) {
    assert.equal(r.verdict, 'NOT MEASURED', r.goal);
    assert.match(r.note ?? '', /^why-/);
    assert.ok(r.goal && r.target && r.issue, JSON.stringify(r));
  }
  const text = rows.map((r) => `${r.issue} ${r.goal}`).join('\n');
  // issue 14's goals, 9's and 11's, each once at least
  for (const needle of ['Kamailio', 'held call', 'plateau', 'highest clean rate', 'cores', 'p99 at 100 cps', 'writer every 10 ms', 'write lock 3 s', 'event-loop', 'lookup', 'route change', 'heap per route', 'idle RSS', 'propagation', 'PostgreSQL beside SQLite', 'plain provider', 'digest-challenged']) {
    assert.ok(text.includes(needle), `no goal mentions "${needle}"`);
  }
  assert.equal(new Set(MEASUREMENTS.map((m) => m.name)).size, MEASUREMENTS.length);
});

check('the report: machine, goal table with quick marks, sections, failures', () => {
  const report: BenchReport = {
    machine: { date: 'd', nproc: 2, cpuModel: 'cpu', memory: 'm', kernel: 'k', node: 'v20', sipp: 's', kamailio: null, loadAverage: '1 / 1 / 1' },
    command: 'npm run bench -- --quick',
    quick: true,
    durationSec: 3,
    capabilities: {},
    goals: [{ issue: '#14', goal: 'g | with a pipe', measured: '1', baseline: '2', ratio: '0.50×', target: '≤ 2×', verdict: 'PASS', note: 'n' }],
    sections: { a: { title: 'Section A', durationSec: 1, markdown: 'body A' }, b: { title: 'Section B', durationSec: 1, error: 'boom' } },
    errors: [{ section: 'b', message: 'boom' }],
  };
  const md = renderReport(report);
  assert.match(md, /## Goals/);
  assert.match(md, /PASS \(quick\)/);
  assert.match(md, /g \\\| with a pipe/);
  assert.match(md, /## Section A\n\nbody A/);
  assert.doesNotMatch(md, /## Section B/);
  assert.match(md, /- b: boom/);
});

check('plans: the full plan is issue 14\'s conditions, the quick one is smaller everywhere', () => {
  assert.deepEqual([FULL_PLAN.cpu.rate, FULL_PLAN.cpu.calls, FULL_PLAN.holdMs], [150, 3000, 1000]);
  assert.equal(FULL_PLAN.pdd.rate, 100);
  assert.deepEqual([FULL_PLAN.stalls.routes, FULL_PLAN.stalls.writerEveryMs, FULL_PLAN.stalls.lockSec], [100_000, 10, 3]);
  assert.equal(FULL_PLAN.memory.heldCalls, 500);
  assert.deepEqual(FULL_PLAN.soak.rates, [100, 300]);
  assert.ok(FULL_PLAN.dialPlanRoutes.includes(1_000_000));
  assert.ok(QUICK_PLAN.cpu.calls < FULL_PLAN.cpu.calls && QUICK_PLAN.soak.seconds < FULL_PLAN.soak.seconds && QUICK_PLAN.stalls.routes < FULL_PLAN.stalls.routes);
});

check('kamailio config routes to the carrier port it is given', () => {
  const cfg = kamailioConfig({ port: 5099, carrierPort: 6011, children: 1, moduleDir: '/m' });
  assert.match(cfg, /listen=udp:127\.0\.0\.1:5099/);
  assert.match(cfg, /\$rp = 6011;/);
  assert.match(cfg, /children=1/);
});

check('capabilities: the config\'s variables, a worker flag in help text, the built entry', () => {
  const c = detectCapabilities();
  assert.ok(c.envVars.includes('OUTDIAL_SIP_PORT'));
  assert.equal(variableFromHelp('  --workers <n>   app workers'), 'OUTDIAL_WORKERS');
  assert.equal(variableFromHelp('  --sip-port <n>'), undefined);
  const built = findBuiltEntry();
  assert.ok(built === undefined || built.file.endsWith('.js'));
});

check('route fixture: counts, the default customer\'s deck, a pool without +1', async () => {
  const file = path.join(scratch, 'fixture.db');
  const store = await openStore({ path: file, logger: createLogger('silent') });
  try {
    const rand = prng(7);
    const p = await store.providers.create({ type: 'sip', hostname: '127.0.0.1:9', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: '' });
    const pool = prefixPool(rand, COUNTRY_CODES.filter((cc) => cc !== '1'));
    assert.ok(pool.every((t) => !t.startsWith('+1')));
    const db = new Database(file);
    try {
      const t = insertRoutes(db, { count: 500, defaultCustomerRoutes: 100, defaultCatchAll: false, customers: [uuidFrom(rand), uuidFrom(rand)], providerIds: [p.id], pool, rand });
      assert.equal(t.defaultRouteIds.length, 100);
      assert.equal(t.customerRouteIds.length, 400);
      const n = db.prepare('SELECT count(*) AS n FROM routes WHERE customer_id = ?').get(DEFAULT_CUSTOMER_ID) as { n: number };
      assert.equal(n.n, 100);
    } finally {
      db.close();
    }
    // the store reads what the fixture wrote: the rows are outdial's own schema
    assert.equal((await store.readLive()).routes.length, 500);
  } finally {
    await store.close();
  }
});

/** Starts lib/probe-target.ts; resolves with its base URL. */
async function probeTarget(histogram: boolean) {
  const child = spawnTracked('probe-target', process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'lib/probe-target.ts'), ...(histogram ? ['histogram'] : [])]);
  let out = '';
  child.process.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 300 && !/listening (\d+)/.test(out); i++) await sleep(50);
  const port = /listening (\d+)/.exec(out)?.[1];
  if (!port) throw new Error(`probe target did not start: ${child.outputTail()}`);
  const base = `http://127.0.0.1:${port}`;
  return { child, base, metrics: async () => (await fetch(`${base}/metrics`)).text() };
}

for (const histogram of [false, true]) {
  check(`event-loop probe sees a 150 ms stall (${histogram ? 'the outdial_event_loop_delay_seconds histogram' : "prom-client's lag max"}, and /healthz)`, async () => {
    const t = await probeTarget(histogram);
    try {
      const probe = startEventLoopProbe(t, { healthzEveryMs: 10, metricsEveryMs: 300 });
      await sleep(700);
      await fetch(`${t.base}/block?ms=150`, { method: 'POST' });
      await sleep(900);
      const r = await probe.stop();
      assert.equal(r.metric.source, histogram ? EVENT_LOOP_DELAY_HISTOGRAM : PROM_CLIENT_LAG_MAX);
      assert.ok((r.metric.maxUpperMs ?? Infinity) >= 150, JSON.stringify(r.metric));
      assert.ok((r.metric.maxLowerMs ?? 0) >= 100, JSON.stringify(r.metric));
      assert.ok((r.metric.over20ms ?? 0) >= 1, JSON.stringify(r.metric));
      assert.equal(judgeEventLoop(r).verdict, 'FAIL');
      assert.ok(r.healthz.maxMs >= 100, JSON.stringify(r.healthz));
      assert.ok(r.healthz.samples > 20 && r.healthz.failures === 0, JSON.stringify(r.healthz));
    } finally {
      await t.child.stop(1000);
    }
  });
}

check('SQLite lock holder: another process holds the write lock for the time asked, then commits', async () => {
  const file = path.join(scratch, 'lock.db');
  const store = await openStore({ path: file, logger: createLogger('silent') });
  const p = await store.providers.create({ type: 'sip', hostname: '127.0.0.1:9', tech_prefix: '', tech_postfix: '', tech_headers: {}, name: 'p', detail: '', codecs: '' });
  const r = await store.routes.create({ customer_id: DEFAULT_CUSTOMER_ID, name: 'r', detail: '', provider_id: p.id, priority: 1, target: '+1' });
  await store.close();
  const holder = await startSqliteLockHolder(file, 600, r.id);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 0');
    const window = holder.lock();
    await sleep(200); // inside the window
    assert.throws(() => db.prepare('UPDATE routes SET name = ? WHERE id = ?').run('x', r.id), /SQLITE_BUSY|locked/);
    const w = await window;
    assert.ok(w.releasedAt - w.lockedAt >= 590, JSON.stringify(w));
    db.prepare('UPDATE routes SET name = ? WHERE id = ?').run('y', r.id);
    assert.equal((db.prepare('SELECT priority FROM routes WHERE id = ?').get(r.id) as { priority: number }).priority, 2);
  } finally {
    db.close();
    await holder.stop();
  }
});

const direct = (name: string) => ({ name, dir: scratch, route: async (port: number) => ({ host: '127.0.0.1', port }), pauseMs: 100 });

check('sipp → sipp through the bench scenarios: clean, and every call\'s INVITEs paired', async () => {
  const s = await runStep(direct('check-direct'), 20, 20);
  assert.ok(s.clean, s.problems.join('; '));
  const d = await measurePostDialDelay({ ...direct('check-pdd'), pauseMs: 0 }, 20, 20);
  assert.equal(d.paired, 20);
  assert.ok(d.delayMs.max < 50, JSON.stringify(d.delayMs));
});

for (const [code, scenario] of [['401', DIGEST_401_CARRIER_SCENARIO], ['407', DIGEST_407_CARRIER_SCENARIO]] as const) {
  check(`digest carrier ${code}: right credentials complete the call, wrong ones fail it at the carrier`, async () => {
    const auth = (user: string, password: string) => ({ ...direct(`check-digest-${code}`), carrierScenario: scenario, platformScenario: AUTHENTICATING_PLATFORM_SCENARIO, platformArgs: ['-au', user, '-ap', password] });
    const good = await runStep(auth(DIGEST_CREDENTIALS.username, DIGEST_CREDENTIALS.password), 10, 5);
    assert.ok(good.clean, good.problems.join('; '));
    // 401: the digest is verified, a wrong password fails; 407: sipp checks the fields, so a wrong user
    const bad = await runStep(code === '401' ? auth(DIGEST_CREDENTIALS.username, 'wrong') : auth('wrong-user', DIGEST_CREDENTIALS.password), 10, 2);
    assert.ok(!bad.clean);
    assert.ok((bad.carrier?.failed ?? 0) >= 1, bad.problems.join('; '));
  });
}

export async function runSelfCheck(): Promise<number> {
  installCleanupHandlers();
  let passed = 0;
  let failed = 0;
  try {
    for (const c of checks) {
      const t = Date.now();
      try {
        await c.fn();
        passed++;
        process.stdout.write(`ok    ${c.name} (${Date.now() - t} ms)\n`);
      } catch (err) {
        failed++;
        process.stdout.write(`FAIL  ${c.name}\n      ${(err instanceof Error ? err.stack ?? err.message : String(err)).split('\n').join('\n      ')}\n`);
      }
    }
  } finally {
    await stopAllChildren();
    rmSync(scratch, { recursive: true, force: true });
  }
  process.stdout.write(`\nbench self-check: ${passed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  runSelfCheck().then((code) => process.exit(code));
}
