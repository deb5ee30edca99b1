/**
 * The bench's result document (JSON in bench/out/<timestamp>.json) and its Markdown rendering,
 * printed at the end of a run and pasted into bench/RESULTS.md: the machine, the goal table
 * (every goal with its baseline and verdict), then one section per measurement.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { GoalRow } from './goals.ts';

export interface Machine {
  date: string;
  nproc: number;
  cpuModel: string;
  memory: string;
  kernel: string;
  node: string;
  sipp: string;
  kamailio: string | null;
  /** the 1/5/15-minute load averages when the run started: other work on the machine */
  loadAverage: string;
}

export interface SectionRecord {
  title: string;
  durationSec: number;
  /** the rendered Markdown of the section (absent when it failed) */
  markdown?: string;
  result?: unknown;
  error?: string;
}

export interface BenchReport {
  machine: Machine;
  command: string;
  quick: boolean;
  durationSec: number;
  /** what outdial offers that some measurements depend on (bench/lib/capabilities.ts) */
  capabilities: Record<string, unknown>;
  goals: GoalRow[];
  sections: Record<string, SectionRecord>;
  errors: Array<{ section: string; message: string }>;
}

/** The first non-empty output line of a command, whatever its exit code (`sipp -v` exits 1). */
export function firstLine(cmd: string, args: string[]): string {
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
    loadAverage: os.loadavg().map((l) => l.toFixed(2)).join(' / '),
  };
}

export const fmt = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.replaceAll('|', '\\|').padEnd(widths[i]!)).join(' | ')} |`;
  return [line(cells[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.slice(1).map(line)].join('\n');
}

export function renderGoals(goals: readonly GoalRow[], quick: boolean): string {
  const verdict = (g: GoalRow) => (quick && (g.verdict === 'PASS' || g.verdict === 'FAIL' || g.verdict === 'UNCLEAR') ? `${g.verdict} (quick)` : g.verdict);
  const rows = goals.map((g, i) => [String(i + 1), g.issue, g.goal, g.measured, g.baseline, g.ratio, g.target, verdict(g)]);
  const notes = goals
    .map((g, i) => (g.note ? `${i + 1}. ${g.note}` : ''))
    .filter((n) => n !== '');
  const head = quick ? '**--quick run: tiny counts, the verdicts judge nothing; run without --quick for figures.**\n\n' : '';
  return `## Goals (each beside its baseline, measured in this run)\n\n${head}${table(['#', 'issue', 'goal', 'measured', 'baseline (same run)', 'ratio', 'goal limit', 'verdict'], rows)}${notes.length ? `\n\nNotes (by #):\n\n${notes.join('\n')}` : ''}`;
}

export function renderMachine(r: BenchReport): string {
  const m = r.machine;
  return `## Machine\n\n${table(['', ''], [
    ['date', m.date],
    ['CPU', `${m.cpuModel}, nproc ${m.nproc}`],
    ['memory', m.memory],
    ['load average at start', m.loadAverage],
    ['kernel', m.kernel],
    ['node', m.node],
    ['sipp', m.sipp],
    ['kamailio', m.kamailio ?? 'not installed'],
    ['command', r.command],
    ['bench wall time', `${fmt(r.durationSec, 0)} s`],
  ])}`;
}

export function renderReport(r: BenchReport): string {
  const out: string[] = [renderMachine(r), renderGoals(r.goals, r.quick)];
  for (const s of Object.values(r.sections)) {
    if (s.markdown) out.push(`## ${s.title}\n\n${s.markdown}`);
  }
  if (r.errors.length > 0) {
    out.push(`## Sections that failed\n\n${r.errors.map((e) => `- ${e.section}: ${e.message}`).join('\n')}`);
  }
  return `${out.join('\n\n')}\n`;
}
