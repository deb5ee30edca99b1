/**
 * Measurement "profile": where outdial's CPU goes on the per-call path: `outdial start` under `node --cpu-prof`, a fixed
 * call load (after a warm-up), then the .cpuprofile V8 writes at exit is summed by self time per
 * function, per file and per area (outdial's own code by directory, each npm package, Node's
 * internals, GC). Only samples taken while the load ran are counted: V8 stamps samples with the
 * monotonic clock (µs), the same clock as process.hrtime in this process.
 *
 * Also usable on any profile: node --import tsx bench/cpu-profile.ts file.cpuprofile
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runStep, round, type StepResult } from './lib/call-load.ts';
import type { GoalRow } from './lib/goals.ts';
import { measurement } from './lib/measurement.ts';
import { REPO_ROOT, provisionCarrier, startOutdial } from './lib/outdial-process.ts';
import { cpuSeconds } from './lib/proc-stats.ts';
import { fmt, table } from './lib/report.ts';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface CostLine {
  name: string;
  ms: number;
  /** share of the sampled non-idle time */
  percent: number;
}

export interface ProfileSummary {
  /** sampled time in the window, idle excluded */
  busyMs: number;
  idleMs: number;
  byFunction: CostLine[];
  byFile: CostLine[];
  byArea: CostLine[];
  /** self time charged to the nearest frame in outdial's code or a package (Node internals and natives folded into their caller) */
  byAppFile: CostLine[];
}

const REPO_URL = pathToFileURL(REPO_ROOT).href;

/** A short, stable name for a script URL: repo-relative path, npm package, or Node internal. */
export function fileLabel(url: string): string {
  if (url === '') return '(native / VM)';
  let p = url.startsWith(REPO_URL) ? url.slice(REPO_URL.length + 1) : url.replace(/^file:\/\//, '');
  p = p.replace(/\?.*$/, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm);
  return p;
}

/** The area a file belongs to: src/<dir>, an npm package, node internals. */
export function areaOf(label: string): string {
  if (label.startsWith('(')) return label;
  const nm = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(label);
  if (nm) return `npm: ${nm[1]}`;
  if (label.startsWith('node:')) return `node: ${label.slice(5).split('/')[0] === 'internal' ? label.slice(5).split('/').slice(0, 2).join('/') : label.slice(5)}`;
  const src = /^src\/([^/]+)(\/[^/]+)?/.exec(label);
  if (src) return src[2] && !src[2].endsWith('.ts') ? `src/${src[1]}${src[2]}` : `src/${src[1]}`;
  return label;
}

const SPECIAL = new Set(['(garbage collector)', '(program)', '(idle)', '(root)']);

/** Sums self time (µs from timeDeltas) of the samples within [fromUs, toUs]. */
export function summarizeCpuProfile(profile: CpuProfile, window?: { fromUs: number; toUs: number }, top = 25): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Native frames (Buffer writes, string encoding) are charged to the nearest caller with a
  // script, so the file and area views say who asked for the work.
  const owningUrl = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)?.callFrame.url;
      if (url) return url;
    }
    return '';
  };
  // The nearest caller that is outdial's code or a package: who asked for Node's work.
  const appUrl = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const url = byId.get(cur)?.callFrame.url;
      if (url && !url.startsWith('node:')) return url;
    }
    return '';
  };
  const selfUs = new Map<number, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    if (window && (t < window.fromUs || t > window.toUs)) continue;
    // V8 attributes the interval *before* a sample to it; that is the convention DevTools uses.
    const id = profile.samples[i]!;
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const fn = new Map<string, number>();
  const file = new Map<string, number>();
  const area = new Map<string, number>();
  const caller = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    const special = SPECIAL.has(frame.functionName) && frame.url === '';
    if (frame.functionName === '(idle)') {
      idle += us;
      continue;
    }
    busy += us;
    const native = !special && frame.url === '';
    const label = special ? frame.functionName : fileLabel(native ? owningUrl(id) : frame.url);
    const fname = special
      ? frame.functionName
      : native
        ? `${frame.functionName || '(anonymous)'} (native, from ${label})`
        : `${frame.functionName || '(anonymous)'} ${label}`;
    fn.set(fname, (fn.get(fname) ?? 0) + us);
    file.set(label, (file.get(label) ?? 0) + us);
    const a = special ? frame.functionName : areaOf(label);
    area.set(a, (area.get(a) ?? 0) + us);
    const c = special ? frame.functionName : fileLabel(appUrl(id));
    caller.set(c, (caller.get(c) ?? 0) + us);
  }
  const lines = (m: Map<string, number>, n: number): CostLine[] =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({ name, ms: round(us / 1000, 1), percent: round((us / (busy || 1)) * 100, 1) }));
  return { busyMs: round(busy / 1000, 1), idleMs: round(idle / 1000, 1), byFunction: lines(fn, top), byFile: lines(file, top), byArea: lines(area, top), byAppFile: lines(caller, top) };
}

