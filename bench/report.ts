/**
 * The bench's result document (written as JSON to bench/out/<timestamp>.json) and its rendering
 * as Markdown tables, printed at the end of a run and pasted into bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { AdminApiResult } from './admin-api.ts';
import type { SteppedResult, StepResult } from './call-throughput.ts';
import type { CpuProfileResult } from './cpu-profile.ts';
import type { DialPlanScaleResult } from './dial-plan-scale.ts';
import type { MemoryPerCallResult } from './memory-per-call.ts';
import type { PostDialDelayResult } from './post-dial-delay.ts';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memory: string;
  kernel: string;
  node: string;
  sipp: string;
  kamailio: string | null;
}

export interface BenchReport {
  machine: Machine;
  command: string;
  durationSec: number;
  throughput?: {
    direct?: SteppedResult;
    outdial?: SteppedResult;
    /** string when skipped */
    kamailio?: SteppedResult | string;
  };
  cpuPerCall?: { target: string; rate: number; calls: number; holdMs: number; cpuSec: number; cpuSecPer1000Calls: number; clean: boolean; step: StepResult };
  postDialDelay?: { outdial?: PostDialDelayResult; direct?: PostDialDelayResult };
  memoryPerCall?: MemoryPerCallResult;
  dialPlan?: DialPlanScaleResult[];
  adminApi?: AdminApiResult;
  profile?: CpuProfileResult;
  errors: Array<{ section: string; message: string }>;
}

/** The first non-empty output line of a command, whatever its exit code (`sipp -v` exits 1). */
function firstLine(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 5000 });
  return `${r.stdout ?? ''}\n${r.stderr ?? ''}`
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l !== '') ?? '';
}

export function describeMachine(kamailio: string | undefined): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const free = firstLine('sh', ['-c', "free -h | awk '/^Mem:/ {print $2 \" total, \" $7 \" available\"}'"]);
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism(),
    cpuModel: /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    memory: free,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    sipp: firstLine('sipp', ['-v']).replace(/^SIPp\s*/, ''),
    kamailio: kamailio ? firstLine(kamailio, ['-v']) : null,
  };
}

const fmt = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