export interface CpuProfileResult {
  rate: number;
  calls: number;
  holdMs: number;
  profileFile: string;
  step: Omit<StepResult, 'platform' | 'carrier'>;
  summary: ProfileSummary;
}

/** outdial under --cpu-prof, a warm-up, then `calls` calls at `rate`; the profile of that load. */
export async function profileCallPath(runDir: string, opts: { rate: number; calls: number; holdMs: number; warmupCalls: number }): Promise<CpuProfileResult> {
  const dir = mkdtempSync(path.join(runDir, 'profile-'));
  const profDir = path.join(dir, 'cpuprofile');
  mkdirSync(profDir);
  const outdial = await startOutdial({ dir, nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] });
  let step: StepResult;
  let window: { fromUs: number; toUs: number };
  try {
    const link = await provisionCarrier(outdial, '127.0.0.1:9');
    const route = async (port: number) => {
      await link.pointAt(`127.0.0.1:${port}`);
      return outdial.sip;
    };
    await runStep({ name: 'profile-warmup', dir, route, pauseMs: opts.holdMs }, Math.min(opts.rate, 200), opts.warmupCalls);
    const fromUs = Number(process.hrtime.bigint() / 1000n);
    step = await runStep({ name: 'profile', dir, route, pauseMs: opts.holdMs, cpu: () => cpuSeconds(outdial.pid) }, opts.rate, opts.calls);
    window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
  } finally {
    await outdial.stop(); // SIGTERM: outdial closes and exits, and V8 writes the profile
  }
  // CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: thread 0 is the main thread (tsx's loader
  // hooks run in a worker thread that writes its own profile).
  const file = readdirSync(profDir).find((f) => new RegExp(`^CPU\\.\\d+\\.\\d+\\.${outdial.pid}\\.0\\.\\d+\\.cpuprofile$`).test(f));
  if (!file) throw new Error(`no .cpuprofile written in ${profDir} (outdial exit: ${outdial.child.outputTail()})`);
  const profileFile = path.join(profDir, file);
  const profile = JSON.parse(readFileSync(profileFile, 'utf8')) as CpuProfile;
  const { platform: _p, carrier: _c, ...rest } = step;
  return { rate: opts.rate, calls: opts.calls, holdMs: opts.holdMs, profileFile, step: rest, summary: summarizeCpuProfile(profile, window) };
}

export const cpuProfileMeasurement = measurement<CpuProfileResult>({
  name: 'profile',
  title: 'CPU profile of the call path (node --cpu-prof)',
  byDefault: true,
  async run(ctx) {
    const r = await profileCallPath(ctx.runDir, { ...ctx.plan.profile, holdMs: ctx.plan.holdMs, warmupCalls: ctx.plan.warmup.calls });
    const kept = `${ctx.outStem}.cpuprofile`;
    mkdirSync(path.dirname(kept), { recursive: true });
    copyFileSync(r.profileFile, kept);
    return { ...r, profileFile: path.relative(REPO_ROOT, kept) };
  },
  render(p) {
    const s = p.summary;
    const lines = (title: string, list: CostLine[]) => `${title}\n\n${table(['share', 'self ms', 'name'], list.slice(0, 15).map((l) => [`${fmt(l.percent)} %`, fmt(l.ms), l.name]))}`;
    return [
      `${p.calls} calls at ${p.rate} cps, hold ${p.holdMs} ms; ${fmt(s.busyMs, 0)} ms busy on the main thread, ${fmt(s.idleMs, 0)} ms idle. Profile: ${p.profileFile} (open in Chrome DevTools → Performance).`,
      lines('By area (native frames charged to their caller):', s.byArea),
      lines('By function:', s.byFunction),
      lines('By outdial/package file that caused the work (Node internals folded in):', s.byAppFile),
    ].join('\n\n');
  },
  goals(): GoalRow[] {
    return [];
  },
});

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node --import tsx bench/cpu-profile.ts <file.cpuprofile>\n');
    process.exit(2);
  }
  const summary = summarizeCpuProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