function stepRows(name: string, r: SteppedResult): Array<Array<string | number>> {
  return [...r.steps]
    .sort((a, b) => a.rate - b.rate)
    .map((s) => [
      name,
      s.rate,
      s.calls,
      s.clean ? 'clean' : `NOT clean: ${s.problems.join('; ')}`,
      s.cpuSecPer1000Calls !== undefined ? fmt(s.cpuSecPer1000Calls, 2) : '–',
      s.udpDrops,
    ]);
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [];
  const m = r.machine;
  out.push(`## Machine\n\n${table(['', ''], [
    ['date', m.date],
    ['CPU', `${m.cpuModel}, nproc ${m.nproc}`],
    ['memory', m.memory],
    ['kernel', m.kernel],
    ['node', m.node],
    ['sipp', m.sipp],
    ['kamailio', m.kamailio ?? 'not installed'],
    ['command', r.command],
    ['bench wall time', `${fmt(r.durationSec, 0)} s`],
  ])}`);

  const t = r.throughput;
  if (t) {
    const summary: Array<Array<string | number>> = [];
    const add = (name: string, s: SteppedResult | string | undefined) => {
      if (s === undefined) return;
      if (typeof s === 'string') summary.push([name, s, '–', '–']);
      else summary.push([name, s.maxCleanRate === null ? 'none clean' : `${s.maxCleanRate} cps`, s.firstFailingRate === null ? 'none failed' : `${s.firstFailingRate} cps`, `${s.secondsPerStep} s of calls per step, hold ${s.holdMs} ms`]);
    };
    add('sipp → sipp (harness baseline)', t.direct);
    add('sipp → outdial → sipp', t.outdial);
    add('sipp → kamailio (1 UDP worker) → sipp', t.kamailio);
    let ratio = '';
    if (t.outdial?.maxCleanRate && typeof t.kamailio === 'object' && t.kamailio.maxCleanRate) {
      ratio = `\n\noutdial / kamailio highest clean rate: ${fmt(t.outdial.maxCleanRate / t.kamailio.maxCleanRate, 2)}`;
    }
    out.push(`## Call throughput (full calls: INVITE, 100, 180, 200, ACK, hold, BYE, 200; UDP on loopback)\n\n${table(['path', 'highest clean rate', 'first failing rate', 'steps'], summary)}${ratio}`);
    const rows: Array<Array<string | number>> = [];
    if (t.direct) rows.push(...stepRows('direct', t.direct));
    if (t.outdial) rows.push(...stepRows('outdial', t.outdial));
    if (typeof t.kamailio === 'object') rows.push(...stepRows('kamailio', t.kamailio));
    out.push(`Steps (clean = every call completed on both sides, no failed call, no retransmission by either sipp):\n\n${table(['path', 'cps', 'calls', 'result', 'CPU s / 1000 calls', 'UDP rcvbuf drops'], rows)}`);
  }
  if (r.cpuPerCall) {
    const c = r.cpuPerCall;
    out.push(`## CPU per call\n\n${table(['target', 'rate', 'calls', 'hold', 'CPU s (utime+stime)', 'CPU s / 1000 calls', 'clean'], [
      [c.target, `${c.rate} cps`, c.calls, `${c.holdMs} ms`, fmt(c.cpuSec, 2), fmt(c.cpuSecPer1000Calls, 3), c.clean ? 'yes' : `no: ${c.step.problems.join('; ')}`],
    ])}`);
  }
  const pdd = r.postDialDelay;
  if (pdd) {
    const rows = [pdd.direct, pdd.outdial]
      .filter((x): x is PostDialDelayResult => x !== undefined)
      .map((p) => [p.name, `${p.rate} cps`, `${p.paired}/${p.calls}`, fmt(p.delayMs.median, 3), fmt(p.delayMs.p90, 3), fmt(p.delayMs.p99, 3), fmt(p.delayMs.max, 3)]);
    let added = '';
    if (pdd.direct && pdd.outdial) {
      added = `\n\nAdded by outdial (outdial − direct): median ${fmt(pdd.outdial.delayMs.median - pdd.direct.delayMs.median, 3)} ms, p99 ${fmt(pdd.outdial.delayMs.p99 - pdd.direct.delayMs.p99, 3)} ms`;
    }
    out.push(`## Post-dial delay (platform INVITE sent → carrier INVITE received, ms)\n\n${table(['path', 'rate', 'paired', 'median', 'p90', 'p99', 'max'], rows)}${added}`);
  }
  if (r.memoryPerCall) {
    const x = r.memoryPerCall;
    out.push(`## Memory per concurrent call (outdial VmRSS)\n\n${table(['held calls', 'open at sample', 'ramp', 'hold', 'RSS idle', 'RSS held', 'RSS after', 'per call', 'all calls ok'], [
      [x.heldCalls, x.openAtSample ?? '–', `${x.rampRate} cps`, `${x.holdMs} ms`, `${fmt(x.rssIdleMiB)} MiB`, `${fmt(x.rssHeldMiB)} MiB`, `${fmt(x.rssAfterMiB)} MiB`, `${fmt(x.kibPerCall)} KiB`, x.allCallsSucceeded ? 'yes' : 'no'],
    ])}`);
  }
  if (r.dialPlan) {
    out.push(`## Dial plan at scale (in-process, 10k customers, 50 providers)\n\n${table(
      ['routes', 'targets', 'readLive ms', 'build ms', 'rebuild ms', 'one route change ms (customer / default)', 'records heap', 'index heap', 'planAttempts ns', 'computeAttempts ns', 'naive scan ns', 'naive / indexed', 'same answer'],
      r.dialPlan.map((d) => [
        d.routes.toLocaleString('en-US'),
        d.distinctTargets,
        fmt(d.readLiveMs),
        fmt(d.buildSnapshotMs),
        fmt(d.rebuildMs),
        `${fmt(d.applyRouteChangeMs.randomCustomer, 3)} / ${fmt(d.applyRouteChangeMs.defaultCustomer, 3)}`,
        `${fmt(d.recordsHeapMiB)} MiB`,
        `${fmt(d.snapshotIndexHeapMiB)} MiB`,
        fmt(d.lookups.planAttemptsNs, 0),
        fmt(d.lookups.computeAttemptsNs, 0),
        fmt(d.naiveScan.ns, 0),
        `${fmt(d.naiveScan.ratio, 0)}×`,
        d.naiveScan.agrees ? `yes (${d.naiveScan.checked})` : 'NO',
      ]),
    )}`);
  }
  if (r.adminApi) {
    out.push(`## Admin API (autocannon, in the bench process)\n\n${table(
      ['endpoint', 'connections', 'duration', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors', 'outdial CPU s / 1000 req'],
      r.adminApi.endpoints.map((e) => [`${e.name}: ${e.method} ${e.path}`, e.connections, `${e.durationSec} s`, e.requests, fmt(e.requestsPerSec), e.latencyMs.median, e.latencyMs.p99, e.non2xx, e.errors, fmt(e.cpuSecPer1000Requests, 3)]),
    )}\n\nRoutes in the table after the POST run: ${r.adminApi.routesAtEnd}`);
  }
  if (r.profile) {
    const p = r.profile;
    const s = p.summary;
    const lines = (title: string, list: typeof s.byArea) => `${title}\n\n${table(['share', 'self ms', 'name'], list.slice(0, 15).map((l) => [`${fmt(l.percent)} %`, fmt(l.ms), l.name]))}`;
    out.push(
      `## CPU profile of the call path (node --cpu-prof, ${p.calls} calls at ${p.rate} cps, hold ${p.holdMs} ms; ${fmt(s.busyMs, 0)} ms busy on the main thread, ${fmt(s.idleMs, 0)} ms idle)\n\n` +
        [lines('By area (native frames charged to their caller):', s.byArea), lines('By function:', s.byFunction), lines('By outdial/package file that caused the work (Node internals folded in):', s.byAppFile)].join('\n\n'),
    );
  }
  if (r.errors.length > 0) {
    out.push(`## Sections that failed\n\n${r.errors.map((e) => `- ${e.section}: ${e.message}`).join('\n')}`);
  }
  return `${out.join('\n\n')}\n`;
}
